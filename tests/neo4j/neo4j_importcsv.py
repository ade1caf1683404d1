"""A reader of ``neo4j-admin database import`` CSV that follows the documented rules, written
from the Operations Manual (import/header-format.adoc, import/full-import.adoc), not from the
exporter: fields split on ``,``; a field in ``"`` may hold delimiters and line breaks, and
``""`` inside it is one ``"`` (RFC 4180; backslash is not an escape); an empty unquoted field
is no value; ``""`` is the empty string (``--ignore-empty-strings=false``, the default);
header fields are ``<name>:<field_type>``; arrays split on the array delimiter; ``boolean`` is
true only for the exact text ``true``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

FIELD_TYPES = (
    ["int", "long", "float", "double", "boolean", "byte", "short", "char", "string", "point", "date", "localtime", "time", "localdatetime", "datetime", "duration"]
)
SPECIAL = ("ID", "LABEL", "START_ID", "END_ID", "TYPE", "IGNORE")
HEADER_FIELD = re.compile(
    r"^(?P<name>[^:()]*)(?::(?P<kind>" + "|".join(SPECIAL + tuple(FIELD_TYPES)) +
    r")(?P<array>\[\])?(?:\((?P<group>[^)]*)\))?)?$"
)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # ID, LABEL, START_ID, END_ID, TYPE, or a property type
    array: bool
    group: str | None


def parse_header(line: str) -> list[Field]:
    fields = []
    for text, _quoted in split_records(line)[0]:
        m = HEADER_FIELD.match(text)
        if m is None:
            raise ValueError(f"header field {text!r} is not <name>:<field_type>")
        kind = m["kind"] or "string"
        if m["array"] and kind in SPECIAL:
            raise ValueError(f"{text!r}: only property types take []")
        fields.append(Field(m["name"], kind, bool(m["array"]), m["group"]))
    return fields


def split_records(text: str, delimiter: str = ",", quote: str = '"') -> list[list[tuple[str, bool]]]:
    """RFC 4180 records of (value, was_quoted) pairs; line breaks inside quotes are data."""
    records: list[list[tuple[str, bool]]] = []
    record: list[tuple[str, bool]] = []
    buf: list[str] = []
    quoted = False
    in_quotes = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if in_quotes:
            if ch == quote:
                if i + 1 < n and text[i + 1] == quote:
                    buf.append(quote)
                    i += 2
                    continue
                in_quotes = False
            else:
                buf.append(ch)
            i += 1
            continue
        if ch == quote:
            if buf:
                raise ValueError(f"quote inside an unquoted field at offset {i}")
            in_quotes = quoted = True
        elif ch == delimiter:
            record.append(("".join(buf), quoted))
            buf, quoted = [], False
        elif ch in "\r\n":
            record.append(("".join(buf), quoted))
            records.append(record)
            record, buf, quoted = [], [], False
            if ch == "\r" and i + 1 < n and text[i + 1] == "\n":
                i += 1
        else:
            if quoted:
                raise ValueError(f"text after a closing quote at offset {i}")
            buf.append(ch)
        i += 1
    if in_quotes:
        raise ValueError("file ends inside a quoted field")
    if buf or record or quoted:
        record.append(("".join(buf), quoted))
        records.append(record)
    return records


def convert(value: str, quoted: bool, f: Field, array_delimiter: str) -> Any:
    """The value the importer stores, or None for no value."""
    if value == "" and not quoted:
        return None
    if f.kind == "LABEL":
        return [v for v in value.split(array_delimiter) if v]
    if f.array:
        return [_scalar(v, f.kind) for v in value.split(array_delimiter)]
    return _scalar(value, f.kind)


def _scalar(value: str, kind: str) -> Any:
    if kind in ("int", "long", "short", "byte"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        return value == "true"
    return value


def read_entities(header: str, data: str, array_delimiter: str) -> tuple[list[Field], list[dict[str, Any]]]:
    """Rows as dicts keyed by header text (``key:ID``, ``:LABEL``, ``year:int``, ...)."""
    fields = parse_header(header.rstrip("\n"))
    keys = [_key(f) for f in fields]
    rows = []
    for rec in split_records(data):
        if len(rec) != len(fields):
            raise ValueError(f"{len(rec)} fields, header has {len(fields)}: {rec!r}")
        rows.append({
            k: convert(v, q, f, array_delimiter)
            for k, f, (v, q) in zip(keys, fields, rec, strict=True)
        })
    return fields, rows


def _key(f: Field) -> str:
    if f.kind in SPECIAL:
        return f"{f.name}:{f.kind}" if f.kind == "ID" else f":{f.kind}"
    return f.name
