"""Every command finds the database the same way - --db, $LINKGRAPH_DB, the config's
[linkgraph] db, the default - says which one it used, and refuses a missing one instead of
silently creating an empty file (which made `status`, `report` and `audit` exit 0 on nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkgraph.cli import build_app

runner = CliRunner()


@pytest.fixture
def configured(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LINKGRAPH_CONFIG names a config whose [linkgraph] db is the demo database; nothing
    else says where the database is, and the default location is empty."""
    cfg = tmp_path / "linkgraph.toml"
    cfg.write_text(f'[linkgraph]\ndb = "{demo_db}"\n', encoding="utf-8")
    monkeypatch.setenv("LINKGRAPH_CONFIG", str(cfg))
    monkeypatch.delenv("LINKGRAPH_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return cfg


def test_every_command_uses_the_configured_database(configured: Path, demo_db: Path,
                                                    tmp_path: Path) -> None:
    app = build_app()
    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    assert {r["source"] for r in json.loads(status.stdout)} >= {"demo-oai:oai_dc", "world-jalc"}
    assert f"database: {demo_db} (db in {configured})" in status.stderr

    query = runner.invoke(app, ["query", "audit_identical", "--json"])
    assert query.exit_code == 0 and json.loads(query.stdout), query.output

    report = runner.invoke(app, ["report", "--out", str(tmp_path / "r.html"), "--json"])
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["findings"] > 0

    export = runner.invoke(app, ["export", "--out", str(tmp_path / "exp"), "--json"])
    assert export.exit_code == 0, export.output

    audit = runner.invoke(app, ["audit", "--kind", "reciprocal", "--quiet"])
    assert audit.exit_code == 0, audit.output
    assert not (tmp_path / "xdg" / "linkgraph").exists()  # nothing created at the default


def test_a_missing_database_is_an_error_not_an_empty_one(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKGRAPH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("LINKGRAPH_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    app = build_app()
    for args in (["status"], ["audit"], ["crosswalk"], ["query", "audit_identical"],
                 ["report", "--out", str(tmp_path / "r.html")]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert "no database at" in res.output and "(the default)" in res.output, args
    assert not (tmp_path / "xdg" / "linkgraph" / "linkgraph.duckdb").exists()
    res = runner.invoke(app, ["status", "--db", str(tmp_path / "no" / "such" / "dir.duckdb")])
    assert res.exit_code == 2 and "no directory" in res.output and "--db" in res.output, res.output
