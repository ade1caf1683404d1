-- What was last loaded into each Neo4j graph (graph/neo4j_load.py), so that the next load sends
-- only what changed. A graph is identified by the id on its (:LinkgraphMeta) node, not by its
-- address: a wiped or different database has no such node (or another id) and gets a full load.
-- The snapshot is replaced in one transaction after a load succeeded; a load that dies half way
-- leaves the old snapshot, and the next load re-sends its changes (MERGE makes that harmless).

CREATE TABLE neo4j_graphs (
    graph_id        VARCHAR PRIMARY KEY,    -- (:LinkgraphMeta).graph_id in that database
    uri             VARCHAR NOT NULL,       -- where it was last reached (informational)
    database        VARCHAR NOT NULL,
    loaded_at       TIMESTAMPTZ NOT NULL,
    nodes           BIGINT NOT NULL,
    relationships   BIGINT NOT NULL
);

CREATE TABLE neo4j_loaded_nodes (
    graph_id    VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,       -- node key (doi:..., rec:..., <scheme>:...)
    label       VARCHAR NOT NULL,       -- Work | Target: the label its key is unique under
    hash        UBIGINT NOT NULL        -- hash of labels and properties as loaded
);

CREATE TABLE neo4j_loaded_rels (
    graph_id    VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,       -- relationship key (md5 of record, type, target)
    type        VARCHAR NOT NULL,       -- IS_SUPPLEMENT_TO, ...
    start_key   VARCHAR NOT NULL,
    hash        UBIGINT NOT NULL
);
