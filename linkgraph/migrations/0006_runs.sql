-- Scheduled runs (`linkgraph run`, linkgraph/jobs): one row per run, its per-source outcome,
-- and its log. Pruned by `linkgraph retention`.
CREATE SEQUENCE IF NOT EXISTS job_run_seq START 1;

CREATE TABLE job_runs (
    job_id          BIGINT PRIMARY KEY,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,      -- running | ok | partial | failed | killed (a run that died)
    pid             INTEGER,
    config          VARCHAR,               -- config file used
    sources_ok      INTEGER NOT NULL DEFAULT 0,
    sources_failed  INTEGER NOT NULL DEFAULT 0,
    sources_skipped INTEGER NOT NULL DEFAULT 0, -- not due
    outcome         JSON,                  -- {"source": {"status": ..., "records": ..., "error": ...}, ...}
    audited_seq     BIGINT,                -- crosswalk high-water the audits of this run saw
    error           VARCHAR                -- crosswalk / audit failure (redacted)
);

CREATE TABLE job_log (
    job_id      BIGINT NOT NULL,
    time        TIMESTAMPTZ NOT NULL,
    level       VARCHAR NOT NULL,
    source      VARCHAR,
    event       VARCHAR NOT NULL,
    fields      JSON
);
