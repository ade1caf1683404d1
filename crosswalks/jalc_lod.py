"""JaLC LOD bulk-dump RDF/XML (``rdf:RDF`` of ``rdf:Description`` with prism/dcterms/foaf).

Real dumps can be truncated (the stored 100-record sample has no closing ``</rdf:RDF>``): when the
whole document does not parse, each ``<rdf:Description>...</rdf:Description>`` is parsed on its
own inside the document's namespace declarations, and the damage is recorded as a problem on
every recovered work (a trailing fragment becomes an unreadable result)."""

from __future__ import annotations

import re

from linkgraph.crosswalks.model import Creator, Title, Work
from linkgraph.crosswalks.normalize import parse_year
from linkgraph.crosswalks.xmlutil import (
    RDF,
    Element,
    attr,
    first_children,
    group_children,
    local,
    parse_xml,
    text,
    to_bytes,
)

FORMAT = "jalc-lod"
_DESC = re.compile(rb"<rdf:Description\b.*?</rdf:Description>", re.DOTALL)
_ROOT_OPEN = re.compile(rb"<rdf:RDF\b[^>]*>", re.DOTALL)
_JA = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")


def read(payload: bytes | str) -> list[Work]:
    root, problem = parse_xml(payload)
    if root is not None:
        descs = [d for d in root.iter(f"{{{RDF}}}Description")]
        if not descs:
            return [Work.unreadable(FORMAT, f"no rdf:Description in <{local(root.tag)}>")]
        return [read_description(d) for d in descs]
    return _recover(to_bytes(payload), problem or "unreadable")


def _recover(data: bytes, problem: str) -> list[Work]:
    opening = _ROOT_OPEN.search(data)
    if opening is None or (problem or "").startswith("XML refused"):
        return [Work.unreadable(FORMAT, problem)]
    works: list[Work] = []
    end = opening.end()
    note = f"document not well-formed ({problem}); record parsed on its own"
    for m in _DESC.finditer(data, opening.end()):
        end = m.end()
        root, p = parse_xml(opening.group(0) + m.group(0) + b"</rdf:RDF>")
        if root is None:
            works.append(Work.unreadable(FORMAT, p or "unreadable"))
            continue
        for d in root.iter(f"{{{RDF}}}Description"):
            work = read_description(d)
            work.problems.append(note)
            works.append(work)
    tail = data[end:].strip().removesuffix(b"</rdf:RDF>").strip()
    if tail:
        works.append(Work.unreadable(FORMAT, f"truncated record at end of document: {problem}"))
    return works or [Work.unreadable(FORMAT, problem)]


def _lang_guess(value: str) -> str:
    """The LOD dump carries no xml:lang: Japanese script -> ``ja``, otherwise ``en``."""
    return "ja" if _JA.search(value) else "en"


def read_description(d: Element) -> Work:
    work = Work(source_format=FORMAT, registration_agency="jalc")
    problems = work.problems
    groups = group_children(d)
    no_elements: list[Element] = []
    doi_els = groups.get("doi")
    raw_doi = (text(doi_els[0]) if doi_els else None) or attr(d, "about")
    work.set_doi(raw_doi)
    for t in groups.get("title", no_elements):
        value = text(t)
        if value:
            work.titles.append(Title(value, _lang_guess(value)))
    if not work.titles:
        problems.append("no title")
    for c in groups.get("creator", no_elements):
        if not len(c):
            continue  # dc:creator plain-text duplicates of the foaf:Person list
        person = first_children(c).get("Person")
        if person is None:
            continue
        first = first_children(person)
        name = text(first.get("name"))
        given, family = text(first.get("givenName")), text(first.get("familyName"))
        full = (f"{family}, {given}" if family and given else family or given) or name
        if full:
            work.creators.append(Creator(full, given, family, lang=_lang_guess(full)))
    pubs = _texts(groups.get("publisher", no_elements))
    work.publisher = next((p for p in pubs if _lang_guess(p) == "en"), pubs[0] if pubs else None)
    dates = groups.get("date")
    work.year = parse_year(text(dates[0]) if dates else None)
    names = _texts(groups.get("publicationName", no_elements))
    work.container = next((n for n in names if _lang_guess(n) == "en"), names[0] if names else None)
    seen: set[str] = set()
    for issn in groups.get("issn", no_elements):
        value = text(issn)
        if value and value not in seen:
            seen.add(value)
            work.add_identifier("issn", value)
    return work


def _texts(els: list[Element]) -> list[str]:
    """The non-empty texts of ``els``, in order."""
    out: list[str] = []
    for el in els:
        value = text(el)
        if value:
            out.append(value)
    return out
