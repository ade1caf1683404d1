"""Crossref XML shapes the shared fixtures lack: affiliations in both schema generations,
citations that carry an ISSN, the UNIXREF root, and a book whose chapter is the work."""

from __future__ import annotations

import re

from linkgraph.crosswalks.registry import READERS

from .helpers import SHARED

ELIFE = (SHARED / "crossref/unixsd_10.7554_elife.01567.xml").read_text("utf-8")
BIORXIV = (SHARED / "crossref/unixsd_10.1101_097196_isPreprintOf.xml").read_text("utf-8")
read = READERS["crossref-xml"]


def test_a_citations_issn_is_not_the_works() -> None:
    cited = ELIFE.replace("<journal_title>", "<issn>0028-0836</issn><journal_title>", 1)
    assert cited != ELIFE
    (work,) = read(cited)
    assert [(i.scheme, i.value) for i in work.identifiers if i.scheme == "issn"] == [("issn", "2050-084X")]


def test_affiliations_of_both_schema_generations_in_order() -> None:
    first_person = "<surname>Fenner</surname>"
    with_affs = BIORXIV.replace(first_person, first_person + (
        "<affiliations><institution><institution_name>DataCite</institution_name></institution>"
        "</affiliations><affiliation>Hannover Medical School</affiliation>"), 1)
    (work,) = read(with_affs)
    assert work.creators[0].name == "Fenner, Martin"
    assert work.creators[0].orcid == "0000-0003-1419-2405"
    # 4.x <affiliation> first, then 5.x institution names, each in document order
    assert work.creators[0].affiliations == ["Hannover Medical School", "DataCite"]
    assert work.creators[1].affiliations == []
    assert len(work.creators) == 11


def test_unixref_root_reads_the_same_work_without_the_query_claims() -> None:
    record = re.search(r"<doi_record>.*</doi_record>", ELIFE, flags=re.DOTALL)
    assert record is not None
    xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    unixref = f"<doi_records {xsi}>{record.group(0)}</doi_records>"
    (sd,) = read(ELIFE)
    (ref,) = read(unixref)
    assert (ref.doi, ref.title, ref.year, ref.container) == (sd.doi, sd.title, sd.year, sd.container)
    assert ref.doi == "10.7554/elife.01567" and ref.year == 2014 and ref.container == "eLife"
    # the crm-item claims live in the UNIXSD <query>; the record's own relations remain
    assert {r.asserted_by for r in sd.relations} == {"subject", "object", "reference"}
    assert {r.asserted_by for r in ref.relations} == {"subject", "reference"}


def test_book_chapter_is_the_work_not_the_book_or_a_component() -> None:
    book = """<doi_records><doi_record><crossref xmlns="http://www.crossref.org/xschema/1.1"><book>
      <book_metadata><titles><title>The Book</title></titles>
        <publication_date><year>2019</year></publication_date>
        <doi_data><doi>10.5555/book</doi><resource>https://example.org/book</resource></doi_data>
      </book_metadata>
      <content_item component_type="chapter"><titles><title>Chapter One</title></titles>
        <component_list><component><titles><title>Figure 1</title></titles>
          <doi_data><doi>10.5555/book.c1.f1</doi></doi_data></component></component_list>
        <doi_data><doi>10.5555/book.c1</doi><resource>https://example.org/book/1</resource></doi_data>
      </content_item></book></crossref></doi_record></doi_records>"""
    (work,) = read(book)
    assert (work.doi, work.title) == ("10.5555/book.c1", "Chapter One")
    assert (work.resource_type, work.resource_type_raw) == ("book", "content_item/chapter")
    assert work.year == 2019  # the chapter has no date of its own: the record's
    assert work.problems == []


def test_report_section_is_a_report() -> None:
    report = """<doi_records><doi_record><crossref xmlns="http://www.crossref.org/xschema/1.1">
      <report-paper><report-paper_metadata><titles><title>Annual Report</title></titles>
        <doi_data><doi>10.5555/report</doi></doi_data></report-paper_metadata>
      <content_item component_type="section"><titles><title>Methods</title></titles>
        <publication_date><year>2021</year></publication_date>
        <doi_data><doi>10.5555/report.s2</doi></doi_data></content_item>
      </report-paper></crossref></doi_record></doi_records>"""
    (work,) = read(report)
    assert (work.doi, work.resource_type, work.resource_type_raw, work.year) == (
        "10.5555/report.s2", "report", "content_item/section", 2021)
    assert work.problems == []
