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


#: building blocks of ``linkgraph audit`` (temp tables, passes, enrichment), not queries a user
#: runs on their own: ``linkgraph query`` neither lists nor runs them.
INTERNAL: frozenset[str] = frozenset(
    {"audit_prepare", "audit_enrich", "audit_version_edges", "audit_version_prune"})


def public_query_names() -> dict[str, list[str]]:
    """Every query a user can run, with the backends it exists for (``duckdb``, ``neo4j``)."""
    names: dict[str, list[str]] = {}
    for kind, backend in (("sql", "duckdb"), ("cypher", "neo4j")):
        for name in query_names(kind):
            if name not in INTERNAL:
                names.setdefault(name, []).append(backend)
    return dict(sorted(names.items()))


def describe(name: str) -> str:
    """The first sentence of the query's leading comment (``--`` or ``//`` lines)."""
    kind = "sql" if name in query_names("sql") else "cypher"
    lines = []
    for line in load_query(name, kind).splitlines():
        text = line.strip()
        if not text.startswith(("--", "//")):
            break
        lines.append(text.lstrip("-/ ").strip())
    text = " ".join(x for x in lines if x)
    for prefix in ("Cypher twin of ",):
        if text.startswith(prefix):
            text = text.split(":", 1)[-1].strip()
    end = text.find(". ")
    return (text[: end + 1] if end > 0 else text).strip()


def query_names(kind: str = "sql") -> list[str]:
    """Names of every bundled query of one kind, sorted."""
    suffix = f".{kind}"
    return sorted(
        e.name[: -len(suffix)]
        for e in resources.files("linkgraph.queries").iterdir()
        if e.name.endswith(suffix)
    )
