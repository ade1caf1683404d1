"""Run the link-graph audits over the crosswalk's tables and keep their findings.

Each audit is a named DuckDB query in ``queries/`` (set-based, so it scales to millions of
relations) producing finding rows of one shape; version-chain cycles and duplicate clusters use
networkx on subgraphs cut out in SQL (``graph/networks.py``). Findings are enriched with both
sides' registry, prefix, source and record date (``audit_enrich.sql``), get their corrective
fragments (``graph/fixes.py``) and replace the previous findings of the same audit family.
Every run also stores a snapshot of the DOI link set for ``linkgraph audit diff``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pyarrow as pa
from linkgraph.crosswalks.vocab import relation_types
from linkgraph.graph import networks
from linkgraph.graph.fixes import register_fix_vocab, validate_fixes
from linkgraph.queries import load_query

from linkgraph.errors import UsageError
from linkgraph.store import Store, utcnow

#: family -> the audits it runs, in order (query name, or a networkx step).
FAMILIES: dict[str, tuple[str, ...]] = {
    "reciprocal": ("audit_reciprocal", "audit_text_links"),
    "versions": ("audit_version_missing", "version_cycles"),
    "duplicates": ("audit_duplicate_url", "audit_identical", "audit_same_content"),
    "targets": ("audit_targets",),
}
#: every finding kind, by family (what ``--kind`` also accepts).
KINDS: dict[str, tuple[str, ...]] = {
    "reciprocal": ("missing_reciprocal", "version_one_way", "unverifiable_reciprocal", "text_only_link"),
    "versions": ("version_missing", "version_cycle"),
    "duplicates": networks.DUPLICATE_KINDS,  # the kinds duplicate_clusters groups
    "targets": ("malformed_target", "unknown_doi", "self_link", "supplement_not_publication"),
}
SAME_CONTENT_THRESHOLD = 0.86
MAX_BLOCK = 25
DEFAULT_KEEP_SNAPSHOTS = 2


@dataclass(slots=True)
class AuditResult:
    run_id: int
    families: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # kind -> findings
    links: int = 0
    clusters: int = 0
    fixes: dict[str, int] = field(default_factory=dict)
    graph_stats: dict[str, int] = field(default_factory=dict)

    @property
    def findings(self) -> int:
        return sum(self.counts.values())


def resolve_families(kinds: Sequence[str] | None) -> list[str]:
    """Family names from ``--kind`` values (family or finding-kind names); none = all."""
    if not kinds:
        return list(FAMILIES)
    chosen: list[str] = []
    for k in kinds:
        fam = k if k in FAMILIES else next((f for f, ks in KINDS.items() if k in ks), None)
        if fam is None:
            known = ", ".join([*FAMILIES, *(k for ks in KINDS.values() for k in ks)])
            raise UsageError(f"unknown audit kind {k!r}; known: {known}")
        if fam not in chosen:
            chosen.append(fam)
    return chosen


def inverse_table() -> pa.Table:
    """relation type -> its inverse (types with one), the audits' audit_inverse table."""
    pairs = [(t, inv) for t, inv in relation_types().items() if inv is not None]
    return pa.table({"relation_type": [p[0] for p in pairs], "inverse": [p[1] for p in pairs]})


def create_enum_types(cur: duckdb.DuckDBPyConnection) -> None:
    """audit_links' relation types and sources as ENUMs (``audit_prepare.sql`` says why),
    sorted, so ORDER BY and min() on them read as on the text."""
    cur.execute("CREATE OR REPLACE TEMP TYPE audit_rel AS ENUM (SELECT relation_type FROM ("
                "SELECT DISTINCT relation_type FROM relations UNION SELECT relation_type FROM audit_inverse"
                ") WHERE relation_type IS NOT NULL ORDER BY 1)")
    cur.execute("CREATE OR REPLACE TEMP TYPE audit_source AS ENUM ("
                "SELECT DISTINCT source FROM relations WHERE source IS NOT NULL ORDER BY 1)")


