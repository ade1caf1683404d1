"""End-to-end OAI-PMH harvests over real HTTP from the replay server and the pyoai server."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from harvest_helpers import served, stored
from peer_pyoai import pyoai_server

from linkgraph.errors import HarvestError, TransportError
from linkgraph.harvest.http import HttpPolicy, Transport
from linkgraph.harvest.oai_harvest import OAIHarvester, OAIHarvestOptions, split_range
from linkgraph.replay.corpus import Corpus
from linkgraph.replay.server import ReplayServer
from linkgraph.store import Store

UTC = timezone.utc


def fast_transport(**kw: object) -> Transport:
    policy = dict(retries=4, backoff=0.01, backoff_cap=0.05, timeout=5.0, retry_after_cap=2.0)
    policy.update(kw)
    return Transport(HttpPolicy(**policy))  # type: ignore[arg-type]


def harvest(store: Store, url: str, prefix: str = "oai_dc", name: str = "src", **opts: object):
    with fast_transport() as tr:
        return OAIHarvester(store, url, OAIHarvestOptions(prefix=prefix, **opts), name=name, transport=tr).run()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.synthetic(600, seed=7, deleted_ratio=0.05)


def test_full_harvest_stores_exactly_the_served_records(corpus: Corpus, db_path: Path) -> None:
    with ReplayServer(corpus, page_size=25) as server, Store(db_path) as store:
        result = harvest(store, server.url)
        want = served(corpus, "oai_dc")
        assert stored(store) == want
        assert result.status == "ok" and result.records == len(want)
        assert result.deleted == sum(1 for _, d in want.values() if d) > 0
        assert result.expected == len(want)  # completeListSize reconciled
        # payloads are the metadata documents, deleted records are tombstones without one
        rows = store.query("SELECT deleted, payload IS NULL, metadata_format FROM raw_records")
        assert all(deleted == no_payload and fmt == "oai_dc" for deleted, no_payload, fmt in rows)


def test_sickle_and_linkgraph_harvest_the_same_identifiers(corpus: Corpus, db_path: Path) -> None:
    from sickle import Sickle

    with ReplayServer(corpus, page_size=25) as server, Store(db_path) as store:
        harvest(store, server.url, prefix="jpcoar_2.0")
        ours = set(stored(store))
        sickle_ids = {
            h.identifier
            for h in Sickle(server.url).ListIdentifiers(metadataPrefix="jpcoar_2.0", ignore_deleted=False)
        }
    assert ours == sickle_ids and len(ours) > 10


def test_harvest_from_the_independent_pyoai_server(db_path: Path) -> None:
    with pyoai_server(count=95, batch=10) as (url, ids), Store(db_path) as store:
        result = harvest(store, url)
        assert set(stored(store)) == set(ids)
        assert result.pages == 10
        # sets and date ranges are honoured by a server we did not write
        harvest(store, url, name="even", set_="even")
        assert set(stored(store, "even")) == set(ids[::2])
        harvest(store, url, name="range", from_="2021-03-02T00:00:00Z", until="2021-03-02T23:59:59Z")
        assert set(stored(store, "range")) == set(ids[24:48])


def test_incremental_run_fetches_only_what_changed(db_path: Path) -> None:
    corpus = Corpus.synthetic(300, seed=3, start=datetime(2019, 1, 1, tzinfo=UTC))
    with ReplayServer(corpus, page_size=20) as server, Store(db_path) as store:
        first = harvest(store, server.url)
        ids = sorted(served(corpus, "oai_dc"))
        now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
        corpus.update(ids[0], now)  # changed
        corpus.delete(ids[1], now)  # deleted
        server.log.clear()
        second = harvest(store, server.url)
        assert second.records == 2 and second.deleted == 1
        served_again = sum(e.records for e in server.log.snapshot())
        assert served_again == 2  # the server was asked only for what changed
        assert stored(store) == served(corpus, "oai_dc")
        assert first.high_water is not None and second.high_water is not None
        # the second run asked from the first run's high-water mark
        asked = [e.params.get("from") for e in server.log.snapshot() if e.params.get("verb") == "ListRecords"]
        assert asked[0] == first.high_water


@pytest.mark.parametrize("windows,by", [(4, "auto"), (1, "month")])
def test_windows_cover_the_range_exactly_once(corpus: Corpus, db_path: Path, windows: int, by: str) -> None:
    with ReplayServer(corpus, page_size=25) as server, Store(db_path) as store:
        result = harvest(store, server.url, full=True, windows=windows, window_by=by)
        assert stored(store) == served(corpus, "oai_dc")
        assert result.records == len(served(corpus, "oai_dc"))  # nothing fetched twice
        states = store.query("SELECT status FROM harvest_state")
        assert len(states) == result.windows and result.windows >= 4
        assert {s for (s,) in states} == {"done"}


def test_split_range_is_contiguous_and_disjoint() -> None:
    lo, hi = datetime(2020, 1, 15, tzinfo=UTC), datetime(2020, 4, 2, 12, tzinfo=UTC)
    for parts in (
        split_range(lo, hi, "YYYY-MM-DDThh:mm:ssZ", windows=7),
        split_range(lo, hi, "YYYY-MM-DDThh:mm:ssZ", by="month"),
        split_range(lo, hi, "YYYY-MM-DD", by="day"),
    ):
        assert parts[0][0] == lo and parts[-1][1] == hi
        for (a, b), (c, _) in zip(parts, parts[1:]):
            assert a <= b < c and (c - b) in (timedelta(seconds=1), timedelta(days=1))
    assert len(split_range(lo, hi, "YYYY-MM-DD", by="month")) == 4


# -- faults --------------------------------------------------------------------------------

RECOVERABLE = [
    "503@2:1",
    "503date@2:1",
    "500@2x2",
    "429@3:1",
    "drop@2",
    "slow@2:4",  # longer than the client's timeout: retried
    "truncate@3",
    "expired@3",
    "repeat@2",
    "badchar@2",
]


@pytest.mark.parametrize("spec", RECOVERABLE)
def test_each_fault_is_recovered_from(corpus: Corpus, db_path: Path, spec: str) -> None:
    with ReplayServer(corpus, page_size=40, faults=spec) as server, Store(db_path) as store:
        with fast_transport(timeout=1.5) as tr:
            result = OAIHarvester(store, server.url, OAIHarvestOptions(prefix="oai_dc"), name="src", transport=tr).run()
        assert stored(store) == served(corpus, "oai_dc"), spec
        deadline = time.monotonic() + 6  # a slow answer is logged when the server finishes it
        while not (fired := [e.fault for e in server.log.snapshot() if e.fault]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fired, f"the fault {spec} never fired"
        problems = [k for (k,) in store.query("SELECT kind FROM harvest_problems")]
        if spec.startswith(("expired", "repeat")):
            assert "token-restart" in problems
        if spec.startswith("badchar"):
            assert "page-warning" in problems
        assert result.status in ("ok", "partial")


def test_expired_token_restarts_from_the_last_committed_datestamp(corpus: Corpus, db_path: Path) -> None:
    with ReplayServer(corpus, page_size=40, faults="expired@4") as server, Store(db_path) as store:
        harvest(store, server.url)
        lists = [e for e in server.log.snapshot() if e.params.get("verb") == "ListRecords"]
        restart = next(e for e in lists[1:] if "resumptionToken" not in e.params)
        # restarted from the newest committed datestamp, not from the beginning
        newest_before = max(
            r.datestamp for r in corpus if "oai_dc" in r.metadata or not r.metadata
        )
        assert restart.params.get("from") and restart.params["from"] > "2020-01-01T00:00:00Z"
        assert restart.params["from"] <= newest_before.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert stored(store) == served(corpus, "oai_dc")


@pytest.mark.parametrize("spec,match", [
    ("500@2x0", "500"),
    ("truncate@2x0", "malformed or truncated"),
    ("drop@1x0", "giving up"),
])
def test_persistent_faults_end_with_an_error_naming_the_url(
    corpus: Corpus, db_path: Path, spec: str, match: str
) -> None:
    with ReplayServer(corpus, page_size=40, faults=spec) as server, Store(db_path) as store:
        with pytest.raises(TransportError, match=match) as info:
            harvest(store, server.url)
        assert info.value.url and info.value.url.startswith(server.url)
        run = store.query("SELECT status, error FROM harvest_runs ORDER BY run_id DESC LIMIT 1")[0]
        assert run[0] == "failed" and server.url in run[1]
        # what was committed before the fault stays; the window stays open for a resume
        assert store.query("SELECT status FROM harvest_state")[0][0] == "open"


def test_resume_after_failure_continues_from_the_checkpoint(corpus: Corpus, db_path: Path) -> None:
    with ReplayServer(corpus, page_size=40, faults="500@4x0") as server, Store(db_path) as store:
        with pytest.raises(HarvestError):
            harvest(store, server.url)
        partial = stored(store)
        assert 0 < len(partial) < len(served(corpus, "oai_dc"))
        port = server.port
    with ReplayServer(corpus, page_size=40, port=port) as server, Store(db_path) as store:
        # a new server instance: the saved token is refused and the list restarts from the
        # newest committed datestamp, so the records already stored are not fetched again
        result = harvest(store, server.url)
        assert result.resumed
        assert stored(store) == served(corpus, "oai_dc")
        assert result.records < len(served(corpus, "oai_dc"))


def test_repeating_token_forever_is_an_error(corpus: Corpus, db_path: Path) -> None:
    with ReplayServer(corpus, page_size=40, faults="repeat@2x0") as server, Store(db_path) as store:
        with pytest.raises(HarvestError, match="repeats"):
            harvest(store, server.url)


def test_no_records_match_is_an_empty_result(corpus: Corpus, db_path: Path) -> None:
    with ReplayServer(corpus, page_size=40) as server, Store(db_path) as store:
        result = harvest(store, server.url, from_="2035-01-01", until="2035-12-31")
        assert result.status == "ok" and result.records == 0
