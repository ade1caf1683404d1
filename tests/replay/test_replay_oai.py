"""OAI-PMH protocol behaviour of the replay server, over real HTTP."""

from __future__ import annotations

import gzip
import time
from datetime import datetime, timezone

import httpx
import pytest
from lxml import etree
from replay_helpers import OAI, error_code, harvest, oai, parse

from linkgraph.replay import Corpus, CorpusRecord, ReplayServer

UTC = timezone.utc
DC = b'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" ' \
     b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>%s</dc:title></oai_dc:dc>'


def small_corpus(**kw: object) -> Corpus:
    recs = [
        CorpusRecord("oai:x:1", datetime(2021, 1, 1, 0, 0, 0, tzinfo=UTC), ("a",), False,
                     {"oai_dc": DC % b"one"}),
        CorpusRecord("oai:x:2", datetime(2021, 1, 1, 23, 59, 59, tzinfo=UTC), ("a:b",), False,
                     {"oai_dc": DC % b"two"}),
        CorpusRecord("oai:x:3", datetime(2021, 1, 2, 0, 0, 0, tzinfo=UTC), ("c",), False,
                     {"oai_dc": DC % b"three"}),
        CorpusRecord("oai:x:4", datetime(2021, 1, 3, 12, 0, 0, tzinfo=UTC), (), True,
                     {"oai_dc": b""}),
    ]
    return Corpus(recs, **kw)  # type: ignore[arg-type]


# -- Identify, ListMetadataFormats, ListSets, GetRecord -------------------------------------


def test_identify_states_granularity_deletions_and_base_url(demo_server, client):
    root = oai(client, demo_server.url, verb="Identify")
    ident = root.find(f"{OAI}Identify")
    assert ident.findtext(f"{OAI}baseURL") == demo_server.url
    assert ident.findtext(f"{OAI}protocolVersion") == "2.0"
    assert ident.findtext(f"{OAI}deletedRecord") == "persistent"
    assert ident.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert ident.findtext(f"{OAI}earliestDatestamp") == "2003-04-15T10:18:51Z"
    assert root.find(f"{OAI}request").attrib == {"verb": "Identify"}


def test_list_metadata_formats_all_and_per_identifier(demo_server, client):
    root = oai(client, demo_server.url, verb="ListMetadataFormats")
    prefixes = [e.text for e in root.iter(f"{OAI}metadataPrefix")]
    assert set(prefixes) == {"oai_dc", "oai_datacite", "datacite", "jpcoar_1.0", "jpcoar_2.0",
                             "jpcoar_2.1"}
    root = oai(client, demo_server.url, verb="ListMetadataFormats",
               identifier="doi:10.5072/not-a-real-doi")
    assert [e.text for e in root.iter(f"{OAI}metadataPrefix")] == ["oai_dc", "oai_datacite"]
    root = oai(client, demo_server.url, verb="ListMetadataFormats", identifier="oai:nope")
    assert error_code(root) == "idDoesNotExist"


def test_list_sets_includes_parents_and_no_set_hierarchy_without_sets(demo_server, client):
    root = oai(client, demo_server.url, verb="ListSets")
    specs = [e.text for e in root.iter(f"{OAI}setSpec")]
    assert {"1", "1:1", "1:2", "DATACITE", "jpcoar", "datacite"} <= set(specs)
    corpus = Corpus([CorpusRecord("oai:y:1", datetime(2020, 1, 1, tzinfo=UTC),
                                  metadata={"oai_dc": DC % b"t"})])
    with ReplayServer(corpus) as server:
        assert error_code(oai(client, server.url, verb="ListSets")) == "noSetHierarchy"
        root = oai(client, server.url, verb="ListRecords", metadataPrefix="oai_dc", set="a")
        assert error_code(root) == "noSetHierarchy"


