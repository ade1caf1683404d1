"""Fault injection: the spec parser, its counting rules, and each fault as a client sees it."""

from __future__ import annotations

import json
import socket
import threading
import time
from email.utils import parsedate_to_datetime

import httpx
import pytest
from lxml import etree
from replay_helpers import OAI, error_code, parse

from linkgraph.replay import Corpus, FaultPlan, ReplayServer, Request, Response

FIRST = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}


def token_of(body: bytes) -> str | None:
    tok = parse(body).find(f".//{OAI}resumptionToken")
    return None if tok is None else tok.text


# -- FaultPlan ------------------------------------------------------------------------------


def test_parse_spec_items():
    plan = FaultPlan.parse("503@2, 503date@3:30, 429@4x2:7, slow@6:0.5, drop@7x0, truncate@1")
    got = [(i.fault.kind, i.start, i.remaining, i.fault.arg) for i in plan.items]
    assert got == [("503", 2, 1, 1.0), ("503date", 3, 1, 30.0), ("429", 4, 2, 7.0),
                   ("slow", 6, 1, 0.5), ("drop", 7, -1, None), ("truncate", 1, 1, None)]
    assert not FaultPlan.parse("")


@pytest.mark.parametrize("spec", ["oops@1", "503", "503@0", "500@1:3", "drop@x", "503@1:abc"])
def test_parse_rejects_bad_items_naming_them(spec):
    with pytest.raises(ValueError, match="bad fault"):
        FaultPlan.parse(spec)


def test_windows_forever_and_queued_overlaps():
    plan = FaultPlan.parse("503@2x2,500@3,drop@6x0")
    kinds = [f.kind if (f := plan.next_page(has_token=True)) else None for _ in range(8)]
    # 500 was due on page 3 while 503 still ran: it fires next instead of being lost
    assert kinds == [None, "503", "503", "500", None, "drop", "drop", "drop"]


def test_expired_waits_for_a_request_with_a_token():
    plan = FaultPlan.parse("expired@1")
    assert plan.next_page(has_token=False) is None
    assert plan.next_page(has_token=False) is None
    assert plan.next_page(has_token=True).kind == "expired"
    assert plan.next_page(has_token=True) is None


def test_plan_is_thread_safe():
    plan = FaultPlan.parse("500@1x1000")
    fired: list[int] = []

    def worker() -> None:
        n = sum(1 for _ in range(500) if plan.next_page(has_token=False))
        fired.append(n)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert plan.pages == 4000 and sum(fired) == 1000


# -- transport faults over HTTP -------------------------------------------------------------


def serve(faults: str, **kw: object) -> ReplayServer:
    return ReplayServer(Corpus.demo(), page_size=5, faults=faults, **kw)  # type: ignore[arg-type]


def test_503_and_429_carry_retry_after_then_the_page_comes(client):
    with serve("503@1:3,429@2:7,500@3") as server:
        r = client.get(server.url, params=FIRST)
        assert (r.status_code, r.headers["retry-after"]) == (503, "3")
        r = client.get(server.url, params=FIRST)
        assert (r.status_code, r.headers["retry-after"]) == (429, "7")
        assert client.get(server.url, params=FIRST).status_code == 500
        r = client.get(server.url, params=FIRST)
        assert r.status_code == 200 and token_of(r.content)
        # non-page requests are not counted and never faulted
        assert client.get(server.url, params={"verb": "Identify"}).status_code == 200
        assert server.log.faults() == ["503", "429", "500"]
        assert [e.status for e in server.log] == [503, 429, 500, 200, 200]


def test_503date_retry_after_is_an_http_date_ahead(client):
    with serve("503date@1:120") as server:
        r = client.get(server.url, params=FIRST)
        assert r.status_code == 503
        when = parsedate_to_datetime(r.headers["retry-after"])
        assert 100 <= when.timestamp() - time.time() <= 125


def test_drop_closes_without_response(client):
    with serve("drop@1") as server:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(server.url, params=FIRST)
        assert client.get(server.url, params=FIRST).status_code == 200
        assert [(e.status, e.fault) for e in server.log] == [(0, "drop"), (200, None)]


def test_slow_delays_the_page(client):
    with serve("slow@1:0.6") as server:
        t = time.perf_counter()
        r = client.get(server.url, params=FIRST)
        assert r.status_code == 200 and time.perf_counter() - t >= 0.6


