"""Incremental load of the link graph into a running Neo4j over Bolt (official driver).

A load (1) creates the uniqueness constraints, (2) builds the graph rows in DuckDB
(:mod:`neo4j_model`), (3) compares them with the snapshot of what this graph last received
(``neo4j_loaded_*``, migration 0005) and (4) sends only the difference as batched
``UNWIND $rows ... MERGE`` statements, each batch one managed transaction
(``Session.execute_write``: retried on transient errors and lost leaders). Deletions go first
(relationships, then nodes), then node upserts, then relationship upserts. The snapshot is
replaced after everything is sent; a load that dies half way re-sends its difference next time,
which MERGE makes harmless. A second load with nothing changed sends nothing.

Relationship types and labels cannot be Cypher parameters, so each batch holds one type (or one
label set) and the name goes into the query text - only names from linkgraph's own vocabulary,
checked by :func:`safe_rel_type` / :func:`safe_label`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
from linkgraph.graph.neo4j_model import (
    NODE_PROPS,
    NODES_TABLE,
    REL_PROPS,
    RELS_TABLE,
    TARGET,
    UNRESOLVED,
    WORK,
    WORK_EXTRA_LABELS,
    build_graph_tables,
    safe_label,
    safe_rel_type,
)
from neo4j import Driver, GraphDatabase, ManagedTransaction
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

from linkgraph.errors import LinkgraphError
from linkgraph.store import Store, utcnow

ProgressFn = Callable[[int, int | None], None]

META_LABEL = "LinkgraphMeta"


class Neo4jLoadError(LinkgraphError):
    """Neo4j could not be reached, refused the credentials, or refused a statement."""


@dataclass(frozen=True, slots=True)
class Neo4jTarget:
    uri: str
    user: str
    password: str  # never logged, never part of repr
    database: str = "neo4j"

    def __repr__(self) -> str:
        return f"Neo4jTarget(uri={self.uri!r}, user={self.user!r}, database={self.database!r})"


@dataclass(slots=True)
class LoadStats:
    graph_id: str = ""
    full: bool = False
    nodes: int = 0                # nodes in the graph after the load
    relationships: int = 0
    nodes_written: int = 0        # node rows sent (created or changed)
    nodes_deleted: int = 0
    relationships_written: int = 0
    relationships_deleted: int = 0
    batches: int = 0
    seconds: float = 0.0

    @property
    def relationships_per_second(self) -> float:
        return self.relationships_written / self.seconds if self.seconds else 0.0


def connect(target: Neo4jTarget) -> Driver:
    """A driver that has reached the server; errors carry the address, never the password."""
    try:
        driver = GraphDatabase.driver(
            target.uri, auth=(target.user, target.password), max_transaction_retry_time=60.0
        )
        driver.verify_connectivity()
    except AuthError as exc:
        raise Neo4jLoadError(f"Neo4j at {target.uri} refused user {target.user!r}") from exc
    except (ServiceUnavailable, OSError, ValueError) as exc:
        raise Neo4jLoadError(f"cannot reach Neo4j at {target.uri}: {exc}") from exc
    return driver


# -- Cypher text -------------------------------------------------------------------------------

SCHEMA_STATEMENTS: tuple[str, ...] = (
    f"CREATE CONSTRAINT lg_work_key IF NOT EXISTS FOR (n:{WORK}) REQUIRE n.key IS UNIQUE",
    f"CREATE CONSTRAINT lg_target_key IF NOT EXISTS FOR (n:{TARGET}) REQUIRE n.key IS UNIQUE",
    f"CREATE CONSTRAINT lg_meta_id IF NOT EXISTS FOR (n:{META_LABEL}) REQUIRE n.id IS UNIQUE",
    f"CREATE INDEX lg_work_doi IF NOT EXISTS FOR (n:{WORK}) ON (n.doi)",
    f"CREATE INDEX lg_work_prefix IF NOT EXISTS FOR (n:{WORK}) ON (n.prefix)",
)


def node_upsert_cypher(labels: list[str]) -> str:
    """MERGE nodes of one label set on their key; properties replaced, stale labels removed."""
    base, extra = safe_label(labels[0]), [safe_label(x) for x in labels[1:]]
    removable = WORK_EXTRA_LABELS if base == WORK else (UNRESOLVED,)
    text = (
        f"UNWIND $rows AS row MERGE (n:{base} {{key: row.key}}) SET n = row.props "
        f"REMOVE n:{':'.join(removable)}"
    )
    if extra:
        text += f" SET n:{':'.join(extra)}"
    return text


def node_create_cypher(labels: list[str]) -> str:
    """CREATE nodes: only into a database that holds none of linkgraph's nodes yet."""
    return (f"UNWIND $rows AS row CREATE (n:{':'.join(safe_label(x) for x in labels)}) "
            "SET n = row.props")


