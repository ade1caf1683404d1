"""The networkx parts of the audits, each on a small subgraph cut out in SQL first.

* Version-chain cycles: the version graph (``audit_version_edges``) is pruned in DuckDB until
  only nodes with both an incoming and an outgoing edge remain (chains and trees vanish in a
  few passes); networkx finds the strongly connected components of what is left.
* Duplicate clusters: the pairs found by the duplicate audits are joined into connected
  components; each finding gets the component's id (its smallest member).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import duckdb
import networkx as nx
import pyarrow as pa
from linkgraph.queries import load_query

MAX_PRUNE_PASSES = 50
CYCLE_COLUMNS = ("kind", "severity", "subject_key", "subject_doi", "object_doi", "object_raw",
                 "relation_type", "score", "evidence")


def version_cycles(cur: duckdb.DuckDBPyConnection) -> tuple[pa.Table, dict[str, int]]:
    """One ``version_cycle`` finding per strongly connected component of the version graph."""
    cur.execute(load_query("audit_version_edges"))
    stats = prune_version_graph(lambda: cur.execute(load_query("audit_version_prune")), lambda: _count(cur))
    return cycle_findings(cur.execute("SELECT src, dst FROM audit_version_edges").fetchall()), stats


def prune_version_graph(prune: Callable[[], object], count: Callable[[], int]) -> dict[str, int]:
    """Run ``audit_version_prune`` (``prune``) until the edge count (``count``) stops falling,
    at most ``MAX_PRUNE_PASSES`` times; the DuckDB and the Spark audit both prune this way."""
    total = count()
    passes, before = 0, total
    while before and passes < MAX_PRUNE_PASSES:
        prune()
        passes += 1
        after = count()
        if after == before:
            break
        before = after
    return {"version_edges": total, "after_pruning": before, "prune_passes": passes}


def cycle_findings(edges: Iterable[tuple[str, str]]) -> pa.Table:
    """``version_cycle`` findings (``found_schema``) of the pruned version graph's edges (the
    DuckDB audit and the Spark one both cut the graph out and hand it here)."""
    graph = nx.DiGraph()
    graph.add_edges_from(edges)
    rows: dict[str, list[object]] = {c: [] for c in CYCLE_COLUMNS}
    for comp in nx.strongly_connected_components(graph):
        if len(comp) < 2:
            continue
        sub = graph.subgraph(comp)
        start = min(comp)
        cycle = [u for u, _ in nx.find_cycle(sub, source=start)]
        first = cycle.index(min(cycle))
        cycle = cycle[first:] + cycle[:first]
        values = ("version_cycle", "error", f"doi:{cycle[0]}", cycle[0], cycle[1], cycle[1], None, None,
                  json.dumps({"cycle": cycle + [cycle[0]], "members": sorted(comp)}))
        for col, value in zip(CYCLE_COLUMNS, values):
            rows[col].append(value)
    return pa.table(rows, schema=found_schema())


def found_schema() -> pa.Schema:
    return pa.schema([
        ("kind", pa.string()), ("severity", pa.string()), ("subject_key", pa.string()),
        ("subject_doi", pa.string()), ("object_doi", pa.string()), ("object_raw", pa.string()),
        ("relation_type", pa.string()), ("score", pa.float64()), ("evidence", pa.string()),
    ])


def _count(cur: duckdb.DuckDBPyConnection) -> int:
    return int(cur.execute("SELECT count(*) FROM audit_version_edges").fetchall()[0][0])


#: the duplicate finding kinds (audit.KINDS["duplicates"] is this tuple)
DUPLICATE_KINDS: tuple[str, ...] = ("duplicate_url", "identical_pair", "same_content")


def cluster_ids(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """DOI -> its cluster's id (the smallest DOI of its connected component of the pairs)."""
    graph = nx.Graph()
    graph.add_edges_from(pairs)
    cluster_of: dict[str, str] = {}
    for comp in nx.connected_components(graph):
        cid = min(comp)
        for node in comp:
            cluster_of[node] = cid
    return cluster_of


def duplicate_clusters(cur: duckdb.DuckDBPyConnection, run_id: int) -> int:
    """Set ``cluster_id`` on this run's duplicate findings; returns the number of clusters."""
    pairs = cur.execute(
        "SELECT finding_id, subject_doi, object_doi FROM findings WHERE run_id = ? AND kind IN "
        f"({', '.join(repr(k) for k in DUPLICATE_KINDS)}) AND object_doi IS NOT NULL", [run_id]
    ).fetchall()
    cluster_of = cluster_ids((a, b) for _, a, b in pairs)
    count = len(set(cluster_of.values()))
    table = pa.table({
        "finding_id": [f for f, _, _ in pairs],
        "cluster_id": [cluster_of[a] for _, a, _ in pairs],
    })
    cur.register("audit_clusters", table)
    try:
        cur.execute(
            "UPDATE findings SET cluster_id = c.cluster_id FROM audit_clusters c"
            " WHERE findings.finding_id = c.finding_id AND findings.run_id = ?", [run_id]
        )
    finally:
        cur.unregister("audit_clusters")
    return count
