"""Run a named query (``queries/<name>.sql`` or ``<name>.cypher``) on DuckDB or on Neo4j.

The audit queries and their Cypher twins return the same columns (kind, severity,
subject_key, subject_doi, object_doi, object_raw, relation_type, score, evidence). On DuckDB an
``audit_*`` query runs after the audits' preparation (``audit_prepare.sql``) with the audit
runner's parameters; on Neo4j it runs against the graph ``linkgraph graph neo4j load`` (or the
CSV import) built. Map values from Cypher (``evidence``) are returned as JSON text, as DuckDB
returns them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb
from linkgraph.crosswalks.vocab import relation_types
from linkgraph.graph.audit import MAX_BLOCK, SAME_CONTENT_THRESHOLD
from linkgraph.graph.audit import _prepare as prepare_audit_tables
from linkgraph.queries import load_query, query_names

from linkgraph.errors import LinkgraphError, UsageError

BACKENDS = ("duckdb", "neo4j")


@dataclass(slots=True)
class QueryResult:
    name: str
    backend: str
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def available(backend: str) -> list[str]:
    return query_names("sql" if backend == "duckdb" else "cypher")


def _params(text: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "$threshold" in text:
        params["threshold"] = SAME_CONTENT_THRESHOLD
    if "$max_block" in text:
        params["max_block"] = MAX_BLOCK
    if "$inverse" in text:
        params["inverse"] = {t: inv for t, inv in relation_types().items() if inv is not None}
    return params


def run_duckdb(con: duckdb.DuckDBPyConnection, name: str) -> QueryResult:
    """Run ``queries/<name>.sql`` on ``con`` (a cursor of its own: audit preparation leaves
    temp tables on it)."""
    sql = load_query(name, "sql")
    if name.startswith("audit_") or "audit_works" in sql:  # audits and the scorecard
        prepare_audit_tables(con)
    try:
        cur = con.execute(sql.strip().rstrip(";"), _params(sql))
    except duckdb.Error as exc:
        raise LinkgraphError(f"query {name!r} failed on DuckDB: {exc}") from exc
    if cur.description is None:
        return QueryResult(name, "duckdb", [], [])
    columns = [d[0] for d in cur.description]
    return QueryResult(name, "duckdb", columns, [tuple(r) for r in cur.fetchall()])


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def run_neo4j(driver: Any, database: str, name: str) -> QueryResult:
    """Run ``queries/<name>.cypher`` with the official driver (a read transaction)."""
    from linkgraph.graph.neo4j_load import Neo4jLoadError
    from neo4j.exceptions import Neo4jError

    cypher = load_query(name, "cypher")
    params = _params(cypher)

    def work(tx: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        result = tx.run(cypher, params)
        keys = list(result.keys())
        return keys, [tuple(_plain(v) for v in rec.values()) for rec in result]

    with driver.session(database=database) as session:
        try:
            columns, rows = session.execute_read(work)
        except Neo4jError as exc:
            raise Neo4jLoadError(f"Neo4j refused query {name!r}: {exc.message or exc}") from exc
    return QueryResult(name, "neo4j", columns, rows)


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
