"""Crossref UNIXSD / UNIXREF XML (``crossref_result`` or ``doi_records``): one work per
``doi_record``. Relations come from ``<rel:program>`` (inter/intra_work_relation) and from the
UNIXSD ``<crm-item name="relation" claim="...">`` items, which are claims made *by the other
work* about this one (asserted by object; stored as the inverse type)."""

from __future__ import annotations

from linkgraph.crosswalks import xmlutil
from linkgraph.crosswalks.model import Creator, Title, Work, dedupe_relations
from linkgraph.crosswalks.normalize import normalize_orcid, normalize_url, parse_year
from linkgraph.crosswalks.vocab import coarse_type, inverse, make_relation
from linkgraph.crosswalks.xmlutil import (
    Element,
    attr,
    child,
    child_text,
    children,
    descendants,
    local,
    parse_xml,
    text,
)

FORMAT = "crossref-xml"
# Elements that carry one work, most specific first.
ITEM_TAGS = (
    "journal_article",
    "posted_content",
    "conference_paper",
    "content_item",
    "dissertation",
    "report-paper_metadata",
    "standard_metadata",
    "dataset",
    "component",
    "peer_review",
    "book_metadata",
    "book_series_metadata",
    "book_set_metadata",
    "database_metadata",
    "journal_issue",
    "journal_metadata",
)
_SKIP = {"citation_list", "component_list", "program", "crossmark"}


def read(payload: bytes | str) -> list[Work]:
    root, problem = parse_xml(payload)
    if root is None:
        return [Work.unreadable(FORMAT, problem or "unreadable")]
    records = list(descendants(root, "doi_record"))
    if not records:
        if local(root.tag) == "crossref":
            return [read_record(root, None)]
        return [Work.unreadable(FORMAT, f"no Crossref <doi_record> in <{local(root.tag)}>")]
    return [read_record(rec, rec.getparent()) for rec in records]


def _find_item(record: Element) -> Element | None:
    """The most specific work element, ignoring anything inside citations / components."""
    for name in ITEM_TAGS:
        for el in record.iter(f"{{*}}{name}"):
            parent = el.getparent()
            while parent is not None and parent is not record and local(parent.tag) not in _SKIP:
                parent = parent.getparent()
            if parent is record or parent is None:
                return el
    return None


_AFFILIATION_TAGS = ("{*}affiliation", "{*}institution_name")
_AFFILIATION_NAMES = ("affiliation", "institution_name")
_LOCAL = xmlutil._LOCAL  # tag -> local name cache; inlined below as _LOCAL.get(tag) or local(tag)


def _person(el: Element) -> Creator | None:
    given_el = family_el = orcid_el = None
    deep = False  # an affiliation / institution_name can only be below a child with children
    for c in el:  # the first given_name / surname / ORCID child, as xmlutil.first_children would
        tag = c.tag
        name = _LOCAL.get(tag) or local(tag)
        if len(c) or name in _AFFILIATION_NAMES:
            deep = True
        if name == "given_name":
            given_el = c if given_el is None else given_el
        elif name == "surname":
            family_el = c if family_el is None else family_el
        elif name == "ORCID":
            orcid_el = c if orcid_el is None else orcid_el
    given, family = text(given_el), text(family_el)
    if family and given:
        full = f"{family}, {given}"
    else:
        full = family or given or ""
    if not full:
        return None
    # one walk for both (affiliation, then institution_name, each in document order)
    affs: list[str] = []
    insts: list[str] = []
    for x in el.iter(*_AFFILIATION_TAGS) if deep else ():
        value = text(x)
        if value:
            tag = x.tag
            (affs if (_LOCAL.get(tag) or local(tag)) == "affiliation" else insts).append(value)
    return Creator(full, given, family, normalize_orcid(text(orcid_el)), affs + insts,
                   attr(el, "language"))


