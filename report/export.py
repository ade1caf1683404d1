"""``linkgraph export``: findings and the linkage scorecard as CSV, JSON and Parquet files.

CSV is UTF-8. ``excel=True`` writes what Excel opens correctly on a Japanese Windows desktop:
a UTF-8 byte-order mark (without it Excel reads the file as Shift_JIS and garbles Japanese
titles) and text cells that would start a formula (``= + - @``, tab, CR)
prefixed with ``'`` so that a spreadsheet never evaluates harvested metadata.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from linkgraph.errors import UsageError
from linkgraph.report.findings import COPY_OPTIONS, EXPORT_FORMATS
from linkgraph.report.scorecard import rows_to_arrow, scorecard
from linkgraph.store import Store

FORMATS = EXPORT_FORMATS
TABLES = ("findings", "scorecard", "works_by_type")
_COPY = COPY_OPTIONS
_FINDINGS_ORDER = "ORDER BY f.family, kind, subject_key, object_doi, object_raw, relation_type"
_TITLES = "SELECT doi, min(title) AS title FROM works WHERE doi IS NOT NULL AND title IS NOT NULL GROUP BY doi"
_FORMULA_START = r"^[=+\-@\t\r]"
BOM = "\ufeff".encode()


def findings_table(store: Store | duckdb.DuckDBPyConnection, *, prefix: str | None = None,
                   kinds: Sequence[str] = ()) -> pa.Table:
    """The stored findings (latest run of each audit family), optionally for one DOI prefix
    (as subject or object) and some kinds or families, with the subject's title."""
    con = store.con if isinstance(store, Store) else store
    where, params = ["true"], []
    if prefix:
        where.append("(subject_prefix = ? OR object_prefix = ?)")
        params += [prefix.strip().lower()] * 2
    if kinds:
        where.append("(kind IN (SELECT unnest(?::VARCHAR[])) OR family IN (SELECT unnest(?::VARCHAR[])))")
        params += [list(kinds), list(kinds)]
    cur = con.cursor()
    try:
        cur.execute("SET TimeZone = 'UTC'")
        return cur.sql(
            f"SELECT f.*, t.title AS subject_title FROM findings f LEFT JOIN ({_TITLES}) t ON t.doi = f.subject_doi"
            f" WHERE {' AND '.join(where)} {_FINDINGS_ORDER}", params=params).to_arrow_table()
    finally:
        cur.close()


def excel_safe(table: pa.Table) -> pa.Table:
    """Prefix ``'`` to text cells that a spreadsheet would read as a formula."""
    cols = []
    for name in table.column_names:
        col = table[name]
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            risky = pc.fill_null(pc.match_substring_regex(col, _FORMULA_START), False)
            col = pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def write_table(table: pa.Table, path: Path, fmt: str, *, excel: bool = False) -> Path:
    """Write one Arrow table as ``fmt`` (csv, json, parquet) through DuckDB's COPY."""
    if fmt not in _COPY:
        raise UsageError(f"unknown export format {fmt!r}; use {', '.join(FORMATS)}")
    if excel and fmt == "csv":
        table = excel_safe(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("export_table", table)
        target = str(tmp).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM export_table) TO '{target}' ({_COPY[fmt]})")
        con.close()
        if excel and fmt == "csv":
            tmp.write_bytes(BOM + tmp.read_bytes())
        os.replace(tmp, path)
    finally:
        con.close()
        tmp.unlink(missing_ok=True)  # a failed write leaves no temporary file behind
    return path


def export(store: Store, out_dir: Path, *, tables: Sequence[str] = TABLES, formats: Sequence[str] = FORMATS,
           excel: bool = False, prefix: str | None = None, kinds: Sequence[str] = ()) -> dict[str, Path]:
    """Write ``<table>.<fmt>`` into ``out_dir`` for each table and format; returns
    ``"<table>.<fmt>" -> path``. ``prefix`` narrows findings and scorecard to one DOI prefix."""
    for t in tables:
        if t not in TABLES:
            raise UsageError(f"unknown export table {t!r}; use {', '.join(TABLES)}")
    for f in formats:
        if f not in _COPY:
            raise UsageError(f"unknown export format {f!r}; use {', '.join(FORMATS)}")
    data: dict[str, pa.Table] = {}
    if "findings" in tables:
        data["findings"] = findings_table(store, prefix=prefix, kinds=kinds)
    if "scorecard" in tables or "works_by_type" in tables:
        card = scorecard(store, prefix=prefix)
        data["scorecard"] = card.to_arrow()
        data["works_by_type"] = rows_to_arrow(["level", "key", "resource_type", "works"], card.types)
    written: dict[str, Path] = {}
    for t in tables:
        for fmt in formats:
            written[f"{t}.{fmt}"] = write_table(data[t], out_dir / f"{t}.{fmt}", fmt, excel=excel)
    return written
