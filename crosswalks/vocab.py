"""Mapping tables (``crosswalks/data/*.tsv``) loaded once: relation types, resource types,
COAR versions. The tables are data; this module only reads and looks them up."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from linkgraph.crosswalks.model import CoarseType, Relation, Work
from linkgraph.crosswalks.normalize import canonical_scheme, normalize_target

COARSE_TYPES: frozenset[str] = frozenset(
    ("article", "dataset", "preprint", "thesis", "book", "report", "software", "other")
)


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("linkgraph.crosswalks").joinpath("data", name).read_text("utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter="\t"))


def _key(value: str) -> str:
    return value.strip().lower().replace("-", "").replace("_", "").replace(" ", "")


@dataclass(frozen=True, slots=True)
class RelationMapping:
    relation_type: str
    kind: str  # exact | approx | lossy | unknown | untyped
    note: str


@cache
def relation_types() -> dict[str, str | None]:
    """The 39 DataCite 4.7 relation types -> inverse (``None``: no inverse defined)."""
    return {r["relation_type"]: (r["inverse"] or None) for r in _rows("relation_types.tsv")}


def inverse(relation_type: str) -> str | None:
    return relation_types().get(relation_type)


@cache
def _relation_table() -> dict[str, dict[str, RelationMapping]]:
    table: dict[str, dict[str, RelationMapping]] = {}
    for row in _rows("relation_map.tsv"):
        if row["relation_type"] not in relation_types():
            raise ValueError(f"relation_map.tsv maps to unknown type {row['relation_type']!r}")
        table.setdefault(row["vocab"], {})[_key(row["raw"])] = RelationMapping(
            row["relation_type"], row["kind"], row.get("note") or ""
        )
    return table


@cache
def _datacite_keys() -> dict[str, str]:
    return {_key(name): name for name in relation_types()}


@lru_cache(maxsize=4096)  # a few hundred distinct raw values occur; the mapping is immutable
def map_relation(vocab: str, raw: str | None) -> RelationMapping:
    """Map a source relation value onto DataCite 4.7. Missing -> ``Other`` (untyped);
    unknown -> ``Other`` (unknown). The caller keeps ``raw`` beside the result."""
    if raw is None or not raw.strip():
        return RelationMapping("Other", "untyped", "no relation type given")
    k = _key(raw)
    hit = _relation_table().get(vocab, {}).get(k)
    if hit is not None:
        return hit
    name = _datacite_keys().get(k)
    if name is not None:
        return RelationMapping(name, "exact", "")
    return RelationMapping("Other", "unknown", f"unknown {vocab} relation type")


def make_relation(
    vocab: str,
    raw_type: str | None,
    scheme: str | None,
    value: str | None,
    *,
    asserted_by: str = "subject",
    subject_doi: str | None = None,
) -> Relation:
    """Build a :class:`Relation`: map the type, normalise the target, record every problem."""
    mapping = map_relation(vocab, raw_type)
    raw_value = (value or "").strip()
    problems: list[str] = []
    if mapping.kind == "unknown":
        problems.append(f"unknown relation type {raw_type!r} ({vocab}) mapped to Other")
    elif mapping.kind == "untyped":
        problems.append("relation without type mapped to Other")
    if raw_value:
        target_scheme, target, tproblems = normalize_target(scheme, raw_value)
        problems.extend(tproblems)
    else:
        target_scheme, target = canonical_scheme(scheme), None
        problems.append("relation without target")
    if target is not None and subject_doi is not None and target == subject_doi:
        problems.append("self-link: target is the work itself")
    return Relation(
        relation_type=mapping.relation_type,
        raw_type=raw_type.strip() if raw_type else None,
        target_scheme=target_scheme,
        target=target,
        target_raw=raw_value,
        asserted_by=asserted_by,  # type: ignore[arg-type]
        problems=problems,
    )


def container_relations(work: Work, issns: list[str]) -> list[Relation]:
    """The journal as the container relation: ``IsPublishedIn`` each ISSN the record gives
    (raw type ``issn``: the record names the ISSN, not a relation). Not for the journal's
    own record, whose ISSN is its identifier."""
    if work.resource_type_raw in ("journal", "journal_issue", "journal_volume") or not issns:
        return []
    return [make_relation("crossref", "issn", "issn", issn, subject_doi=work.doi) for issn in issns]


@cache
def _resource_table() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for row in _rows("resource_types.tsv"):
        if row["coarse"] not in COARSE_TYPES:
            raise ValueError(f"resource_types.tsv: bad coarse type {row['coarse']!r}")
        table.setdefault(row["vocab"], {})[row["raw"].strip().lower()] = row["coarse"]
    return table


def coarse_type(vocab: str, raw: str | None) -> tuple[CoarseType | None, list[str]]:
    """``(coarse type, problems)``; an unknown raw type gives ``other`` and a problem."""
    if raw is None:
        return None, []
    coarse, problem = _coarse_type(vocab, raw)
    return coarse, ([problem] if problem else [])


@lru_cache(maxsize=4096)  # resource type values repeat across records; the result is immutable
def _coarse_type(vocab: str, raw: str) -> tuple[CoarseType | None, str | None]:
    if not raw.strip():
        return None, None
    hit = _resource_table().get(vocab, {}).get(raw.strip().lower())
    if hit is None:
        return "other", f"unknown {vocab} resource type {raw.strip()!r} mapped to other"
    return hit, None  # type: ignore[return-value]


@cache
def _versions() -> dict[str, str]:
    return {r["key"].strip().lower(): r["label"] for r in _rows("coar_versions.tsv")}


def coar_version(*candidates: str | None) -> tuple[str | None, list[str]]:
    """The COAR label for the first candidate (URI, label or name) that is known."""
    given = [c.strip() for c in candidates if c and c.strip()]
    for cand in given:
        hit = _versions().get(cand.lower())
        if hit:
            return hit, []
    if given:
        return None, [f"unknown version {given[0]!r}"]
    return None, []
