"""CSTR (China Science and Technology Resource identifiers): recognised in any spelling, and a
link to a CSTR counts as a link to the DOI of the held work that carries it - so an article
that cites its ScienceDB dataset by CSTR is not reported as leaving the link one-way."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from linkgraph.crosswalks.normalize import normalize_target
from linkgraph.crosswalks.pipeline import run_crosswalk
from linkgraph.crosswalks.registry import read
from linkgraph.graph.audit import run_audit
from linkgraph.report.scorecard import scorecard
from linkgraph.store import RawRecord, Store

CSTR = "CSTR:31253.11.sciencedb.01234"


@pytest.mark.parametrize("scheme,value", [
    ("CSTR", "CSTR:31253.11.sciencedb.01234"),
    ("cstr", "cstr:31253.11.sciencedb.01234"),
    ("CSTR", "31253.11.sciencedb.01234"),
    (None, "ＣＳＴＲ：３１２５３．１１．ｓｃｉｅｎｃｅｄｂ．０１２３４"),  # full-width
    ("URL", "https://cstr.cn/31253.11.sciencedb.01234"),
    ("URL", "https://identifiers.org/cstr:31253.11.sciencedb.01234"),
    ("Other", "CSTR: 31253.11.sciencedb.01234."),
])
def test_every_spelling_is_one_cstr(scheme: str | None, value: str) -> None:
    assert normalize_target(scheme, value) == ("cstr", CSTR, [])


def test_the_local_part_keeps_its_case_and_junk_is_a_problem() -> None:
    assert normalize_target("CSTR", "CSTR:16389.09.A08V-0001") == ("cstr", "CSTR:16389.09.A08V-0001", [])
    scheme, value, problems = normalize_target("CSTR", "CSTR:not-one")
    assert (scheme, value) == ("cstr", None) and problems and "malformed CSTR" in problems[0]


def _dataset(cstr_spelling: str | None) -> str:
    alt = (f'<alternateIdentifiers><alternateIdentifier alternateIdentifierType="CSTR">{cstr_spelling}'
           "</alternateIdentifier></alternateIdentifiers>") if cstr_spelling else ""
    return f"""<resource xmlns="http://datacite.org/schema/kernel-4">
  <identifier identifierType="DOI">10.57760/sciencedb.01234</identifier>
  <creators><creator><creatorName>Li, Wei</creatorName></creator></creators>
  <titles><title>Soil moisture of the Loess Plateau</title></titles>
  <publisher>Science Data Bank</publisher><publicationYear>2024</publicationYear>
  <resourceType resourceTypeGeneral="Dataset">Dataset</resourceType>{alt}
  <relatedIdentifiers>
    <relatedIdentifier relatedIdentifierType="DOI" relationType="IsSupplementTo">10.5555/loess.2024.1</relatedIdentifier>
  </relatedIdentifiers>
