"""Arrow columns built from Python values through Arrow's buffer API.

Why not ``pa.table(dict)`` / ``pa.array(list)``: on every first call pyarrow probes for pandas
(``_is_array_like``), and where pandas is installed (the notebooks need it) that import alone
adds about 50 MB to the harvest's resident memory, more than the harvest itself holds. Building
the validity bitmaps, offsets and data buffers here touches only pyarrow's core and is no slower:
a string column is one ``b"".join`` and one ``itertools.accumulate``.

Supported types are the ones the store's tables use: string, large_string, int32, int64, bool,
timestamp (any unit is refused but microseconds), list<T> and struct<...> of those. Naive
datetimes are taken as UTC, as pyarrow does for a tz-aware column.
"""

from __future__ import annotations

import array
import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pyarrow as pa

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)
_INT32_MAX = 2**31 - 1


def table(columns: Mapping[str, Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """A table with ``schema`` from one Python sequence per column (all the same length)."""
    arrays = [column(columns[f.name], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def column(values: Sequence[Any], typ: pa.DataType) -> pa.Array:
    """One Arrow array of type ``typ``; ``None`` is null. Raises TypeError on a wrong value."""
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return _strings(values, typ)
    if pa.types.is_int64(typ):
        return _ints(values, typ, "q")
    if pa.types.is_int32(typ):
        return _ints(values, typ, "i")
    if pa.types.is_boolean(typ):
        return _bools(values)
    if pa.types.is_timestamp(typ):
        return _timestamps(values, typ)
    if pa.types.is_list(typ):
        return _lists(values, typ)
    if pa.types.is_struct(typ):
        return _structs(values, typ)
    raise TypeError(f"arrowbuild does not build {typ}")


def _validity(values: Sequence[Any]) -> tuple[pa.Buffer | None, int]:
    """Arrow's validity bitmap (bit i set = value i present) and the null count."""
    flags = "".join("0" if v is None else "1" for v in reversed(values))
    nulls = flags.count("0")
    if not nulls:
        return None, 0
    return pa.py_buffer(_bits(flags, len(values))), nulls


def _bits(flags_reversed: str, n: int) -> bytes:
    """Pack a string of 0/1 (last value first) into an LSB-first bitmap of ``n`` bits."""
    return (int(flags_reversed, 2) if flags_reversed else 0).to_bytes((n + 7) // 8 or 1, "little")


def _strings(values: Sequence[Any], typ: pa.DataType) -> pa.Array:
    try:
        encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    except AttributeError as exc:
        bad = next(v for v in values if v is not None and not isinstance(v, str))
        raise TypeError(f"expected str for a {typ} column, got {type(bad).__name__}") from exc
    data = b"".join(encoded)
    large = pa.types.is_large_string(typ)
    if not large and len(data) > _INT32_MAX:
        raise ValueError(f"{len(data)} bytes do not fit a string column; use large_string")
    offsets = array.array("q" if large else "i", itertools.accumulate(map(len, encoded), initial=0))
    validity, nulls = _validity(values)
    return pa.Array.from_buffers(
        typ, len(values), [validity, pa.py_buffer(offsets), pa.py_buffer(data)], null_count=nulls
    )


def _ints(values: Sequence[Any], typ: pa.DataType, code: str) -> pa.Array:
    try:
        data = array.array(code, [0 if v is None else v for v in values])
    except (TypeError, OverflowError) as exc:
        raise TypeError(f"bad value for a {typ} column: {exc}") from exc
    validity, nulls = _validity(values)
    return pa.Array.from_buffers(typ, len(values), [validity, pa.py_buffer(data)], null_count=nulls)


def _bools(values: Sequence[Any]) -> pa.Array:
    flags = "".join("1" if v else "0" for v in reversed(values))
    validity, nulls = _validity(values)
    data = pa.py_buffer(_bits(flags, len(values)))
    return pa.Array.from_buffers(pa.bool_(), len(values), [validity, data], null_count=nulls)


def _timestamps(values: Sequence[Any], typ: pa.TimestampType) -> pa.Array:
    if typ.unit != "us":
        raise TypeError(f"arrowbuild builds microsecond timestamps only, not {typ}")

    def micros(v: datetime | None) -> int:
        if v is None:
            return 0
        if not isinstance(v, datetime):
            raise TypeError(f"expected datetime for a {typ} column, got {type(v).__name__}")
        if v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        return (v - _EPOCH) // _MICRO

    data = array.array("q", [micros(v) for v in values])
    validity, nulls = _validity(values)
    return pa.Array.from_buffers(typ, len(values), [validity, pa.py_buffer(data)], null_count=nulls)


def _lists(values: Sequence[Any], typ: pa.ListType) -> pa.Array:
    items = [() if v is None else v for v in values]
    offsets = array.array("i", itertools.accumulate(map(len, items), initial=0))
    child = column(list(itertools.chain.from_iterable(items)), typ.value_type)
    validity, nulls = _validity(values)
    return pa.Array.from_buffers(
        typ, len(values), [validity, pa.py_buffer(offsets)], null_count=nulls, children=[child]
    )


def _structs(values: Sequence[Any], typ: pa.StructType) -> pa.Array:
    children = [
        column([None if v is None else v.get(f.name) for v in values], f.type) for f in typ
    ]
    validity, nulls = _validity(values)
    return pa.Array.from_buffers(typ, len(values), [validity], null_count=nulls, children=children)


__all__ = ["column", "table"]
