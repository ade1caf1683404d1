"""Corrective metadata for findings: the fragment the owner of a record could deposit.

* JaLC ``relation_list`` XML (``<related_content type="DOI" relation="...">``, JaLC manual),
* DataCite ``relatedIdentifiers`` JSON,
* Crossref relationship XML (``<rel:program>`` with ``inter_work_relation`` /
  ``intra_work_relation``), and
* a JPCOAR 2.0 ``<jpcoar:relation>`` for repository records.

Relation names come from the bundled schemas themselves (``graph/schemas``): a DataCite type
maps onto the Crossref / JPCOAR enumeration value that spells the same word (case aside), so a
type the target vocabulary lacks (Crossref has no ``Cites``) gets no fragment rather than a
wrong one. Fragments are built in SQL with the findings (``queries/audit_enrich.sql``:
set-based, millions of findings cost seconds); each distinct fragment shape is then validated
in Python (see ``schemas/PROVENANCE.md`` for what is
validated against what).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import duckdb
import pyarrow as pa
from linkgraph.crosswalks.vocab import relation_types
from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
CROSSREF_NS = "http://www.crossref.org/relations.xsd"
JPCOAR_NS = "https://github.com/JPCOAR/schema/blob/master/2.0/"
DATACITE_NS = "http://datacite.org/schema/kernel-4"
FORMATS = ("jalc-xml", "datacite-json", "crossref-xml", "jpcoar-xml")
# The JPCOAR 2.0 definitions a <jpcoar:relation> fragment needs (copied into a sub-schema).
_JPCOAR_PARTS = (
    ("element", "relation"), ("element", "relatedIdentifier"), ("element", "relatedTitle"),
    ("complexType", "identifierTypeVocab"), ("simpleType", "relationTypeVocab"),
    ("complexType", "stringType"),
)


def _schema_bytes(name: str) -> bytes:
    return resources.files("linkgraph.graph").joinpath("schemas", name).read_bytes()


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class _LocalXml(etree.Resolver):
    """Resolves the xml-namespace schema import to the bundled stand-in (no network)."""

    def resolve(self, url: str | None, pubid: str | None, context: Any) -> Any:
        if url and url.rstrip("/").endswith("xml.xsd"):
            return self.resolve_string(_schema_bytes("xml.xsd"), context)
        return None


def _compile(doc: etree._Element) -> etree.XMLSchema:
    parser = _safe_parser()
    parser.resolvers.add(_LocalXml())
    tree = etree.fromstring(etree.tostring(doc), parser, base_url="file:///linkgraph/graph/schemas/")
    return etree.XMLSchema(tree)


@cache
def crossref_schema() -> etree.XMLSchema:
    return _compile(etree.fromstring(_schema_bytes("crossref_relations.xsd"), _safe_parser()))


@cache
def jpcoar_relation_schema() -> etree.XMLSchema:
    """A schema of the JPCOAR 2.0 definitions (verbatim) that a ``<jpcoar:relation>`` uses."""
    full = etree.fromstring(_schema_bytes("jpcoar_scm_2.0.xsd"), _safe_parser())
    sub = etree.Element(f"{{{XS}}}schema", nsmap={"xs": XS, "jpcoar": JPCOAR_NS},
                        targetNamespace=JPCOAR_NS, elementFormDefault="qualified",
                        attributeFormDefault="unqualified")
    etree.SubElement(sub, f"{{{XS}}}import", namespace="http://www.w3.org/XML/1998/namespace",
                     schemaLocation="xml.xsd")
    for tag, name in _JPCOAR_PARTS:
        node = full.find(f"{{{XS}}}{tag}[@name='{name}']")
        if node is None:
            raise ValueError(f"jpcoar_scm_2.0.xsd has no top-level {tag} {name!r}")
        sub.append(node)
    return _compile(sub)


@cache
def datacite_relation_schema() -> etree.XMLSchema:
    """An element typed with the kernel-4.7 ``relationType`` simple type (copied verbatim)."""
    simple = etree.fromstring(_schema_bytes("datacite-relationType-v4.xsd"), _safe_parser())
    node = simple.find(f"{{{XS}}}simpleType[@name='relationType']")
    sub = etree.Element(f"{{{XS}}}schema", nsmap={"xs": XS, None: DATACITE_NS},
                        targetNamespace=DATACITE_NS, elementFormDefault="qualified")
    etree.SubElement(sub, f"{{{XS}}}element", name="relationType", type="relationType")
    sub.append(node)
    return _compile(sub)


def _enumeration(schema: bytes, xpath: str) -> list[str]:
    doc = etree.fromstring(schema, _safe_parser())
    return [str(v) for v in doc.xpath(xpath, namespaces={"xs": XS, "xsd": XS})]


@cache
def crossref_names() -> dict[str, tuple[str, str]]:
    """lower-case name -> (Crossref relationship-type, element) from ``crossref_relations.xsd``."""
    out: dict[str, tuple[str, str]] = {}
    raw = _schema_bytes("crossref_relations.xsd")
    for element in ("inter_work_relation", "intra_work_relation"):
        path = f"//xsd:element[@name='{element}']//xsd:enumeration/@value"
        for value in _enumeration(raw, path):
            out.setdefault(value.lower(), (value, element))
    return out


@cache
def jpcoar_names() -> dict[str, str]:
    raw = _schema_bytes("jpcoar_scm_2.0.xsd")
    values = _enumeration(raw, "//xs:simpleType[@name='relationTypeVocab']//xs:enumeration/@value")
    return {v.lower(): v for v in values}


def fix_vocab_table() -> pa.Table:
    """DataCite type -> its name in the Crossref and JPCOAR 2.0 vocabularies (NULL: none)."""
    types = sorted(relation_types())
    cr = [crossref_names().get(t.lower()) for t in types]
    return pa.table({
        "relation_type": types,
        "crossref_name": [c[0] if c else None for c in cr],
        "crossref_element": [c[1] if c else None for c in cr],
        "jpcoar_name": [jpcoar_names().get(t.lower()) for t in types],
    })


@dataclass(frozen=True, slots=True)
class Validation:
    valid: bool | None  # None: no schema to validate against
    schema: str  # what it was checked against, or why it could not be


def validate_fragment(fmt: str, fragment: str) -> Validation:
    """Validate one fix fragment against the bundled schema for its format."""
    if fmt == "crossref-xml":
        return _validate_xml(fragment, crossref_schema(), "crossref_relations.xsd (Crossref relations v2)")
    if fmt == "jpcoar-xml":
        return _validate_xml(fragment, jpcoar_relation_schema(),
                             "jpcoar_scm_2.0.xsd (relation definitions; imports unavailable)")
    if fmt == "datacite-json":
        try:
            doc = json.loads(fragment)
            items = doc["relatedIdentifiers"]
            schema = datacite_relation_schema()
            for item in items:
                el = etree.Element(f"{{{DATACITE_NS}}}relationType")
                el.text = item["relationType"]
                if not schema.validate(el):
                    return Validation(False, f"datacite-relationType-v4.xsd: {schema.error_log.last_error}")
                if not item.get("relatedIdentifier") or item.get("relatedIdentifierType") != "DOI":
                    return Validation(False, "relatedIdentifier missing or not typed DOI")
        except (ValueError, KeyError, TypeError) as exc:
            return Validation(False, f"not a relatedIdentifiers object: {exc}")
        return Validation(True, "datacite-relationType-v4.xsd (relationType values only)")
    if fmt == "jalc-xml":
        return _check_jalc(fragment)
    return Validation(None, f"unknown fix format {fmt!r}")


def _validate_xml(fragment: str, schema: etree.XMLSchema, name: str) -> Validation:
    try:
        doc = etree.fromstring(fragment.encode("utf-8"), _safe_parser())
    except etree.XMLSyntaxError as exc:
        return Validation(False, f"not well-formed: {exc}")
    if schema.validate(doc):
        return Validation(True, name)
    return Validation(False, f"{name}: {schema.error_log.last_error}")


def _check_jalc(fragment: str) -> Validation:
    """No JaLC schema is available: well-formed, and the jalc-xml crosswalk reads the relation."""
    from linkgraph.crosswalks import jalc_xml

    wrapped = f"<root><body><content><doi>10.0000/fix-check</doi>{fragment}</content></body></root>"
    works = jalc_xml.read(wrapped)
    if not works or not works[0].readable:
        return Validation(False, "not well-formed or not readable as JaLC XML")
    rels = works[0].relations
    if not rels or any(r.target is None or r.relation_type == "Other" for r in rels):
        return Validation(False, "the jalc-xml crosswalk does not read the relation back")
    return Validation(None, "no JaLC schema available; well-formed, read back by the jalc-xml crosswalk")


def register_fix_vocab(cur: duckdb.DuckDBPyConnection) -> None:
    """TEMP table ``audit_fix_vocab`` for ``audit_enrich.sql``, which writes the fragments."""
    cur.register("audit_fix_vocab_arrow", fix_vocab_table())
    try:
        cur.execute("CREATE OR REPLACE TEMP TABLE audit_fix_vocab AS SELECT * FROM audit_fix_vocab_arrow")
    finally:
        cur.unregister("audit_fix_vocab_arrow")


def validate_fixes(cur: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, int]:
    """Validate this run's fragments; returns fragments per format.

    Fragments of one shape (format, kind, relation type) differ only in the escaped DOI text,
    so one fragment of each shape is validated and its verdict applied to the shape (the tests
    validate every fragment of the demo world one by one)."""
    shapes = cur.execute(
        "SELECT fix_format, kind, relation_type, min(fix_fragment), count(*) FROM findings"
        " WHERE run_id = $run_id AND fix_fragment IS NOT NULL GROUP BY ALL", {"run_id": run_id},
    ).fetchall()
    counts: dict[str, int] = {}
    for fmt, kind, rel, sample, n in shapes:
        result = validate_fragment(fmt, sample)
        cur.execute(
            "UPDATE findings SET fix_valid = $valid, fix_schema = $schema WHERE run_id = $run_id"
            " AND fix_format = $fmt AND kind = $kind AND relation_type IS NOT DISTINCT FROM $rel"
            " AND fix_fragment IS NOT NULL",
            {"valid": result.valid, "schema": result.schema, "run_id": run_id, "fmt": fmt,
             "kind": kind, "rel": rel},
        )
        counts[fmt] = counts.get(fmt, 0) + int(n)
    return counts