def test_get_record_returns_the_recorded_payload(demo_server, client):
    root = oai(client, demo_server.url, verb="GetRecord", identifier="doi:10.5072/not-a-real-doi",
               metadataPrefix="oai_datacite")
    rec = root.find(f"{OAI}GetRecord/{OAI}record")
    md = rec.find(f"{OAI}metadata")[0]
    assert md.tag == "{http://schema.datacite.org/oai/oai-1.1/}oai_datacite"
    doi = md.find(".//{http://datacite.org/schema/kernel-4}identifier")
    assert doi.text == "10.5072/not-a-real-doi"
    assert root.find(f"{OAI}request").attrib == {
        "verb": "GetRecord", "identifier": "doi:10.5072/not-a-real-doi",
        "metadataPrefix": "oai_datacite"}


def test_get_record_deleted_has_header_status_and_no_metadata(demo_server, client):
    root = oai(client, demo_server.url, verb="GetRecord", identifier="hdl:1765/1160",
               metadataPrefix="oai_dc")
    rec = root.find(f"{OAI}GetRecord/{OAI}record")
    assert rec.find(f"{OAI}header").get("status") == "deleted"
    assert rec.find(f"{OAI}metadata") is None


@pytest.mark.parametrize("params, code", [
    ({"identifier": "oai:nope", "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
    ({"identifier": "hdl:1765/308", "metadataPrefix": "jpcoar_2.0"}, "cannotDisseminateFormat"),
    ({"identifier": "hdl:1765/308", "metadataPrefix": "marc"}, "cannotDisseminateFormat"),
    ({"identifier": "hdl:1765/308"}, "badArgument"),
])
def test_get_record_errors(demo_server, client, params, code):
    assert error_code(oai(client, demo_server.url, verb="GetRecord", **params)) == code


# -- argument errors ----------------------------------------------------------------------


@pytest.mark.parametrize("query, code", [
    ("", "badVerb"),
    ("verb=Frobnicate", "badVerb"),
    ("verb=Identify&verb=Identify", "badVerb"),
    ("verb=Identify&foo=bar", "badArgument"),
    ("verb=ListRecords", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=abc", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2003-13-01", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=yesterday", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2003-01-01&until=2004-01-01T00:00:00Z",
     "badArgument"),
    ("verb=ListRecords&metadataPrefix=marc", "cannotDisseminateFormat"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2030-01-01", "noRecordsMatch"),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&set=nosuchset", "noRecordsMatch"),
    ("verb=ListRecords&resumptionToken=not-a-token", "badResumptionToken"),
])
def test_argument_errors(demo_server, client, query, code):
    r = client.get(f"{demo_server.url}?{query}")
    root = parse(r.content)
    assert error_code(root) == code
    if code in ("badVerb", "badArgument"):
        assert root.find(f"{OAI}request").attrib == {}  # spec: no attributes echoed
        assert root.find(f"{OAI}request").text == demo_server.url


def test_day_granularity_server_refuses_seconds(client):
    with ReplayServer(small_corpus(granularity="YYYY-MM-DD")) as server:
        root = oai(client, server.url, verb="Identify")
        assert root.findtext(f".//{OAI}granularity") == "YYYY-MM-DD"
        bad = oai(client, server.url, verb="ListIdentifiers", metadataPrefix="oai_dc",
                  **{"from": "2021-01-01T00:00:00Z"})
        assert error_code(bad) == "badArgument"
        h = harvest(client, server.url, "ListIdentifiers", metadataPrefix="oai_dc",
                    until="2021-01-01")
        assert h.identifiers == ["oai:x:1", "oai:x:2"]
        datestamps = oai(client, server.url, verb="ListIdentifiers", metadataPrefix="oai_dc")
        assert {d.text for d in datestamps.iter(f"{OAI}datestamp")} == {
            "2021-01-01", "2021-01-02", "2021-01-03"}


# -- lists ----------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_paging_yields_every_record_once_with_complete_list_size(demo_server, client, verb):
    expected = [r.identifier for r in Corpus.demo() if "oai_dc" in r.metadata]
    h = harvest(client, demo_server.url, verb, metadataPrefix="oai_dc")
    assert h.identifiers == expected  # (datestamp, identifier) order, no dup, none lost
    assert h.pages == -(-len(expected) // 4)
    assert {t.get("completeListSize") for t in h.tokens} == {str(len(expected))}
    assert [int(t.get("cursor")) for t in h.tokens] == list(range(0, len(expected), 4))
    assert h.tokens[-1].text is None  # last page: empty token element
    assert h.deleted == ["hdl:1765/1160"]


def test_list_records_metadata_is_only_for_the_asked_format(demo_server, client):
    h = harvest(client, demo_server.url, metadataPrefix="jpcoar_2.0")
    assert len(h.identifiers) == 6 and all("jpcoar/sample_2.0" in i for i in h.identifiers)
    root = oai(client, demo_server.url, verb="ListRecords", metadataPrefix="datacite")
    tags = {md[0].tag for md in root.iter(f"{OAI}metadata")}
    assert tags == {"{http://datacite.org/schema/kernel-4}resource"}


def test_deleted_record_in_list_has_no_metadata(demo_server, client):
    root = oai(client, demo_server.url, verb="ListRecords", metadataPrefix="oai_dc",
               **{"from": "2004-01-01", "until": "2004-12-31"})
    recs = root.findall(f".//{OAI}record")
    assert len(recs) == 1
    assert recs[0].find(f"{OAI}header").get("status") == "deleted"
    assert recs[0].find(f"{OAI}metadata") is None
    assert root.find(f".//{OAI}resumptionToken") is None  # complete in one response


def test_from_until_are_inclusive_at_second_and_day_granularity(client):
    with ReplayServer(small_corpus(), page_size=10) as server:
        def ids(**args: str) -> list[str]:
            return harvest(client, server.url, "ListIdentifiers", metadataPrefix="oai_dc",
                           **args).identifiers

        assert ids(**{"from": "2021-01-01T23:59:59Z"}) == ["oai:x:2", "oai:x:3", "oai:x:4"]
        assert ids(until="2021-01-01T23:59:59Z") == ["oai:x:1", "oai:x:2"]
        assert ids(until="2021-01-01") == ["oai:x:1", "oai:x:2"]  # day until = whole day
        assert ids(**{"from": "2021-01-02", "until": "2021-01-02"}) == ["oai:x:3"]


def test_set_filter_follows_the_hierarchy(client):
    with ReplayServer(small_corpus()) as server:
        def ids(spec: str) -> list[str]:
            return harvest(client, server.url, "ListIdentifiers", metadataPrefix="oai_dc",
                           set=spec).identifiers

        assert ids("a") == ["oai:x:1", "oai:x:2"]  # a:b is inside a
        assert ids("a:b") == ["oai:x:2"]
        assert ids("c") == ["oai:x:3"]


def test_post_form_encoded_gives_the_same_answer_as_get(demo_server, client):
    r = client.post(demo_server.url, data={"verb": "ListIdentifiers", "metadataPrefix": "datacite"})
    root = parse(r.content)
    assert root.find(f"{OAI}request").get("verb") == "ListIdentifiers"
    assert len(root.findall(f".//{OAI}header")) == 3


def test_gzip_only_when_asked(demo_server, client):
    params = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    with httpx.Client(headers={"Accept-Encoding": "identity"}) as plain:
        r = plain.get(demo_server.url, params=params)
        assert "content-encoding" not in r.headers
        identity_body = r.content
    raw = client.build_request("GET", demo_server.url, params=params,
                               headers={"Accept-Encoding": "gzip"})
    r = client.send(raw, stream=True)
    compressed = b"".join(r.iter_raw())
    r.close()
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) == len(compressed) < len(identity_body) / 2

    def records(body: bytes) -> list[bytes]:
        return [etree.tostring(e) for e in parse(body).iter(f"{OAI}record")]

    assert records(gzip.decompress(compressed)) == records(identity_body)


# -- resumption tokens ---------------------------------------------------------------------


def test_token_from_another_server_instance_is_refused(client):
    with ReplayServer(Corpus.demo(), page_size=2) as first:
        token = oai(client, first.url, verb="ListIdentifiers", metadataPrefix="oai_dc") \
            .find(f".//{OAI}resumptionToken").text
    with ReplayServer(Corpus.demo(), page_size=2) as second:
        root = oai(client, second.url, verb="ListIdentifiers", resumptionToken=token)
        assert error_code(root) == "badResumptionToken"
        assert "another server instance" in root.findtext(f"{OAI}error")


def test_token_is_bound_to_its_verb(demo_server, client):
    token = oai(client, demo_server.url, verb="ListIdentifiers", metadataPrefix="oai_dc") \
        .find(f".//{OAI}resumptionToken").text
    root = oai(client, demo_server.url, verb="ListRecords", resumptionToken=token)
    assert error_code(root) == "badResumptionToken"


def test_token_ttl_expires_tokens(client):
    # a 3 s lifetime: the first two requests must fit inside it even on a loaded machine (with
    # 1 s the token once expired before the second request of a full suite reached the server)
    with ReplayServer(Corpus.demo(), page_size=2, token_ttl=3) as server:
        tok = oai(client, server.url, verb="ListIdentifiers", metadataPrefix="oai_dc") \
            .find(f".//{OAI}resumptionToken")
        assert tok.get("expirationDate", "").endswith("Z")
        ok = oai(client, server.url, verb="ListIdentifiers", resumptionToken=tok.text)
        assert error_code(ok) is None
        time.sleep(3.2)
        root = oai(client, server.url, verb="ListIdentifiers", resumptionToken=tok.text)
        assert error_code(root) == "badResumptionToken"
        assert "expired" in root.findtext(f"{OAI}error")


def test_incremental_harvest_sees_updates_and_deletions(client):
    corpus = small_corpus()
    with ReplayServer(corpus) as server:
        t = datetime(2022, 5, 1, 8, 0, 0, tzinfo=UTC)
        corpus.update("oai:x:1", t, {"oai_dc": DC % b"one, revised"})
        corpus.delete("oai:x:3", t)
        corpus.add(CorpusRecord("oai:x:5", t, ("c",), False, {"oai_dc": DC % b"five"}))
        root = oai(client, server.url, verb="ListRecords", metadataPrefix="oai_dc",
                   **{"from": "2022-05-01T08:00:00Z"})
        recs = {r.findtext(f"{OAI}header/{OAI}identifier"): r
                for r in root.iter(f"{OAI}record")}
        assert list(recs) == ["oai:x:1", "oai:x:3", "oai:x:5"]
        assert b"one, revised" in etree.tostring(recs["oai:x:1"])
        assert recs["oai:x:3"].find(f"{OAI}header").get("status") == "deleted"
        whole = harvest(client, server.url, "ListIdentifiers", metadataPrefix="oai_dc")
        assert sorted(whole.identifiers) == ["oai:x:1", "oai:x:2", "oai:x:3", "oai:x:4",
                                             "oai:x:5"]


def test_request_log_records_each_request(client):
    with ReplayServer(Corpus.demo(), page_size=10) as server:
        harvest(client, server.url, metadataPrefix="oai_dc")
        log = server.log.snapshot()
    assert [e.records for e in log] == [10, 9]
    assert log[0].params == {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    assert all(e.status == 200 and e.fault is None and e.path == "/oai" for e in log)


def test_stopped_server_no_longer_answers_on_kept_alive_connections(client):
    server = ReplayServer(Corpus.demo())
    url = server.start()
    assert client.get(url, params={"verb": "Identify"}).status_code == 200  # keep-alive open
    server.stop()
    with pytest.raises(httpx.TransportError):
        client.get(url, params={"verb": "Identify"})
    restarted = ReplayServer(Corpus.demo(), port=server.port)
    try:
        assert restarted.start() == url
        assert client.get(url, params={"verb": "Identify"}).status_code == 200
    finally:
        restarted.stop()
