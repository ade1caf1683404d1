"""DataCite XML (kernel 2/3/4): a bare ``<resource>``, the ``oai_datacite`` envelope
(``oai_datacite/payload/resource``), or any document holding such resources."""

from __future__ import annotations

from linkgraph.crosswalks.model import Creator, Title, Work, dedupe_relations
from linkgraph.crosswalks.normalize import (
    clean_text,
    normalize_doi,
    normalize_orcid,
    parse_year,
)
from linkgraph.crosswalks.textmine import add_text_links
from linkgraph.crosswalks.vocab import coarse_type, make_relation
from linkgraph.crosswalks.xmlutil import (
    Element,
    attr,
    child,
    child_text,
    children,
    first_children,
    first_in,
    group_children,
    lang,
    local,
    ns,
    parse_xml,
    text,
)

FORMAT = "datacite-xml"
KERNEL_NS_PREFIX = "http://datacite.org/schema/kernel-"
_NONE: list[Element] = []  # the empty group (never mutated)


def read(payload: bytes | str) -> list[Work]:
    root, problem = parse_xml(payload)
    if root is None:
        return [Work.unreadable(FORMAT, problem or "unreadable")]
    resources = [el for el in root.iter("{*}resource") if ns(el).startswith(KERNEL_NS_PREFIX)]
    if not resources:
        return [Work.unreadable(FORMAT, f"no DataCite <resource> in <{local(root.tag)}>")]
    return [read_resource(el) for el in resources]


def _creator(el: Element, name_tag: str) -> Creator | None:
    parts = group_children(el)
    name_el = first_in(parts, name_tag)
    name = text(name_el)
    given = text(first_in(parts, "givenName"))
    family = text(first_in(parts, "familyName"))
    if name is None and (given or family):
        name = ", ".join(p for p in (family, given) if p)
    if name is None:
        return None
    orcid = None
    for nid in parts.get("nameIdentifier", _NONE):
        if (attr(nid, "nameIdentifierScheme") or "").upper() == "ORCID":
            orcid = normalize_orcid(text(nid))
    affs = [a for a in (text(x) for x in parts.get("affiliation", _NONE)) if a]
    return Creator(
        name=name,
        given=given,
        family=family,
        orcid=orcid,
        affiliations=affs,
        lang=lang(name_el) if name_el is not None else None,
    )


def read_resource(res: Element) -> Work:
    work = Work(source_format=FORMAT, registration_agency="datacite")
    problems = work.problems
    top = first_children(res)  # res's direct children, one pass; child(res, x) == top.get(x)
    ident = top.get("identifier")
    raw_doi = text(ident)
    if raw_doi is not None and (attr(ident, "identifierType") or "DOI").upper() == "DOI":  # type: ignore[arg-type]
        work.doi, p = normalize_doi(raw_doi)
        problems.extend(p)
        work.add_identifier("doi", work.doi or raw_doi)
    else:
        problems.append("no DOI identifier")

    box = top.get("creators")
    for el in children(box, "creator") if box is not None else ():
        c = _creator(el, "creatorName")
        if c is not None:
            work.creators.append(c)

    box = top.get("titles")
    for el in children(box, "title") if box is not None else ():
        t = text(el)
        if t:
            work.titles.append(Title(t, lang(el), attr(el, "titleType")))
    if not work.titles:
        problems.append("no title")

    work.publisher = text(top.get("publisher"))
    work.year = parse_year(text(top.get("publicationYear")))
    if work.year is None:
        dates = top.get("dates")
        for d in children(dates, "date") if dates is not None else ():
            if attr(d, "dateType") == "Issued":
                work.year = parse_year(text(d))

    rt = top.get("resourceType")
    if rt is not None:
        general = attr(rt, "resourceTypeGeneral")
        specific = text(rt)
        work.resource_type_raw = "/".join(p for p in (general, specific) if p) or None
        work.resource_type, p = coarse_type("datacite", general)
        problems.extend(p)

    box = top.get("alternateIdentifiers")
    for el in children(box, "alternateIdentifier") if box is not None else ():
        v = text(el)
        if v:
            work.add_identifier(attr(el, "alternateIdentifierType"), v)

    rels = []
    box = top.get("relatedIdentifiers")
    for el in children(box, "relatedIdentifier") if box is not None else ():
        rels.append(
            make_relation(
                "datacite",
                attr(el, "relationType"),
                attr(el, "relatedIdentifierType"),
                text(el),
                subject_doi=work.doi,
            )
        )
    box = top.get("relatedItems")
    for item in children(box, "relatedItem") if box is not None else ():
        rid = child(item, "relatedItemIdentifier")
        rel_type = attr(item, "relationType")
        rels.append(
            make_relation(
                "datacite",
                rel_type,
                attr(rid, "relatedItemIdentifierType") if rid is not None else None,
                text(rid),
                subject_doi=work.doi,
            )
        )
        if rel_type == "IsPublishedIn" and work.container is None:
            titles = child(item, "titles")
            work.container = child_text(titles, "title") if titles is not None else None
    if work.container is None:
        box = top.get("descriptions")
        for el in children(box, "description") if box is not None else ():
            if attr(el, "descriptionType") == "SeriesInformation":
                work.container = clean_text(text(el))
                break
    work.relations = dedupe_relations(rels)
    box = top.get("descriptions")
    add_text_links(work, (text(el) for el in (children(box, "description") if box is not None else ())
                          if attr(el, "descriptionType") != "SeriesInformation"))
    return work
