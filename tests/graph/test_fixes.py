"""Fix fragments: every one in the world's findings validates; bad ones are refused."""

from __future__ import annotations

import json
from pathlib import Path

from linkgraph.crosswalks import jalc_xml
from linkgraph.graph.audit import run_audit
from linkgraph.graph.fixes import fix_vocab_table, validate_fragment
from lxml import etree

from linkgraph.store import Store

from .conftest import AuditedWorld, crossref_doc, datacite_doc, store_records

GRAPH = Path(__file__).resolve().parents[2] / "graph" / "schemas"


def test_bundled_schemas_are_the_shared_fixtures(shared_fixtures: Path) -> None:
    """What the product validates against is byte for byte the shared fixtures' schemas."""
    pairs = {"crossref_relations.xsd": "crossref/relations.xsd",
             "datacite-relationType-v4.xsd": "datacite/datacite-relationType-v4.xsd",
             "jpcoar_scm_2.0.xsd": "jpcoar/jpcoar_scm_2.0.xsd"}
    for bundled, shared in pairs.items():
        assert (GRAPH / bundled).read_bytes() == (shared_fixtures / shared).read_bytes(), bundled


def test_every_fix_fragment_in_the_world_findings_validates(audited_world: AuditedWorld) -> None:
    with Store(audited_world.db, read_only=True) as store:
        rows = store.query("SELECT kind, fix_format, fix_fragment, fix_valid FROM findings"
                           " WHERE fix_fragment IS NOT NULL")
    formats = {r[1] for r in rows}
    assert formats == {"jalc-xml", "datacite-json", "crossref-xml", "jpcoar-xml"}
    for kind, fmt, fragment, stored_valid in rows:
        result = validate_fragment(fmt, fragment)
        if fmt == "jalc-xml":  # no JaLC schema exists here: well-formed and read back instead
            assert result.valid is None and "read back" in result.schema, fragment
            rel = jalc_xml.read(f"<root><body><content><doi>10.1/x</doi>{fragment}</content></body></root>")[0]
            assert rel.relations and rel.relations[0].target
        else:
            assert result.valid is True, (kind, fragment, result.schema)
        assert stored_valid == result.valid


def test_invalid_fragments_are_refused() -> None:
    bad_crossref = ('<rel:program xmlns:rel="http://www.crossref.org/relations.xsd" name="relations">'
                    '<rel:related_item><rel:inter_work_relation relationship-type="isCitedBy" '
                    'identifier-type="doi">10.1/x</rel:inter_work_relation></rel:related_item></rel:program>')
    assert validate_fragment("crossref-xml", bad_crossref).valid is False
    bad_jpcoar = ('<jpcoar:relation xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/" '
                  'relationType="IsVersionOf"><jpcoar:relatedIdentifier identifierType="DOI">'
                  'https://doi.org/10.1/x</jpcoar:relatedIdentifier></jpcoar:relation>')
    assert validate_fragment("jpcoar-xml", bad_jpcoar).valid is False
    bad_datacite = json.dumps({"relatedIdentifiers": [
        {"relatedIdentifier": "10.1/x", "relatedIdentifierType": "DOI", "relationType": "SupplementTo"}]})
    assert validate_fragment("datacite-json", bad_datacite).valid is False
    assert validate_fragment("jalc-xml", "<relation_list><related_content").valid is False


def test_relation_names_come_from_the_schemas() -> None:
    rows = {r["relation_type"]: r for r in fix_vocab_table().to_pylist()}
    assert (rows["IsSupplementTo"]["crossref_name"], rows["IsSupplementTo"]["crossref_element"]) == (
        "isSupplementTo", "inter_work_relation")
    assert (rows["HasVersion"]["crossref_name"], rows["HasVersion"]["crossref_element"]) == (
        "hasVersion", "intra_work_relation")
    assert rows["Cites"]["crossref_name"] is None  # Crossref carries citations elsewhere
    assert rows["Cites"]["jpcoar_name"] == "Cites"  # JPCOAR 2.0 spells it with a capital C
    assert rows["IsVersionOf"]["jpcoar_name"] == "isVersionOf"


def test_dois_with_markup_characters_are_escaped(db_path: Path) -> None:
    """A DOI may contain & and <: the Crossref fragment stays well-formed and valid."""
    odd = "10.80001/a&b<c>"
    store_records(db_path, "dc", "datacite-json", [(odd, datacite_doc(odd, "Odd data", [("IsSupplementTo", "10.5555/plain")]))])
    store_records(db_path, "cr", "crossref-json", [("10.5555/plain", crossref_doc("10.5555/plain", "Plain article"))])
    with Store(db_path) as store:
        run_audit(store, ["reciprocal"])
        (fmt, fragment, valid), = store.query(
            "SELECT fix_format, fix_fragment, fix_valid FROM findings WHERE kind = 'missing_reciprocal'")
    assert fmt == "crossref-xml" and valid is True
    assert etree.fromstring(fragment.encode()).findtext(".//{*}inter_work_relation") == odd
