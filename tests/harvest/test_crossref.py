"""Crossref: cursor paging, incremental runs, 429 and expired cursors, advertised limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from linkgraph.replay.rest_common import Limits

from .registry_helpers import Registries, cli, cli_json, start_registries, stored


def test_member_harvest_stores_each_work_verbatim(registries: Registries, tmp_path: Path) -> None:
    db = tmp_path / "cr.duckdb"
    result = cli_json("harvest", "crossref", "--member", "98", "--rows", "7",
                      "--base-url", registries.url("crossref"), db=db)
    app = registries.app("crossref")
    want = {r.key for r in app.corpus.select() if r.group == "98"}
    got = stored(db, "crossref:member:98")
    assert set(got) == want and len(want) == 20
    assert result["status"] == "ok" and result["records"] == 20 and result["pages"] == 3
    # one item of message.items, as served: same keys, same values
    rec = app.corpus.get("10.4061/2010/505436")
    assert json.loads(got["10.4061/2010/505436"]) == app.corpus.render(rec)


def test_second_run_fetches_only_what_changed(registries: Registries, tmp_path: Path) -> None:
    db = tmp_path / "cr.duckdb"
    args = ("harvest", "crossref", "--member", "98", "--rows", "5", "--base-url", registries.url("crossref"))
    cli_json(*args, db=db)
    app = registries.app("crossref")
    changed = ["10.1111/dth.13147", "10.1155/2014/861942"]
    for doi in changed:
        app.corpus.touch(doi, datetime.now(UTC) + timedelta(minutes=1))
    before = {k: v for k, v in stored(db).items()}
    second = cli_json(*args, db=db)
    assert second["records"] == 2  # only the two works deposited since the first run
    after = stored(db)
    assert [k for k in after if after[k] != before[k]] == sorted(changed, key=list(after).index)


def test_429_with_retry_after_and_expired_cursor_lose_nothing(tmp_path: Path) -> None:
    server = start_registries(faults="429@2:1,expired@4")
    try:
        url = server.url_for("/crossref")
        result = cli_json("harvest", "crossref", "--member", "98", "--rows", "3", "--base-url", url,
                          "--retries", "3", db=tmp_path / "cr.duckdb")
        app = server.apps["/crossref"]
        assert set(stored(tmp_path / "cr.duckdb")) == {r.key for r in app.corpus.select() if r.group == "98"}
        assert any("cursor-restart" in w for w in result["warnings"])
        assert server.log.faults() == ["429", "expired"]
    finally:
        server.stop()


def test_advertised_rate_and_concurrency_are_never_exceeded(tmp_path: Path) -> None:
    """Server advertises 3 requests/s and concurrency 1; it counts arrivals itself."""
    limits = Limits(limit=3, interval=1.0, concurrency=1, pool="polite", enforce=True)
    server = start_registries(crossref_limits=limits)
    try:
        app = server.apps["/crossref"]
        db = tmp_path / "cr.duckdb"
        # a list harvest (sequential pages) ...
        cli("harvest", "crossref", "--prefix", "10.7554", "--rows", "1", "--mailto", "ops@example.org",
            "--concurrency", "4", "--base-url", server.url_for("/crossref"), "--quiet", db=db)
        list_requests = app.observer.count()
        assert list_requests >= 3
        assert app.observer.max_starts_within(1.0) <= 3
        assert app.observer.peak_inflight <= 1
        app.observer.clear()  # two processes do not share a pacer: judge each run on its own
        # ... and many single-work fetches asked for 4 at a time
        from linkgraph.store import Store

        dois = [r.key for r in app.corpus.select()][:12]
        with Store(db) as store, store.transaction() as cur:
            for d in dois:
                cur.execute(
                    "INSERT INTO relations (source, record_id, work_seq, work_key, source_format, relation_type,"
                    " target_scheme, target, target_raw, asserted_by) VALUES ('t', 'r', 0, 'k', 'x', 'Cites',"
                    " 'doi', ?, ?, 'subject')", [d, d])
        cli("harvest", "targets", "--concurrency", "4", "--mailto", "ops@example.org", *_endpoints(server),
            "--quiet", db=db)
        assert len(stored(db, "crossref-targets")) == 12
        assert app.observer.count() == 12
        assert app.observer.max_starts_within(1.0) <= 3
        assert app.observer.peak_inflight <= 1
        assert limits.violations == 0
    finally:
        server.stop()


def _endpoints(server) -> list[str]:
    return ["--ra-url", server.url_for("/doiorg") + "/ra", "--jalc-url", server.url_for("/jalc"),
            "--crossref-url", server.url_for("/crossref"), "--datacite-url", server.url_for("/datacite")]
