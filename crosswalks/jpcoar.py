"""JPCOAR schema 1.0, 2.0 and 2.1 (``jpcoar:jpcoar``; the version is the namespace).

``relationType`` is optional (real repositories omit it): such relations are kept as ``Other``
with a problem. The work's DOI is the one the repository registered
(``jpcoar:identifierRegistration``), else a ``jpcoar:identifier`` typed DOI."""

from __future__ import annotations

from linkgraph.crosswalks import xmlutil
from linkgraph.crosswalks.model import Creator, Title, Work, dedupe_relations
from linkgraph.crosswalks.normalize import (
    canonical_scheme,
    normalize_doi,
    normalize_orcid,
    normalize_url,
    parse_year,
)
from linkgraph.crosswalks.textmine import add_text_links
from linkgraph.crosswalks.vocab import coar_version, coarse_type, make_relation
from linkgraph.crosswalks.xmlutil import (
    Element,
    attr,
    children,
    descendants,
    first_in,
    group_children,
    lang,
    lang_texts,
    local,
    ns,
    parse_xml,
    text,
)

FORMAT = "jpcoar"
NS_PREFIX = "https://github.com/JPCOAR/schema/blob/master/"
OAIRE = "http://namespace.openaire.eu/schema/oaire/"
DC = "http://purl.org/dc/elements/1.1/"
_RA = {"jalc": "jalc", "crossref": "crossref", "datacite": "datacite"}
_NONE: list[Element] = []  # the empty group (never mutated)
# the direct children of jpcoar:jpcoar that read_item looks at (any namespace)
_READ_TAGS = tuple(
    f"{{*}}{name}"
    for name in (
        "title", "alternative", "creator", "publisher", "date", "type", "version",
        "identifierRegistration", "identifier", "sourceTitle", "sourceIdentifier", "relation",
    )
)
_TITLE_TAGS = ("{*}title", "{*}alternative")
_LOCAL = xmlutil._LOCAL  # tag -> local name cache; inlined as _LOCAL.get(tag) or local(tag)


def read(payload: bytes | str) -> list[Work]:
    root, problem = parse_xml(payload)
    if root is None:
        return [Work.unreadable(FORMAT, problem or "unreadable")]
    if local(root.tag) == "jpcoar" and ns(root).startswith(NS_PREFIX):
        items = [root]  # the usual payload (a <metadata> child): no walk of the whole tree
    else:
        items = [el for el in root.iter("{*}jpcoar") if ns(el).startswith(NS_PREFIX)]
    if not items:
        return [Work.unreadable(FORMAT, f"no jpcoar:jpcoar element in <{local(root.tag)}>")]
    return [read_item(el) for el in items]


def schema_version(el: Element) -> str:
    return ns(el)[len(NS_PREFIX):].strip("/") or "?"


def _creators(creators: list[Element]) -> list[Creator]:
    out: list[Creator] = []
    for seq, c in enumerate(creators, start=1):
        parts = group_children(c)
        orcid = None
        for nid in parts.get("nameIdentifier", _NONE):
            if (attr(nid, "nameIdentifierScheme") or "").upper() == "ORCID":
                orcid = normalize_orcid(text(nid) or attr(nid, "nameIdentifierURI"))
        affs: list[tuple[str | None, str]] = []
        for aff in parts.get("affiliation", _NONE):
            affs += lang_texts(children(aff, "affiliationName"))
        families = dict(lang_texts(parts["familyName"])) if "familyName" in parts else {}
        givens = dict(lang_texts(parts["givenName"])) if "givenName" in parts else {}
        names = lang_texts(parts.get("creatorName", _NONE))
        if not names:
            names = [
                (lg, ", ".join(p for p in (fam, givens.get(lg)) if p)) for lg, fam in families.items()
            ]
        for lg, name in names:
            same = [a for la, a in affs if la == lg] or [a for la, a in affs if la is None]
            out.append(
                Creator(name, givens.get(lg), families.get(lg), orcid, same, lg, seq)  # type: ignore[arg-type]
            )
    return out


