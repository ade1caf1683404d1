"""The common model every reader produces: one :class:`Work` per DOI (or per repository item).

Everything here is plain data: readers build it, the pipeline turns it into Arrow columns,
``linkgraph convert`` prints :meth:`Work.to_dict`. Problems are strings, never exceptions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from linkgraph.crosswalks.normalize import normalize_doi, normalize_target

CoarseType = Literal[
    "article", "dataset", "preprint", "thesis", "book", "report", "software", "other"
]
# "reference": a DOI in the work's reference list (cited, not a stated relation: the reciprocal
# audit does not ask the cited work to state it back); "text": an identifier found in a
# description, abstract or data availability statement (crosswalks/textmine.py)
AssertedBy = Literal["subject", "object", "both", "reference", "text"]


@dataclass(slots=True)
class Title:
    text: str
    lang: str | None = None
    kind: str | None = None  # None = main title; Subtitle, TranslatedTitle, AlternativeTitle, ...


@dataclass(slots=True)
class Creator:
    name: str
    given: str | None = None
    family: str | None = None
    orcid: str | None = None  # bare 0000-0000-0000-000X
    affiliations: list[str] = field(default_factory=list)
    lang: str | None = None
    seq: int | None = None  # person number: name variants (ja / en / ja-Kana) share one seq


@dataclass(slots=True)
class Identifier:
    scheme: str  # doi, url, handle, issn, isbn, urn, ark, arxiv, pmid, local, ...
    value: str


@dataclass(slots=True)
class Relation:
    """``subject -relation_type-> target``, with the raw value kept beside the mapped one."""

    relation_type: str  # DataCite 4.7 relationType (Other when unknown or untyped)
    raw_type: str | None  # as written in the source (None: the source gave no type)
    target_scheme: str  # doi, url, handle, issn, ...
    target: str | None  # normalised target (None when it could not be normalised)
    target_raw: str  # verbatim
    asserted_by: AssertedBy = "subject"
    problems: list[str] = field(default_factory=list)
    evidence: str | None = None  # text links: the sentence the identifier stood in


@dataclass(slots=True)
class Work:
    source_format: str  # reader name, e.g. datacite-xml, crossref-json, jpcoar
    doi: str | None = None
    registration_agency: str | None = None  # jalc | crossref | datacite | None
    record_id: str | None = None  # OAI identifier / DOI as harvested; set by the caller
    resource_type: CoarseType | None = None
    resource_type_raw: str | None = None
    titles: list[Title] = field(default_factory=list)
    creators: list[Creator] = field(default_factory=list)
    publisher: str | None = None
    container: str | None = None  # journal / series / book title
    year: int | None = None
    landing_url: str | None = None
    version: str | None = None  # COAR version label: AO, SMUR, AM, P, VoR, CVoR, EVoR, NA
    identifiers: list[Identifier] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    readable: bool = True  # False: the payload could not be read at all (see problems)

    def set_doi(self, raw: str | None) -> None:
        """Normalise and set the work's own DOI; its problems (and a missing DOI) are recorded."""
        if not raw:
            self.problems.append("no DOI")
            return
        self.doi, problems = normalize_doi(raw)
        self.problems.extend(problems)
        if self.doi is not None and self.doi.isascii() and "%" not in self.doi:
            # normalize_doi is the identity on its own ASCII, %-free output: skip the second pass
            ident = Identifier("doi", self.doi)
            if ident not in self.identifiers:
                self.identifiers.append(ident)
        else:
            self.add_identifier("doi", self.doi or raw)

    def add_identifier(self, scheme: str | None, value: str | None) -> None:
        """Add ``(scheme, value)`` normalised like a relation target; repeats are skipped."""
        if not value or not value.strip():
            return
        sch, norm, _ = normalize_target(scheme, value)
        ident = Identifier(sch, norm or value.strip())
        if ident not in self.identifiers:
            self.identifiers.append(ident)

    @property
    def title(self) -> str | None:
        """The main title (first untyped title, else the first title)."""
        for t in self.titles:
            if t.kind is None:
                return t.text
        return self.titles[0].text if self.titles else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def unreadable(cls, source_format: str, problem: str) -> Work:
        """The single result of a payload that could not be parsed at all."""
        return cls(source_format=source_format, problems=[problem], readable=False)


def dedupe_relations(relations: list[Relation]) -> list[Relation]:
    """Collapse exact repeats; the same link asserted by subject and object becomes ``both``."""
    out: dict[tuple[str, str | None, str, str], Relation] = {}
    for rel in relations:
        # same type and target (the normalised one when there is one) = the same link
        target = rel.target if rel.target is not None else rel.target_raw
        key = (rel.relation_type, rel.raw_type, rel.target_scheme, target)
        prev = out.get(key)
        if prev is None:
            out[key] = rel
        elif prev.asserted_by != rel.asserted_by:
            prev.asserted_by = "both"
    return list(out.values())
