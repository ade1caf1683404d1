"""Arrow tables from Python lists, without pyarrow importing pandas on the way.

``pa.array`` / ``pa.table`` ask, on their first conversion of a Python sequence, whether
pandas is installed (``_is_array_like``), and where it is (the notebooks need it) that import
alone adds about 50 MB to a harvest's resident memory, more than the harvest itself holds.
pyarrow asks once and remembers the answer; :func:`table` and :func:`column` make sure the
first question is asked while ``import pandas`` is refused, so the answer is "no pandas" and
the conversions stay in pyarrow's C++ (a buffer-by-buffer builder written here in Python was
about four times slower). Nothing is lost: pyarrow imports pandas for real the first time
something asks for it explicitly (``Table.to_pandas()``), and if pandas is already imported
there is nothing to save and nothing is done.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Mapping, Sequence
from importlib.machinery import ModuleSpec
from typing import Any

import pyarrow as pa

_lock = threading.Lock()
_asked = False


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not needed to build Arrow arrays")
        return None


def _answer_the_pandas_probe() -> None:
    global _asked
    if _asked:
        return
    with _lock:
        if _asked or "pandas" in sys.modules:
            _asked = True
            return
        finder = _NoPandas()
        sys.meta_path.insert(0, finder)
        try:
            pa.array(["x"])  # a non-empty list: this is what triggers the probe
        finally:
            sys.meta_path.remove(finder)
        _asked = True


def table(columns: Mapping[str, Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """``pa.table(columns, schema=schema)``, pandas left alone."""
    _answer_the_pandas_probe()
    return pa.table(dict(columns), schema=schema)


def column(values: Sequence[Any], typ: pa.DataType) -> pa.Array:
    """``pa.array(values, typ)``, pandas left alone."""
    _answer_the_pandas_probe()
    return pa.array(values, typ)


__all__ = ["column", "table"]