def node_delete_cypher(label: str) -> str:
    return f"UNWIND $rows AS row MATCH (n:{safe_label(label)} {{key: row.key}}) DETACH DELETE n"


def rel_upsert_cypher(rel_type: str, end_label: str) -> str:
    return (
        f"UNWIND $rows AS row MATCH (a:{WORK} {{key: row.start}}) "
        f"MATCH (b:{safe_label(end_label)} {{key: row.end}}) "
        f"MERGE (a)-[r:{safe_rel_type(rel_type)} {{key: row.key}}]->(b) SET r = row.props"
    )


def rel_create_cypher(rel_type: str, end_label: str) -> str:
    return (
        f"UNWIND $rows AS row MATCH (a:{WORK} {{key: row.start}}) "
        f"MATCH (b:{safe_label(end_label)} {{key: row.end}}) "
        f"CREATE (a)-[r:{safe_rel_type(rel_type)}]->(b) SET r = row.props"
    )


def rel_delete_cypher(rel_type: str) -> str:
    return (
        f"UNWIND $rows AS row MATCH (:{WORK} {{key: row.start}})"
        f"-[r:{safe_rel_type(rel_type)} {{key: row.key}}]->() DELETE r"
    )


# -- the difference, in DuckDB -----------------------------------------------------------------

def _hash_sql(cols: list[str]) -> str:
    return f"hash({', '.join(cols)})"


