"""`linkgraph check`: a publisher runs it on a deposit before depositing. Exit 0 clean, 1 findings,
2 unreadable; each finding names the fragment to add - and adding it makes the deposit clean."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkgraph.cli import build_app
from linkgraph.graph.fixes import validate_fragment
from linkgraph.store import Store

from .conftest import datacite_doc, store_records

ARTICLE, DATASET, OTHER_DS = "10.5555/bamboo.2026.3", "10.80001/ds-bamboo-3", "10.80001/ds-unrelated-4"
HELD_ARTICLE = "10.5555/held.2025.9"


def deposit(doi: str = ARTICLE, *, program: str = "", abstract: str = "", url: str | None = None,
            title: str = "Bamboo expansion and soil carbon in western Japan") -> str:
    """A Crossref 5.3.1 journal deposit of one article."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<doi_batch xmlns="http://www.crossref.org/schema/5.3.1" xmlns:rel="http://www.crossref.org/relations.xsd"
           xmlns:jats="http://www.ncbi.nlm.nih.gov/JATS1" version="5.3.1">
  <head><doi_batch_id>chk-1</doi_batch_id><timestamp>20260105120000</timestamp>
    <depositor><depositor_name>Example Society</depositor_name><email_address>d@example.org</email_address></depositor>
    <registrant>Example Society</registrant></head>
  <body><journal>
    <journal_metadata language="en"><full_title>Journal of Field Science</full_title>
      <issn media_type="electronic">2345-6781</issn></journal_metadata>
    <journal_article publication_type="full_text" language="en">
      <titles><title>{title}</title></titles>
      <contributors><person_name sequence="first" contributor_role="author">
        <given_name>Kenji</given_name><surname>Sato</surname></person_name></contributors>
      {abstract}
      <publication_date media_type="online"><year>2026</year></publication_date>
      {program}
      <doi_data><doi>{doi}</doi><resource>{url or f"https://journal.example.org/{doi.split('/')[1]}"}</resource></doi_data>
    </journal_article>
  </journal></body>
