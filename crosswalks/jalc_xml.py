"""JaLC deposit XML (``root/head`` + ``root/body/content``, JaLC manual appendix 8): one work
per ``<content>``; relations from ``relation_list/related_content[@type][@relation]``."""

from __future__ import annotations

from linkgraph.crosswalks.model import Creator, Title, Work, dedupe_relations
from linkgraph.crosswalks.normalize import normalize_orcid, normalize_url, parse_year
from linkgraph.crosswalks.textmine import add_text_links
from linkgraph.crosswalks.vocab import coarse_type, make_relation
from linkgraph.crosswalks.xmlutil import (
    Element,
    attr,
    child,
    child_text,
    children,
    descendants,
    lang,
    local,
    parse_xml,
    text,
)

FORMAT = "jalc-xml"


def read(payload: bytes | str) -> list[Work]:
    root, problem = parse_xml(payload)
    if root is None:
        return [Work.unreadable(FORMAT, problem or "unreadable")]
    head = child(root, "head")
    classification = child_text(head, "content_classification") if head is not None else None
    contents = list(descendants(root, "content"))
    if not contents:
        return [Work.unreadable(FORMAT, f"no JaLC <content> in <{local(root.tag)}>")]
    return [read_content(c, classification) for c in contents]


def _creators(box: Element | None) -> list[Creator]:
    out: list[Creator] = []
    if box is None:
        return out
    for n, c in enumerate(children(box, "creator"), start=1):
        seq_attr = attr(c, "sequence")
        seq = int(seq_attr) if seq_attr and seq_attr.isdigit() else n
        orcid = None
        for idc in descendants(c, "id_code"):
            if (attr(idc, "type") or "").upper() == "ORCID":
                orcid = normalize_orcid(text(idc))
        affs = [(lang(a), text(a)) for a in descendants(c, "affiliation_name") if text(a)]
        for names in children(c, "names"):
            family, given = child_text(names, "last_name"), child_text(names, "first_name")
            full = ", ".join(p for p in (family, given) if p)
            if not full:
                continue
            lg = lang(names)
            same = [a for la, a in affs if la == lg] or ([a for _, a in affs] if lg is None else [])
            out.append(Creator(full, given, family, orcid, same, lg, seq))  # type: ignore[arg-type]
        for inst in children(c, "institution_name"):
            if text(inst):
                out.append(Creator(text(inst), lang=lang(inst), seq=seq))  # type: ignore[arg-type]
    return out


def read_content(c: Element, classification: str | None) -> Work:
    work = Work(source_format=FORMAT, registration_agency="jalc")
    problems = work.problems
    raw_doi = child_text(c, "doi")
    work.set_doi(raw_doi)
    url = child_text(c, "url")
    if url:
        work.landing_url, p = normalize_url(url)
        problems.extend(p)
    box = child(c, "title_list")
    for titles in children(box, "titles") if box is not None else ():
        lg = lang(titles)
        if child_text(titles, "title"):
            work.titles.append(Title(child_text(titles, "title"), lg))  # type: ignore[arg-type]
        if child_text(titles, "subtitle"):
            work.titles.append(Title(child_text(titles, "subtitle"), lg, "Subtitle"))  # type: ignore[arg-type]
    if not work.titles:
        problems.append("no title")
    work.creators = _creators(child(c, "creator_list"))
    pubs = [(lang(p), text(p)) for p in descendants(c, "publisher_name") if text(p)]
    work.publisher = next((n for la, n in pubs if la == "en"), pubs[0][1] if pubs else None)
    pd = child(c, "publication_date")
    work.year = parse_year(child_text(pd, "publication_year")) if pd is not None else None
    journals = [(lang(j), text(j)) for j in descendants(c, "journal_title_name") if text(j)]
    work.container = next((n for la, n in journals if la == "en"), journals[0][1] if journals else None)
    raw_type = child_text(c, "resource_type") or classification
    work.resource_type_raw = raw_type
    if raw_type:
        work.resource_type, p = coarse_type(
            "jalc" if raw_type == classification else "datacite", raw_type
        )
        problems.extend(p)
    rels = []
    box = child(c, "relation_list")
    for rc in children(box, "related_content") if box is not None else ():
        rels.append(
            make_relation("jalc", attr(rc, "relation"), attr(rc, "type"), text(rc),
                          subject_doi=work.doi)
        )
    work.relations = dedupe_relations(rels)
    add_text_links(work, (text(el) for name in ("description", "abstract") for el in descendants(c, name)))
    return work