def test_truncate_looks_complete_over_http_but_the_xml_is_cut(client):
    with serve("truncate@2") as server:
        full = client.get(server.url, params=FIRST)
        r = client.get(server.url, params=FIRST, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200  # the HTTP exchange itself ends normally
    assert "content-length" not in r.headers and r.headers["connection"] == "close"
    assert 0.4 < len(r.content) / len(full.content) < 0.6
    with pytest.raises(etree.XMLSyntaxError):
        parse(r.content)


# -- content faults -------------------------------------------------------------------------


def test_expired_answers_bad_resumption_token_on_the_next_token_request(client):
    with serve("expired@1") as server:
        first = client.get(server.url, params=FIRST)  # no token: the fault waits
        token = token_of(first.content)
        assert token
        r = client.get(server.url, params={"verb": "ListRecords", "resumptionToken": token})
        assert error_code(parse(r.content)) == "badResumptionToken"
        r = client.get(server.url, params={"verb": "ListRecords", "resumptionToken": token})
        assert error_code(parse(r.content)) is None
        assert server.log.faults() == ["expired"]


def test_repeat_gives_back_the_token_the_request_carried(client):
    with serve("repeat@2x2") as server:
        token = token_of(client.get(server.url, params=FIRST).content)
        nxt = {"verb": "ListRecords", "resumptionToken": token}
        pages = [client.get(server.url, params=nxt).content for _ in range(3)]
    assert token_of(pages[0]) == token_of(pages[1]) == token
    assert token_of(pages[2]) != token  # the fault is over: paging moves on
    ids = [[h.text for h in parse(p).iter(f"{OAI}identifier")] for p in pages]
    assert ids[0] == ids[1] == ids[2]


def test_badchar_makes_the_page_invalid_xml(client):
    with serve("badchar@1") as server:
        bad = client.get(server.url, params=FIRST).content
        good = client.get(server.url, params=FIRST).content
    assert b"\x0b" in bad and b"\x0b" not in good
    with pytest.raises(etree.XMLSyntaxError):
        parse(bad)
    parse(good)


def test_latency_sleeps_so_concurrent_clients_overlap():
    with ReplayServer(Corpus.demo(), latency_ms=400) as server:
        def fetch() -> None:
            with httpx.Client() as c:
                assert c.get(server.url, params=FIRST).status_code == 200

        t = time.perf_counter()
        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - t
    assert 0.4 <= elapsed < 1.2  # 4 x 0.4 s serialised would be 1.6 s


def test_raw_socket_sees_no_bytes_on_drop():
    with serve("drop@1") as server:
        with socket.create_connection((server.host, server.port), timeout=5) as s:
            s.sendall(f"GET /oai?verb=ListRecords&metadataPrefix=oai_dc HTTP/1.1\r\n"
                      f"Host: {server.host}\r\n\r\n".encode())
            assert s.recv(100) == b""


class CountingJSONApp:
    """A stand-in for a REST replay app: pages are requests with ?rows=, cursor = ?cursor=."""

    def __init__(self) -> None:
        self.seen: list[tuple[str | None, str | None]] = []

    def is_page(self, request: Request) -> bool:
        return request.param("rows") is not None

    def has_token(self, request: Request) -> bool:
        return request.param("cursor") is not None

    def handle(self, request: Request) -> Response:
        self.seen.append((request.param("cursor"), request.fault.kind if request.fault else None))
        body = json.dumps({"base": request.base_url, "path": request.path}).encode()
        return Response(200, body, "application/json", records=1)


def test_faults_apply_to_any_mounted_app_and_page_counts_are_shared(client):
    rest = CountingJSONApp()
    with ReplayServer(Corpus.demo(), apps={"/rest": rest},
                      faults="503@2,expired@3,truncate@4") as server:
        base = server.url_for("rest")
        assert client.get(server.url, params=FIRST).status_code == 200  # page 1 (OAI)
        assert client.get(base + "/works", params={"rows": "2"}).status_code == 503  # page 2
        r = client.get(base + "/works", params={"rows": "2"})  # page 3: no cursor, waits
        assert r.json() == {"base": base, "path": "/rest/works"}
        # page 4: expired (due since 3, first in the spec) wins; truncate stays due to page 5
        client.get(base + "/works", params={"rows": "2", "cursor": "abc"})
        client.get(base + "/works", params={"rows": "2", "cursor": "abc"})
        assert client.get(base + "/other").status_code == 200  # not a page: not counted
        assert client.get(server.base_url + "/nothing").status_code == 404
    assert rest.seen == [(None, None), ("abc", "expired"), ("abc", "truncate"), (None, None)]
    assert server.faults.pages == 5
