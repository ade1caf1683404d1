"""DataCite: links.next paging, incremental query, refused cursors; oai_datacite over OAI-PMH."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from linkgraph.replay.corpus import Corpus
from linkgraph.replay.server import ReplayServer

from .registry_helpers import Registries, cli_json, start_registries, stored


def test_client_harvest_follows_links_next(registries: Registries, tmp_path: Path) -> None:
    db = tmp_path / "dc.duckdb"
    result = cli_json("harvest", "datacite", "--client-id", "datacite.datacite", "--page-size", "10",
                      "--base-url", registries.url("datacite"), db=db)
    app = registries.app("datacite")
    want = {r.key for r in app.corpus.select() if r.group == "datacite.datacite"}
    got = stored(db, "datacite:client:datacite.datacite")
    assert set(got) == want and len(want) == 25
    assert result["pages"] == 3 and result["expected"] == 25 and result["status"] == "ok"
    one = json.loads(next(iter(got.values())))
    assert set(one) >= {"id", "type", "attributes", "relationships"} and "included" not in one
    # pages 2 and 3 were fetched from links.next as the server wrote it (cursor inside)
    cursors = [e.params.get("page[cursor]") for e in registries.server.log if e.path.endswith("/dois")]
    assert cursors[0] == "1" and all(c not in (None, "1") for c in cursors[1:])


def test_incremental_and_expired_cursor(tmp_path: Path) -> None:
    server = start_registries(synthetic=200, faults="expired@3")
    try:
        app = server.apps["/datacite"]
        db = tmp_path / "dc.duckdb"
        args = ("harvest", "datacite", "--prefix", "10.99998", "--page-size", "40", "--base-url", server.url_for("/datacite"))
        first = cli_json(*args, db=db)
        assert set(stored(db)) == app.corpus.keys()
        assert any("cursor-restart" in w for w in first["warnings"])
        app.corpus.touch("10.99998/syn.17", datetime.now(UTC))
        server.log.clear()
        second = cli_json(*args, db=db)
        assert second["records"] == 1
        query = next(e.params.get("query") for e in server.log if e.path.endswith("/dois"))
        assert query.startswith("updated:[") and query.endswith(" TO *]") and "*" not in query[9:12]
    finally:
        server.stop()


def test_oai_datacite_through_the_generic_oai_connector(tmp_path: Path) -> None:
    corpus = Corpus.demo()
    want = {r.identifier for r in corpus if "oai_datacite" in r.metadata}
    with ReplayServer(corpus, page_size=2) as server:
        result = cli_json("harvest", "oai", server.url, "--prefix", "oai_datacite", db=tmp_path / "o.duckdb")
    got = stored(tmp_path / "o.duckdb")
    assert set(got) == want and result["status"] == "ok"
    assert all("http://schema.datacite.org/oai/oai-1.1/" in p for p in got.values())


def test_5xx_and_slow_pages_are_retried(tmp_path: Path) -> None:
    server = start_registries(synthetic=100, faults="500@2,503@3:0,slow@5:0.3")
    try:
        result = cli_json("harvest", "datacite", "--prefix", "10.99998", "--page-size", "20",
                          "--base-url", server.url_for("/datacite"), db=tmp_path / "dc.duckdb")
        assert server.log.faults() == ["500", "503", "slow"]
        assert set(stored(tmp_path / "dc.duckdb")) == server.apps["/datacite"].corpus.keys()
        assert result["status"] == "ok" and result["requests"] == 5 + 2
    finally:
        server.stop()
