"""Typos in a harvest command are usage errors (exit 2) that say what would work, and never
move the high-water mark; they used to harvest nothing and exit 0, or retry for 20 s."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkgraph.cli import build_app
from linkgraph.replay.corpus import Corpus
from linkgraph.replay.server import ReplayServer

runner = CliRunner()


@pytest.fixture(scope="module")
def server() -> object:
    with ReplayServer(Corpus.demo(), page_size=5) as srv:
        yield srv


def _harvest(db: Path, *args: str) -> object:
    return runner.invoke(build_app(), ["harvest", "oai", *args, "--db", str(db), "--retries", "0"])


def test_an_unknown_set_is_refused_and_the_mark_stays(server: object, tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    sets = json.loads(runner.invoke(build_app(), ["oai", "sets", server.url, "--json"]).stdout)
    real = sets[0]["spec"]
    ok = _harvest(db, server.url, "--prefix", "oai_dc", "--set", real, "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["records"] > 0
    typo = real[:-1] + ("x" if real[-1] != "x" else "y")
    res = _harvest(db, server.url, "--prefix", "oai_dc", "--set", typo)
    assert res.exit_code == 2, res.output
    assert f"has no set {typo!r}" in res.output and real in res.output  # did you mean ...
    assert "high-water mark was not moved" in res.output
    status = {r["source"]: r for r in json.loads(
        runner.invoke(build_app(), ["status", "--db", str(db), "--json"]).stdout)}
    bad = next(r for name, r in status.items() if name.endswith(typo))
    assert bad["high_water"] is None and bad["last_status"] == "failed"


def test_from_after_until_is_refused(server: object, tmp_path: Path) -> None:
    res = _harvest(tmp_path / "t.duckdb", server.url, "--prefix", "oai_dc",
                   "--from", "2025-01-01", "--until", "2024-01-01")
    assert res.exit_code == 2 and "--from 2025-01-01 is after --until 2024-01-01" in res.output


def test_not_a_url_is_refused_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    res = _harvest(tmp_path / "t.duckdb", "not-a-url", "--prefix", "oai_dc")
    assert res.exit_code == 2 and "not an http(s) URL" in res.output, res.output
    assert time.monotonic() - started < 5


def test_a_wrong_metadata_prefix_names_the_ones_served(server: object, tmp_path: Path) -> None:
    res = _harvest(tmp_path / "t.duckdb", server.url, "--prefix", "oai_dcc")
    assert res.exit_code == 2, res.output
    assert "does not serve metadataPrefix 'oai_dcc'" in res.output
    assert "oai_dc" in res.output and "jpcoar_2.0" in res.output
