"""The demo world written in each source's own format.

* JaLC REST JSON (``/dois/{doi}`` ``data`` object: ``title_list``, ``creator_list``,
  ``relation_list`` ...), for the JaLC articles;
* Crossref REST JSON (a ``/works`` item: ``relation`` keyed by kebab-case type);
* DataCite REST JSON (a JSON:API ``dois`` item with ``relatedIdentifiers``);
* ``oai_datacite`` XML (DataCite kernel-4 ``resource`` in the OAI envelope), for the
  J-STAGE Data datasets served by figshare;
* JPCOAR 2.0 XML (``jpcoar:jpcoar``, ``oaire:version``, ``jpcoar:relation``) for repository items.

Shapes follow the real recorded payloads in ``shared/fixtures`` (see API_FACTS.md).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from linkgraph.replay.world import WorldWork

COAR_VERSION = {"AM": "http://purl.org/coar/version/c_ab4af688f83e57aa",
                "VoR": "http://purl.org/coar/version/c_970fb48d4fbd8a85"}


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def kebab(relation_type: str) -> str:
    """``IsSupplementedBy`` -> ``is-supplemented-by`` (Crossref REST relation keys)."""
    return re.sub(r"(?<!^)([A-Z])", r"-\1", relation_type).lower()


def jalc_json(w: WorldWork) -> dict[str, Any]:
    titles = [{"lang": "en", "title": w.title}]
    if w.title_ja:
        titles.insert(0, {"lang": "ja", "title": w.title_ja})
    creators = []
    for seq, p in enumerate(w.creators, start=1):
        creators.append({"sequence": str(seq), "type": "person", "names": [
            {"lang": "ja", "last_name": p.family_ja, "first_name": p.given},
            {"lang": "en", "last_name": p.family, "first_name": p.given}]})
    return {
        "siteId": "SI/JST.JSTAGE", "content_type": "JA", "doi": w.doi, "url": w.url, "ra": "JaLC",
        "prefix": (w.doi or "").split("/", 1)[0], "title_list": titles, "creator_list": creators,
        "publication_date": {"publication_year": str(w.year)},
        "journal_title_name_list": [{"journal_title_name": w.container, "type": "full", "lang": "en"}],
        "relation_list": [{"content": t, "type": "DOI", "relation": r} for r, t in w.relations],
        "updated_date": w.updated.strftime("%Y-%m-%d"),
    } | ({"description_list": [{"description": t, "type": "abstract", "lang": "ja"} for t in w.texts]}
         if w.texts else {})


def crossref_json(w: WorldWork) -> dict[str, Any]:
    relation: dict[str, list[dict[str, str]]] = {}
    for r, t in w.relations:
        relation.setdefault(kebab(r), []).append({"id-type": "doi", "id": t, "asserted-by": "subject"})
    stamp = {"date-parts": [[w.updated.year, w.updated.month, w.updated.day]], "date-time": _iso(w.updated),
             "timestamp": int(w.updated.timestamp() * 1000)}
    return {
        "DOI": w.doi, "type": "journal-article", "title": [w.title], "publisher": "World Publisher",
        "member": "99999", "prefix": (w.doi or "").split("/", 1)[0],
        "author": [{"given": p.given, "family": p.family, "sequence": "first" if i == 0 else "additional"}
                   for i, p in enumerate(w.creators)],
        "container-title": [w.container] if w.container else [],
        "issued": {"date-parts": [[w.year]]}, "deposited": stamp, "indexed": dict(stamp),
        "resource": {"primary": {"URL": w.url}}, "URL": f"https://doi.org/{w.doi}", "relation": relation,
    } | ({"abstract": " ".join(w.texts)} if w.texts else {})


def datacite_json(w: WorldWork) -> dict[str, Any]:
    doi = w.doi or ""
    return {
        "id": doi, "type": "dois",
        "attributes": {
            "doi": doi, "prefix": doi.split("/", 1)[0], "suffix": doi.split("/", 1)[1],
            "titles": [{"title": w.title}], "publisher": {"name": "World Data Repository"},
            "creators": [{"name": f"{p.family}, {p.given}", "nameType": "Personal", "givenName": p.given,
                          "familyName": p.family, "affiliation": []} for p in w.creators],
            "publicationYear": w.year, "types": {"resourceTypeGeneral": "Dataset", "resourceType": "Dataset"},
            "url": w.url, "state": "findable", "updated": w.updated.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "relatedIdentifiers": [{"relatedIdentifier": t, "relatedIdentifierType": "DOI", "relationType": r}
                                   for r, t in w.relations],
            "descriptions": [{"description": t, "descriptionType": "Abstract"} for t in w.texts],
        },
        "relationships": {"client": {"data": {"id": "world.data", "type": "clients"}}},
    }


def oai_datacite(w: WorldWork) -> bytes:
    creators = "".join(
        f"<creator><creatorName nameType=\"Personal\">{escape(p.family)}, {escape(p.given)}</creatorName>"
        f"<givenName>{escape(p.given)}</givenName><familyName>{escape(p.family)}</familyName></creator>"
        for p in w.creators)
    related = "".join(
        f"<relatedIdentifier relatedIdentifierType=\"DOI\" relationType={quoteattr(r)}>{escape(t)}</relatedIdentifier>"
        for r, t in w.relations)
    xml = (
        '<oai_datacite xmlns="http://schema.datacite.org/oai/oai-1.1/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://schema.datacite.org/oai/oai-1.1/ http://schema.datacite.org/oai/oai-1.1/oai.xsd">'
        "<schemaVersion>4</schemaVersion><datacentreSymbol>FIGSHARE.JSTAGE</datacentreSymbol><payload>"
        '<resource xmlns="http://datacite.org/schema/kernel-4">'
        f'<identifier identifierType="DOI">{escape((w.doi or "").upper())}</identifier>'
        f"<creators>{creators}</creators><titles><title>{escape(w.title)}</title></titles>"
        f"<publisher>J-STAGE Data</publisher><publicationYear>{w.year}</publicationYear>"
        '<resourceType resourceTypeGeneral="Dataset">Dataset</resourceType>'
        f'<alternateIdentifiers><alternateIdentifier alternateIdentifierType="URL">{escape(w.url or "")}'
        "</alternateIdentifier></alternateIdentifiers>"
        + (f"<relatedIdentifiers>{related}</relatedIdentifiers>" if related else "")
        + "".join(f'<descriptions><description descriptionType="Abstract">{escape(t)}</description></descriptions>'
                  for t in w.texts[:1])
        + "</resource></payload></oai_datacite>"
    )
    return xml.encode("utf-8")


def jpcoar(w: WorldWork) -> bytes:
    titles = f'<dc:title xml:lang="en">{escape(w.title)}</dc:title>'
    if w.title_ja:
        titles = f'<dc:title xml:lang="ja">{escape(w.title_ja)}</dc:title>' + titles
    creators = "".join(
        "<jpcoar:creator>"
        f'<jpcoar:creatorName xml:lang="ja">{escape(p.family_ja)}, {escape(p.given)}</jpcoar:creatorName>'
        f'<jpcoar:creatorName xml:lang="en">{escape(p.family)}, {escape(p.given)}</jpcoar:creatorName>'
        f'<jpcoar:familyName xml:lang="en">{escape(p.family)}</jpcoar:familyName>'
        f'<jpcoar:givenName xml:lang="en">{escape(p.given)}</jpcoar:givenName>'
        "</jpcoar:creator>" for p in w.creators)
    version = ""
    if w.version:
        version = f'<oaire:version rdf:resource="{COAR_VERSION[w.version]}">{w.version}</oaire:version>'
    ident = f'<jpcoar:identifier identifierType="URI">{escape(w.url or "")}</jpcoar:identifier>'
    if w.doi:
        ident += (f'<jpcoar:identifier identifierType="DOI">https://doi.org/{escape(w.doi)}</jpcoar:identifier>'
                  f'<jpcoar:identifierRegistration identifierType="JaLC">{escape(w.doi)}</jpcoar:identifierRegistration>')
    rels = "".join(
        f"<jpcoar:relation relationType={quoteattr(r[0].lower() + r[1:])}>"
        f'<jpcoar:relatedIdentifier identifierType="DOI">https://doi.org/{escape(t)}</jpcoar:relatedIdentifier>'
        "</jpcoar:relation>" for r, t in w.relations)
    xml = (
        '<jpcoar:jpcoar xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:datacite="https://schema.datacite.org/meta/kernel-4/" '
        'xmlns:oaire="http://namespace.openaire.eu/schema/oaire/" '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="https://github.com/JPCOAR/schema/blob/master/2.0/ jpcoar_scm.xsd">'
        f"{titles}{creators}"
        '<dc:type rdf:resource="http://purl.org/coar/resource_type/c_6501">journal article</dc:type>'
        f'{version}<datacite:date dateType="Issued">{w.year}</datacite:date>{ident}{rels}'
        f'<jpcoar:sourceTitle xml:lang="en">{escape(w.container or "")}</jpcoar:sourceTitle>'
        "</jpcoar:jpcoar>"
    )
    return xml.encode("utf-8")