def read_item(item: Element) -> Work:
    version = schema_version(item)
    work = Work(source_format=FORMAT)
    problems = work.problems
    groups = group_children(item, *_READ_TAGS)
    for el in item.iterchildren(*_TITLE_TAGS):  # titles and alternatives in document order
        value = text(el)
        if value:
            alternative = (_LOCAL.get(el.tag) or local(el.tag)) == "alternative"
            work.titles.append(Title(value, lang(el), "AlternativeTitle" if alternative else None))
    if not work.titles:
        problems.append("no title")
    work.creators = _creators(groups.get("creator", _NONE))

    pubs: list[tuple[str | None, str]] = []
    for p in groups.get("publisher", _NONE):
        if ns(p) == DC:  # dc:publisher
            if text(p):
                pubs.append((lang(p), text(p)))  # type: ignore[arg-type]
        else:  # 2.0 jpcoar:publisher/jpcoar:publisherName (+ description, place)
            pubs += lang_texts(children(p, "publisherName"))
    work.publisher = next((n for la, n in pubs if la == "en"), pubs[0][1] if pubs else None)

    for d in groups.get("date", _NONE):
        if attr(d, "dateType") == "Issued":
            work.year = parse_year(text(d))
    if work.year is None:
        for d in groups.get("date", _NONE):
            work.year = work.year or parse_year(text(d))

    type_el = first_in(groups, "type")
    if type_el is not None:
        uri, label = attr(type_el, "resource"), text(type_el)
        work.resource_type_raw = label or uri
        work.resource_type, p = coarse_type("coar", uri or label)
        if p and label and uri:
            work.resource_type, p = coarse_type("coar", label)
        problems.extend(p)
    ver = next((v for v in groups.get("version", _NONE) if ns(v) == OAIRE), None)
    if ver is not None:
        work.version, p = coar_version(attr(ver, "resource"), text(ver))
        problems.extend(p)

    registered = None
    for reg in groups.get("identifierRegistration", _NONE):
        registered = text(reg)
        work.registration_agency = _RA.get((attr(reg, "identifierType") or "").lower())
        if work.registration_agency is None:
            problems.append(f"identifierRegistration type {attr(reg, 'identifierType')!r} is no DOI agency")
    doi_ids = []
    for ident in groups.get("identifier", _NONE):
        value = text(ident)
        if not value:
            continue
        scheme = canonical_scheme(attr(ident, "identifierType"))
        work.add_identifier(scheme, value)
        if scheme == "doi":
            doi_ids.append(value)
        elif scheme == "url" and work.landing_url is None:
            work.landing_url, p = normalize_url(value)
            problems.extend(p)
    raw_doi = registered or (doi_ids[0] if doi_ids else None)
    if raw_doi:
        work.doi, p = normalize_doi(raw_doi)
        problems.extend(p)
        if registered:
            work.add_identifier("doi", work.doi or registered)

    containers = lang_texts(groups.get("sourceTitle", _NONE))
    work.container = next((n for la, n in containers if la == "en"), containers[0][1] if containers else None)
    for sid in groups.get("sourceIdentifier", _NONE):
        if text(sid):
            work.add_identifier(attr(sid, "identifierType"), text(sid))

    rels = []
    for rel in groups.get("relation", _NONE):
        rtype = attr(rel, "relationType")
        targets = list(children(rel, "relatedIdentifier"))
        if not targets:
            r = make_relation("jpcoar", rtype, None, None, subject_doi=work.doi)
            titles = [text(t) for t in descendants(rel, "relatedTitle") if text(t)]
            if titles:
                r.target_raw = titles[0]  # type: ignore[assignment]
                r.problems.append("related item given by title only")
            rels.append(r)
        for tgt in targets:
            rels.append(
                make_relation("jpcoar", rtype, attr(tgt, "identifierType"), text(tgt),
                              subject_doi=work.doi)
            )
    work.relations = dedupe_relations(rels)
    add_text_links(work, (text(el) for el in item.iterchildren() if local(el.tag) == "description"))
    if version not in ("1.0", "2.0", "2.1"):
        problems.append(f"unknown JPCOAR schema version {version!r}")
    return work
