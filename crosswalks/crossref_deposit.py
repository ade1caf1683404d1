"""Crossref deposit XML (``<doi_batch>`` with ``<head>`` and ``<body>``, schema 4.3 to 5.x): one
work per deposited DOI - every work element of the body that has its own ``<doi_data>``:
journal articles (and a journal's or issue's own DOI), posted content, peer reviews, datasets,
book and conference items, dissertations, reports, standards, and components (in a work's
``component_list`` or standalone in ``<sa_component parent_doi=...>``, each ``IsPartOf`` its
parent). Titles, types, contributors and every ``<rel:program>`` relation are read as the
query-response reader (:mod:`crossref_xml`) reads them; the deposit's namespace version does not
matter (elements are matched by local name)."""

from __future__ import annotations

from linkgraph.crosswalks.crossref_xml import ITEM_TAGS, read_record
from linkgraph.crosswalks.model import Work
from linkgraph.crosswalks.xmlutil import Element, children, local, parse_xml

FORMAT = "crossref-deposit"
# elements that carry a DOI of their own when they have a doi_data child
_WORK_TAGS = frozenset((*ITEM_TAGS, "component"))
_NOT_WORKS = frozenset({"citation_list", "program", "crossmark"})  # never deposited DOIs inside


def read(payload: bytes | str) -> list[Work]:
    root, problem = parse_xml(payload)
    if root is None:
        return [Work.unreadable(FORMAT, problem or "unreadable")]
    if local(root.tag) != "doi_batch":
        return [Work.unreadable(FORMAT, f"not a Crossref deposit: root <{local(root.tag)}>, "
                                        "expected <doi_batch>")]
    return read_root(root)


def read_root(root: Element) -> list[Work]:
    bodies = list(children(root, "body"))
    if not bodies:
        return [Work.unreadable(FORMAT, "no <body> in <doi_batch>")]
    works: list[Work] = []
    for body in bodies:
        for top in body:  # journal, book, conference, sa_component, database, posted_content, ...
            if not isinstance(top.tag, str):
                continue  # a comment or processing instruction
            for item in _deposited(top):
                works.append(read_record(top, None, item, source_format=FORMAT))
    return works or [Work.unreadable(FORMAT, "no deposited DOI (<doi_data>) in <doi_batch>")]


def _deposited(top: Element) -> list[Element]:
    """Work elements under (and including) ``top`` with their own ``doi_data``, in document
    order; nothing inside citations, relations or Crossmark."""
    found: list[Element] = []
    stack = [top]
    while stack:
        el = stack.pop()
        name = local(el.tag)
        if name in _NOT_WORKS:
            continue
        if name in _WORK_TAGS and any(True for _ in children(el, "doi_data")):
            found.append(el)
        stack.extend(c for c in reversed(el) if isinstance(c.tag, str))
    return found
