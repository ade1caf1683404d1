"""JaLC: list then fetch, only new or changed DOIs, error envelope, prefixes, encoded DOIs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from .registry_helpers import Registries, cli, cli_json, start_registries, stored


def test_prefix_harvest_fetches_every_listed_doi(tmp_path: Path) -> None:
    server = start_registries(synthetic=120)
    try:
        app = server.apps["/jalc"]
        db = tmp_path / "jalc.duckdb"
        result = cli_json("harvest", "jalc", "--prefix", "10.99997", "--rows", "50", "--rate", "0",
                          "--base-url", server.url_for("/jalc"), db=db)
        got = stored(db, "jalc:prefix:10.99997")
        assert set(got) == app.corpus.keys() and len(got) == 120
        assert result["status"] == "ok" and result["pages"] == 3 and result["expected"] == 120
        # the payload is the `data` object of /dois/{doi}
        rec = app.corpus.get("10.99997/syn.7")
        assert json.loads(got["10.99997/syn.7"]) == app.corpus.render(rec)
        # every record fetched once, slash encoded twice as the real API needs
        dois = [p for _, _, p in app.observer.spans if p.startswith("/jalc/dois/")]
        assert len(dois) == 120 and all("%252F" in p for p in dois)
    finally:
        server.stop()


def test_incremental_run_fetches_only_changed_records(tmp_path: Path) -> None:
    server = start_registries(synthetic=60)
    try:
        app = server.apps["/jalc"]
        db = tmp_path / "jalc.duckdb"
        args = ("harvest", "jalc", "--prefix", "10.99997", "--rows", "25", "--rate", "0", "--base-url", server.url_for("/jalc"))
        cli_json(*args, db=db)
        for doi in ("10.99997/syn.3", "10.99997/syn.40"):
            app.corpus.touch(doi, datetime.now(UTC))
        app.corpus.add("10.99997/new.1", template=1)
        app.observer.clear()
        second = cli_json(*args, db=db)
        fetched = sorted(p.rsplit("/", 1)[1] for _, _, p in app.observer.spans if p.startswith("/jalc/dois/"))
        assert fetched == ["10.99997%252Fnew.1", "10.99997%252Fsyn.3", "10.99997%252Fsyn.40"]
        assert second["records"] == 3
        assert set(stored(db)) == app.corpus.keys()
    finally:
        server.stop()


def test_unknown_prefix_is_an_empty_list_and_bad_prefix_a_usage_error(registries: Registries, tmp_path: Path) -> None:
    db = tmp_path / "jalc.duckdb"
    result = cli_json("harvest", "jalc", "--prefix", "10.12345", "--base-url", registries.url("jalc"), db=db)
    assert result["records"] == 0 and result["status"] == "ok"
    bad = cli("harvest", "jalc", "--prefix", "11.2/x", "--base-url", registries.url("jalc"), db=db, check=False)
    assert bad.returncode == 2 and "not a DOI prefix" in bad.stderr


def test_recorded_records_and_prefix_list(registries: Registries, tmp_path: Path) -> None:
    db = tmp_path / "jalc.duckdb"
    cli_json("harvest", "jalc", "--prefix", "10.11473", "--base-url", registries.url("jalc"), "--single-encode", db=db)
    got = stored(db)
    assert list(got) == ["10.11473/fcn.2017e.1"]
    assert json.loads(got["10.11473/fcn.2017e.1"])["title_list"][0]["title"].startswith("麹菌発酵大豆培養物")
    prefixes = cli_json("harvest", "jalc", "--prefixes", "--base-url", registries.url("jalc"))
    assert len(prefixes) > 2000 and {"prefix": "10.11162", "ra": "JaLC", "siteId": "SI/JST.JSTAGE",
                                     "updated_date": "2014-12-09"} in prefixes


def test_rate_limit_holds_with_concurrent_fetches(tmp_path: Path) -> None:
    server = start_registries(synthetic=25, latency_ms=30)
    try:
        app = server.apps["/jalc"]
        cli("harvest", "jalc", "--prefix", "10.99997", "--concurrency", "4", "--rate", "5", "--quiet",
            "--base-url", server.url_for("/jalc"), db=tmp_path / "j.duckdb")
        assert app.observer.count() == 26
        assert app.observer.max_starts_within(1.0) <= 5
    finally:
        server.stop()
