"""Simple Dublin Core (``oai_dc:dc``), including figshare's variant that binds the ``dc``
prefix to ``http://purl.org/dc/terms/`` instead of the elements/1.1 namespace (recorded as a
problem, read anyway). ``dc:relation`` is untyped: kept as ``Other`` with a problem."""

from __future__ import annotations

from linkgraph.crosswalks.model import Creator, Title, Work, dedupe_relations
from linkgraph.crosswalks.normalize import (
    is_doi_url,
    normalize_doi,
    normalize_url,
    parse_year,
)
from linkgraph.crosswalks.textmine import add_text_links
from linkgraph.crosswalks.vocab import coarse_type, make_relation
from linkgraph.crosswalks.xmlutil import Element, lang, local, ns, parse_xml, text

FORMAT = "oai_dc"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"


def read(payload: bytes | str) -> list[Work]:
    root, problem = parse_xml(payload)
    if root is None:
        return [Work.unreadable(FORMAT, problem or "unreadable")]
    items = list(root.iter(f"{{{OAI_DC}}}dc"))
    if not items:
        return [Work.unreadable(FORMAT, f"no oai_dc:dc element in <{local(root.tag)}>")]
    return [read_item(el) for el in items]


def _looks_like_doi(value: str) -> bool:
    low = value.strip().lower()
    return low.startswith(("10.", "doi:", "info:doi/")) or is_doi_url(low)


def read_item(item: Element) -> Work:
    work = Work(source_format=FORMAT)
    problems = work.problems
    wrong_ns = False
    types: list[str] = []
    relations: list[str] = []
    descriptions: list[str] = []
    for el in item:
        namespace = ns(el)
        if namespace == DCTERMS:
            wrong_ns = True
        elif namespace != DC:
            continue
        name, value = local(el.tag), text(el)
        if not value:
            continue
        if name == "title":
            work.titles.append(Title(value, lang(el)))
        elif name == "creator":
            work.creators.append(Creator(value, lang=lang(el)))
        elif name == "publisher" and work.publisher is None:
            work.publisher = value
        elif name == "date" and work.year is None:
            work.year = parse_year(value)
        elif name == "type":
            types.append(value)
        elif name == "identifier":
            if _looks_like_doi(value):
                doi, p = normalize_doi(value)
                if doi and work.doi is None:
                    work.doi = doi
                    problems.extend(p)
                elif doi is None:
                    problems.extend(p)
                work.add_identifier("doi", doi or value)
            elif value.lower().startswith(("http://", "https://")):
                work.add_identifier("url", value)
                if work.landing_url is None:
                    work.landing_url, p = normalize_url(value)
                    problems.extend(p)
            else:
                work.add_identifier("unknown", value)
        elif name == "relation":
            relations.append(value)
        elif name == "description":
            descriptions.append(value)
        elif name == "source" and work.container is None:
            work.container = value
    if wrong_ns:
        problems.append("dc elements in http://purl.org/dc/terms/ namespace (figshare variant)")
    if not work.titles:
        problems.append("no title")
    for value in types:
        coarse, p = coarse_type("dc", value)
        if not p:
            work.resource_type, work.resource_type_raw = coarse, value
            break
    if work.resource_type is None and types:
        work.resource_type_raw = types[0]
        work.resource_type, p = coarse_type("dc", types[0])
        problems.extend(p)
    work.relations = dedupe_relations(
        [make_relation("dc", None, None, v, subject_doi=work.doi) for v in relations]
    )
    add_text_links(work, descriptions)
    return work
