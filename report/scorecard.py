"""Linkage scorecard per prefix, member and journal (``queries/scorecard.sql``), for librarians'
notebooks, ``linkgraph report`` and ``linkgraph export``.

The scorecard reads the audits' link snapshots (the latest audit run and the one before, for the
trend) and their working tables (``audit_prepare.sql``, built here as TEMP tables, so a read-only
connection is enough)::

    from linkgraph.store import open_for_reading
    from linkgraph.report.scorecard import scorecard

    with open_for_reading("demo.duckdb") as store:
        card = scorecard(store, level="prefix")
        card.rows[0]["pct_links_reciprocal"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from linkgraph.graph.audit import _prepare as prepare_audit_tables
from linkgraph.queries import load_query

from linkgraph.errors import UsageError
from linkgraph.store import Store

LEVELS = ("prefix", "member", "journal")

#: the scorecard's percentages: column -> (English, Japanese) label.
METRICS: dict[str, tuple[str, str]] = {
    "pct_datasets_linked": ("Datasets linked with an article", "論文とリンクされたデータセット"),
    "pct_datasets_cited": ("Datasets cited by an article", "論文に引用されたデータセット"),
    "pct_links_reciprocal": ("Links stated in both directions", "双方向に記述されたリンク"),
    "pct_links_typed": ("Links with a specific relation type", "関係タイプが具体的なリンク"),
    "pct_targets_resolving": ("Link targets known to an agency", "登録機関で解決できるリンク先"),
}
#: what each percentage is computed from: column -> (numerator, denominator).
METRIC_PARTS: dict[str, tuple[str, str]] = {
    "pct_datasets_linked": ("datasets_linked", "datasets"),
    "pct_datasets_cited": ("datasets_cited", "datasets"),
    "pct_links_reciprocal": ("links_reciprocal", "links_checkable"),
    "pct_links_typed": ("links_typed", "links"),
    "pct_targets_resolving": ("targets_resolving", "targets"),
}
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "prefix": ("Prefix", "プレフィックス"),
    "member": ("Member (publisher)", "会員(出版者)"),
    "journal": ("Journal", "ジャーナル"),
}


@dataclass(slots=True)
class Scorecard:
    """The scorecard rows (dicts keyed by the query's columns) and works by type."""

    columns: list[str]
    rows: list[dict[str, Any]]
    types: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None
    prev_run_id: int | None = None

    def level(self, level: str) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["level"] == level]

    def row(self, level: str, key: str) -> dict[str, Any]:
        for r in self.rows:
            if r["level"] == level and r["key"] == key:
                return r
        raise KeyError((level, key))

    def to_arrow(self) -> pa.Table:
        return rows_to_arrow(self.columns, self.rows)

    def types_by_group(self) -> dict[tuple[str, str], dict[str, int]]:
        """(level, key) -> {resource_type: works}."""
        out: dict[tuple[str, str], dict[str, int]] = {}
        for t in self.types:
            out.setdefault((t["level"], t["key"]), {})[t["resource_type"]] = int(t["works"])
        return out


def rows_to_arrow(columns: list[str], rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table({c: [r[c] for r in rows] for c in columns}) if rows else pa.table(
        {c: pa.array([], pa.string()) for c in columns})


def _cursor(store: Store | duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con = store.con if isinstance(store, Store) else store
    cur = con.cursor()
    cur.execute("SET TimeZone = 'UTC'")
    prepare_audit_tables(cur)
    return cur


def run_named(cur: duckdb.DuckDBPyConnection, name: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Run ``queries/<name>.sql`` on a prepared cursor; (columns, rows as dicts)."""
    res = cur.execute(load_query(name).strip().rstrip(";"))
    columns = [d[0] for d in res.description]
    return columns, [dict(zip(columns, row, strict=True)) for row in res.fetchall()]


def _keep(row: dict[str, Any], level: str | None, prefix: str | None) -> bool:
    if level is not None and row["level"] != level:
        return False
    if prefix is not None:
        prefixes = (row.get("prefixes") or "").split(", ") if "prefixes" in row else None
        if prefixes is not None:
            return prefix in prefixes
    return True


def scorecard(store: Store | duckdb.DuckDBPyConnection, *, level: str | None = None,
              prefix: str | None = None) -> Scorecard:
    """The linkage scorecard of the latest audit run (trend against the one before).

    ``level``: one of :data:`LEVELS` (default: all); ``prefix``: only groups holding works of that
    DOI prefix. An empty scorecard (no rows) when nothing was audited yet.
    """
    if level is not None and level not in LEVELS:
        raise UsageError(f"unknown scorecard level {level!r}; use {', '.join(LEVELS)}")
    if prefix is not None:
        prefix = prefix.strip().lower()
    cur = _cursor(store)
    try:
        columns, rows = run_named(cur, "scorecard")
        _, types = run_named(cur, "scorecard_types")
        picked = cur.execute("SELECT cur_run, prev_run FROM audit_trend_runs").fetchall()
    finally:
        cur.close()
    rows = [r for r in rows if _keep(r, level, prefix)]
    groups = {(r["level"], r["key"]) for r in rows}
    types = [t for t in types if (t["level"], t["key"]) in groups]
    return Scorecard(columns, rows, types,
                     run_id=int(picked[0][0]) if picked and picked[0][0] is not None else None,
                     prev_run_id=int(picked[0][1]) if picked and picked[0][1] is not None else None)


def trend(row: dict[str, Any], metric: str) -> float | None:
    """Change of a percentage since the previous audit (percentage points), or None."""
    now, before = row.get(metric), row.get(f"prev_{metric}")
    if now is None or before is None:
        return None
    return round(float(now) - float(before), 1)
