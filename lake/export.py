"""The store as a Hive-partitioned Parquet lake that DuckDB, Spark and Trino read as it is.

::

    DIR/manifest.json
    DIR/raw_records/source=<source>/month=<YYYY-MM>/data.parquet   (harvest month: fetched_at)
    DIR/works/registry=<jalc|crossref|datacite|repository|...>/data.parquet
    DIR/identifiers/registry=<...>/data.parquet                    (the registry of their work)
    DIR/relations/registry=<...>/data.parquet
    DIR/problems/data.parquet, DIR/ra_cache/data.parquet, DIR/unknown_dois/data.parquet

Partition values are percent-encoded (``%2F`` for ``/``), as Hive, Spark and DuckDB decode them.
An export is incremental: every partition's row count and content fingerprint (``bit_xor`` of
the rows' hashes) is kept in the manifest, and the next export rewrites only partitions whose
fingerprint changed, writes new ones and removes those that no longer exist. Each file is
written beside its place and renamed into it, and the manifest last, so a reader never sees a
half-written file and a killed export is finished by the next one.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import suppress
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb

from linkgraph.store import Store, utcnow

MANIFEST = "manifest.json"
LAKE_VERSION = 1
#: a work's registry partition (lake crosswalk partitions Spark's tables by the same expression)
REGISTRY_SQL = "coalesce(lower(w.registration_agency), CASE WHEN w.doi IS NULL THEN 'repository' ELSE 'unknown' END)"

#: table -> (SELECT producing its rows plus the partition columns, partition columns)
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "raw_records": (
        "SELECT r.*, r.source AS p_source, coalesce(strftime(r.fetched_at, '%Y-%m'), 'none') AS p_month"
        " FROM raw_records r", ("source", "month")),
    "works": (f"SELECT w.*, {REGISTRY_SQL} AS p_registry FROM works w", ("registry",)),
    "identifiers": (
        f"SELECT i.*, {REGISTRY_SQL} AS p_registry FROM identifiers i"
        " JOIN works w USING (source, record_id, work_seq)", ("registry",)),
    "relations": (
        f"SELECT r.*, {REGISTRY_SQL} AS p_registry FROM relations r"
        " JOIN works w USING (source, record_id, work_seq)", ("registry",)),
    "problems": ("SELECT * FROM problems", ()),
    "ra_cache": ("SELECT * FROM ra_cache", ()),
    "unknown_dois": ("SELECT * FROM unknown_dois", ()),
}


@dataclass(slots=True)
class Partition:
    table: str
    values: dict[str, str]  # partition column -> value
    rows: int
    fingerprint: str

    @property
    def path(self) -> str:
        parts = [self.table] + [f"{k}={quote(v, safe='')}" for k, v in self.values.items()]
        return "/".join(parts)


@dataclass(slots=True)
class ExportResult:
    directory: Path
    partitions: int = 0
    written: int = 0  # partitions (re)written this time
    removed: int = 0
    unchanged: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0


def _partitions(cur: duckdb.DuckDBPyConnection, table: str) -> list[Partition]:
    sql, cols = TABLES[table]
    pcols = [f"p_{c}" for c in cols]
    data_cols = [d[0] for d in cur.execute(f"SELECT * FROM ({sql}) LIMIT 0").description
                 if not d[0].startswith("p_")]
    group = f" GROUP BY {', '.join(pcols)}" if pcols else ""
    select_p = ", ".join(pcols) + ", " if pcols else ""
    rows = cur.execute(
        f"SELECT {select_p}count(*), bit_xor(hash({', '.join(data_cols)})) FROM ({sql}){group}"
    ).fetchall()
    out = []
    for row in rows:  # an unpartitioned table gives one row, also when it is empty
        values = {c: str(v) for c, v in zip(cols, row[: len(cols)])}
        out.append(Partition(table, values, int(row[len(cols)]), str(row[len(cols) + 1])))
    return out


# Row groups cut by size, not only by rows: 122,880 raw payloads of 6 KB are 700 MB held at once,
# and the export ran out of memory at the default budget on 100k raw records. (Needs
# preserve_insertion_order off, set on the export's cursor: rows keep no order in a lake.)
_PARQUET = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE_BYTES '32MB'"


def _write(cur: duckdb.DuckDBPyConnection, root: Path, part: Partition) -> int:
    sql, cols = TABLES[part.table]
    where = " AND ".join(f"p_{c} = ?" for c in cols) or "true"
    target = root / part.path / "data.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".data.parquet.{os.getpid()}.tmp")
    quoted = str(tmp).replace("'", "''")
    cur.execute(
        f"COPY (SELECT * EXCLUDE ({', '.join(f'p_{c}' for c in cols)}) FROM ({sql}) WHERE {where})"
        f" TO '{quoted}' ({_PARQUET})" if cols else
        f"COPY ({sql}) TO '{quoted}' ({_PARQUET})",
        list(part.values.values()),
    )
    os.replace(tmp, target)
    return target.stat().st_size


def read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def export_lake(
    store: Store, directory: Path, *, progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write (or bring up to date) the lake at ``directory`` from ``store``. A set-based job:
    it starts with the batch budget, and when DuckDB runs out of memory it goes on with a
    larger one (an export can run again: each file is renamed into place, the manifest last)."""
    store.widen_budget()
    return store.retry_on_oom(lambda: _export(store, directory, progress))


