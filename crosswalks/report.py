"""The loss report: per source format, every raw relation value seen, what it mapped to, and
what was lost or unknown. Built from the ``relations`` table or from in-memory works."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
from linkgraph.crosswalks.model import Work
from linkgraph.crosswalks.textmine import TEXT_RELATION
from linkgraph.crosswalks.vocab import map_relation

# reader -> relation vocabulary of relation_map.tsv
FORMAT_VOCAB: dict[str, str] = {
    "datacite-xml": "datacite",
    "datacite-json": "datacite",
    "crossref-json": "crossref",
    "crossref-xml": "crossref",
    "jalc-json": "jalc",
    "jalc-xml": "jalc",
    "jalc-lod": "jalc",
    "jpcoar": "jpcoar",
    "junii2": "junii2",
    "oai_dc": "dc",
}
UNKNOWN_MARK = "unknown relation type"
UNTYPED_MARK = "relation without type"


@dataclass(frozen=True, slots=True)
class ReportRow:
    source_format: str
    raw_type: str | None
    relation_type: str
    kind: str  # exact | approx | lossy | unknown | untyped
    count: int
    with_problem: int  # relations recorded with an unknown/untyped problem
    target_lost: int  # relations whose target could not be normalised (target NULL)

    @property
    def unmapped_silently(self) -> int:
        """Unknown/untyped relations that carry no problem: must always be zero."""
        if self.kind in ("unknown", "untyped"):
            return self.count - self.with_problem
        return 0


def _kind(source_format: str, raw_type: str | None, relation_type: str) -> str:
    if raw_type == "text" and relation_type == TEXT_RELATION:
        return "text"  # found in a description or abstract (textmine): typed by no vocabulary
    if raw_type == "identifier" and relation_type == "IsIdenticalTo":
        return "identity"  # the record's own CSTR beside its DOI (registry._cstr_identity)
    mapping = map_relation(FORMAT_VOCAB.get(source_format, "datacite"), raw_type)
    if mapping.relation_type != relation_type and mapping.kind not in ("unknown", "untyped"):
        return "inverse"  # Crossref UNIXSD claims by the other work, stored as the inverse
    return mapping.kind


def _rows(groups: Iterable[tuple[str, str | None, str, int, int, int]]) -> list[ReportRow]:
    out = [
        ReportRow(fmt, raw, rel, _kind(fmt, raw, rel), n, flagged, lost)
        for fmt, raw, rel, n, flagged, lost in groups
    ]
    out.sort(key=lambda r: (r.source_format, r.raw_type or "", r.relation_type))
    return out


def report_from_works(works: Iterable[Work]) -> list[ReportRow]:
    counts: Counter[tuple[str, str | None, str]] = Counter()
    flagged: Counter[tuple[str, str | None, str]] = Counter()
    lost: Counter[tuple[str, str | None, str]] = Counter()
    for work in works:
        for rel in work.relations:
            key = (work.source_format, rel.raw_type, rel.relation_type)
            counts[key] += 1
            if any(p.startswith((UNKNOWN_MARK, UNTYPED_MARK)) for p in rel.problems):
                flagged[key] += 1
            if rel.target is None:
                lost[key] += 1
    return _rows((*k, n, flagged[k], lost[k]) for k, n in counts.items())


_SQL = f"""
SELECT source_format, raw_type, relation_type, count(*) AS n,
       count(*) FILTER (WHERE len(list_filter(problems, lambda p: starts_with(p, '{UNKNOWN_MARK}')
                                                     OR starts_with(p, '{UNTYPED_MARK}'))) > 0),
       count(*) FILTER (WHERE target IS NULL)
FROM relations
GROUP BY ALL
"""


def report_from_db(cur: duckdb.DuckDBPyConnection) -> list[ReportRow]:
    return _rows(cur.execute(_SQL).fetchall())


def render(rows: list[ReportRow]) -> str:
    """Plain-text table plus a summary line."""
    header = ("format", "raw value", "mapped to", "kind", "count", "flagged", "target lost")
    lines = [[r.source_format, r.raw_type if r.raw_type is not None else "(none)",
              r.relation_type, r.kind, str(r.count), str(r.with_problem), str(r.target_lost)]
             for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
              for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    total = sum(r.count for r in rows)
    other = sum(r.count for r in rows if r.kind in ("unknown", "untyped"))
    lossy = sum(r.count for r in rows if r.kind == "lossy")
    silent = sum(r.unmapped_silently for r in rows)
    lost = sum(r.target_lost for r in rows)
    out.append("")
    out.append(
        f"{total} relations; {other} unknown/untyped -> Other (with a problem), "
        f"{lossy} lossy -> Other by table, {lost} with an unusable target, "
        f"{silent} unmapped without a problem"
    )
    return "\n".join(out)
