"""The strict streaming OAI-PMH parser, on real recorded responses and hostile ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkgraph.errors import UnsafeXMLError
from linkgraph.harvest.http import RetryableError
from linkgraph.harvest.oai import format_datestamp, parse_datestamp, parse_response

URL = "http://127.0.0.1/oai"


def chunks(data: bytes, size: int = 97) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.fixture(params=["whole", "streamed"])
def shape(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A response read whole (a list, parsed in one call) or arriving in pieces (an iterator)."""
    return (lambda parts: list(parts)) if request.param == "whole" else (lambda parts: iter(list(parts)))


def test_real_listrecords_page_streams_every_record(shared_fixtures: Path, shape) -> None:  # type: ignore[no-untyped-def]
    data = (shared_fixtures / "oai-pmh" / "eur_dspace_listrecords_oai_dc_2003.xml").read_bytes()
    page, warnings = parse_response(shape(chunks(data)), URL)
    assert warnings == []
    expected = data.count(b"<record>")
    assert expected > 5 and len(page.records) == expected
    first = page.records[0]
    assert first.identifier == "hdl:1765/308"
    assert first.datestamp == "2003-04-15T10:18:51Z"
    assert first.sets == ["1:2"]
    assert first.metadata is not None and first.metadata.startswith("<oai_dc:dc")
    assert "Smidts, A." in first.metadata
    # each payload is a standalone, well-formed document with its namespaces
    from lxml import etree

    for r in page.records:
        assert r.metadata is not None
        etree.fromstring(r.metadata.encode())


def test_deleted_record_has_no_payload(shared_fixtures: Path) -> None:
    data = (shared_fixtures / "oai-pmh" / "eur_dspace_getrecord_deleted_2004.xml").read_bytes()
    page, _ = parse_response([data], URL)
    assert len(page.records) == 1
    assert page.records[0].deleted and page.records[0].metadata is None


def test_error_codes_are_read(shared_fixtures: Path) -> None:
    for name, code in [
        ("sickle_noRecordsMatch.xml", "noRecordsMatch"),
        ("sickle_badResumptionToken.xml", "badResumptionToken"),
        ("sickle_cannotDisseminateFormat.xml", "cannotDisseminateFormat"),
        ("sickle_idDoesNotExist.xml", "idDoesNotExist"),
    ]:
        page, _ = parse_response([(shared_fixtures / "oai-pmh" / name).read_bytes()], URL)
        assert page.error is not None and page.error[0] == code, name


def test_resumption_token_attributes(shared_fixtures: Path) -> None:
    page, _ = parse_response([(shared_fixtures / "oai-pmh" / "sickle_ListIdentifiers.xml").read_bytes()], URL)
    assert page.token  # a first page carries a token
    last, _ = parse_response([(shared_fixtures / "datacite" / "oai_listsets.xml").read_bytes()], URL)
    assert not last.token and last.complete == 11  # empty token element on the last page


def test_undefined_entity_is_an_error_not_a_silent_recovery(shared_fixtures: Path, shape) -> None:  # type: ignore[no-untyped-def]
    data = (shared_fixtures / "oai-pmh" / "malformed_undefined_entity.xml").read_bytes()
    with pytest.raises(RetryableError, match="malformed"):
        parse_response(shape([data]), URL)


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.9, 0.999])
def test_truncated_page_is_an_error(shared_fixtures: Path, cut: float, shape) -> None:  # type: ignore[no-untyped-def]
    data = (shared_fixtures / "oai-pmh" / "eur_dspace_listrecords_oai_dc_2003.xml").read_bytes()
    with pytest.raises(RetryableError):
        parse_response(shape(chunks(data[: int(len(data) * cut)])), URL)


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>&xxe;</responseDate>
<ListRecords><record><header><identifier>x</identifier><datestamp>2020-01-01</datestamp></header>
<metadata><dc>&xxe;</dc></metadata></record></ListRecords></OAI-PMH>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>&lol9;</responseDate></OAI-PMH>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_dtd_payloads_are_refused_not_expanded(payload: bytes, shape) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsafeXMLError, match="DTD"):
        parse_response(shape(chunks(payload, 64)), URL)


def test_invalid_xml_characters_are_removed_with_a_warning(shape) -> None:  # type: ignore[no-untyped-def]
    body = (
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2020-01-01T00:00:00Z'
        b"</responseDate><ListRecords><record><header><identifier>a</identifier><datestamp>2020-01-01"
        b"</datestamp></header><metadata><dc>bad\x0bchar &#x1;ref</dc></metadata></record>"
        b"</ListRecords></OAI-PMH>"
    )
    page, warnings = parse_response(shape(chunks(body, 40)), URL)
    assert len(page.records) == 1
    meta = page.records[0].metadata
    assert meta is not None and ">badchar ref</dc>" in meta
    assert warnings and "invalid XML characters" in warnings[0]


def test_datestamps_round_trip_in_both_granularities() -> None:
    d = parse_datestamp("2024-02-29T23:59:59Z")
    assert format_datestamp(d, "YYYY-MM-DDThh:mm:ssZ") == "2024-02-29T23:59:59Z"
    assert format_datestamp(d, "YYYY-MM-DD") == "2024-02-29"
    assert parse_datestamp("2024-02-29") < d
    with pytest.raises(ValueError):
        parse_datestamp("29/02/2024")


def test_a_page_that_is_not_oai_pmh_is_refused() -> None:
    from linkgraph.errors import ProtocolError

    with pytest.raises(ProtocolError, match="not an OAI-PMH response"):
        parse_response([b"<html><body><h1>Maintenance</h1></body></html>"], URL)


def test_oai_elements_inside_a_records_metadata_are_its_content_not_the_page(shape) -> None:  # type: ignore[no-untyped-def]
    """A payload that embeds OAI-PMH elements (a record, a token, an error) is one record whose
    metadata carries them - read whole or streamed alike; the page's own token still counts."""
    body = (
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2020-01-01T00:00:00Z'
        b"</responseDate><ListRecords><record><header><identifier>outer</identifier><datestamp>2020-01-01"
        b"</datestamp></header><metadata><wrap><record><header><identifier>inner</identifier>"
        b"<datestamp>2020-01-02</datestamp></header></record><resumptionToken>fake</resumptionToken>"
        b'<error code="badVerb">not the page\'s</error></wrap></metadata></record>'
        b"<resumptionToken>real</resumptionToken></ListRecords></OAI-PMH>"
    )
    page, _ = parse_response(shape(chunks(body, 40)), URL)
    assert [r.identifier for r in page.records] == ["outer"]
    assert page.token == "real" and page.error is None
    meta = page.records[0].metadata
    assert meta is not None and "<identifier>inner</identifier>" in meta and ">fake</resumptionToken>" in meta
