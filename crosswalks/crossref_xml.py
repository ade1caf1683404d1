"""Crossref UNIXSD / UNIXREF XML (``crossref_result`` or ``doi_records``): one work per
``doi_record``. Relations come from ``<rel:program>`` (inter/intra_work_relation) and from the
UNIXSD ``<crm-item name="relation" claim="...">`` items, which are claims made *by the other
work* about this one (asserted by object; stored as the inverse type)."""

from __future__ import annotations

from linkgraph.crosswalks import xmlutil
from linkgraph.crosswalks.model import Creator, Title, Work, dedupe_relations
from linkgraph.crosswalks.normalize import normalize_orcid, normalize_url, parse_year
from linkgraph.crosswalks.textmine import add_text_links
from linkgraph.crosswalks.vocab import coarse_type, container_relations, inverse, make_relation
from linkgraph.crosswalks.xmlutil import (
    Element,
    attr,
    child_text,
    children,
    descendants,
    first_in,
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
_LOCAL = xmlutil._LOCAL  # tag -> local name cache; inlined below as _LOCAL.get(tag) or local(tag)


def read(payload: bytes | str) -> list[Work]:
    root, problem = parse_xml(payload)
    if root is None:
        return [Work.unreadable(FORMAT, problem or "unreadable")]
    if local(root.tag) == "doi_batch":  # a deposit, not a query response
        from linkgraph.crosswalks import crossref_deposit

        return crossref_deposit.read_root(root)
    records = _doi_records(root)
    if not records:
        if local(root.tag) == "crossref":
            return [read_record(root, None)]
        return [Work.unreadable(FORMAT, f"no Crossref <doi_record> in <{local(root.tag)}>")]
    return [read_record(rec, rec.getparent()) for rec in records]


def _doi_records(root: Element) -> list[Element]:
    """The ``doi_record`` elements where UNIXSD (``crossref_result/query_result/body/query``) and
    UNIXREF (``doi_records``) put them; a search of the whole tree for any other root (the
    search walks every citation: 14 us on a 15 KB record, against 2 us along the path)."""
    name = local(root.tag)
    found: list[Element] = []
    if name == "crossref_result":
        for result in children(root, "query_result"):
            for body in children(result, "body"):
                for query in children(body, "query"):
                    found.extend(children(query, "doi_record"))
    elif name == "doi_records":
        found.extend(children(root, "doi_record"))
    return found or list(descendants(root, "doi_record"))


# a content_item's coarse type follows what it is part of (resource_types.tsv keys)
_CONTENT_OF = {"report-paper": "report-paper", "standard": "standard"}
_ITEM_RANK = {name: rank for rank, name in enumerate(ITEM_TAGS)}
_MAX_DEPTH = 6  # the schema puts the work element 2 or 3 levels below doi_record


def _find_item(record: Element) -> Element | None:
    """The most specific work element: level by level below ``record`` (never inside citations,
    components, relations or Crossmark), the best by ``ITEM_TAGS`` order on the first level
    that has one. The schema puts every work element of a record on one level (``journal``
    holds ``journal_metadata``, ``journal_issue`` and ``journal_article``; ``book`` holds
    ``book_metadata`` and ``content_item``), so the first level decides."""
    level = [record]
    for _ in range(_MAX_DEPTH):
        best: Element | None = None
        best_rank = len(ITEM_TAGS)
        below: list[Element] = []
        for parent in level:
            for el in parent:
                tag = el.tag
                name = _LOCAL.get(tag) or local(tag)
                rank = _ITEM_RANK.get(name)
                if rank is None:
                    if name not in _SKIP:
                        below.append(el)
                elif rank < best_rank:
                    best, best_rank = el, rank
        if best is not None or not below:
            return best
        level = below
    return None


_AFFILIATION_TAGS = ("{*}affiliation", "{*}institution_name")
# person_name children that hold no affiliation; any other child (affiliation, affiliations,
# alt-name, ...) sends the person through the affiliation search below
_PERSON_LEAVES = frozenset({"given_name", "surname", "suffix", "ORCID"})


def _person(el: Element) -> Creator | None:
    given_el = family_el = orcid_el = None
    deep = False
    for c in el:  # the first given_name / surname / ORCID child, as xmlutil.first_children would
        tag = c.tag
        name = _LOCAL.get(tag) or local(tag)
        if name == "given_name":
            given_el = c if given_el is None else given_el
        elif name == "surname":
            family_el = c if family_el is None else family_el
        elif name == "ORCID":
            orcid_el = c if orcid_el is None else orcid_el
        elif name not in _PERSON_LEAVES:
            deep = True
    given, family = text(given_el), text(family_el)
    if family and given:
        full = f"{family}, {given}"
    else:
        full = family or given or ""
    if not full:
        return None
    affiliations: list[str] = []
    if deep:  # affiliation (4.x) first, then institution_name (5.x), each in document order
        insts: list[str] = []
        for x in el.iter(*_AFFILIATION_TAGS):
            value = text(x)
            if value:
                tag = x.tag
                (affiliations if (_LOCAL.get(tag) or local(tag)) == "affiliation" else insts).append(value)
        affiliations += insts
    language = el.get("language")  # an unprefixed attribute in every Crossref schema
    return Creator(full, given, family, normalize_orcid(text(orcid_el)), affiliations,
                   (language.strip() or None) if language else None)


def _creators(box: Element | None) -> list[Creator]:
    out: list[Creator] = []
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


_ITEM_DATES = ("publication_date", "posted_date", "approval_date", "database_date", "review_date")
# the item's children read below, fetched in one filtered pass
_ITEM_CHILDREN = tuple(f"{{*}}{name}" for name in ("doi_data", "titles", "contributors", "program",
                                                   "citation_list", *_ITEM_DATES))
# record-wide lookups, fetched in one walk (see _index)
_INDEXED = tuple(f"{{*}}{name}" for name in ("journal_metadata", "proceedings_metadata",
                                             "series_metadata", "book_metadata", "issn",
                                             "publisher_name", "publication_date"))


def _index(record: Element) -> dict[str, list[Element]]:
    """The ``_INDEXED`` elements of ``record`` by local name, in document order, in one walk;
    none from inside citations, components, relations or Crossmark (a citation's ``<issn>`` is
    the cited journal's, not this work's)."""
    found: dict[str, list[Element]] = {}
    for el in record.iter(*_INDEXED):
        parent = el.getparent()
        while parent is not None and parent is not record:
            tag = parent.tag
            if (_LOCAL.get(tag) or local(tag)) in _SKIP:
                break
            parent = parent.getparent()
        else:
            tag = el.tag
            found.setdefault(_LOCAL.get(tag) or local(tag), []).append(el)
    return found


def _year(parts: dict[str, list[Element]], index: dict[str, list[Element]]) -> int | None:
    for tag in _ITEM_DATES:
        for el in parts.get(tag, ()):
            y = parse_year(child_text(el, "year"))
            if y:
                return y
    for el in index.get("publication_date", ()):
        y = parse_year(child_text(el, "year"))
        if y:
            return y
    return None


def _standalone_component(record: Element) -> Element | None:
    """The ``component`` of a standalone-component record (``sa_component/component_list``):
    a figure, table or PDB structure registered on its own, read as a work."""
    for sa in descendants(record, "sa_component"):
        for comp in descendants(sa, "component"):
            return comp
    return None


def component_parent(item: Element) -> str | None:
    """The DOI a ``component`` belongs to: ``sa_component/@parent_doi``, or the DOI of the work
    whose ``component_list`` holds it."""
    box = item.getparent()
    holder = box.getparent() if box is not None else None
    if holder is None:
        return None
    if local(holder.tag) == "sa_component":
        return attr(holder, "parent_doi")
    for data in children(holder, "doi_data"):
        return child_text(data, "doi")
    return None


def _own_title(item: Element, index: dict[str, list[Element]]) -> str | None:
    """The title of a work element without ``<titles>``: a journal's ``full_title``, a
    proceedings' ``proceedings_title``, an issue as "<journal> <volume>(<issue>)"."""
    name = local(item.tag)
    if name == "journal_metadata":
        return child_text(item, "full_title")
    if name == "proceedings_metadata":
        return child_text(item, "proceedings_title")
    if name == "journal_issue":
        journal = next((child_text(j, "full_title") for j in index.get("journal_metadata", ())), None)
        volume = next((child_text(v, "volume") for v in children(item, "journal_volume")), None)
        issue = child_text(item, "issue")
        label = f"{volume}({issue})" if volume and issue else volume or (f"issue {issue}" if issue else None)
        return " ".join(p for p in (journal, label) if p) or None
    return None


def read_record(record: Element, query: Element | None, item: Element | None = None,
                source_format: str = FORMAT) -> Work:
    """One work of ``record``: ``item`` (a deposit names each), else the most specific work
    element, else a standalone component."""
    work = Work(source_format=source_format, registration_agency="crossref")
    problems = work.problems
    if item is None:
        item = _find_item(record)
    if item is None:
        item = _standalone_component(record)
    if item is None:
        problems.append("no Crossref work element in doi_record")
        item = record
    parts = xmlutil.group_children(item, *_ITEM_CHILDREN)
    index = _index(record)
    doi_data = first_in(parts, "doi_data")
    raw_doi = child_text(doi_data, "doi") if doi_data is not None else None
    if raw_doi is None and query is not None:
        raw_doi = child_text(query, "doi")
    work.set_doi(raw_doi)
    if doi_data is not None and child_text(doi_data, "resource"):
        work.landing_url, p = normalize_url(child_text(doi_data, "resource"))
        problems.extend(p)

    titles = first_in(parts, "titles")
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
        own = _own_title(item, index)
        if own:
            work.titles.append(Title(own, attr(item, "language")))
        else:
            problems.append("no title")
    work.creators = _creators(first_in(parts, "contributors"))
    work.year = _year(parts, index)

    raw_type = local(item.tag)
    subtype = None
    type_key = raw_type
    if raw_type == "posted_content":
        subtype = attr(item, "type")
        type_key = subtype or raw_type
    elif raw_type == "content_item":  # a chapter, section, part ... of a book, report or standard
        subtype = attr(item, "component_type")
        parent = item.getparent()
        type_key = _CONTENT_OF.get(local(parent.tag) if parent is not None else "", "book_content")
    work.resource_type_raw = "/".join(p for p in (raw_type, subtype) if p)
    work.resource_type, p = coarse_type("crossref", type_key)
    problems.extend(p)

    for meta, tag in (
        ("journal_metadata", "full_title"),
        ("proceedings_metadata", "proceedings_title"),
        ("series_metadata", "title"),
        ("book_metadata", "title"),
    ):
        el = first_in(index, meta)
        if el is None or el is item:
            continue
        work.container = next((text(t) for t in descendants(el, tag) if text(t)), None)
        if work.container:
            break
    issns = [v for v in (text(el) for el in index.get("issn", ())) if v]
    for issn in issns:
        work.add_identifier("issn", issn)
    claims: list[Element] = []  # crm-item name="relation", read below with the relations
    if query is not None:
        for crm in children(query, "crm-item"):
            crm_name = attr(crm, "name")
            if crm_name == "publisher-name":
                work.publisher = text(crm)
            elif crm_name == "relation":
                claims.append(crm)
    if work.publisher is None:
        work.publisher = text(first_in(index, "publisher_name"))

    rels = []
    for prog in parts.get("program", ()):
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
    for box in parts.get("citation_list", ()):  # references that carry a DOI
        for doi_el in box.iterfind("{*}citation/{*}doi"):
            value = text(doi_el)
            if value:
                rels.append(make_relation("crossref", "citation", "doi", value,
                                          asserted_by="reference", subject_doi=work.doi))
    if raw_type == "component":
        parent = component_parent(item)
        if parent:
            rels.append(make_relation("crossref", "isPartOf", "doi", parent, subject_doi=work.doi))
    rels.extend(container_relations(work, issns))
    work.relations = dedupe_relations(rels)
    add_text_links(work, (" ".join(el.itertext()) for el in item.iterfind("{*}abstract")))
    return work
