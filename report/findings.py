"""Findings out of the store: summaries, CSV / JSON / Parquet export, and link change alerts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from linkgraph.errors import UsageError
from linkgraph.store import Store

EXPORT_FORMATS = ("csv", "json", "parquet")
COPY_OPTIONS = {  # DuckDB COPY options per export format (report/export.py uses them too)
    "csv": "FORMAT CSV, HEADER true",
    "json": "FORMAT JSON, ARRAY true",
    "parquet": "FORMAT PARQUET, COMPRESSION zstd",
}
_ORDER = "ORDER BY family, kind, subject_key, object_doi, object_raw, relation_type"


def export_findings(store: Store, out_dir: Path, formats: tuple[str, ...] = EXPORT_FORMATS,
                    kinds: tuple[str, ...] = ()) -> dict[str, Path]:
    """Write ``findings.<fmt>`` files into ``out_dir``; returns format -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    where = ""
    params: list[object] = []
    if kinds:
        where = "WHERE kind IN (SELECT unnest(?::VARCHAR[])) OR family IN (SELECT unnest(?::VARCHAR[]))"
        params = [list(kinds), list(kinds)]
    written: dict[str, Path] = {}
    for fmt in formats:
        if fmt not in COPY_OPTIONS:
            raise UsageError(f"unknown export format {fmt!r}; use {', '.join(EXPORT_FORMATS)}")
        path = out_dir / f"findings.{fmt}"
        target = str(path).replace("'", "''")
        with store.transaction() as cur:
            cur.execute(f"COPY (SELECT * FROM findings {where} {_ORDER}) TO '{target}' ({COPY_OPTIONS[fmt]})",
                        params)
        written[fmt] = path
    return written


def summary(store: Store) -> list[tuple[str, str, str, int]]:
    """(family, kind, severity, count) of the stored findings."""
    return [
        (str(f), str(k), str(s), int(n))
        for f, k, s, n in store.query(
            "SELECT family, kind, severity, count(*) FROM findings GROUP BY ALL ORDER BY 1, 2, 3"
        )
    ]


@dataclass(frozen=True, slots=True)
class LinkChange:
    change: str  # disappeared | changed_type | appeared
    subject_doi: str
    target: str
    old_types: tuple[str, ...]
    new_types: tuple[str, ...]
    source: str | None


def snapshot_runs(store: Store) -> list[int]:
    """Audit runs whose link snapshot is kept, oldest first."""
    return [int(r[0]) for r in store.query("SELECT run_id FROM audit_runs WHERE links IS NOT NULL ORDER BY 1")]


def link_changes(store: Store, *, old: int | None = None, new: int | None = None,
                 include_new: bool = False) -> tuple[int, int, list[LinkChange]]:
    """Links that disappeared or changed type between two snapshots (default: the newest two)."""
    runs = snapshot_runs(store)
    if new is None:
        if not runs:
            raise UsageError("no link snapshot yet: run `linkgraph audit` first")
        new = runs[-1]
    if old is None:
        earlier = [r for r in runs if r < new]
        if not earlier:
            raise UsageError(f"only one link snapshot (run {new}): run `linkgraph audit` again to compare")
        old = earlier[-1]
    for run in (old, new):
        if run not in runs:
            raise UsageError(f"no link snapshot for audit run {run} (kept: {runs})")
    rows = store.query(
        """
        WITH o AS (SELECT subject_doi, target, list(DISTINCT relation_type ORDER BY relation_type) AS types,
                          min(source) AS source
                   FROM link_snapshots WHERE run_id = ? GROUP BY ALL),
             n AS (SELECT subject_doi, target, list(DISTINCT relation_type ORDER BY relation_type) AS types,
                          min(source) AS source
                   FROM link_snapshots WHERE run_id = ? GROUP BY ALL)
        SELECT CASE WHEN n.subject_doi IS NULL THEN 'disappeared'
                    WHEN o.subject_doi IS NULL THEN 'appeared' ELSE 'changed_type' END,
               coalesce(o.subject_doi, n.subject_doi), coalesce(o.target, n.target),
               coalesce(o.types, []), coalesce(n.types, []), coalesce(o.source, n.source)
        FROM o FULL OUTER JOIN n ON o.subject_doi = n.subject_doi AND o.target = n.target
        WHERE n.subject_doi IS NULL
           OR (o.subject_doi IS NOT NULL AND len(list_filter(o.types, lambda t: NOT list_contains(n.types, t))) > 0)
           OR (? AND o.subject_doi IS NULL)
        ORDER BY 1, 2, 3
        """,
        [old, new, include_new],
    )
    return old, new, [
        LinkChange(str(c), str(s), str(t), tuple(ot), tuple(nt), src) for c, s, t, ot, nt, src in rows
    ]
