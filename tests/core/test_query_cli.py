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
