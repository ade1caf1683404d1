"""Small things a new user runs into (issue 20, item 8)."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from linkgraph.cli import build_app

runner = CliRunner()


def test_replay_server_on_a_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = runner.invoke(build_app(), ["replay-server", "--port", str(port)])
    assert res.exit_code == 2, res.output
    assert f"cannot listen on 127.0.0.1:{port}" in res.output and "Traceback" not in res.output


def test_config_check_reports_every_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[linkgraph]\nlock_wait = "soon"\n\n[sources.a]\nkind = "jalc"\nbogus = 1\n\n'
                   '[sources.b]\nkind = "nope"\n', encoding="utf-8")
    res = runner.invoke(build_app(), ["config", "check", "--config", str(cfg)])
    assert res.exit_code == 2
    assert "3 problems" in res.output
    for where in (":2: linkgraph.lock_wait", ":6: sources.a.bogus", ":9: sources.b.kind"):
        assert where in res.output, where


def test_an_sqlite_file_as_db_is_refused_without_any_download(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    res = runner.invoke(build_app(), ["status", "--db", str(db)])
    assert res.exit_code != 0
    assert "it is an SQLite database, not a DuckDB database" in res.output, res.output


def test_convert_of_an_unreadable_payload_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<resource xmlns='http://datacite.org/schema/kernel-4'><identifier", encoding="utf-8")
    res = runner.invoke(build_app(), ["convert", str(bad), "--format", "datacite-xml"])
    assert res.exit_code == 1, res.output
    assert '"readable": false' in res.stdout and "no readable record" in res.output


def test_audit_summary_is_prose_not_a_python_dict(demo_db: Path, tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "a.duckdb"
    shutil.copy(demo_db, db)
    res = runner.invoke(build_app(), ["audit", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "fix fragments:" in res.output and "{" not in res.output.split("fix fragments:")[1]
    assert " s\n" not in res.output  # step timings only with --verbose
    verbose = runner.invoke(build_app(), ["audit", "--db", str(db), "--verbose", "--kind", "targets"])
    assert verbose.exit_code == 0 and " s\n" in verbose.output


def test_figshare_is_a_name_of_the_jstage_data_kind() -> None:
    from linkgraph.config import parse_config

    cfg = parse_config('[sources.jd]\nkind = "figshare"\nportal = 999\n')
    assert cfg.sources["jd"].kind == "jstage-data"
    assert cfg.sources["jd"].base_url == "https://api.figshare.com/v2/oai"