</resource>"""


ARTICLE = {"status": "ok", "message-type": "work", "message": {
    "DOI": "10.5555/loess.2024.1", "type": "journal-article", "title": ["Loess moisture"],
    "issued": {"date-parts": [[2024]]}, "author": [{"given": "Wei", "family": "Li"}],
    "relation": {"is-supplemented-by": [
        {"id": "https://cstr.cn/31253.11.sciencedb.01234", "id-type": "uri", "asserted-by": "subject"}]}}}


def test_datacite_reads_a_cstr_alternate_identifier() -> None:
    (work,) = read("datacite-xml", _dataset("ＣＳＴＲ：31253.11.sciencedb.01234"))
    assert ("cstr", CSTR) in {(i.scheme, i.value) for i in work.identifiers}


@pytest.mark.parametrize("carries_cstr", [True, False])
def test_a_link_by_cstr_reaches_the_dataset_doi(tmp_path: Path, carries_cstr: bool) -> None:
    t = datetime(2025, 1, 1, tzinfo=UTC)
    with Store(tmp_path / "c.duckdb") as store:
        with store.transaction() as cur:
            Store.upsert_raw(cur, "sciencedb", None, [RawRecord(
                "10.57760/sciencedb.01234", t, False, "datacite-xml",
                _dataset(CSTR if carries_cstr else None))])
            Store.upsert_raw(cur, "crossref", None, [RawRecord(
                "10.5555/loess.2024.1", t, False, "crossref-json", json.dumps(ARTICLE))])
        run_crosswalk(store)
        run_audit(store)
        assert store.query("SELECT target_scheme, target FROM relations WHERE source = 'crossref'") == [
            ("cstr", CSTR)]
        one_way = store.query("SELECT subject_doi, object_doi FROM findings WHERE kind = 'missing_reciprocal'")
        # the dataset's own CSTR joins its DOI (IsIdenticalTo) and is no link of its own
        identity = store.query("SELECT subject_doi, relation_type, target FROM relations"
                               " WHERE source = 'sciencedb' AND target_scheme = 'cstr'")
        odd = store.query("SELECT count(*) FROM findings WHERE kind IN ('identical_pair', 'self_link')"
                          " OR relation_type = 'IsIdenticalTo'")[0][0]
        card = scorecard(store, level="prefix").row("prefix", "10.57760")
    assert identity == ([("10.57760/sciencedb.01234", "IsIdenticalTo", CSTR)] if carries_cstr else [])
    assert odd == 0
    assert card["works_with_cstr"] == (1 if carries_cstr else 0)  # the scorecard counts them
    if carries_cstr:  # the article's link by CSTR is the inverse the dataset's link asks for
        assert one_way == []
    else:  # nothing says which DOI the CSTR names: the dataset's link is one-way
        assert one_way == [("10.57760/sciencedb.01234", "10.5555/loess.2024.1")]


def test_a_cstr_named_only_in_text_is_a_text_link_to_the_dataset(tmp_path: Path) -> None:
    article = json.loads(json.dumps(ARTICLE))
    del article["message"]["relation"]
    article["message"]["abstract"] = ("<jats:p>数据可用性：本文数据见 ＣＳＴＲ：３１２５３．１１．ｓｃｉｅｎｃｅｄｂ．０１２３４。"
                                      "</jats:p>")
    t = datetime(2025, 1, 1, tzinfo=UTC)
    dataset = _dataset(CSTR).replace(
        '<relatedIdentifiers>\n    <relatedIdentifier relatedIdentifierType="DOI" relationType="IsSupplementTo">'
        "10.5555/loess.2024.1</relatedIdentifier>\n  </relatedIdentifiers>", "")
    with Store(tmp_path / "t.duckdb") as store:
        with store.transaction() as cur:
            Store.upsert_raw(cur, "sciencedb", None, [RawRecord("10.57760/sciencedb.01234", t, False,
                                                                "datacite-xml", dataset)])
            Store.upsert_raw(cur, "crossref", None, [RawRecord("10.5555/loess.2024.1", t, False,
                                                               "crossref-json", json.dumps(article))])
        run_crosswalk(store)
        run_audit(store)
        rows = store.query("SELECT subject_doi, object_doi, relation_type, object_raw FROM findings"
                           " WHERE kind = 'text_only_link'")
    assert rows == [("10.5555/loess.2024.1", "10.57760/sciencedb.01234", "IsSupplementedBy",
                     "CSTR:31253.11.sciencedb.01234")]


def test_jpcoar_reads_a_cstr_identifier_and_a_cstr_relation() -> None:
    doc = """<jpcoar:jpcoar xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/"
        xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:datacite="https://schema.datacite.org/meta/kernel-4/">
      <dc:title xml:lang="en">Loess moisture data paper</dc:title>
      <jpcoar:identifier identifierType="URI">https://cstr.cn/31253.11.sciencedb.05555</jpcoar:identifier>
      <jpcoar:identifier identifierType="DOI">https://doi.org/10.57760/sciencedb.05555</jpcoar:identifier>
      <jpcoar:relation relationType="isSupplementTo">
        <jpcoar:relatedIdentifier identifierType="URI">CSTR:31253.11.sciencedb.01234</jpcoar:relatedIdentifier>
      </jpcoar:relation>
      <datacite:description descriptionType="Other">数据集 ＣＳＴＲ：31253.11.sciencedb.07777</datacite:description>
    </jpcoar:jpcoar>"""
    (work,) = read("jpcoar", doc)
    assert ("cstr", "CSTR:31253.11.sciencedb.05555") in {(i.scheme, i.value) for i in work.identifiers}
    rels = {(r.relation_type, r.target_scheme, r.target, r.asserted_by) for r in work.relations}
    assert rels == {
        ("IsSupplementTo", "cstr", CSTR, "subject"),
        ("IsIdenticalTo", "cstr", "CSTR:31253.11.sciencedb.05555", "subject"),  # its own, beside its DOI
        ("IsRelatedTo", "cstr", "CSTR:31253.11.sciencedb.07777", "text"),
    }
