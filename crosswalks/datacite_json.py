"""DataCite REST JSON (JSON:API): one ``data`` item object, a whole ``/dois`` response
(``data`` object or list), or a bare attributes object."""

from __future__ import annotations

from typing import Any

from linkgraph.crosswalks.jsonutil import dicts, get, parse_json, s
from linkgraph.crosswalks.model import Creator, Title, Work, dedupe_relations
from linkgraph.crosswalks.normalize import (
    canonical_scheme,
    normalize_doi,
    normalize_orcid,
    normalize_url,
    parse_year,
)
from linkgraph.crosswalks.textmine import add_text_links
from linkgraph.crosswalks.vocab import coarse_type, make_relation

FORMAT = "datacite-json"


def read(payload: bytes | str) -> list[Work]:
    doc, problem = parse_json(payload)
    if problem is not None:
        return [Work.unreadable(FORMAT, problem)]
    if not isinstance(doc, dict):
        return [Work.unreadable(FORMAT, "DataCite JSON: top level is not an object")]
    if "data" in doc:
        items = dicts(doc["data"])
    else:
        items = [doc]
    works = []
    for item in items:
        attrs = item.get("attributes") if isinstance(item.get("attributes"), dict) else item
        works.append(read_attributes(attrs, item.get("id")))
    if not works:
        return [Work.unreadable(FORMAT, "DataCite JSON: no record in 'data'")]
    return works


def _creator(c: dict[str, Any]) -> Creator | None:
    given, family = s(c.get("givenName")), s(c.get("familyName"))
    name = s(c.get("name")) or (", ".join(p for p in (family, given) if p) or None)
    if name is None:
        return None
    orcid = None
    for nid in dicts(c.get("nameIdentifiers")):
        if (s(nid.get("nameIdentifierScheme")) or "").upper() == "ORCID":
            orcid = normalize_orcid(s(nid.get("nameIdentifier")))
    affs: list[str] = []
    for a in c.get("affiliation") or []:
        name_a = s(a.get("name")) if isinstance(a, dict) else s(a)
        if name_a:
            affs.append(name_a)
    return Creator(name, given, family, orcid, affs, s(c.get("lang")))


def read_attributes(a: dict[str, Any], item_id: Any = None) -> Work:
    work = Work(source_format=FORMAT, registration_agency="datacite")
    problems = work.problems
    raw_doi = s(a.get("doi")) or s(item_id)
    work.set_doi(raw_doi)
    for ident in dicts(a.get("identifiers")) + dicts(a.get("alternateIdentifiers")):
        scheme = canonical_scheme(
            s(ident.get("identifierType")) or s(ident.get("alternateIdentifierType"))
        )
        value = s(ident.get("identifier")) or s(ident.get("alternateIdentifier"))
        if not value:
            continue
        if scheme == "doi":
            doi, _ = normalize_doi(value)
            if doi == work.doi:
                continue  # the record's own DOI, already listed
        work.add_identifier(scheme, value)

    for c in dicts(a.get("creators")):
        creator = _creator(c)
        if creator is not None:
            work.creators.append(creator)
    for t in dicts(a.get("titles")):
        title = s(t.get("title"))
        if title:
            work.titles.append(Title(title, s(t.get("lang")), s(t.get("titleType"))))
    if not work.titles:
        problems.append("no title")
    pub = a.get("publisher")
    work.publisher = s(pub.get("name")) if isinstance(pub, dict) else s(pub)
    work.year = parse_year(s(a.get("publicationYear")))
    types = a.get("types") if isinstance(a.get("types"), dict) else {}
    general, specific = s(types.get("resourceTypeGeneral")), s(types.get("resourceType"))
    work.resource_type_raw = "/".join(p for p in (general, specific) if p) or None
    work.resource_type, p = coarse_type("datacite", general)
    problems.extend(p)
    work.container = s(get(a, "container", "title"))
    url = s(a.get("url"))
    if url:
        work.landing_url, p = normalize_url(url)
        problems.extend(p)

    rels = []
    for r in dicts(a.get("relatedIdentifiers")):
        rels.append(
            make_relation(
                "datacite",
                s(r.get("relationType")),
                s(r.get("relatedIdentifierType")),
                s(r.get("relatedIdentifier")),
                subject_doi=work.doi,
            )
        )
    for item in dicts(a.get("relatedItems")):
        rid = item.get("relatedItemIdentifier") if isinstance(item.get("relatedItemIdentifier"), dict) else {}
        rels.append(
            make_relation(
                "datacite",
                s(item.get("relationType")),
                s(rid.get("relatedItemIdentifierType")),
                s(rid.get("relatedItemIdentifier")),
                subject_doi=work.doi,
            )
        )
    work.relations = dedupe_relations(rels)
    add_text_links(work, (s(d.get("description")) for d in dicts(a.get("descriptions"))
                          if s(d.get("descriptionType")) != "SeriesInformation"))
    return work
