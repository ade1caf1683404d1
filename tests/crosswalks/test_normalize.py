"""DOI / URL normalisation: examples from real metadata plus hypothesis properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from linkgraph.crosswalks.normalize import normalize_doi, normalize_target, normalize_url

SUFFIX_CHARS = st.characters(
    whitelist_categories=("Ll", "Lu", "Nd", "Lo"), whitelist_characters="-._;()/:<>"
)
DOIS = st.builds(
    lambda reg, suffix: f"10.{reg}/{suffix}",
    st.integers(min_value=1000, max_value=999999999),
    st.text(SUFFIX_CHARS, min_size=1, max_size=40).filter(lambda s: s.strip() == s and s[0] not in "/"),
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.1371/journal.pone.0170224", "10.1371/journal.pone.0170224"),
        ("https://doi.org/10.1371/JOURNAL.PONE.0170224", "10.1371/journal.pone.0170224"),
        ("http://dx.doi.org/10.5061/dryad.b835k", "10.5061/dryad.b835k"),
        ("doi:10.5072/not-a-real-doi", "10.5072/not-a-real-doi"),
        ("info:doi/10.22151/politikon.34.4", "10.22151/politikon.34.4"),
        ("https://doi.org/10.1000%2Fabc%3Cdef", "10.1000/abc<def"),
        ("１０．１１５０１／ｊｓｍｒ．１", "10.11501/jsmr.1"),  # full-width digits and slash
        ("\u200b10.1234/abc\ufeff ", "10.1234/abc"),  # zero-width characters
        ("10.1107/S2059798318011506/gm5056sup1.pdf", "10.1107/s2059798318011506/gm5056sup1.pdf"),
    ],
)
def test_doi_examples(raw: str, expected: str) -> None:
    doi, problems = normalize_doi(raw)
    assert doi == expected
    assert problems == []


@pytest.mark.parametrize("raw", ["10.1080/00393630.2018.1504449/", "10.1234/abc."])
def test_trailing_slash_or_dot_is_a_problem(raw: str) -> None:
    doi, problems = normalize_doi(raw)
    assert doi == raw[:-1]
    assert problems and "trailing" in problems[0]


@pytest.mark.parametrize("raw", ["", "not a doi", "https://doi.org/10.xxxxx/xxxxxxxx", "11.1234/x", "10.12/x"])
def test_malformed_is_a_problem_never_silent(raw: str) -> None:
    doi, problems = normalize_doi(raw)
    assert doi is None
    assert problems


@settings(max_examples=300, deadline=None)
@given(DOIS)
def test_idempotent(doi: str) -> None:
    once, _ = normalize_doi(doi)
    if once is not None:
        twice, problems = normalize_doi(once)
        assert twice == once and problems == []


@settings(max_examples=300, deadline=None)
@given(DOIS, st.sampled_from(["", "doi:", "https://doi.org/", "http://dx.doi.org/", "info:doi/"]))
def test_case_and_prefix_insensitive(doi: str, prefix: str) -> None:
    # DOIs are case-insensitive over ASCII (DOI Handbook 2.4); upper() of e.g. 'ß' is 'SS'
    upper = "".join(c.upper() if c.isascii() else c for c in doi)
    assert normalize_doi(prefix + upper)[0] == normalize_doi(doi)[0]


@settings(max_examples=300, deadline=None)
@given(DOIS)
def test_nfkc_equivalent_forms_agree(doi: str) -> None:
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in doi)
    assert unicodedata.normalize("NFKC", wide) == unicodedata.normalize("NFKC", doi)
    assert normalize_doi(wide)[0] == normalize_doi(doi)[0]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_never_raises_and_result_is_lowercase(raw: str) -> None:
    doi, problems = normalize_doi(raw)
    assert doi is None or (doi == doi.lower() and doi.startswith("10."))
    assert doi is not None or problems


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Example.ORG:443/a/b/#frag", "https://example.org/a/b"),
        ("http://example.org:80", "http://example.org/"),
        ("http://example.org:8080/x?q=1", "http://example.org:8080/x?q=1"),
        ("https://upstream.force11.org/welcome-to-upstream/", "https://upstream.force11.org/welcome-to-upstream"),
    ],
)
def test_url_examples(raw: str, expected: str) -> None:
    assert normalize_url(raw) == (expected, [])


def test_url_malformed_is_a_problem() -> None:
    url, problems = normalize_url("ftp//nohost")
    assert url is None and problems


@pytest.mark.parametrize("value", [
    "10.1234/ABC", "https://doi.org/10.1/x.", "doi:10.5/y", "10.1/%41", "10.1/ｘ", "not a doi",
    "info:doi/10.1/z", "CSTR:31253.11.sciencedb.1",
])
def test_a_relation_typed_doi_is_read_as_any_related_doi_is(value: str) -> None:
    """normalize_target reads a DOI-typed target (every reference) on a short path: a relation's
    target and problems must still be those of the same DOI given any other way, or one DOI
    cited in a reference list and stated as a relation would be two nodes of the graph."""
    from linkgraph.crosswalks.vocab import make_relation

    rel = make_relation("crossref", "reference", "doi", value, asserted_by="reference")
    scheme, target, problems = normalize_target("doi", value)
    assert (rel.target_scheme, rel.target, rel.problems) == (scheme, target, problems)
