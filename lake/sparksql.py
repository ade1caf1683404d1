"""The audit queries of ``queries/`` read by Spark: one description of each audit, two engines.

Each ``.sql`` file is written for DuckDB. Here it is parsed with sqlglot (a SQL parser and
transpiler; hand-written translation would be a second copy of every audit to keep equal) and
written out as Spark SQL, with the few constructs neither sqlglot nor Spark map by themselves
rewritten on the tree:

* ``json_object(k, v, ...)`` -> ``to_json(named_struct(k, v, ...), map('ignoreNullFields',
  'false'))``: the same keys in the same order, nulls kept as DuckDB keeps them, objects
  nested in it written as objects;
* ``hash(...)`` -> ``xxhash64(...)``: 64 bits as DuckDB's, not Spark's 32-bit ``hash``;
* ``list(DISTINCT x ORDER BY x)`` -> ``array_sort(collect_set(x))``;
* ``list_slice`` -> ``slice``, ``list_intersect`` -> ``array_intersect``;
* ``x::JSON`` -> ``x`` (findings keep evidence as JSON text), ``x::audit_rel`` (DuckDB's
  memory-saving ENUMs) -> ``x``, ``AS [NOT] MATERIALIZED`` dropped;
* ``CREATE TEMP TABLE t AS q`` -> a statement the caller runs as ``CACHE TABLE t AS q``;
  ``ALTER TABLE .. DROP COLUMN`` (a DuckDB memory saving) is skipped;
* ``INSERT INTO t BY NAME q`` -> ``q`` (the caller writes the rows).

Named parameters (``$threshold``) become literals before parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp

from linkgraph.errors import LinkgraphError


class TranslationError(LinkgraphError):
    """A DuckDB audit query that has no Spark SQL form here."""


@dataclass(frozen=True, slots=True)
class Statement:
    action: Literal["table", "view", "select"]
    name: str | None  # the table or view a statement creates
    sql: str  # Spark SQL: the SELECT (for "table"/"view" the query that fills it)


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)")


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def bind(sql: str, params: dict[str, object]) -> str:
    """``$name`` -> its value as a SQL literal (a name without a value is an error)."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in params:
            raise TranslationError(f"query parameter ${m.group(1)} has no value")
        return _literal(params[m.group(1)])

    return _PARAM.sub(sub, sql)


def _struct(node: exp.JSONObject) -> exp.Expression:
    """``named_struct`` of a ``json_object``'s pairs; an object (or a list of objects) nested
    in it stays a struct, so ``to_json`` writes it as JSON, not as a quoted string."""
    args: list[exp.Expression] = []
    for kv in node.expressions:
        value = kv.expression
        if isinstance(value, exp.JSONObject):
            value = _struct(value)
        elif isinstance(value, exp.Array) and any(isinstance(v, exp.JSONObject) for v in value.expressions):
            value = exp.Array(expressions=[_struct(v) if isinstance(v, exp.JSONObject) else v
                                           for v in value.expressions])
        args.extend([kv.this, value])
    return exp.Anonymous(this="named_struct", expressions=args)


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.JSONObject):
        struct = _struct(node)
        options = exp.Anonymous(this="map", expressions=[exp.Literal.string("ignoreNullFields"),
                                                          exp.Literal.string("false")])
        return exp.Anonymous(this="to_json", expressions=[struct, options])
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.JSON):
        return node.this
    if (isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.USERDEFINED
            and str(node.to.args.get("kind") or "").startswith("audit_")):
        return node.this  # DuckDB's ENUMs of audit_links (graph/audit.py): text in Spark
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:  # [NOT] MATERIALIZED
        node.set("materialized", None)
        return node
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order | exp.Distinct):
        inner = node.this
        distinct = isinstance(inner, exp.Distinct) or isinstance(inner.this, exp.Distinct)
        value = inner
        while isinstance(value, exp.Order | exp.Distinct):
            value = value.this if isinstance(value, exp.Order) else value.expressions[0]
        if not distinct:
            raise TranslationError("list(x ORDER BY ...) without DISTINCT has no Spark form here")
        return exp.Anonymous(this="array_sort", expressions=[
            exp.Anonymous(this="collect_set", expressions=[value.copy()])])
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        rename = {"hash": "xxhash64", "list_slice": "slice", "list_intersect": "array_intersect"}
        if name in rename:
            return exp.Anonymous(this=rename[name], expressions=node.expressions)
    return node


def _spark(node: exp.Expression) -> str:
    # sqlglot's transform does not descend into a node it has just replaced: repeat until a pass
    # changes nothing, so a rewrite inside a rewritten call (list(...) in json_object) is made.
    sql = node.sql(dialect="spark")
    for _ in range(8):
        node = node.transform(_rewrite)
        new = node.sql(dialect="spark")
        if new == sql:
            return new
        sql = new
    raise TranslationError("the Spark rewrite of a query does not settle")


def translate(sql: str, params: dict[str, object] | None = None) -> list[Statement]:
    """The statements of one DuckDB query file as Spark SQL, in order."""
    out: list[Statement] = []
    try:
        parsed = sqlglot.parse(bind(sql, params or {}), read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise TranslationError(f"cannot parse the DuckDB query: {exc}") from exc
    for node in parsed:
        if node is None:
            continue
        if isinstance(node, exp.Create):
            kind = str(node.args.get("kind") or "").upper()
            name = node.this.name if isinstance(node.this, exp.Table) else node.this.this.name
            query = node.expression
            out.append(Statement("table" if kind == "TABLE" else "view", name, _spark(query)))
        elif isinstance(node, exp.Alter):
            continue  # DROP COLUMN of a working table: DuckDB's memory, nothing to compute
        elif isinstance(node, exp.Insert):
            out.append(Statement("select", None, _spark(node.expression)))
        elif isinstance(node, exp.Query):
            out.append(Statement("select", None, _spark(node)))
        else:
            raise TranslationError(f"no Spark form for a {type(node).__name__} statement")
    return out