def _diff_tables(con: duckdb.DuckDBPyConnection, graph_id: str) -> dict[str, int]:
    gid = graph_id.replace("'", "''")
    node_cols = ["labels"] + [p.name for p in NODE_PROPS]
    rel_cols = ["type", "start_key", "end_key"] + [p.name for p in REL_PROPS]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE lg_neo4j_nodes_h AS
        SELECT key, labels[1] AS label, array_to_string(labels, ':') AS label_set,
               {_hash_sql(node_cols)} AS hash FROM {NODES_TABLE}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE lg_neo4j_rels_h AS
        SELECT key, type, start_key,
               CASE WHEN starts_with(end_key, 'doi:') OR starts_with(end_key, 'rec:')
                    THEN '{WORK}' ELSE '{TARGET}' END AS end_label,
               {_hash_sql(rel_cols)} AS hash FROM {RELS_TABLE}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE lg_neo4j_nodes_changed AS
        SELECT n.key, n.label_set FROM lg_neo4j_nodes_h n
        LEFT JOIN (SELECT key, hash FROM neo4j_loaded_nodes WHERE graph_id = '{gid}') s
               USING (key)
        WHERE s.hash IS DISTINCT FROM n.hash"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE lg_neo4j_nodes_gone AS
        SELECT s.key, s.label FROM neo4j_loaded_nodes s
        ANTI JOIN lg_neo4j_nodes_h n USING (key) WHERE s.graph_id = '{gid}'"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE lg_neo4j_rels_changed AS
        SELECT r.key, r.type, r.end_label FROM lg_neo4j_rels_h r
        LEFT JOIN (SELECT key, hash FROM neo4j_loaded_rels WHERE graph_id = '{gid}') s
               USING (key)
        WHERE s.hash IS DISTINCT FROM r.hash"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE lg_neo4j_rels_gone AS
        SELECT s.key, s.type, s.start_key FROM neo4j_loaded_rels s
        ANTI JOIN lg_neo4j_rels_h r USING (key) WHERE s.graph_id = '{gid}'"""
    )
    counts = {}
    for name in ("nodes_changed", "nodes_gone", "rels_changed", "rels_gone"):
        row = con.execute(f"SELECT count(*) FROM lg_neo4j_{name}").fetchall()[0]
        counts[name] = int(row[0]) if row else 0
    return counts


def _batches(con: duckdb.DuckDBPyConnection, sql: str, size: int) -> Iterator[list[dict[str, Any]]]:
    """Rows of ``sql`` as lists of dicts, ``size`` at a time, streamed from DuckDB."""
    rel = con.sql(sql)
    # DuckDB 2 names it to_arrow_reader; 1.x fetch_arrow_reader
    to_reader = getattr(rel, "to_arrow_reader", None) or rel.fetch_arrow_reader
    reader = to_reader(size)
    pending: list[dict[str, Any]] = []
    for batch in reader:
        pending.extend(batch.to_pylist())
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


def _groups(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def _props_sql(props: list[str]) -> str:
    return "struct_pack(" + ", ".join(f"{p} := {p}" for p in props) + ")"


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A transaction on ``con`` itself: the temp tables live on that connection (another
    cursor, such as :meth:`Store.transaction` gives, cannot see them)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def plan(con: duckdb.DuckDBPyConnection, graph_id: str) -> tuple[int, int, dict[str, int]]:
    """Build the graph rows on ``con`` and their difference from ``graph_id``'s snapshot:
    ``(nodes, relationships, {nodes_changed, nodes_gone, rels_changed, rels_gone})``."""
    nodes, rels = build_graph_tables(con)
    return nodes, rels, _diff_tables(con, graph_id)


def forget_snapshot(con: duckdb.DuckDBPyConnection, graph_id: str) -> None:
    with _transaction(con) as cur:
        for table in ("neo4j_loaded_nodes", "neo4j_loaded_rels", "neo4j_graphs"):
            cur.execute(f"DELETE FROM {table} WHERE graph_id = ?", [graph_id])


def save_snapshot(con: duckdb.DuckDBPyConnection, graph_id: str, uri: str, database: str,
                  nodes: int, rels: int) -> None:
    """Record the rows :func:`plan` built on ``con`` as what ``graph_id`` now holds."""
    with _transaction(con) as cur:
        cur.execute("DELETE FROM neo4j_loaded_nodes WHERE graph_id = ?", [graph_id])
        cur.execute("DELETE FROM neo4j_loaded_rels WHERE graph_id = ?", [graph_id])
        cur.execute("INSERT INTO neo4j_loaded_nodes SELECT ?, key, label, hash "
                    "FROM lg_neo4j_nodes_h", [graph_id])
        cur.execute("INSERT INTO neo4j_loaded_rels SELECT ?, key, type, start_key, hash "
                    "FROM lg_neo4j_rels_h", [graph_id])
        cur.execute("INSERT OR REPLACE INTO neo4j_graphs VALUES (?, ?, ?, ?, ?, ?)",
                    [graph_id, uri, database, utcnow(), nodes, rels])


# -- the load ----------------------------------------------------------------------------------

class Loader:
    """One load of the store's graph into one Neo4j database."""

    def __init__(self, store: Store, driver: Driver, target: Neo4jTarget, *,
                 batch_size: int = 5000, progress: ProgressFn | None = None) -> None:
        self.store = store
        self.con = store.cursor()  # the temp tables of this load live on it
        self.driver = driver
        self.target = target
        self.batch_size = batch_size
        self.progress = progress or (lambda n, total=None: None)
        self.stats = LoadStats()

    def _write(self, cypher: str, rows: list[dict[str, Any]]) -> None:
        def work(tx: ManagedTransaction) -> None:
            tx.run(cypher, rows=rows).consume()

        with self.driver.session(database=self.target.database) as session:
            try:
                session.execute_write(work)
            except Neo4jError as exc:
                raise Neo4jLoadError(f"Neo4j refused a batch: {exc.message or exc}") from exc
        self.stats.batches += 1
        self.progress(len(rows), None)

    def ensure_schema(self) -> str:
        """Constraints and indexes (idempotent), and the graph's id (made on first load)."""
        with self.driver.session(database=self.target.database) as session:
            try:
                for statement in SCHEMA_STATEMENTS:
                    session.run(statement).consume()
                record = session.execute_write(
                    lambda tx: tx.run(
                        f"MERGE (m:{META_LABEL} {{id: 'graph'}}) "
                        "ON CREATE SET m.graph_id = $new RETURN m.graph_id AS graph_id",
                        new=str(uuid.uuid4()),
                    ).single(strict=True)
                )
            except Neo4jError as exc:
                raise Neo4jLoadError(f"Neo4j refused the schema: {exc.message or exc}") from exc
        return str(record["graph_id"])

    def run(self) -> LoadStats:
        started = time.perf_counter()
        graph_id = self.ensure_schema()
        known = self.con.execute(
            "SELECT count(*) FROM neo4j_graphs WHERE graph_id = ?", [graph_id]
        ).fetchall()[0]
        self.stats.graph_id = graph_id
        self.stats.full = not (known and known[0])
        if self.stats.full:  # a graph we never loaded, or one wiped since: forget its snapshot
            with self.store._lock:
                forget_snapshot(self.con, graph_id)
        self.stats.nodes, self.stats.relationships, counts = plan(self.con, graph_id)
        self.progress(0, sum(counts.values()))
        # into a database without any of linkgraph's nodes, CREATE needs no existence checks
        # (MERGE on relationships scans each start node's relationships of the type); after
        # an interrupted load some nodes exist, and MERGE takes over again
        self._send(fresh=self.stats.full and self._empty())
        with self.store._lock:
            save_snapshot(self.con, graph_id, self.target.uri, self.target.database,
                          self.stats.nodes, self.stats.relationships)
        self.con.close()
        self.stats.seconds = time.perf_counter() - started
        return self.stats

    def _empty(self) -> bool:
        with self.driver.session(database=self.target.database) as session:
            rec = session.run(f"RETURN EXISTS {{ MATCH (:{WORK}) }} "
                              f"OR EXISTS {{ MATCH (:{TARGET}) }} AS any").single(strict=True)
        return not rec["any"]

    def _send(self, *, fresh: bool = False) -> None:
        for kind, cypher, rows in statements(self.con, self.batch_size, fresh=fresh):
            self._write(cypher, rows)
            setattr(self.stats, kind, getattr(self.stats, kind) + len(rows))


