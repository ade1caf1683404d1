"""Crossref deposit XML (<doi_batch>): one work per deposited DOI, for every work kind the
schema has, written from the deposit schemas 4.3.0, 4.4.2 and 5.3.1 (tests/crosswalks/deposit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from linkgraph.crosswalks import crossref_deposit, crossref_xml
from linkgraph.crosswalks.model import Work
from linkgraph.crosswalks.registry import detect_format, read

DEPOSITS = Path(__file__).parent / "deposit"


def _works(name: str) -> dict[str, Work]:
    data = (DEPOSITS / name).read_bytes()
    assert detect_format(data) == crossref_deposit.FORMAT
    works = read(crossref_deposit.FORMAT, data)
    assert all(w.source_format == "crossref-deposit" and w.registration_agency == "crossref"
               for w in works)
    return {w.doi: w for w in works if w.doi}


def _rels(w: Work) -> set[tuple[str, str | None, str, str | None]]:
    """What the record states or cites (text links and the ISSN container are checked apart)."""
    return {(r.relation_type, r.raw_type, r.target_scheme, r.target) for r in w.relations
            if r.asserted_by != "text" and r.raw_type != "issn"}


def test_journal_deposit_gives_every_deposited_doi() -> None:
    works = _works("journal_5.3.1.xml")
    assert list(works) == ["10.5555/jjfs", "10.5555/jjfs.12.1", "10.5555/jjfs.2026.001",
                           "10.5555/jjfs.2026.001.f1", "10.5555/jjfs.2026.001.s1",
                           "10.5555/jjfs.2026.002"]
    journal, issue = works["10.5555/jjfs"], works["10.5555/jjfs.12.1"]
    assert journal.title == "Journal of Japanese Field Science" and journal.resource_type == "other"
    assert issue.title == "Journal of Japanese Field Science 12(1)" and not issue.problems
    art = works["10.5555/jjfs.2026.001"]
    assert (art.resource_type, art.resource_type_raw, art.year) == ("article", "journal_article", 2026)
    assert [(t.text, t.lang, t.kind) for t in art.titles] == [
        ("Soil carbon under bamboo in Kyushu", "en", None),
        ("a ten-year survey", "en", "Subtitle"),
        ("九州の竹林における土壌炭素", "ja", "OriginalTitle")]
    assert [c.name for c in art.creators] == ["Tanaka, Hanako", "Sato, Taro", "Kyushu Soil Consortium"]
    assert art.creators[0].orcid == "0000-0002-1825-0097"
    assert art.creators[0].affiliations == ["Kyushu University"]
    assert art.container == "Journal of Japanese Field Science"
    assert ("issn", "1234-5679") in {(i.scheme, i.value) for i in art.identifiers}
    assert art.landing_url == "https://journal.example.org/articles/2026-001"
    # every program relation, inter- and intra-work, with its identifier type
    assert _rels(art) == {
        ("IsSupplementedBy", "isSupplementedBy", "doi", "10.57400/ds.soil.1"),
        ("References", "references", "url", "https://data.example.org/soil/2026"),
        ("HasVersion", "hasPreprint", "arxiv", "arXiv:2501.01234"),
        ("IsDerivedFrom", "isDerivedFrom", "pmid", "31234567"),
        ("IsTranslationOf", "isTranslationOf", "doi", "10.5555/jjfs.2026.001.ja"),
        # the reference list: a citation with a DOI is a link; one without is not
        ("References", "citation", "doi", "10.57400/ds.soil.0"),
    }
    assert {r.asserted_by for r in art.relations if r.raw_type == "citation"} == {"reference"}
    # components: their own titles and a coarse type, part of the article
    for doi, title in (("10.5555/jjfs.2026.001.f1", "Figure 1. Plot locations"),
                       ("10.5555/jjfs.2026.001.s1", "Table S1. Carbon stocks")):
        comp = works[doi]
        assert (comp.title, comp.resource_type, comp.resource_type_raw) == (title, "other", "component")
        assert _rels(comp) == {("IsPartOf", "isPartOf", "doi", "10.5555/jjfs.2026.001")}
    # a citation's DOI is not a deposited work
    assert "10.57400/ds.soil.0" not in works


def test_one_deposit_with_many_kinds() -> None:
    works = _works("mixed_4.4.2.xml")
    pre = works["10.31223/x5abcd"]
    assert (pre.resource_type, pre.resource_type_raw, pre.year) == ("preprint", "posted_content/preprint", 2025)
    assert _rels(pre) == {("IsVersionOf", "isPreprintOf", "doi", "10.5555/jjfs.2025.010"),
                          ("IsSupplementedBy", "isSupplementedBy", "doi", "10.80001/glacier.v1")}
    review = works["10.5555/review.x5abcd.r1"]
    assert (review.resource_type_raw, review.year) == ("peer_review", 2025)
    assert _rels(review) == {("Reviews", "isReviewOf", "doi", "10.31223/x5abcd")}
    ds = works["10.5555/glacier.outlines"]
    assert (ds.resource_type, ds.title, ds.publisher) == ("dataset", "Glacier outlines 2000-2024",
                                                          "Example Data Centre")
    assert _rels(ds) == {("IsSupplementTo", "isSupplementTo", "doi", "10.31223/x5abcd"),
                         ("IsPartOf", "isPartOf", "issn", "1234-5679")}
    book, chapter = works["10.5555/book.forest"], works["10.5555/book.forest.ch3"]
    assert (book.resource_type, book.title, book.publisher) == ("book", "日本の森林", "森林出版")
    assert (chapter.resource_type, chapter.resource_type_raw, chapter.container) == (
        "book", "content_item/chapter", "日本の森林")
    assert chapter.creators[0].name == "田中, 花子"
    paper = works["10.5555/fsm.2024.07"]
    assert (paper.resource_type, paper.container) == (
        "article", "Proceedings of the Field Science Meeting 2024")
    assert all(not w.problems for w in works.values()), {d: w.problems for d, w in works.items()}


def test_a_standalone_component_is_part_of_its_parent() -> None:
    works = _works("sa_component_4.3.0.xml")
    (comp,) = works.values()
    assert (comp.doi, comp.title, comp.resource_type) == (
        "10.5555/jjfs.2026.001.pdb1", "Crystal structure of a bamboo cellulase", "other")
    assert _rels(comp) == {("IsPartOf", "isPartOf", "doi", "10.5555/jjfs.2026.001")}


def test_detection_tells_deposits_from_query_responses(shared_fixtures: Path) -> None:
    unixsd = sorted((shared_fixtures / "crossref").glob("*.xml"))
    assert unixsd, "the shared Crossref query responses"
    for f in unixsd:
        assert detect_format(f.read_bytes()) == crossref_xml.FORMAT, f.name
    # read as crossref-xml by name, a deposit still gives its works (not one unreadable work)
    data = (DEPOSITS / "mixed_4.4.2.xml").read_bytes()
    assert len([w for w in read(crossref_xml.FORMAT, data) if w.readable]) == 6


@pytest.mark.parametrize("payload,problem", [
    (b"<doi_batch xmlns='http://www.crossref.org/schema/5.3.1'><head/></doi_batch>", "no <body>"),
    (b"<doi_batch xmlns='http://www.crossref.org/schema/5.3.1'><head/><body/></doi_batch>",
     "no deposited DOI"),
    (b"<doi_batch><body><journal>", "unreadable"),
])
def test_broken_deposits_are_one_unreadable_work(payload: bytes, problem: str) -> None:
    (work,) = read(crossref_deposit.FORMAT, payload)
    assert not work.readable and any(problem in p or "XML" in p for p in work.problems), work.problems
