"""Crossref REST JSON: one work (the ``message`` object), a whole ``/works/{doi}`` response,
or a list page (``message.items``)."""

from __future__ import annotations

from typing import Any

from linkgraph.crosswalks.jsonutil import as_list, dicts, get, parse_json, s
from linkgraph.crosswalks.model import Creator, Title, Work, dedupe_relations
from linkgraph.crosswalks.normalize import normalize_orcid, normalize_url
from linkgraph.crosswalks.textmine import add_text_links
from linkgraph.crosswalks.vocab import coarse_type, container_relations, make_relation

FORMAT = "crossref-json"


def read(payload: bytes | str) -> list[Work]:
    doc, problem = parse_json(payload)
    if problem is not None:
        return [Work.unreadable(FORMAT, problem)]
    if not isinstance(doc, dict):
        return [Work.unreadable(FORMAT, "Crossref JSON: top level is not an object")]
    if doc.get("status") not in (None, "ok") and "message" in doc:
        return [Work.unreadable(FORMAT, f"Crossref error response: {str(doc.get('message'))[:200]}")]
    msg = doc.get("message", doc)
    if isinstance(msg, dict) and "items" in msg:
        if not isinstance(msg["items"], list):
            return [Work.unreadable(FORMAT, "Crossref JSON: 'items' is not a list")]
        return [read_item(it) for it in dicts(msg["items"])]  # an empty page has no works
    if not isinstance(msg, dict):
        return [Work.unreadable(FORMAT, "Crossref JSON: 'message' is not an object")]
    return [read_item(msg)]


def _year(item: dict[str, Any]) -> int | None:
    for key in ("issued", "published", "published-print", "published-online", "created"):
        parts = get(item, key, "date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            first = parts[0][0]
            if isinstance(first, int) and 1000 <= first <= 2100:
                return first
            if isinstance(first, str) and first.isdigit():
                return int(first)
    return None


def _creator(a: dict[str, Any]) -> Creator | None:
    get_ = a.get
    given, family = s(get_("given")), s(get_("family"))
    name = s(get_("name"))
    if name is None:  # "family, given", either alone, or no name
        name = f"{family}, {given}" if family and given else family or given
        if name is None:
            return None
    affs: list[str] = []
    aff = get_("affiliation")
    if aff is not None:  # as dicts(): a lone object counts as a one-element list
        for x in aff if isinstance(aff, list) else (aff,):
            if isinstance(x, dict):
                aff_name = s(x.get("name"))
                if aff_name:
                    affs.append(aff_name)
    orcid = get_("ORCID")
    return Creator(name, given, family, normalize_orcid(s(orcid)) if orcid is not None else None,
                   affs)


def _texts(value: Any) -> list[str]:
    """The non-empty ``s()`` strings of a value that should be a list of strings."""
    out: list[str] = []
    for v in as_list(value):
        text = s(v)
        if text:
            out.append(text)
    return out


def read_item(item: dict[str, Any]) -> Work:
    work = Work(source_format=FORMAT, registration_agency="crossref")
    problems = work.problems
    raw_doi = s(item.get("DOI"))
    work.set_doi(raw_doi)
    titles = work.titles
    titles.extend(Title(t) for t in _texts(item.get("title")))
    titles.extend(Title(t, None, "OriginalTitle") for t in _texts(item.get("original-title")))
    titles.extend(Title(t, None, "Subtitle") for t in _texts(item.get("subtitle")))
    if not work.titles:
        problems.append("no title")
    for role in ("author",):  # editors are contributors, not creators
        for a in dicts(item.get(role)):
            c = _creator(a)
            if c is not None:
                work.creators.append(c)
    work.publisher = s(item.get("publisher"))
    containers = _texts(item.get("container-title"))
    work.container = containers[0] if containers else None
    work.year = _year(item)
    raw_type = s(item.get("type"))
    subtype = s(item.get("subtype"))
    work.resource_type_raw = "/".join(p for p in (raw_type, subtype) if p) or None
    work.resource_type, p = coarse_type("crossref", subtype or raw_type)
    problems.extend(p)
    url = s(get(item, "resource", "primary", "URL"))
    if url:
        work.landing_url, p = normalize_url(url)
        problems.extend(p)
    issns = _texts(item.get("ISSN"))
    for issn in issns:
        work.add_identifier("issn", issn)
    for isbn in _texts(item.get("ISBN")):
        work.add_identifier("isbn", isbn)

    rels = []
    relation = item.get("relation")
    if isinstance(relation, dict):
        for key, targets in relation.items():
            for tgt in dicts(targets):
                asserted = s(tgt.get("asserted-by")) or "subject"
                rel = make_relation(
                    "crossref",
                    key,
                    s(tgt.get("id-type")),
                    s(tgt.get("id")),
                    asserted_by=asserted if asserted in ("subject", "object") else "subject",
                    subject_doi=work.doi,
                )
                if asserted not in ("subject", "object"):
                    rel.problems.append(f"unknown asserted-by {asserted!r}")
                rels.append(rel)
    elif relation is not None:
        problems.append("'relation' is not an object; relations not read")
    for ref in dicts(item.get("reference")):  # the reference list: the DOIs it cites
        doi = s(ref.get("DOI"))
        if doi:
            rels.append(make_relation("crossref", "reference", "doi", doi, asserted_by="reference",
                                      subject_doi=work.doi))
    rels.extend(container_relations(work, issns))
    work.relations = dedupe_relations(rels)
    add_text_links(work, [s(item.get("abstract"))])
    return work
