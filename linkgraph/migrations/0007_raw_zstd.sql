-- raw_records.payload stored with zstd. DuckDB picks DICT_FSST for strings of a few KB (oai_dc,
-- DataCite, JPCOAR records), and that compression is the costliest step of a harvest's
-- checkpoint (about 22 us per 3 KB record, against 2 us with zstd); zstd is also what DuckDB
-- itself chooses for longer strings. The column option can only be set when the table is
-- created, so the table is rebuilt: same columns, same key, rows and change_seq kept.
CREATE TABLE raw_records_v7 (
    source          VARCHAR NOT NULL,
    record_id       VARCHAR NOT NULL,      -- OAI identifier, DOI, ...
    datestamp       TIMESTAMPTZ,           -- server's datestamp / updated date (UTC)
    deleted         BOOLEAN NOT NULL DEFAULT false,
    metadata_format VARCHAR NOT NULL,      -- oai_dc, oai_datacite, jpcoar_2.0, crossref-json, ...
    payload         VARCHAR USING COMPRESSION zstd,  -- verbatim metadata document; NULL for tombstones
    payload_hash    VARCHAR,               -- sha256 hex of payload
    sets            VARCHAR[],
    fetched_at      TIMESTAMPTZ NOT NULL,
    run_id          BIGINT,
    change_seq      BIGINT NOT NULL,       -- increases whenever the row changes
    PRIMARY KEY (source, record_id)
);
INSERT INTO raw_records_v7 SELECT * FROM raw_records ORDER BY change_seq;
DROP TABLE raw_records;
ALTER TABLE raw_records_v7 RENAME TO raw_records;
