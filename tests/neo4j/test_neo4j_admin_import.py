"""``neo4j-admin database import full`` for real: the export of the demo world, imported with
the exact command ``linkgraph graph neo4j export`` prints into a fresh Neo4j of its own, then
that server is started and its graph compared with DuckDB's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import harness
import pytest
from linkgraph.graph.neo4j_load import Neo4jTarget, connect
from linkgraph.graph.neo4j_model import NODE_PROPS, NODES_TABLE, RELS_TABLE
from neo4j_worlds import audit_world, demo_world
from typer.testing import CliRunner

from linkgraph.cli import build_app
from linkgraph.store import Store

pytestmark = [pytest.mark.neo4j]


@pytest.mark.parametrize("world", ["demo", "audit"])
def test_printed_import_command_builds_the_same_graph(tmp_path: Path, neo4j_lib: Path,
                                                      world: str) -> None:
    db = (demo_world if world == "demo" else audit_world)(tmp_path / "w.duckdb")
    out = tmp_path / "csv"
    res = CliRunner().invoke(build_app(), ["graph", "neo4j", "export", str(out), "--db", str(db),
                                           "--gzip", "--json"])
    assert res.exit_code == 0, res.output
    command = json.loads(res.stdout)["command"]
    assert command.startswith("neo4j-admin database import full neo4j ")

    home = harness.make_home(tmp_path / "home", lib=neo4j_lib)
    env = home.env() | {"PATH": f"{home.bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, shell=True, env=env, capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "IMPORT DONE" in done.stdout + done.stderr
    assert (tmp_path / "import.report").exists()  # neo4j-admin's report: here, not in the checkout

    with Store(db, read_only=True) as store:
        cur = store.cursor()
        from linkgraph.graph.neo4j_model import build_graph_tables

        n_nodes, n_rels = build_graph_tables(cur)
        labels = dict(cur.execute(
            f"SELECT array_to_string(list_sort(labels), ':'), count(*) FROM {NODES_TABLE} "
            "GROUP BY 1").fetchall())
        types = dict(cur.execute(f"SELECT type, count(*) FROM {RELS_TABLE} GROUP BY 1").fetchall())
        names = [p.name for p in NODE_PROPS]
        sample = {r[0]: dict(zip(names, r[1:], strict=True)) for r in cur.execute(
            f"SELECT key, {', '.join(names)} FROM {NODES_TABLE} ORDER BY hash(key) LIMIT 40"
        ).fetchall()}
        cur.close()

    harness.start(home, die_with_parent=True, lib=neo4j_lib)
    try:
        driver = connect(Neo4jTarget(home.uri, harness.USER, home.password, "neo4j"))
        with driver.session(database="neo4j") as session:
            got_labels = {":".join(sorted(r["l"])): r["n"] for r in session.run(
                "MATCH (n) RETURN labels(n) AS l, count(*) AS n")}
            got_types = {r["t"]: r["n"] for r in session.run(
                "MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS n")}
            got = {r["p"]["key"]: r["p"] for r in session.run(
                "MATCH (n) WHERE n.key IN $keys RETURN properties(n) AS p", keys=list(sample))}
        driver.close()
    finally:
        harness.stop(home)
        shutil.rmtree(home.path, ignore_errors=True)

    assert sum(got_labels.values()) == n_nodes and got_labels == labels
    assert sum(got_types.values()) == n_rels and got_types == types
    assert set(got) == set(sample)
    for key, want in sample.items():
        clean = {k: v for k, v in want.items() if v is not None}
        for k, v in clean.items():
            if isinstance(v, list):
                clean[k] = [x.replace("\x1f", " ") for x in v]
        assert got[key] == {"key": key, **clean}, key
