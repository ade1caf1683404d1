"""figshare / J-STAGE Data preset: portal set, oai_datacite, token expiry, ~1 request/s."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from linkgraph.replay.corpus import Corpus
from linkgraph.replay.server import ReplayServer

from .registry_helpers import cli, cli_json, stored


def test_portal_harvest_survives_an_expired_token(tmp_path: Path) -> None:
    corpus = Corpus.synthetic(200, seed=5)
    want = {r.identifier for r in corpus if "syn:1" in r.sets and "oai_dc" in r.metadata}
    with ReplayServer(corpus, page_size=5, faults="expired@3") as server:
        result = cli_json("harvest", "figshare", "--set", "syn:1", "--base-url", server.url, "--delay", "0",
                          "--metadata-prefix", "oai_dc", db=tmp_path / "f.duckdb")
        assert server.log.faults() == ["expired"]
        sets = {e.params.get("set") for e in server.log if e.params.get("verb") == "ListRecords"}
    assert set(stored(tmp_path / "f.duckdb", "figshare:syn:1:oai_dc")) == want and len(want) > 10
    assert result["status"] == "ok" and any("token-restart" in w for w in result["warnings"])
    assert sets <= {"syn:1", None}  # every list request asks for the set (or carries a token)


def test_default_pacing_is_one_request_per_second(tmp_path: Path) -> None:
    corpus = Corpus.synthetic(12, seed=1)
    with ReplayServer(corpus, page_size=4) as server:
        # a set the corpus has: an unknown one would (rightly) end the run with exit 2
        cli("harvest", "figshare", "--set", "syn:1", "--base-url", server.url, "--quiet", db=tmp_path / "f.duckdb")
        times = sorted(e.time for e in server.log)
    assert len(times) >= 2
    assert all(b - a >= 0.9 for a, b in pairwise(times))


def test_portal_or_set_is_required(tmp_path: Path) -> None:
    proc = cli("harvest", "figshare", db=tmp_path / "f.duckdb", check=False)
    assert proc.returncode == 2 and "--portal" in proc.stderr
