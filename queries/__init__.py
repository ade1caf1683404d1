"""Named queries shipped with linkgraph: ``queries/<name>.sql`` (DuckDB) and ``<name>.cypher``.

    from linkgraph.queries import load_query
    sql = load_query("audit_reciprocal")            # queries/audit_reciprocal.sql
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from linkgraph.errors import UsageError


@cache
def load_query(name: str, kind: str = "sql") -> str:
    """The text of ``queries/<name>.<kind>``; an unknown name is a :class:`UsageError`."""
    ref = resources.files("linkgraph.queries").joinpath(f"{name}.{kind}")
    if not ref.is_file():
        raise UsageError(f"no query named {name!r} ({name}.{kind}); known: {', '.join(query_names(kind))}")
    return ref.read_text(encoding="utf-8")


def query_names(kind: str = "sql") -> list[str]:
    """Names of every bundled query of one kind, sorted."""
    suffix = f".{kind}"
    return sorted(
        e.name[: -len(suffix)]
        for e in resources.files("linkgraph.queries").iterdir()
        if e.name.endswith(suffix)
    )