def statements(con: duckdb.DuckDBPyConnection, batch_size: int, *, fresh: bool = False
               ) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    """``(stat name, cypher, rows)`` for every batch of the planned difference, in the order
    they must run: relationship deletes, node deletes, node upserts, relationship upserts
    (CREATE instead of MERGE when ``fresh``: the database holds none of linkgraph's nodes)."""
    for (rtype,) in _groups(con, "SELECT DISTINCT type FROM lg_neo4j_rels_gone ORDER BY 1"):
        sql = (f"SELECT key, start_key AS start FROM lg_neo4j_rels_gone "
               f"WHERE type = '{safe_rel_type(rtype)}' ORDER BY key")
        for rows in _batches(con, sql, batch_size):
            yield "relationships_deleted", rel_delete_cypher(rtype), rows
    for (label,) in _groups(con, "SELECT DISTINCT label FROM lg_neo4j_nodes_gone ORDER BY 1"):
        sql = f"SELECT key FROM lg_neo4j_nodes_gone WHERE label = '{safe_label(label)}' ORDER BY key"
        for rows in _batches(con, sql, batch_size):
            yield "nodes_deleted", node_delete_cypher(label), rows
    props = _props_sql(["key"] + [p.name for p in NODE_PROPS])
    for (label_set,) in _groups(
        con, "SELECT DISTINCT label_set FROM lg_neo4j_nodes_changed ORDER BY 1"
    ):
        labels = [safe_label(x) for x in label_set.split(":")]
        sql = (f"SELECT n.key, {props} AS props FROM {NODES_TABLE} n "
               f"JOIN lg_neo4j_nodes_changed c USING (key) "
               f"WHERE c.label_set = '{':'.join(labels)}' ORDER BY n.key")
        for rows in _batches(con, sql, batch_size):
            yield "nodes_written", (node_create_cypher(labels) if fresh
                                    else node_upsert_cypher(labels)), rows
    props = _props_sql(["key"] + [p.name for p in REL_PROPS])
    for rtype, end_label in _groups(
        con, "SELECT DISTINCT type, end_label FROM lg_neo4j_rels_changed ORDER BY 1, 2"
    ):
        sql = (f"SELECT r.key, r.start_key AS start, r.end_key AS \"end\", {props} AS props "
               f"FROM {RELS_TABLE} r JOIN lg_neo4j_rels_changed c USING (key) "
               f"WHERE c.type = '{safe_rel_type(rtype)}' "
               f"AND c.end_label = '{safe_label(end_label)}' ORDER BY r.start_key, r.key")
        for rows in _batches(con, sql, batch_size):
            yield "relationships_written", (rel_create_cypher(rtype, end_label) if fresh
                                            else rel_upsert_cypher(rtype, end_label)), rows


def load(store: Store, target: Neo4jTarget, *, batch_size: int = 5000,
         progress: ProgressFn | None = None) -> LoadStats:
    """Bring the Neo4j database up to date with the store; see the module docstring."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    driver = connect(target)
    try:
        return Loader(store, driver, target, batch_size=batch_size, progress=progress).run()
    finally:
        driver.close()