def _creators(item: Element) -> list[Creator]:
    out: list[Creator] = []
    box = child(item, "contributors")
    if box is None:
        return out
    for el in box:
        tag = el.tag
        name = _LOCAL.get(tag) or local(tag)
        if name == "person_name":
            person = _person(el)
            if person is not None:
                out.append(person)
        elif name == "organization" and text(el):
            out.append(Creator(text(el)))  # type: ignore[arg-type]
    return out


def _year(item: Element, record: Element) -> int | None:
    for tag in ("publication_date", "posted_date", "approval_date", "database_date"):
        for el in children(item, tag):
            y = parse_year(child_text(el, "year"))
            if y:
                return y
    for el in descendants(record, "publication_date"):
        y = parse_year(child_text(el, "year"))
        if y:
            return y
    return None


def read_record(record: Element, query: Element | None) -> Work:
    work = Work(source_format=FORMAT, registration_agency="crossref")
    problems = work.problems
    item = _find_item(record)
    if item is None:
        problems.append("no Crossref work element in doi_record")
        item = record
    doi_data = child(item, "doi_data")
    raw_doi = child_text(doi_data, "doi") if doi_data is not None else None
    if raw_doi is None and query is not None:
        raw_doi = child_text(query, "doi")
    work.set_doi(raw_doi)
    if doi_data is not None and child_text(doi_data, "resource"):
        work.landing_url, p = normalize_url(child_text(doi_data, "resource"))
        problems.extend(p)

    titles = child(item, "titles")
    if titles is not None:
        for el in titles:
            name, value = local(el.tag), text(el)
            if not value:
                continue
            if name == "title":
                work.titles.append(Title(value, attr(item, "language")))
            elif name == "subtitle":
                work.titles.append(Title(value, attr(item, "language"), "Subtitle"))
            elif name == "original_language_title":
                work.titles.append(Title(value, attr(el, "language"), "OriginalTitle"))
    if not work.titles:
        problems.append("no title")
    work.creators = _creators(item)
    work.year = _year(item, record)

    raw_type = local(item.tag)
    subtype = attr(item, "type") if raw_type == "posted_content" else None
    work.resource_type_raw = "/".join(p for p in (raw_type, subtype) if p)
    work.resource_type, p = coarse_type("crossref", subtype or raw_type)
    problems.extend(p)

    for meta, tag in (
        ("journal_metadata", "full_title"),
        ("proceedings_metadata", "proceedings_title"),
        ("series_metadata", "title"),
    ):
        el = next(descendants(record, meta), None)
        if el is None or el is item:
            continue
        work.container = next((text(t) for t in descendants(el, tag) if text(t)), None)
        if work.container:
            break
    for issn in descendants(record, "issn"):
        if text(issn):
            work.add_identifier("issn", text(issn))  # type: ignore[arg-type]
    claims: list[Element] = []  # crm-item name="relation", read below with the relations
    if query is not None:
        for crm in children(query, "crm-item"):
            crm_name = attr(crm, "name")
            if crm_name == "publisher-name":
                work.publisher = text(crm)
            elif crm_name == "relation":
                claims.append(crm)
    if work.publisher is None:
        pub = next(descendants(record, "publisher_name"), None)
        work.publisher = text(pub)

    rels = []
    for prog in children(item, "program"):
        for rel_el in prog.iter():
            name = local(rel_el.tag)
            if name in ("inter_work_relation", "intra_work_relation"):
                rels.append(
                    make_relation(
                        "crossref",
                        attr(rel_el, "relationship-type"),
                        attr(rel_el, "identifier-type"),
                        text(rel_el),
                        subject_doi=work.doi,
                    )
                )
    for crm in claims:
        rel = make_relation(
            "crossref", attr(crm, "claim"), attr(crm, "type"), text(crm),
            asserted_by="object", subject_doi=work.doi,
        )
        inv = inverse(rel.relation_type)
        if inv is None:
            rel.problems.append(f"claim {rel.raw_type!r} has no inverse; kept as {rel.relation_type}")
        else:
            rel.relation_type = inv
        rels.append(rel)
    work.relations = dedupe_relations(rels)
    return work
