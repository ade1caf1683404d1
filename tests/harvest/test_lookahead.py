"""Page N+1 is requested while page N is parsed, without changing what is harvested;
and the plain-INSERT fast path falls back to the upsert when a key is already stored."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from harvest_helpers import one_window_run, served, stored
from linkgraph.harvest.http import HttpPolicy, Transport
from linkgraph.harvest.lookahead import Lookahead, token_hint
from linkgraph.harvest.oai_harvest import OAIHarvester, OAIHarvestOptions
from linkgraph.replay.corpus import Corpus
from linkgraph.replay.server import ReplayServer

from linkgraph.store import RawRecord, Store

UTC = timezone.utc
TAIL = b"</ListRecords></OAI-PMH>\n"


def page(token_xml: bytes) -> list[bytes]:
    return [b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>',
            b"<record/>" * 3, token_xml, TAIL]


@pytest.mark.parametrize(
    "token_xml,want",
    [
        (b'<resumptionToken completeListSize="9" cursor="0">abc|25</resumptionToken>', "abc|25"),
        (b"<oai:resumptionToken>\n  t-1 \n</oai:resumptionToken>", "t-1"),
        (b"<resumptionToken/>", None),  # the last page
        (b'<resumptionToken completeListSize="9"></resumptionToken>', None),  # the last page
        (b"<resumptionToken>a&amp;b</resumptionToken>", None),  # left to the parser
        (b"<resumptionToken><![CDATA[x]]></resumptionToken>", None),
        (b"", None),
    ],
)
def test_token_hint_reads_only_plain_tokens_from_whole_pages(token_xml: bytes, want: str | None) -> None:
    assert token_hint(page(token_xml)) == want


def test_token_hint_gives_up_on_a_truncated_page() -> None:
    body = page(b"<resumptionToken>abc</resumptionToken>")
    assert token_hint(body[:-1]) is None
    assert token_hint([b"".join(body)[:-12]]) is None


def fast_transport(**kw: object) -> Transport:
    policy = dict(retries=4, backoff=0.01, backoff_cap=0.05, timeout=5.0, retry_after_cap=2.0, concurrency=1)
    policy.update(kw)
    return Transport(HttpPolicy(**policy))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.synthetic(400, seed=11, deleted_ratio=0.05)


def test_harvest_with_lookahead_uses_prefetched_pages_and_wastes_no_request(
    corpus: Corpus, db_path: Path
) -> None:
    with ReplayServer(corpus, page_size=20, latency_ms=20) as server, Store(db_path) as store, fast_transport() as tr:
        h = OAIHarvester(store, server.url, OAIHarvestOptions(prefix="oai_dc"), name="src", transport=tr)
        result = h.run()
        assert stored(store) == served(corpus, "oai_dc")
        assert result.status == "ok" and result.pages > 5
        # every page after the first came from the lookahead, and nothing was asked twice
        assert h.lookahead_used == result.pages - 1
        lists = [e for e in server.log.snapshot() if e.params.get("verb") == "ListRecords"]
        assert len(lists) == result.pages
        tokens = [e.params.get("resumptionToken") for e in lists]
        assert len(set(tokens)) == len(tokens)


def test_faults_on_prefetched_pages_are_recovered(corpus: Corpus, db_path: Path) -> None:
    # requests 3-5 are prefetches: a 503, a truncated page and a dropped connection
    faults = "503@3:1,truncate@4,drop@5"
    with ReplayServer(corpus, page_size=20, faults=faults) as server, Store(db_path) as store, fast_transport() as tr:
        result = OAIHarvester(store, server.url, OAIHarvestOptions(prefix="oai_dc"), name="src", transport=tr).run()
        assert result.status == "ok"
        assert stored(store) == served(corpus, "oai_dc")


def test_lookahead_drops_an_abandoned_chain_and_keeps_its_depth() -> None:
    started: list[str] = []
    release = threading.Event()

    def fetch(token: str, offer):  # type: ignore[no-untyped-def]
        started.append(token)
        release.wait(5)
        return token.upper()

    ahead: Lookahead[str] = Lookahead(fetch, depth=1)
    offer = ahead.offer_for(None)
    offer("a")
    offer("b")  # depth 1: one page ahead at most
    offer("a")  # already pending
    assert ahead.started == 1
    release.set()
    future = ahead.take("a")
    assert future is not None and future.result(5) == "A"
    stale_offer = ahead.offer_for("a")
    assert ahead.take("zzz") is None  # the parse named another token: the chain is abandoned
    stale_offer("c")  # an offer from the abandoned chain starts nothing
    assert ahead.started == 1 and started == ["a"]
    ahead.close()
    ahead.offer_for(None)("d")
    assert ahead.started == 1


def test_an_offer_too_far_ahead_starts_when_the_loop_takes_a_page() -> None:
    # The loop parses slower than the server serves: page "b" waits ahead while "a" is
    # parsed, so "b"'s offer of "c" is one too many; it must start once "a" is taken, or
    # the loop would fetch every other page itself.
    started: list[str] = []

    def fetch(token: str, offer):  # type: ignore[no-untyped-def]
        started.append(token)
        return token.upper()

    ahead: Lookahead[str] = Lookahead(fetch, depth=1)
    ahead.offer_for(None)("a")
    ahead.offer_for("a")("b")
    ahead.offer_for("b")("c")  # "a" and "b" pending: depth 1 reached
    assert ahead.started == 2
    for token in ("a", "b", "c"):
        future = ahead.take(token)
        assert future is not None and future.result(5) == token.upper()
    assert ahead.started == 3 and ahead.used == 3 and sorted(started) == ["a", "b", "c"]
    ahead.close()


def test_a_stored_key_switches_the_plain_insert_to_the_upsert(db_path: Path) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    with Store(db_path) as store:
        cp, w = one_window_run(store)
        first = [RawRecord(f"id{i}", t0, False, "oai_dc", f"<x>{i}</x>") for i in range(5)]
        cp.commit_page(w, first)
        seq_before = dict(store.query("SELECT record_id, change_seq FROM raw_records"))
        # the same page again plus one newer version and one new record: must not fail
        again = first[:4] + [RawRecord("id4", t0 + timedelta(days=1), False, "oai_dc", "<x>new</x>"),
                             RawRecord("id5", t0, False, "oai_dc", "<x>5</x>")]
        cp.commit_page(w, again)
        rows = dict(store.query("SELECT record_id, payload FROM raw_records"))
        assert len(rows) == 6 and rows["id4"] == "<x>new</x>"
        seq_after = dict(store.query("SELECT record_id, change_seq FROM raw_records"))
        assert all(seq_after[k] == seq_before[k] for k in ("id0", "id1", "id2", "id3"))  # unchanged
        assert seq_after["id4"] > seq_before["id4"]
        assert cp.counters.records == 11  # both pages counted once each
