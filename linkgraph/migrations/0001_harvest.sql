-- Harvest foundation: sources, runs, checkpoints and raw payloads kept verbatim.
CREATE SEQUENCE IF NOT EXISTS harvest_run_seq START 1;
CREATE SEQUENCE IF NOT EXISTS raw_change_seq START 1;

CREATE TABLE sources (
    name        VARCHAR PRIMARY KEY,       -- operator-chosen name, e.g. "kyoto-oai"
    kind        VARCHAR NOT NULL,          -- oai | crossref | datacite | jalc | jstage-data
    base_url    VARCHAR NOT NULL,
    params      JSON,                      -- metadataPrefix, set, prefix, client id, ...
    created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE harvest_runs (
    run_id          BIGINT PRIMARY KEY DEFAULT nextval('harvest_run_seq'),
    source          VARCHAR NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,      -- running | ok | partial | failed
    from_date       VARCHAR,               -- as sent to the server (its granularity)
    until_date      VARCHAR,
    windows         INTEGER NOT NULL DEFAULT 1,
    pages           BIGINT NOT NULL DEFAULT 0,
    records         BIGINT NOT NULL DEFAULT 0,
    deleted         BIGINT NOT NULL DEFAULT 0,
    expected        BIGINT,                -- sum of completeListSize where the server gave one
    high_water      VARCHAR,               -- where the next incremental run starts
    error           VARCHAR,
    warnings        JSON                   -- shortfalls, sanitised pages, ...
);

-- One row per (source, window): the checkpoint that commits with each page.
CREATE TABLE harvest_state (
    source          VARCHAR NOT NULL,
    window_key      VARCHAR NOT NULL,      -- "from..until" as sent
    run_id          BIGINT,
    status          VARCHAR NOT NULL,      -- open | done
    from_date       VARCHAR,
    until_date      VARCHAR,
    token           VARCHAR,               -- resumption token / cursor for the next page
    last_datestamp  VARCHAR,               -- newest datestamp committed in this window
    ordered         BOOLEAN NOT NULL DEFAULT true,  -- datestamps arrived non-decreasing
    pages           BIGINT NOT NULL DEFAULT 0,
    records         BIGINT NOT NULL DEFAULT 0,
    expected        BIGINT,                -- completeListSize announced for the current list
    list_records    BIGINT NOT NULL DEFAULT 0,  -- records received since that list began
    high_water      VARCHAR,               -- the incremental mark this window supports when done
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, window_key)
);

CREATE TABLE raw_records (
    source          VARCHAR NOT NULL,
    record_id       VARCHAR NOT NULL,      -- OAI identifier, DOI, ...
    datestamp       TIMESTAMPTZ,           -- server's datestamp / updated date (UTC)
    deleted         BOOLEAN NOT NULL DEFAULT false,
    metadata_format VARCHAR NOT NULL,      -- oai_dc, oai_datacite, jpcoar_2.0, crossref-json, ...
    payload         VARCHAR,               -- verbatim metadata document; NULL for tombstones
    payload_hash    VARCHAR,               -- sha256 hex of payload
    sets            VARCHAR[],
    fetched_at      TIMESTAMPTZ NOT NULL,
    run_id          BIGINT,
    change_seq      BIGINT NOT NULL,       -- increases whenever the row changes
    PRIMARY KEY (source, record_id)
);

-- Record- and page-level problems met while harvesting (the batch goes on).
CREATE TABLE harvest_problems (
    source      VARCHAR NOT NULL,
    run_id      BIGINT,
    url         VARCHAR,
    record_id   VARCHAR,
    kind        VARCHAR NOT NULL,
    detail      VARCHAR,
    seen_at     TIMESTAMPTZ NOT NULL
);