</doi_batch>
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Held: a dataset that states IsSupplementTo the (not yet deposited) article, an unrelated
    dataset, and an article already registered under another DOI at its own landing page."""
    db = tmp_path_factory.mktemp("check") / "held.duckdb"
    held_article = {"status": "ok", "message-type": "work", "message": {
        "DOI": HELD_ARTICLE, "type": "journal-article", "title": ["Bamboo forests of Kyushu revisited"],
        "issued": {"date-parts": [[2025]]}, "author": [{"given": "Kenji", "family": "Sato"}],
        "resource": {"primary": {"URL": "https://journal.example.org/held.2025.9"}}}}
    store_records(db, "datacite", "datacite-json", [
        (DATASET, datacite_doc(DATASET, "Soil cores under bamboo", [("IsSupplementTo", ARTICLE)])),
        (OTHER_DS, datacite_doc(OTHER_DS, "Rainfall at Fukuoka", []))])
    store_records(db, "crossref", "crossref-json", [(HELD_ARTICLE, held_article)])
    with Store(db) as s, s.transaction() as cur:
        cur.execute("INSERT INTO unknown_dois VALUES ('10.99999/gone.1', '10.99999', NULL, 'prefix-unknown', ?)",
                    [datetime(2026, 1, 1, tzinfo=UTC)])
    return db


def run_check(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(build_app(), ["check", *args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}


def test_a_deposit_that_leaves_the_held_datasets_link_one_way_and_its_fix(tmp_path: Path, store: Path) -> None:
    path = tmp_path / "article.xml"
    path.write_text(deposit(), encoding="utf-8")
    code, doc = run_check(str(path), "--db", str(store))
    assert code == 1
    (finding,) = doc["findings"]
    assert (finding["kind"], finding["subject"], finding["object"], finding["fix_owner"], finding["fix_for"]) == (
        "one_way_link", DATASET, ARTICLE, "deposit", ARTICLE)
    assert finding["relation_type"] == "IsSupplementTo" and "IsSupplementedBy" in finding["message"]
    assert finding["fix_format"] == "crossref-xml" and validate_fragment("crossref-xml", finding["fix_fragment"]).valid
    # the publisher adds the fragment where the schema puts it: the deposit is then clean
    path.write_text(deposit(program=finding["fix_fragment"]), encoding="utf-8")
    code, doc = run_check(str(path), "--db", str(store))
    assert (code, doc["findings"]) == (0, [])
    # alone, the same deposit cannot see the dataset: nothing to report about it
    code, doc = run_check(str(deposit_file(tmp_path, deposit())), "--alone")
    assert (code, doc["findings"], doc["store"]) == (0, [], None)


def deposit_file(tmp_path: Path, text: str, name: str = "d.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_clean_deposit_prints_clean_and_exits_0(tmp_path: Path, store: Path) -> None:
    rel = ('<rel:program name="relations"><rel:related_item><rel:inter_work_relation '
           f'relationship-type="isSupplementedBy" identifier-type="doi">{DATASET}</rel:inter_work_relation>'
           "</rel:related_item></rel:program>")
    result = CliRunner().invoke(build_app(), ["check", str(deposit_file(tmp_path, deposit(program=rel))),
                                              "--db", str(store)])
    assert result.exit_code == 0, result.output
    assert "clean: nothing to fix" in result.stdout and "1 work(s) read (crossref-deposit)" in result.stdout


def test_what_a_deposit_gets_wrong_is_each_reported_with_what_to_do(tmp_path: Path, store: Path) -> None:
    rel = ('<rel:program name="relations"><rel:related_item>'
           '<rel:inter_work_relation relationship-type="isSupplementedBy" identifier-type="doi">'
           f"{DATASET}</rel:inter_work_relation>"
           '<rel:inter_work_relation relationship-type="references" identifier-type="doi">'
           "10.99999/gone.1</rel:inter_work_relation>"  # a prefix no agency knows
           '<rel:inter_work_relation relationship-type="references" identifier-type="doi">'
           "11.5555/not-a-doi</rel:inter_work_relation>"
           '<rel:inter_work_relation relationship-type="isInspiredBy" identifier-type="doi">'
           "10.5555/x.1</rel:inter_work_relation>"  # no such relation type
           "</rel:related_item></rel:program>")
    abstract = f"<jats:abstract><jats:p>Rainfall data: https://doi.org/{OTHER_DS}.</jats:p></jats:abstract>"
    text = deposit(program=rel, abstract=abstract, url="https://journal.example.org/held.2025.9")
    code, doc = run_check(str(deposit_file(tmp_path, text)), "--db", str(store))
    assert code == 1
    kinds = {(f["kind"], f["object"]) for f in doc["findings"]}
    assert ("unknown_target", "10.99999/gone.1") in kinds
    assert ("malformed_doi", "11.5555/not-a-doi") in kinds
    assert ("unknown_relation_type", "10.5555/x.1") in kinds
    assert ("duplicate_of_held", HELD_ARTICLE) in kinds  # the held article's landing page
    text_only = next(f for f in doc["findings"] if f["kind"] == "text_only_link")
    assert text_only["object"] == OTHER_DS and text_only["relation_type"] == "IsSupplementedBy"
    assert text_only["evidence"]["sentence"] == f"Rainfall data: https://doi.org/{OTHER_DS}."
    assert text_only["fix_for"] == ARTICLE and OTHER_DS in text_only["fix_fragment"]
    assert doc["counts"]["text_only_link"] == 1 and doc["exit_code"] == 1


@pytest.mark.parametrize(("content", "problem"), [
    (b"<doi_batch xmlns='http://www.crossref.org/schema/5.3.1'><body><journal>", "malformed XML"),
    (b"just some text", "not a metadata format"),
    (b'{"data": []', "malformed JSON"),
])
def test_an_unreadable_file_exits_2_and_the_others_are_still_checked(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(content)
    good = deposit_file(tmp_path, deposit(), "good.xml")
    code, doc = run_check(str(bad), str(good), "--alone")
    assert code == 2
    by_path = {f["path"]: f for f in doc["files"]}
    assert problem in by_path[str(bad)]["problem"]
    assert by_path[str(good)]["works"] == 1 and by_path[str(good)]["problem"] is None


def test_a_missing_store_named_with_db_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["check", str(deposit_file(tmp_path, deposit())),
                                              "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "no database at" in result.output


def test_check_keys_titles_as_the_audit_does() -> None:
    """check brings in the held works that share a title key with the deposit, and the audit's
    same-content pass then compares them: were the two keys made differently, a held twin under
    a differently punctuated title would never reach the audit."""
    from linkgraph.graph.check import TITLE_KEY
    from linkgraph.queries import load_query

    assert TITLE_KEY.format("t.text") in load_query("audit_prepare")
