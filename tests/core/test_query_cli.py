"""`linkgraph query`: a bare call lists the queries, internal building blocks are neither
listed nor run, and wide results are readable."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from linkgraph.cli import build_app

runner = CliRunner()


def test_bare_query_lists_every_query_with_what_it_finds(demo_db: Path) -> None:
    res = runner.invoke(build_app(), ["query", "--db", str(demo_db), "--json"])
    assert res.exit_code == 0, res.output
    listed = {q["name"]: q for q in json.loads(res.stdout)}
    assert {"audit_reciprocal", "audit_same_content", "scorecard"} <= set(listed)
    assert not {"audit_prepare", "audit_enrich", "audit_version_prune"} & set(listed)
    assert listed["audit_same_content"]["backends"] == ["duckdb", "neo4j"]
    assert listed["scorecard"]["backends"] == ["duckdb"]
    assert all(q["description"] for q in listed.values())
    helptext = runner.invoke(build_app(), ["query", "--help"]).output
    assert "audit_version_missing" in helptext and "Examples" in helptext


def test_internal_queries_are_refused_with_the_list(demo_db: Path) -> None:
    for name in ("audit_prepare", "audit_version_prune", "audit_enrich"):
        res = runner.invoke(build_app(), ["query", name, "--db", str(demo_db)])
        assert res.exit_code == 2, res.output
        assert "building block" in res.output and "audit_reciprocal" in res.output
    res = runner.invoke(build_app(), ["query", "scorecard", "--backend", "neo4j"])
    assert res.exit_code == 2 and "exists for duckdb only" in res.output


def test_wide_results_print_one_record_per_block(demo_db: Path) -> None:
    res = runner.invoke(build_app(), ["query", "scorecard", "--db", str(demo_db), "--limit", "2"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines.count("-- row 1") == 1 and lines.count("-- row 2") == 1
    assert sum(1 for line in lines if line.split()[:1] == ["pct_links_reciprocal"]) == 2
    assert "…" not in res.stdout  # nothing squeezed into cells


def test_report_and_export_refuse_typos(demo_db: Path, tmp_path: Path) -> None:
    """A prefix the store does not hold, an unknown finding kind: exit 2 naming what exists
    (they wrote an empty report and a header-only CSV with exit 0)."""
    app = build_app()
    res = runner.invoke(app, ["report", "--db", str(demo_db), "--prefix", "10.9999",
                              "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "prefix '10.9999'" in res.output and "10.11501" in res.output
    assert not (tmp_path / "r.html").exists()
    res = runner.invoke(app, ["export", "--db", str(demo_db), "--kind", "bogus",
                              "--out", str(tmp_path / "e")])
    assert res.exit_code == 2 and "unknown audit kind 'bogus'" in res.output
    assert not (tmp_path / "e").exists()
    ok = runner.invoke(app, ["report", "--db", str(demo_db), "--prefix", "10.11501",
                             "--out", str(tmp_path / "ok.html")])
    assert ok.exit_code == 0, ok.output
