"""An article that cites its dataset only in its reference list - the commonest way an article
points at its data. The citation is a link the scorecard counts, not a stated relation: the
dataset is not asked to state it back, and the data statement naming the same DOI is not
"stated only in text" (the reference list states it)."""

from __future__ import annotations

from pathlib import Path

from linkgraph.graph.audit import run_audit
from linkgraph.report.scorecard import scorecard

from linkgraph.store import Store

from .conftest import crossref_doc, datacite_doc, store_records

ARTICLE, DATASET, OTHER = "10.5555/soil.2024.7", "10.80001/ds-soil-7", "10.80001/ds-other-8"


def _world(db: Path, *, in_references: bool) -> None:
    article = crossref_doc(ARTICLE, "Soil carbon in bamboo forests")
    article["message"]["reference"] = [
        {"key": "r1", "unstructured": "Sato K. Soil data. 2024."},  # no DOI: no link
        {"key": "r2", "DOI": "10.1016/j.geoderma.2020.114500", "doi-asserted-by": "crossref"},
    ] + ([{"key": "r3", "DOI": DATASET.upper(), "doi-asserted-by": "publisher"}] if in_references else [])
    article["message"]["abstract"] = f"<jats:p>Data availability: https://doi.org/{DATASET}.</jats:p>"
    store_records(db, "crossref", "crossref-json", [(ARTICLE, article)])
    store_records(db, "datacite", "datacite-json", [
        (DATASET, datacite_doc(DATASET, "Soil carbon measurements", [])),
        (OTHER, datacite_doc(OTHER, "Unrelated data", []))])


def _audit(db: Path) -> tuple[list[tuple[str, str, str]], dict[str, object]]:
    with Store(db) as store:
        run_audit(store)
        findings = store.query("SELECT kind, subject_doi, object_doi FROM findings"
                               " WHERE kind IN ('missing_reciprocal', 'text_only_link') ORDER BY kind")
        card = scorecard(store, level="prefix").row("prefix", "10.80001")
    return findings, card


def test_a_dataset_cited_only_in_the_references(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    _world(db, in_references=True)
    findings, card = _audit(db)
    assert findings == []  # a citation asks nothing back; the data statement is backed by it
    assert (card["datasets"], card["datasets_cited"], card["pct_datasets_cited"]) == (2, 1, 50.0)
    assert card["pct_datasets_linked"] == 0.0  # no stated relation joins them


def test_the_same_dataset_named_only_in_the_data_statement(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    _world(db, in_references=False)
    findings, card = _audit(db)
    assert findings == [("text_only_link", ARTICLE, DATASET)]
    assert card["datasets_cited"] == 0