def _export(store: Store, directory: Path, progress: Callable[[str], None] | None) -> ExportResult:
    t0 = time.perf_counter()
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    old = read_manifest(root) or {}
    before = {p["path"]: p for p in old.get("partitions", [])} if old.get("lake_version") == LAKE_VERSION else {}
    result = ExportResult(root)
    cur = store.con.cursor()
    try:
        cur.execute("SET preserve_insertion_order = false")
        cur.execute("BEGIN TRANSACTION")  # one consistent view of the store for the whole export
        current: list[Partition] = []
        for table in TABLES:
            parts = _partitions(cur, table)
            current.extend(parts)
            result.rows[table] = sum(p.rows for p in parts)
        for part in current:
            prev = before.get(part.path)
            file = root / part.path / "data.parquet"
            if prev and prev["fingerprint"] == part.fingerprint and prev["rows"] == part.rows and file.is_file():
                result.unchanged += 1
            else:
                _write(cur, root, part)
                result.written += 1
                if progress is not None:
                    progress(part.path)
        marks = cur.execute(
            "SELECT (SELECT coalesce(max(change_seq), 0) FROM raw_records),"
            " (SELECT coalesce(max(high_water), 0) FROM crosswalk_state),"
            " (SELECT max(version) FROM schema_version)").fetchone()
        cur.execute("COMMIT")
    finally:
        with suppress(duckdb.Error):
            cur.execute("RESET preserve_insertion_order")  # a global setting: as it was
        cur.close()
    result.removed = _sweep(root, {p.path for p in current})
    _prune_empty_dirs(root)
    result.partitions = len(current)
    result.bytes = sum(f.stat().st_size for f in root.rglob("*.parquet"))
    manifest = {
        "lake_version": LAKE_VERSION, "exported_at": utcnow().isoformat(), "store": str(store.path),
        "schema_version": marks[2] if marks else None,
        "high_water": {"raw_change_seq": marks[0] if marks else 0, "crosswalk": marks[1] if marks else 0},
        "rows": result.rows,
        "partitions": [{**asdict(p), "path": p.path} for p in current],
    }
    tmp = root / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), "utf-8")
    os.replace(tmp, root / MANIFEST)
    result.seconds = time.perf_counter() - t0
    return result


def _sweep(root: Path, keep: set[str]) -> int:
    """Delete every Parquet file of the exported tables but the kept partitions' data.parquet
    (partitions gone from the store, files another writer - ``lake crosswalk`` - left);
    returns the partitions removed."""
    removed: set[Path] = set()
    for table in TABLES:
        for file in (root / table).rglob("*") if (root / table).is_dir() else ():
            if not file.is_file():
                continue
            part = file.parent.relative_to(root).as_posix()
            if part in keep and file.name == "data.parquet":
                continue
            if part not in keep and file.suffix == ".parquet":
                removed.add(file.parent)
            file.unlink()
    return len(removed)


def _prune_empty_dirs(root: Path) -> None:
    for path in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(path.iterdir()):
            path.rmdir()
