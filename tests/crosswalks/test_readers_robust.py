"""Readers never raise: arbitrary or broken XML/JSON gives problems, not exceptions; unsafe XML
(DOCTYPE / entities) is refused; the registry is one explicit table with typed errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linkgraph.crosswalks import registry, xmlutil
from linkgraph.crosswalks.model import Work
from linkgraph.crosswalks.registry import READERS, UnknownFormatError, resolve

from linkgraph.errors import LinkgraphError

from .helpers import SHARED

XML_READERS = [n for n in READERS if not n.endswith("-json")]
JSON_READERS = [n for n in READERS if n.endswith("-json")]
SAMPLES = {
    "datacite-xml": SHARED / "datacite/kernel4_example_dataset.xml",
    "crossref-xml": SHARED / "crossref/unixsd_10.7554_elife.01567.xml",
    "jpcoar": SHARED / "jpcoar/sample_2.0_04_journal_article_accepted_embargoed.xml",
    "jalc-lod": SHARED / "jalc/lod_rdf_sample_1.xml",
    "crossref-json": SHARED / "crossref/work_10.7554_elife.01567.json",
    "datacite-json": SHARED / "datacite/rest_doi_zenodo.28518_IsSupplementTo_IsVersionOf.json",
    "jalc-json": SHARED / "jalc/rest_doi_10.11473_fcn.2017e.1_ja.json",
}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(works: list[Work]) -> None:
    assert isinstance(works, list)  # empty only for a list page without items
    for w in works:
        assert isinstance(w, Work)
        if not w.readable:
            assert w.problems


@FUZZ
@given(name=st.sampled_from(sorted(READERS)), data=st.binary(max_size=300))
def test_arbitrary_bytes(name: str, data: bytes) -> None:
    _check(READERS[name](data))


@FUZZ
@given(name=st.sampled_from(sorted(READERS)), text=st.text(max_size=300))
def test_arbitrary_text(name: str, text: str) -> None:
    _check(READERS[name](text))


@FUZZ
@given(name=st.sampled_from(sorted(SAMPLES)), cut=st.integers(min_value=0, max_value=10_000),
       junk=st.binary(max_size=20))
def test_truncated_and_corrupted_real_payloads(name: str, cut: int, junk: bytes) -> None:
    data = SAMPLES[name].read_bytes()
    cut = cut % (len(data) + 1)
    _check(READERS[name](data[:cut]))
    _check(READERS[name](data[:cut] + junk + data[cut:]))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
KEYS = ["DOI", "doi", "title", "author", "relation", "data", "attributes", "message", "items",
        "relatedIdentifiers", "creators", "titles", "title_list", "creator_list", "relation_list",
        "types", "url", "resource", "publisher", "issued", "publication_date"]


@FUZZ
@given(name=st.sampled_from(JSON_READERS),
       doc=st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=8))
def test_json_with_wrong_shapes(name: str, doc: dict[str, object]) -> None:
    _check(READERS[name](json.dumps(doc)))
    _check(READERS[name](json.dumps({"message": doc, "data": doc})))


@pytest.mark.parametrize("name", XML_READERS)
def test_billion_laughs_and_xxe_refused(name: str) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><resource>&lol2;</resource>'
    )
    xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    wide = bomb.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    lower = bomb.replace("<!DOCTYPE", "<!doctype").replace("<!ENTITY", "<!entity")  # libxml2: a syntax error
    for payload, problem in ((bomb, "DOCTYPE"), (xxe, "DOCTYPE"), (wide, "DOCTYPE"), (lower, "malformed XML")):
        works = READERS[name](payload)
        assert len(works) == 1 and not works[0].readable
        assert problem in works[0].problems[0]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"<", b"!", b"<!", b"DOCTYPE", b"ENTITY", b"<!--", b"-->", b"x", b"doctype"]),
                max_size=60), st.integers(0, 40))
def test_declaration_check_finds_every_declaration(pieces: list[bytes], bangs: int) -> None:
    # the pre-parse check skips records without "!" and tests each "!" of the rest (the
    # substring scans when there are many): it must agree with the scans on every input
    data = b"!" * bangs + b"".join(pieces)
    assert xmlutil._declares(data) == (b"<!DOCTYPE" in data or b"<!ENTITY" in data)


def test_doctype_after_many_exclamations_refused() -> None:
    shouts = "".join(f"<!-- note {i}! -->" for i in range(40))  # more "!" than the per-"!" checks
    for lead in (shouts, "<!-- hello! -->"):
        payload = f'<?xml version="1.0"?>{lead}<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'
        works = READERS["datacite-xml"](payload)
        assert not works[0].readable and "DOCTYPE" in works[0].problems[0]


@pytest.mark.parametrize("fixture", ["oai-pmh/malformed_undefined_entity.xml",
                                     "oai-pmh/malformed_bogus_wrapper_element.xml"])
def test_malformed_fixtures_become_problems(fixture: str) -> None:
    for name in XML_READERS:
        works = READERS[name]((SHARED / fixture).read_bytes())
        assert len(works) == 1 and not works[0].readable and works[0].problems


def test_registry_aliases_and_unknown_format() -> None:
    assert resolve("oai_datacite") == "datacite-xml"
    assert resolve("jpcoar_1.0") == resolve("jpcoar_2.0") == "jpcoar"
    assert resolve("crossref-json") == "crossref-json"
    with pytest.raises(UnknownFormatError) as exc:
        resolve("marc21")
    assert isinstance(exc.value, LinkgraphError) and exc.value.exit_code == 2


def test_reader_bug_becomes_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(payload: bytes | str) -> list[Work]:
        raise KeyError("boom")

    monkeypatch.setitem(registry.READERS, "oai_dc", broken)
    works = registry.read("oai_dc", b"<x/>")
    assert not works[0].readable and "KeyError" in works[0].problems[0]


def test_json_that_only_the_standard_library_reads_is_still_read() -> None:
    """orjson decodes records first; what it refuses (NaN, integers beyond 64 bits, a lone
    surrogate escape) falls back to the standard library, so no record became unreadable."""
    from linkgraph.crosswalks.jsonutil import parse_json

    doc = ('{"DOI": "10.5555/nan.1", "type": "dataset", "title": ["Odd \\ud800 numbers"], '
           '"score": NaN, "big": 123456789012345678901234567890}')
    (work,) = registry.read("crossref-json", doc.encode())
    assert work.readable and work.doi == "10.5555/nan.1" and work.title == "Odd \ud800 numbers"
    assert parse_json(b'{"a": [1, 2}')[1].startswith("malformed JSON: Expecting")  # stdlib's wording