def _prepare(cur: duckdb.DuckDBPyConnection) -> None:
    cur.register("audit_inverse_arrow", inverse_table())
    try:
        cur.execute("CREATE OR REPLACE TEMP TABLE audit_inverse AS SELECT * FROM audit_inverse_arrow")
    finally:
        cur.unregister("audit_inverse_arrow")
    register_fix_vocab(cur)
    create_enum_types(cur)
    cur.execute(load_query("audit_prepare"))
    # this run's findings until its last step stores them (audit_enrich.sql writes here)
    cur.execute("CREATE OR REPLACE TEMP TABLE audit_staged AS SELECT * FROM findings LIMIT 0")


def _found_from_query(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    params: dict[str, object] = {}
    sql = load_query(name)
    if "$threshold" in sql:
        params["threshold"] = SAME_CONTENT_THRESHOLD
    if "$max_block" in sql:
        params["max_block"] = MAX_BLOCK
    cur.execute(f"CREATE OR REPLACE TEMP TABLE audit_found AS {sql.strip().rstrip(';')}", params)


def _run_one(cur: duckdb.DuckDBPyConnection, name: str, result: AuditResult) -> None:
    if name == "version_cycles":
        table, stats = networks.version_cycles(cur)
        result.graph_stats.update(stats)
        cur.register("audit_found_arrow", table)
        try:
            cur.execute("CREATE OR REPLACE TEMP TABLE audit_found AS SELECT * FROM audit_found_arrow")
        finally:
            cur.unregister("audit_found_arrow")
    else:
        _found_from_query(cur, name)


def run_audit(
    store: Store,
    kinds: Sequence[str] | None = None,
    *,
    keep_snapshots: int = DEFAULT_KEEP_SNAPSHOTS,
    progress: Callable[[str, float], None] | None = None,
) -> AuditResult:
    """Run the chosen audit families (all by default); the findings, the link snapshot and the
    run's record are stored in one last transaction, so an audit is stored whole or not at all.

    Each step (the working tables, each family, the storing) commits TEMP rows of its own, and
    when DuckDB runs out of memory only that step is rolled back and run again with a larger
    budget (10M works: a whole-audit retry cost 147 s of 441). Only an error that invalidated the
    database starts the whole audit over, on the store opened again."""
    families = resolve_families(kinds)
    # the batch budget (linkgraph.memory.batch_budget, by the relations' count) unless one was chosen
    relations = store.query("SELECT coalesce(sum(estimated_size), 0) FROM duckdb_tables()"
                            " WHERE table_name = 'relations' AND database_name = current_database()")
    store.widen_budget(rows=int(relations[0][0]) if relations else 0)
    return store.retry_on_oom(lambda: _run_audit(store, families, keep_snapshots, progress))


def _run_audit(
    store: Store,
    families: list[str],
    keep_snapshots: int,
    progress: Callable[[str, float], None] | None,
) -> AuditResult:
    started = utcnow()
    with store.transaction() as cur:
        run_id = int(cur.execute("SELECT nextval('audit_run_seq')").fetchall()[0][0])
        result = AuditResult(run_id, families)
        t0 = time.perf_counter()
        # Committed before they are queried (TEMP: only this cursor sees them): DuckDB plans
        # joins over tables created in the still-open transaction without their statistics,
        # and the same-content query went from 0.5 s to minutes on 100k works.
        store.retry_step(cur, lambda: _prepare(cur))
        _timed(result, "prepare", t0, progress)
        for family in families:
            store.retry_step(cur, lambda family=family: _run_family(cur, family, result, progress))
        t0, inner = time.perf_counter(), sum(result.timings.values())
        store.retry_step(cur, lambda: _store_run(cur, result, started, keep_snapshots, progress))
        # what is left of the last step is its commit: 48M snapshot rows reach the file (10M works)
        _timed(result, "commit", t0 + sum(result.timings.values()) - inner, progress)
    return result


def _run_family(cur: duckdb.DuckDBPyConnection, family: str, result: AuditResult,
                progress: Callable[[str, float], None] | None) -> None:
    for name in FAMILIES[family]:
        t0 = time.perf_counter()
        _run_one(cur, name, result)
        cur.execute(load_query("audit_enrich"), {"run_id": result.run_id, "family": family})
        _timed(result, name, t0, progress)


def _store_run(cur: duckdb.DuckDBPyConnection, result: AuditResult, started: datetime, keep_snapshots: int,
               progress: Callable[[str, float], None] | None) -> None:
    """The last step: this run's staged findings replace its families' in ``findings``, with
    clusters, fix verdicts, the link snapshot and the run's record."""
    result.counts.clear()
    t0 = time.perf_counter()
    cur.execute("DELETE FROM findings WHERE list_contains(?, family)", [result.families])
    cur.execute("INSERT INTO findings SELECT * FROM audit_staged")
    _timed(result, "store_findings", t0, progress)
    if "duplicates" in result.families:
        t0 = time.perf_counter()
        result.clusters = networks.duplicate_clusters(cur, result.run_id)
        _timed(result, "duplicate_clusters", t0, progress)
    t0 = time.perf_counter()
    result.fixes = validate_fixes(cur, result.run_id)
    _timed(result, "fix_fragments", t0, progress)
    t0 = time.perf_counter()
    result.links = snapshot_links(cur, result.run_id)
    _timed(result, "link_snapshot", t0, progress)
    for kind, n in cur.execute(
        "SELECT kind, count(*) FROM findings WHERE run_id = ? GROUP BY kind ORDER BY kind", [result.run_id]
    ).fetchall():
        result.counts[str(kind)] = int(n)
    cur.execute(
        "INSERT INTO audit_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
        [result.run_id, started, utcnow(), result.families, result.links, result.findings,
         {k: round(v, 4) for k, v in result.timings.items()}],
    )
    prune_snapshots(cur, keep_snapshots)


def _timed(result: AuditResult, name: str, t0: float, progress: Callable[[str, float], None] | None) -> None:
    seconds = time.perf_counter() - t0
    result.timings[name] = seconds
    if progress is not None:
        progress(name, seconds)


def snapshot_links(cur: duckdb.DuckDBPyConnection, run_id: int) -> int:
    """Store this run's DOI link set (as stated by the subjects' own records)."""
    cur.execute(
        "INSERT INTO link_snapshots SELECT ?, subject_doi, relation_type, target, source"
        " FROM audit_links WHERE stated",
        [run_id],
    )
    return int(cur.execute("SELECT count(*) FROM link_snapshots WHERE run_id = ?", [run_id]).fetchall()[0][0])


def prune_snapshots(cur: duckdb.DuckDBPyConnection, keep: int) -> None:
    """Keep the newest ``keep`` (at least 2) snapshots, and the trend baseline's
    (``audit_trend_runs`` of ``audit_prepare.sql``: a partial ``audit --kind`` never is one);
    an older run's ``links`` becomes NULL. Runs on the audit's prepared cursor.

    ``audit_runs.links IS NOT NULL`` marks the runs whose snapshot is kept (an empty link set
    is a snapshot too)."""
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE audit_kept AS SELECT run_id FROM ("
        "(SELECT run_id FROM audit_runs WHERE links IS NOT NULL ORDER BY run_id DESC LIMIT ?) "
        "UNION (SELECT prev_run FROM audit_trend_runs)) WHERE run_id IS NOT NULL",
        [max(2, keep)],
    )
    cur.execute("UPDATE audit_runs SET links = NULL WHERE links IS NOT NULL"
                " AND run_id NOT IN (SELECT run_id FROM audit_kept)")
    cur.execute("DELETE FROM link_snapshots WHERE run_id NOT IN (SELECT run_id FROM audit_kept)")
