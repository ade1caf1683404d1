"""Build the demo corpus from the real recorded XML bundled in ``data/demo/``.

Why real records: the crosswalks and audits downstream must meet the quirks of real payloads
(namespaces declared in odd places, comments, Japanese text, duplicated setSpecs), which a
hand-written fixture would smooth away. The files are verbatim copies (PROVENANCE.md there);
records are extracted at load time, so the bytes on disk stay exactly as recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree

from .corpus import UTC, CorpusRecord

DATA_DIR = Path(__file__).resolve().parent / "data" / "demo"
OAI_NS = "{http://www.openarchives.org/OAI/2.0/}"
JPCOAR_NS = "https://github.com/JPCOAR/schema/blob/master/"
DEMO_ID_PREFIX = "oai:demo.linkgraph:"

#: Readable names for the demo's sets (others are named after their setSpec).
DEMO_SET_NAMES: dict[str, str] = {
    "1": "EUR DSpace community 1",
    "1:1": "EUR DSpace community 1, collection 1",
    "1:2": "EUR DSpace community 1, collection 2",
    "2": "EUR DSpace community 2",
    "2:6": "EUR DSpace community 2, collection 6",
    "2:7": "EUR DSpace community 2, collection 7",
    "DATACITE": "DataCite",
    "DATACITE.DATACITE": "DataCite test client",
    "jpcoar": "JPCOAR schema samples",
    "datacite": "DataCite kernel-4 examples",
}

# The bare JPCOAR / DataCite documents carry no OAI header: give them fixed datestamps.
_BARE_START = datetime(2024, 4, 1, 9, 0, 0, tzinfo=UTC)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _parse(rel: str) -> etree._Element:
    return etree.parse(str(DATA_DIR / rel), _PARSER).getroot()


def _serialize(el: etree._Element) -> bytes:
    """The element with its in-scope namespaces declared on it, no declaration, no tail."""
    return etree.tostring(el, encoding="UTF-8", xml_declaration=False, with_tail=False)


def _oai_records(rel: str, prefix: str) -> list[CorpusRecord]:
    """Every ``<record>`` of a recorded OAI-PMH response, in its own format."""
    out = []
    for rec in _parse(rel).iter(f"{OAI_NS}record"):
        header = rec.find(f"{OAI_NS}header")
        assert header is not None, rel
        md = rec.find(f"{OAI_NS}metadata")
        deleted = header.get("status") == "deleted"
        payload = b"" if md is None or len(md) == 0 else _serialize(md[0])
        out.append(CorpusRecord(
            identifier=(header.findtext(f"{OAI_NS}identifier") or "").strip(),
            datestamp=datetime.strptime(
                (header.findtext(f"{OAI_NS}datestamp") or "").strip(), "%Y-%m-%dT%H:%M:%SZ"
            ).replace(tzinfo=UTC),
            sets=tuple((s.text or "").strip() for s in header.findall(f"{OAI_NS}setSpec")),
            deleted=deleted,
            metadata={prefix: payload},
        ))
    return out


def _bare_records() -> list[CorpusRecord]:
    """JPCOAR samples (prefix from their namespace) and DataCite kernel-4 examples."""
    out = []
    files = sorted((DATA_DIR / "jpcoar").glob("sample_*.xml")) + sorted(
        (DATA_DIR / "datacite").glob("kernel4_*.xml"))
    for k, path in enumerate(files):
        root = _parse(f"{path.parent.name}/{path.name}")
        ns = etree.QName(root).namespace or ""
        if ns.startswith(JPCOAR_NS):
            prefix, family = "jpcoar_" + ns[len(JPCOAR_NS):].strip("/"), "jpcoar"
        else:
            prefix, family = "datacite", "datacite"
        out.append(CorpusRecord(
            identifier=f"{DEMO_ID_PREFIX}{family}/{path.stem}",
            datestamp=_BARE_START + timedelta(minutes=k),
            sets=(family,),
            metadata={prefix: _serialize(root)},
        ))
    return out


def load_demo_records() -> list[CorpusRecord]:
    """All demo records; the same identifier recorded in two formats becomes one record."""
    merged: dict[str, CorpusRecord] = {}
    sources = [
        ("oai-pmh/eur_dspace_listrecords_oai_dc_2003.xml", "oai_dc"),
        ("oai-pmh/eur_dspace_getrecord_deleted_2004.xml", "oai_dc"),
        ("datacite/oai_listrecords_dc.xml", "oai_dc"),
        ("datacite/oai_getrecord_oaidatacite.xml", "oai_datacite"),
        ("jpcoar/oai_getrecord_utokyo_jpcoar_1.0_49042.xml", "jpcoar_1.0"),
    ]
    for rel, prefix in sources:
        for rec in _oai_records(rel, prefix):
            old = merged.get(rec.identifier)
            if old is not None:
                rec = CorpusRecord(old.identifier, max(old.datestamp, rec.datestamp),
                                   old.sets, old.deleted and rec.deleted,
                                   {**old.metadata, **rec.metadata})
            merged[rec.identifier] = rec
    for rec in _bare_records():
        merged[rec.identifier] = rec
    return list(merged.values())
