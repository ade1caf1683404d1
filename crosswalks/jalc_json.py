"""JaLC REST JSON (``GET /dois/{doi}``): the ``data`` object or the whole response.

Multilingual lists are kept side by side: one :class:`Title` per ``title_list`` entry and one
:class:`Creator` per name variant (``seq`` groups the variants of one person)."""

from __future__ import annotations

from typing import Any

from linkgraph.crosswalks.jsonutil import dicts, get, parse_json, s
from linkgraph.crosswalks.model import Creator, Title, Work, dedupe_relations
from linkgraph.crosswalks.normalize import (
    is_doi_url,
    normalize_orcid,
    normalize_url,
    parse_year,
)
from linkgraph.crosswalks.textmine import add_text_links
from linkgraph.crosswalks.vocab import coarse_type, make_relation

FORMAT = "jalc-json"


def read(payload: bytes | str) -> list[Work]:
    doc, problem = parse_json(payload)
    if problem is not None:
        return [Work.unreadable(FORMAT, problem)]
    if not isinstance(doc, dict):
        return [Work.unreadable(FORMAT, "JaLC JSON: top level is not an object")]
    if doc.get("status") not in (None, "OK"):
        return [Work.unreadable(FORMAT, f"JaLC error response: {str(doc.get('message'))[:200]}")]
    api_type = doc.get("apiType")
    if api_type in ("doilist", "prefixes"):
        return [Work.unreadable(FORMAT, f"JaLC {api_type} response: a listing, no metadata record")]
    data = doc.get("data", doc)
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return [read_record(it) for it in dicts(data["items"])]
    if not isinstance(data, dict):
        return [Work.unreadable(FORMAT, "JaLC JSON: 'data' is not an object")]
    return [read_record(data)]


def _creators(items: list[dict[str, Any]]) -> list[Creator]:
    out: list[Creator] = []
    for n, c in enumerate(items, start=1):
        seq = int(c["sequence"]) if str(c.get("sequence", "")).isdigit() else n
        affs = dicts(c.get("affiliation_list"))
        orcid = None
        for rid in dicts(c.get("researcher_id_list")):
            if (s(rid.get("type")) or "").upper() == "ORCID":
                orcid = normalize_orcid(s(rid.get("id_code")))
        for name in dicts(c.get("names")):
            given, family = s(name.get("first_name")), s(name.get("last_name"))
            full = ", ".join(p for p in (family, given) if p)
            if not full:
                continue
            lang = s(name.get("lang"))
            same = [a for a in affs if s(a.get("lang")) == lang] or (affs if lang is None else [])
            out.append(
                Creator(
                    full, given, family, orcid,
                    [x for x in (s(a.get("affiliation_name")) for a in same) if x], lang, seq,
                )
            )
    return out

# free-text fields that may carry a data availability statement: (list, text key)
_TEXT_LISTS = (("description_list", "description"), ("abstract_list", "abstract"))


def read_record(d: dict[str, Any]) -> Work:
    ra = (s(d.get("ra")) or "JaLC").lower()
    work = Work(source_format=FORMAT, registration_agency=ra)
    problems = work.problems
    raw_doi = s(d.get("doi"))
    work.set_doi(raw_doi)
    url = s(d.get("url"))
    if url and not is_doi_url(url):
        work.landing_url, p = normalize_url(url)
        problems.extend(p)
    for t in dicts(d.get("title_list")):
        title = s(t.get("title"))
        if title:
            work.titles.append(Title(title, s(t.get("lang"))))
        sub = s(t.get("subtitle"))
        if sub:
            work.titles.append(Title(sub, s(t.get("lang")), "Subtitle"))
    if not work.titles:
        problems.append("no title")
    work.creators = _creators(dicts(d.get("creator_list")))
    pubs = dicts(d.get("publisher_list"))
    pub = next((p for p in pubs if s(p.get("lang")) == "en"), pubs[0] if pubs else {})
    work.publisher = s(pub.get("publisher_name"))
    work.year = parse_year(s(get(d, "publication_date", "publication_year")))
    journals = [j for j in dicts(d.get("journal_title_name_list")) if s(j.get("type")) in (None, "full")]
    jt = next((j for j in journals if s(j.get("lang")) == "en"), journals[0] if journals else {})
    work.container = s(jt.get("journal_title_name"))
    raw_type = s(d.get("content_type"))
    work.resource_type_raw = raw_type
    work.resource_type, p = coarse_type("jalc", raw_type)
    problems.extend(p)
    for jid in dicts(d.get("journal_id_list")):
        if s(jid.get("type")) == "ISSN" and s(jid.get("journal_id")):
            work.add_identifier("issn", s(jid.get("journal_id")))  # type: ignore[arg-type]

    rels = [
        make_relation(
            "jalc", s(r.get("relation")), s(r.get("type")), s(r.get("content")),
            subject_doi=work.doi,
        )
        for r in dicts(d.get("relation_list"))
    ]
    for cited in dicts(d.get("citation_list")):  # the reference list: the DOIs it cites
        doi = s(cited.get("doi"))
        if doi:
            rels.append(make_relation("jalc", "citation", "doi", doi, asserted_by="reference",
                                      subject_doi=work.doi))
    work.relations = dedupe_relations(rels)
    add_text_links(work, (s(item.get(key)) for box, key in _TEXT_LISTS for item in dicts(d.get(box))))
    return work
