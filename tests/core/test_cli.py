"""The CLI as a user drives it: typer's CliRunner in-process, real servers on 127.0.0.1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkgraph.cli import app
from linkgraph.replay.corpus import Corpus
from linkgraph.replay.oai import OAIApp
from linkgraph.replay.server import ReplayServer, Request, Response

runner = CliRunner()


@pytest.fixture(scope="module")
def server():
    with ReplayServer(Corpus.synthetic(120, seed=11, deleted_ratio=0.05), page_size=20) as srv:
        yield srv


def test_every_option_has_help() -> None:
    """--help works on every command and no option is left without a description."""
    def walk(group, path):  # typer's click group
        for name, cmd in group.commands.items():
            yield path + [name], cmd
            if hasattr(cmd, "commands"):
                yield from walk(cmd, path + [name])

    from typer.main import get_command

    root = get_command(app)
    seen = 0
    for path, cmd in walk(root, []):
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        for param in cmd.params:
            if param.param_type_name == "option" and param.name != "help":
                assert getattr(param, "help", None), f"{' '.join(path)} {param.opts} has no help"
        seen += 1
    assert seen >= 6


def test_oai_identify_formats_sets(server: ReplayServer) -> None:
    result = runner.invoke(app, ["oai", "identify", server.url, "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["granularity"] == "YYYY-MM-DDThh:mm:ssZ" and info["deleted_record"] == "persistent"
    result = runner.invoke(app, ["oai", "formats", server.url, "--json"])
    assert {f["prefix"] for f in json.loads(result.stdout)} >= {"oai_dc", "jpcoar_2.0"}
    result = runner.invoke(app, ["oai", "sets", server.url])
    assert result.exit_code == 0 and "setSpec" in result.stdout


def test_harvest_then_status(server: ReplayServer, tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    result = runner.invoke(app, ["harvest", "oai", server.url, "--prefix", "oai_dc", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "ok" and summary["records"] > 0
    result = runner.invoke(app, ["status", "--db", str(db), "--json"])
    rows = json.loads(result.stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["records"] + row["deleted"] == summary["records"]
    assert row["high_water"] == summary["high_water"] and row["last_status"] == "ok"
    # LINKGRAPH_DB is honoured as the default database
    result = runner.invoke(app, ["status", "--json"], env={"LINKGRAPH_DB": str(db)})
    assert json.loads(result.stdout)[0]["source"] == row["source"]


def test_exit_codes(server: ReplayServer, tmp_path: Path) -> None:
    db = str(tmp_path / "codes.duckdb")
    # 2: bad usage, from typer and from the library alike
    assert runner.invoke(app, ["harvest", "oai", server.url, "--db", db]).exit_code == 2
    bad_date = runner.invoke(app, ["harvest", "oai", server.url, "--prefix", "oai_dc", "--db", db, "--from", "yesterday"])
    assert bad_date.exit_code == 2 and "not an OAI-PMH datestamp" in bad_date.output
    # 1: the harvest failed, with the URL in the message
    dead = runner.invoke(app, ["harvest", "oai", "http://127.0.0.1:9/oai", "--prefix", "oai_dc", "--db", db, "--retries", "0"])
    assert dead.exit_code == 1 and "127.0.0.1:9/oai" in dead.output


class LyingApp:
    """An OAI server that announces more records than it has (a server that lies)."""

    def __init__(self, inner: OAIApp):
        self.inner = inner

    def is_page(self, request: Request) -> bool:
        return self.inner.is_page(request)

    def has_token(self, request: Request) -> bool:
        return self.inner.has_token(request)

    def handle(self, request: Request) -> Response:
        resp = self.inner.handle(request)
        resp.body = re.sub(rb'completeListSize="(\d+)"', lambda m: b'completeListSize="%d"' % (int(m[1]) + 5), resp.body)
        return resp


def test_a_shortfall_is_reported_with_exit_status_3(tmp_path: Path) -> None:
    corpus = Corpus.synthetic(60, seed=5)
    with ReplayServer(apps={"/oai": LyingApp(OAIApp(corpus, page_size=10))}) as srv:
        db = str(tmp_path / "lie.duckdb")
        result = runner.invoke(app, ["harvest", "oai", srv.url, "--prefix", "oai_dc", "--db", db])
        assert result.exit_code == 3, result.output
        assert "shortfall" in result.output
        status = json.loads(runner.invoke(app, ["status", "--db", db, "--json"]).stdout)[0]
        assert status["last_status"] == "partial" and status["problems"] == 1


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    result = runner.invoke(app, ["demo", "--db", str(db), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "harvest:" in result.output
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    formats = {f for (f,) in con.execute("SELECT DISTINCT metadata_format FROM raw_records").fetchall()}
    assert {"oai_dc", "oai_datacite", "jpcoar_1.0", "jpcoar_2.0"} <= formats
    # offline, real DOIs the replayed doi.org cannot know are unverifiable, not unknown
    assert "unverifiable (offline" in result.output
    unknown = {p for (p,) in con.execute(
        "SELECT DISTINCT split_part(object_doi, '/', 1) FROM findings WHERE kind = 'unknown_doi'").fetchall()}
    assert unknown and unknown <= {"10.99990", "10.57400"}, unknown  # the world's planted ones
    counts = "SELECT (SELECT count(*) FROM raw_records), (SELECT count(*) FROM works), " \
        "(SELECT count(*) FROM relations), (SELECT count(*) FROM sources)"
    first = con.execute(counts).fetchall()
    last = con.execute("SELECT kind, subject_key, coalesce(object_doi, object_raw) FROM findings "
                       "WHERE run_id = (SELECT max(run_id) FROM findings)").fetchall()
    con.close()

    # again on the same database: the replay server has a new port, the demo's sources follow
    again = runner.invoke(app, ["demo", "--db", str(db), "--quiet"])
    assert again.exit_code == 0, again.output
    assert "already harvests" not in again.output
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(counts).fetchall() == first
    assert sorted(con.execute("SELECT kind, subject_key, coalesce(object_doi, object_raw) FROM findings "
                              "WHERE run_id = (SELECT max(run_id) FROM findings)").fetchall()) == sorted(last)
    con.close()
