-- Crosswalk output: raw_records -> works, identifiers, relations, problems (crosswalks/pipeline.py).
-- Every row is keyed by the raw record it came from (source, record_id) and the position of the
-- work inside that payload (work_seq: 0 for single-record payloads), so re-crosswalking or a
-- tombstone replaces exactly that record's rows. Works without DOI are keyed by (source, record_id).

CREATE TABLE works (
    source              VARCHAR NOT NULL,   -- raw_records.source
    record_id           VARCHAR NOT NULL,   -- raw_records.record_id (OAI identifier, DOI, ...)
    work_seq            INTEGER NOT NULL,   -- index of the work within the payload
    work_key            VARCHAR NOT NULL,   -- 'doi:<doi>' or 'rec:<source>:<record_id>[#seq]'
    doi                 VARCHAR,            -- normalised (lower-case, no resolver prefix); NULL if none/malformed
    registration_agency VARCHAR,            -- jalc | crossref | datacite | NULL (unknown)
    source_format       VARCHAR NOT NULL,   -- reader: datacite-xml, crossref-json, jpcoar, ...
    metadata_format     VARCHAR NOT NULL,   -- raw_records.metadata_format (oai_datacite, jpcoar_2.0, ...)
    resource_type       VARCHAR,            -- article | dataset | preprint | thesis | book | report | software | other
    resource_type_raw   VARCHAR,            -- as the source wrote it
    title               VARCHAR,            -- main title
    titles              STRUCT(text VARCHAR, lang VARCHAR, kind VARCHAR)[],
    creators            STRUCT(name VARCHAR, given VARCHAR, family VARCHAR, orcid VARCHAR,
                               affiliations VARCHAR[], lang VARCHAR, seq INTEGER)[],
    publisher           VARCHAR,
    container           VARCHAR,            -- journal / series title
    year                INTEGER,
    landing_url         VARCHAR,            -- normalised landing page URL
    version             VARCHAR,            -- COAR version label: AO, SMUR, AM, P, VoR, CVoR, EVoR, NA
    raw_change_seq      BIGINT NOT NULL     -- raw_records.change_seq that produced this row
    -- (source, record_id, work_seq) is unique; the pipeline keeps it so (no PRIMARY KEY: DuckDB
    -- index maintenance would slow the delete-then-insert of every re-crosswalked batch)
);

CREATE TABLE identifiers (
    source      VARCHAR NOT NULL,
    record_id   VARCHAR NOT NULL,
    work_seq    INTEGER NOT NULL,
    work_key    VARCHAR NOT NULL,
    scheme      VARCHAR NOT NULL,   -- doi, url, handle, issn, isbn, urn, ncid, local, ...
    value       VARCHAR NOT NULL    -- normalised where the scheme has a normal form
);

-- subject (the work) -relation_type-> target. relation_type is DataCite 4.7 (Other when the
-- source value is unknown or missing: see problems); raw_type keeps the source's value.
CREATE TABLE relations (
    source          VARCHAR NOT NULL,
    record_id       VARCHAR NOT NULL,
    work_seq        INTEGER NOT NULL,
    work_key        VARCHAR NOT NULL,
    subject_doi     VARCHAR,            -- works.doi of the subject
    source_format   VARCHAR NOT NULL,
    relation_type   VARCHAR NOT NULL,
    raw_type        VARCHAR,            -- NULL: the source gave no type (untyped dc:relation, ...)
    target_scheme   VARCHAR NOT NULL,   -- doi, url, handle, issn, ...
    target          VARCHAR,            -- normalised target; NULL when it could not be normalised
    target_raw      VARCHAR NOT NULL,   -- verbatim
    asserted_by     VARCHAR NOT NULL,   -- subject | object | both (Crossref asserted-by)
    problems        VARCHAR[]           -- relation-level problems (unknown type, malformed DOI, self-link)
);

-- What the crosswalk could not read: one row per problem; work_seq NULL = whole record.
CREATE TABLE problems (
    source          VARCHAR NOT NULL,
    record_id       VARCHAR NOT NULL,
    work_seq        INTEGER,
    metadata_format VARCHAR NOT NULL,
    source_format   VARCHAR,
    problem         VARCHAR NOT NULL,
    raw_change_seq  BIGINT NOT NULL
);

-- Incremental tracking: raw_records rows with change_seq above high_water are new or changed.
CREATE TABLE crosswalk_state (
    id          INTEGER PRIMARY KEY,    -- always 1
    high_water  BIGINT NOT NULL,        -- largest raw_records.change_seq crosswalked
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE crosswalk_runs (
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    rebuild         BOOLEAN NOT NULL,
    raw_records     BIGINT NOT NULL DEFAULT 0,   -- raw rows read (tombstones included)
    works           BIGINT NOT NULL DEFAULT 0,
    relations       BIGINT NOT NULL DEFAULT 0,
    problems        BIGINT NOT NULL DEFAULT 0,
    deleted         BIGINT NOT NULL DEFAULT 0,   -- tombstones applied
    from_seq        BIGINT,
    to_seq          BIGINT
);
