"""Links found in text: DOIs in any URL or ``doi:`` form, full-width characters, CSTRs and
J-STAGE Data / figshare landing URLs, each with the sentence it stood in."""

from __future__ import annotations

import pytest

from linkgraph.crosswalks import datacite_json
from linkgraph.crosswalks.textmine import find_links


def _targets(text: str) -> list[tuple[str, str]]:
    return [(link.scheme, link.target) for link in find_links(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English statements: resolver URL, dx., doi:, DOI:, bare, info:doi
        ("The data are available at https://doi.org/10.57400/data.jstage.1.v1.",
         [("doi", "10.57400/data.jstage.1.v1")]),
        ("Data: http://dx.doi.org/10.5061/DRYAD.B835K, code: doi:10.5281/zenodo.123;",
         [("doi", "10.5061/dryad.b835k"), ("doi", "10.5281/zenodo.123")]),
        ("Deposited (DOI: 10.6084/m9.figshare.1286826).", [("doi", "10.6084/m9.figshare.1286826")]),
        ("See info:doi/10.1234/abc and 10.1234/abc again.", [("doi", "10.1234/abc")]),
        ("doi:10.1/ab,doi:10.5555/x.1", [("doi", "10.5555/x.1")]),  # 10.1 is no DOI prefix
        ("two: doi:10.5555/a.1,doi:10.5555/b.2", [("doi", "10.5555/a.1"), ("doi", "10.5555/b.2")]),
        # brackets: the DOI's own are kept, the sentence's are not
        ("(see https://doi.org/10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-o)",
         [("doi", "10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-o")]),
        ("[https://doi.org/10.5555/x.2]", [("doi", "10.5555/x.2")]),
        # URL-encoded slash
        ("https://doi.org/10.5555%2Fenc.9 is the record", [("doi", "10.5555/enc.9")]),
        # Japanese: full-width digits, slashes and colons; text running on after the DOI
        ("本研究のデータはｈｔｔｐｓ：／／ｄｏｉ．ｏｒｇ／１０．５７４００／ｄａｔａ．ｊｓｔａｇｅ．７．ｖ１で公開している。",
         [("doi", "10.57400/data.jstage.7.v1")]),
        ("データ：https://doi.org/10.57400/data.jstage.8.v1、コード：doi:10.5281/zenodo.9。",
         [("doi", "10.57400/data.jstage.8.v1"), ("doi", "10.5281/zenodo.9")]),
        ("関連論文（https://doi.org/10.11501/jjfs.3）を参照。", [("doi", "10.11501/jjfs.3")]),
        ("「10.11501/jjfs.4」に掲載", [("doi", "10.11501/jjfs.4")]),
        # CSTR, in its usual and full-width spellings and as a cstr.cn link
        ("DOI/CSTR: 10.57760/sciencedb.01234 / CSTR:31253.11.sciencedb.01234.",
         [("doi", "10.57760/sciencedb.01234"), ("cstr", "CSTR:31253.11.sciencedb.01234")]),
        ("ＣＳＴＲ：３１２５３．１１．ｓｃｉｅｎｃｅｄｂ．０５６７８。", [("cstr", "CSTR:31253.11.sciencedb.05678")]),
        ("https://cstr.cn/31253.11.sciencedb.09999", [("cstr", "CSTR:31253.11.sciencedb.09999")]),
        # landing pages of J-STAGE Data and figshare (their DOI inside is not a second link)
        ("Data at https://jstagedata.jst.go.jp/articles/dataset/soil_data/24567890.",
         [("url", "https://jstagedata.jst.go.jp/articles/dataset/soil_data/24567890")]),
        ("Files: https://figshare.com/articles/dataset/x/1286826, see also https://example.org/10.5555/nope",
         [("url", "https://figshare.com/articles/dataset/x/1286826"), ("doi", "10.5555/nope")]),
        # markup (Crossref JATS abstracts) is not part of the DOI
        ("<jats:p>Data: <jats:ext-link>https://doi.org/10.5555/jats.1</jats:ext-link></jats:p>",
         [("doi", "10.5555/jats.1")]),
        # nothing to find
        ("Version 10.5 of the model; 10.1/2 mixtures; no identifiers here.", []),
        ("", []),
    ],
)
def test_finds_every_identifier_in_its_normal_form(text: str, expected: list[tuple[str, str]]) -> None:
    assert _targets(text) == expected


def test_each_link_keeps_its_own_sentence() -> None:
    text = ("We measured soil carbon at 40 sites. The data are available at "
            "https://doi.org/10.57400/ds.1. Code is at doi:10.5281/zenodo.2 under the MIT licence. "
            "試料は九州で採取した。データはhttps://doi.org/10.57400/ds.3で公開。")
    got = {link.target: link.sentence for link in find_links(text)}
    assert got == {
        "10.57400/ds.1": "The data are available at https://doi.org/10.57400/ds.1.",
        "10.5281/zenodo.2": "Code is at doi:10.5281/zenodo.2 under the MIT licence.",
        "10.57400/ds.3": "データはhttps://doi.org/10.57400/ds.3で公開。",
    }


def test_a_reader_adds_text_links_but_not_the_works_own_doi() -> None:
    record = {"id": "10.5555/ds.1", "type": "dois", "attributes": {
        "doi": "10.5555/ds.1", "titles": [{"title": "Soil data"}],
        "types": {"resourceTypeGeneral": "Dataset"},
        "descriptions": [
            {"description": "Please cite this dataset as https://doi.org/10.5555/DS.1.",
             "descriptionType": "Other"},
            {"description": "Supports the article https://doi.org/10.11501/jjfs.9 (2024).",
             "descriptionType": "Abstract"},
            {"description": "Series 10.5555/series.1", "descriptionType": "SeriesInformation"},
        ],
        "relatedIdentifiers": [],
    }}
    work = datacite_json.read_attributes(record["attributes"], record["id"])
    text = [r for r in work.relations if r.asserted_by == "text"]
    assert [(r.relation_type, r.target_scheme, r.target, r.evidence) for r in text] == [
        ("IsRelatedTo", "doi", "10.11501/jjfs.9", "Supports the article https://doi.org/10.11501/jjfs.9 (2024).")]
