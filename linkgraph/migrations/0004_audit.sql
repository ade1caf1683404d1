-- Audits of the link graph (graph/audit.py): runs, findings, link snapshots for change alerts.
CREATE SEQUENCE IF NOT EXISTS audit_run_seq START 1;

CREATE TABLE audit_runs (
    run_id          BIGINT PRIMARY KEY,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    kinds           VARCHAR[],             -- audit families run (reciprocal, versions, duplicates, targets)
    links           BIGINT,                -- DOI links in this run's snapshot
    findings        BIGINT,
    timings         JSON                   -- {"audit name": seconds, ...}
);

-- One row per finding of the latest run of each audit family (a new run of a family replaces
-- that family's rows). A finding is about a subject (a work, by DOI, or by work_key when the work
-- has no DOI) and usually an object (a DOI, or the raw target text when it is not a DOI).
CREATE TABLE findings (
    run_id              BIGINT NOT NULL,
    finding_id          VARCHAR NOT NULL,   -- stable: md5(kind|subject|object|relation); survives re-runs
    family              VARCHAR NOT NULL,   -- reciprocal | versions | duplicates | targets
    kind                VARCHAR NOT NULL,   -- missing_reciprocal, unverifiable_reciprocal, version_missing, ...
    severity            VARCHAR NOT NULL,   -- error | warning | info
    subject_key         VARCHAR NOT NULL,   -- works.work_key of the subject
    subject_doi         VARCHAR,
    object_doi          VARCHAR,            -- normalised DOI of the object, when it is one
    object_raw          VARCHAR,            -- the object as written (malformed targets, URLs)
    relation_type       VARCHAR,            -- DataCite 4.7 relationType the finding is about
    subject_registry    VARCHAR,            -- jalc | crossref | datacite | repository | ...
    object_registry     VARCHAR,
    subject_prefix      VARCHAR,
    object_prefix       VARCHAR,
    subject_source      VARCHAR,            -- raw_records.source holding the subject's record
    object_source       VARCHAR,
    subject_date        TIMESTAMPTZ,        -- datestamp of the subject's record
    object_date         TIMESTAMPTZ,
    score               DOUBLE,             -- same-content duplicates: 0..1
    cluster_id          VARCHAR,            -- duplicates: connected component (smallest member key)
    evidence            JSON,               -- why: matched fields, cycle path, counts, ...
    fix_owner           VARCHAR,            -- subject | object: whose metadata the fix goes into
    fix_format          VARCHAR,            -- jalc-xml | datacite-json | crossref-xml | jpcoar-xml
    fix_fragment        VARCHAR,            -- the corrective metadata to deposit
    fix_valid           BOOLEAN,            -- validated against a bundled schema; NULL: none available
    fix_schema          VARCHAR             -- what it was validated against (or why not)
);

-- The DOI link set of each audit run (the last few runs are kept): `linkgraph audit diff`
-- compares the two newest snapshots.
CREATE TABLE link_snapshots (
    run_id          BIGINT NOT NULL,
    subject_doi     VARCHAR NOT NULL,
    relation_type   VARCHAR NOT NULL,
    target          VARCHAR NOT NULL,
    source          VARCHAR                 -- a raw_records.source that states the link
);
