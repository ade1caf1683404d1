"""CSV files for ``neo4j-admin database import full`` (a full, offline rebuild of the graph).

The files follow the documented import header format (Neo4j Operations Manual, "Import header
format" and "Full import", docs-operations ``modules/ROOT/pages/import/header-format.adoc`` and
``full-import.adoc``):

* header and data are separate files, ``--nodes=header.csv,data.csv`` ("Multiple files will be
  logically seen as one big file ... The first line must contain the header");
* nodes: ``key:ID`` (one global ID space; the id is kept as the ``key`` property), ``:LABEL``
  (several labels joined by the array delimiter), typed properties ``name:int``,
  ``name:string[]``; relationships: ``:START_ID``, ``:END_ID``, ``:TYPE`` and properties;
* arrays are joined by U+001F (passed as ``--array-delimiter=U+001F``, the documented ``U+XXXX``
  form), a character that metadata never carries; it is replaced by a space inside elements;
* every string field is quoted and a quote inside is doubled (RFC 4180; "You cannot escape
  using \\"), so commas, quotes, newlines and Japanese text pass unchanged (UTF-8, the
  importer's default ``--input-encoding``); an empty string is ``""`` (kept: the default
  ``--ignore-empty-strings=false``) and a missing value is an empty unquoted field;
* ``--multiline-fields=true`` is added to the command only when a value holds a line break
  (the manual warns it "can severely degrade the performance of the importer");
* empty arrays are written as missing ("CSV-based import does not import empty arrays").

The rows are streamed by DuckDB's ``COPY ... TO`` straight from the temp tables of
:mod:`neo4j_model`; nothing is collected in Python.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from linkgraph.graph.neo4j_model import (
    NODE_PROPS,
    NODES_TABLE,
    REL_PROPS,
    RELS_TABLE,
    Prop,
    build_graph_tables,
)

ARRAY_DELIMITER = "\x1f"
ARRAY_DELIMITER_OPTION = "U+001F"

NODES_HEADER = "nodes_header.csv"
NODES_DATA = "nodes.csv"
RELS_HEADER = "relationships_header.csv"
RELS_DATA = "relationships.csv"
COMMAND_FILE = "import-command.txt"


@dataclass(slots=True)
class ExportResult:
    directory: Path
    nodes: int
    relationships: int
    multiline: bool
    seconds: float
    files: list[Path] = field(default_factory=list)
    command: str = ""

    @property
    def rows_per_second(self) -> float:
        return (self.nodes + self.relationships) / self.seconds if self.seconds else 0.0


def header_field(prop: Prop) -> str:
    """``title`` for strings (the default type), ``year:int``, ``sources:string[]``."""
    return prop.name if prop.kind == "string" else f"{prop.name}:{prop.kind}"


NODE_HEADER: tuple[str, ...] = ("key:ID", ":LABEL", *(header_field(p) for p in NODE_PROPS))
REL_HEADER: tuple[str, ...] = (
    ":START_ID", ":END_ID", ":TYPE", "key", *(header_field(p) for p in REL_PROPS)
)


def _array(expr: str) -> str:
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL ELSE array_to_string("
        f"list_transform({expr}, lambda x: replace(x, chr(31), ' ')), chr(31)) END"
    )


def _column(prop: Prop) -> str:
    if prop.kind == "string[]":
        return _array(prop.name)
    if prop.kind == "int":
        return f"{prop.name}::BIGINT"
    if prop.kind == "boolean":
        return f"CASE WHEN {prop.name} THEN 'true' WHEN NOT {prop.name} THEN 'false' END"
    return prop.name


def _select(columns: list[tuple[str, str]], table: str, order: str) -> tuple[str, list[str]]:
    names = [f"c{i}" for i in range(len(columns))]
    select = ", ".join(f"{expr} AS {n}" for (expr, _), n in zip(columns, names, strict=True))
    quoted = [n for (_, kind), n in zip(columns, names, strict=True) if kind != "int"]
    return f"SELECT {select} FROM {table} ORDER BY {order}", quoted


def _node_columns() -> list[tuple[str, str]]:
    cols = [("key", "string"), (_array("labels"), "string")]
    cols += [(_column(p), p.kind) for p in NODE_PROPS]
    return cols


def _rel_columns() -> list[tuple[str, str]]:
    cols = [("start_key", "string"), ("end_key", "string"), ("type", "string"), ("key", "string")]
    cols += [(_column(p), p.kind) for p in REL_PROPS]
    return cols


def _copy(con: duckdb.DuckDBPyConnection, sql: str, quoted: list[str], path: Path,
          compress: bool) -> None:
    options = [
        "FORMAT csv", "HEADER false", "DELIMITER ','", "QUOTE '\"'", "ESCAPE '\"'",
        "NULLSTR ''", f"FORCE_QUOTE ({', '.join(quoted)})",
    ]
    if compress:
        options.append("COMPRESSION gzip")
    target = str(path).replace("'", "''")
    con.execute(f"COPY ({sql}) TO '{target}' ({', '.join(options)})")


def _has_line_breaks(con: duckdb.DuckDBPyConnection) -> bool:
    checks = []
    for table, props, extra in (
        (NODES_TABLE, NODE_PROPS, ["key"]),
        (RELS_TABLE, REL_PROPS, ["key", "start_key", "end_key"]),
    ):
        cols = extra + [p.name for p in props if p.kind == "string"]
        cols += [f"array_to_string({p.name}, ' ')" for p in props if p.kind == "string[]"]
        cond = " OR ".join(f"regexp_matches({c}, '[\\r\\n]')" for c in cols)
        checks.append(f"EXISTS (SELECT 1 FROM {table} WHERE {cond})")
    row = con.execute(f"SELECT {' OR '.join(checks)}").fetchall()[0]
    return bool(row and row[0])


def import_command(directory: Path, database: str, *, multiline: bool, compress: bool,
                   admin: str = "neo4j-admin") -> str:
    """The exact ``neo4j-admin database import full`` command for an export directory.

    The database name comes first: from Neo4j 5.19 the variadic ``--nodes`` would otherwise
    take it for a file (docs-operations PR 1689)."""
    d = directory.resolve()
    gz = ".gz" if compress else ""
    parts = [
        admin, "database", "import", "full", database,
        f"--nodes={d / NODES_HEADER},{d / (NODES_DATA + gz)}",
        f"--relationships={d / RELS_HEADER},{d / (RELS_DATA + gz)}",
        f"--array-delimiter={ARRAY_DELIMITER_OPTION}",
        "--id-type=string",
    ]
    if multiline:
        parts.append("--multiline-fields=true")
    return " ".join(shlex.quote(p) for p in parts)


def export_csv(con: duckdb.DuckDBPyConnection, directory: Path, *, database: str = "neo4j",
               compress: bool = False) -> ExportResult:
    """Write header and data files for nodes and relationships into ``directory``."""
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    nodes, rels = build_graph_tables(con)
    gz = ".gz" if compress else ""
    (directory / NODES_HEADER).write_text(",".join(NODE_HEADER) + "\n", encoding="utf-8")
    (directory / RELS_HEADER).write_text(",".join(REL_HEADER) + "\n", encoding="utf-8")
    sql, quoted = _select(_node_columns(), NODES_TABLE, "key")
    _copy(con, sql, quoted, directory / (NODES_DATA + gz), compress)
    sql, quoted = _select(_rel_columns(), RELS_TABLE, "key")
    _copy(con, sql, quoted, directory / (RELS_DATA + gz), compress)
    multiline = _has_line_breaks(con)
    command = import_command(directory, database, multiline=multiline, compress=compress)
    (directory / COMMAND_FILE).write_text(command + "\n", encoding="utf-8")
    files = [directory / n for n in (NODES_HEADER, NODES_DATA + gz, RELS_HEADER, RELS_DATA + gz)]
    return ExportResult(directory, nodes, rels, multiline, time.perf_counter() - started,
                        files, command)
