"""junii2 (legacy IRDB / JAIRO format, ``http://irdb.nii.ac.jp/oai``).

Relations are element names (``<isVersionOf>``, ``<hasPart>``, ...) plus the untyped
``<relation>``; ``textversion`` (author / publisher / ETD) gives the COAR version;
``selfDOI`` (with its ``ra``) is the DOI the repository registered."""

from __future__ import annotations

from linkgraph.crosswalks.model import Creator, Title, Work, dedupe_relations
from linkgraph.crosswalks.normalize import normalize_doi, normalize_url, parse_year
from linkgraph.crosswalks.textmine import add_text_links
from linkgraph.crosswalks.vocab import coar_version, coarse_type, make_relation
from linkgraph.crosswalks.xmlutil import Element, attr, lang, local, parse_xml, text

FORMAT = "junii2"
NAMESPACE = "http://irdb.nii.ac.jp/oai"
RELATION_ELEMENTS = frozenset(
    (
        "isVersionOf", "hasVersion", "isReplacedBy", "replaces", "isRequiredBy", "requires",
        "isPartOf", "hasPart", "isReferencedBy", "references", "isFormatOf", "hasFormat",
    )
)
_RA = {"jalc": "jalc", "crossref": "crossref", "datacite": "datacite"}


def read(payload: bytes | str) -> list[Work]:
    root, problem = parse_xml(payload)
    if root is None:
        return [Work.unreadable(FORMAT, problem or "unreadable")]
    items = list(root.iter(f"{{{NAMESPACE}}}junii2"))
    if not items:
        return [Work.unreadable(FORMAT, f"no junii2 element in <{local(root.tag)}>")]
    return [read_item(el) for el in items]


def read_item(item: Element) -> Work:
    work = Work(source_format=FORMAT)
    problems = work.problems
    rels = []
    descriptions: list[str] = []
    doi_el = self_doi = None
    textversion = None
    niitype = None
    for el in item:
        name, value = local(el.tag), text(el)
        if not value:
            continue
        if name == "title":
            work.titles.append(Title(value, lang(el)))
        elif name == "alternative":
            work.titles.append(Title(value, lang(el), "AlternativeTitle"))
        elif name == "creator":
            work.creators.append(Creator(value, lang=lang(el)))
        elif name == "publisher" and work.publisher is None:
            work.publisher = value
        elif name == "NIItype":
            niitype = value
        elif name == "jtitle" and work.container is None:
            work.container = value
        elif name in ("issn", "NCID", "pmid", "NAID", "ichushi", "isbn"):
            work.add_identifier(name.lower(), value)
        elif name == "URI":
            work.add_identifier("url", value)
            if work.landing_url is None:
                work.landing_url, p = normalize_url(value)
                problems.extend(p)
        elif name == "doi":
            doi_el = value
        elif name == "selfDOI":
            self_doi = value
            ra = (attr(el, "ra") or "").lower()
            work.registration_agency = _RA.get(ra)
        elif name == "description":
            descriptions.append(value)
        elif name == "textversion":
            textversion = value
        elif name in ("dateofissued", "date") and work.year is None:
            work.year = parse_year(value)
        elif name in RELATION_ELEMENTS or name == "relation":
            rels.append(make_relation("junii2", name if name != "relation" else None, None, value))
    if not work.titles:
        problems.append("no title")
    raw_doi = self_doi or doi_el
    if raw_doi:
        work.doi, p = normalize_doi(raw_doi)
        problems.extend(p)
        work.add_identifier("doi", work.doi or raw_doi)
        if self_doi is None and (textversion or "").lower() == "author":
            problems.append("junii2 <doi> on an author version may be the publisher's DOI")
    if self_doi and doi_el:
        other, _ = normalize_doi(doi_el)
        if other and other != work.doi:
            work.add_identifier("doi", other)
    work.resource_type_raw = niitype
    work.resource_type, p = coarse_type("junii2", niitype)
    problems.extend(p)
    if textversion and textversion.lower() != "none":
        work.version, p = coar_version(textversion)
        problems.extend(p)
    for rel in rels:
        if rel.target is not None and rel.target == work.doi:
            rel.problems.append("self-link: target is the work itself")
    work.relations = dedupe_relations(rels)
    add_text_links(work, descriptions)
    return work
