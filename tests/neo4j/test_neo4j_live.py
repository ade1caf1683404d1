"""Against a real Neo4j: the one NEO4J_URI names, or one started from Maven Central's jars for
this session (see conftest.py). Nothing stands in for the server.

The tests delete every :Work, :Target and :LinkgraphMeta node of that database first: point
NEO4J_URI at a scratch database."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from linkgraph.graph.named_query import run_duckdb, run_neo4j
from linkgraph.graph.neo4j_export import (
    ARRAY_DELIMITER,
    NODES_DATA,
    NODES_HEADER,
    RELS_DATA,
    RELS_HEADER,
    export_csv,
)
from linkgraph.graph.neo4j_load import Neo4jTarget, connect, load
from linkgraph.queries import query_names
from neo4j import Driver
from neo4j_importcsv import read_entities
from neo4j_worlds import audit_world, demo_world, tricky_world

from linkgraph.store import Store

pytestmark = [pytest.mark.neo4j]

CORE = ("kind", "severity", "subject_key", "subject_doi", "object_doi", "object_raw",
        "relation_type")


@pytest.fixture
def target(neo4j_target: Neo4jTarget) -> Neo4jTarget:
    return neo4j_target


@pytest.fixture
def driver(target: Neo4jTarget) -> Iterator[Driver]:
    drv = connect(target)
    with drv.session(database=target.database) as session:
        while True:  # in slices: one huge transaction could exhaust the server's memory
            rec = session.run(
                "MATCH (n) WHERE n:Work OR n:Target OR n:LinkgraphMeta "
                "WITH n LIMIT 10000 DETACH DELETE n RETURN count(*) AS n"
            ).single()
            if rec is None or rec["n"] == 0:
                break
    yield drv
    drv.close()


def _counts(driver: Driver, database: str) -> tuple[dict[str, int], dict[str, int]]:
    with driver.session(database=database) as session:
        labels = {
            ":".join(sorted(r["l"])): r["n"] for r in session.run(
                "MATCH (n) WHERE n:Work OR n:Target RETURN labels(n) AS l, count(*) AS n")
        }
        types = {r["t"]: r["n"] for r in session.run(
            "MATCH (:Work)-[r]->() RETURN type(r) AS t, count(*) AS n")}
    return labels, types


def test_demo_world_loads_twice_with_unchanged_counts(
        tmp_path: Path, driver: Driver, target: Neo4jTarget) -> None:
    with Store(demo_world(tmp_path / "demo.duckdb")) as store:
        first = load(store, target, batch_size=7)
        labels, types = _counts(driver, target.database)
        assert first.full and sum(labels.values()) == first.nodes == first.nodes_written
        assert sum(types.values()) == first.relationships == first.relationships_written

        second = load(store, target)
        assert not second.full
        assert (second.nodes_written, second.relationships_written, second.nodes_deleted,
                second.relationships_deleted) == (0, 0, 0, 0)
        assert _counts(driver, target.database) == (labels, types)

        # a DuckDB file that never loaded this graph re-sends everything: MERGE keeps counts
        store.con.execute("DELETE FROM neo4j_graphs")
        third = load(store, target, batch_size=1000)
        assert third.full and third.nodes_written == first.nodes
        assert _counts(driver, target.database) == (labels, types)


def test_incremental_load_follows_changes(tmp_path: Path, driver: Driver,
                                          target: Neo4jTarget) -> None:
    with Store(tricky_world(tmp_path / "t.duckdb")) as store:
        load(store, target)
        store.con.execute("UPDATE works SET title = 'Corrected' WHERE doi = '10.99999/ds.1'")
        store.con.execute("DELETE FROM works WHERE doi = '10.99999/art.1'")
        store.con.execute("DELETE FROM relations WHERE work_key = 'doi:10.99999/art.1'")
        stats = load(store, target)
        assert stats.nodes_written == 2 and stats.relationships_deleted == 1
    with driver.session(database=target.database) as session:
        rec = session.run("MATCH (w:Work {key: 'doi:10.99999/ds.1'}) RETURN w.title AS t").single()
        assert rec is not None and rec["t"] == "Corrected"
        rec = session.run("MATCH (w:Work {key: 'doi:10.99999/art.1'}) "
                          "RETURN labels(w) AS l, w.title AS t").single()
        assert rec is not None and sorted(rec["l"]) == ["External", "Work"] and rec["t"] is None


def _graph(driver: Driver, database: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with driver.session(database=database) as session:
        nodes = {r["p"]["key"]: (sorted(r["l"]), r["p"]) for r in session.run(
            "MATCH (n) WHERE n:Work OR n:Target RETURN labels(n) AS l, properties(n) AS p")}
        rels = {r["p"]["key"]: (r["s"], r["e"], r["t"], r["p"]) for r in session.run(
            "MATCH (a)-[r]->(b) WHERE a:Work RETURN a.key AS s, b.key AS e, type(r) AS t, "
            "properties(r) AS p")}
    return nodes, rels


def test_loaded_graph_is_the_exported_graph(tmp_path: Path, driver: Driver,
                                            target: Neo4jTarget) -> None:
    """Both ways into Neo4j give the same nodes, labels, relationships and property values."""
    db = audit_world(tmp_path / "a.duckdb")
    with Store(db) as store:
        load(store, target)
        cur = store.con.cursor()
        export_csv(cur, tmp_path / "csv")
    nodes, rels = _graph(driver, target.database)

    def as_csv(props: dict[str, Any]) -> dict[str, Any]:
        """The CSV path's one documented loss: U+001F inside an array element becomes a space."""
        return {k: [x.replace(ARRAY_DELIMITER, " ") for x in v] if isinstance(v, list) else v
                for k, v in props.items()}

    def text(name: str) -> str:
        return (tmp_path / "csv" / name).read_bytes().decode("utf-8")

    _, csv_nodes = read_entities(text(NODES_HEADER), text(NODES_DATA), ARRAY_DELIMITER)
    _, csv_rels = read_entities(text(RELS_HEADER), text(RELS_DATA), ARRAY_DELIMITER)
    assert len(csv_nodes) == len(nodes) and len(csv_rels) == len(rels)
    for n in csv_nodes:
        labels, props = nodes[n["key:ID"]]
        assert labels == sorted(n[":LABEL"])
        want = {k: v for k, v in n.items() if v is not None and not k.startswith(":")}
        want["key"] = want.pop("key:ID")
        assert as_csv(props) == want
    for r in csv_rels:
        start, end, rtype, props = rels[r["key"]]
        assert (start, end, rtype) == (r[":START_ID"], r[":END_ID"], r[":TYPE"])
        assert as_csv(props) == {k: v for k, v in r.items()
                                 if v is not None and not k.startswith(":")}


@pytest.mark.parametrize("name", query_names("cypher"))
def test_cypher_audit_finds_what_duckdb_finds(tmp_path: Path, driver: Driver,
                                              target: Neo4jTarget, name: str) -> None:
    db = audit_world(tmp_path / "a.duckdb")
    with Store(db) as store:
        load(store, target)
        duck = run_duckdb(store.con.cursor(), name)
    cypher = run_neo4j(driver, target.database, name)
    assert cypher.columns == duck.columns
    assert duck.rows, f"the audit world has no {name} finding: the comparison would be empty"

    def core(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
        return {tuple(r[c] for c in CORE) for r in rows}

    assert core(cypher.as_dicts()) == core(duck.as_dicts())
    if name != "audit_targets":  # per-row evidence is equal too (targets: raw spellings vary)
        def keyed(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], Any]:
            return {tuple(r[c] for c in CORE): json.loads(r["evidence"]) for r in rows}

        assert keyed(cypher.as_dicts()) == keyed(duck.as_dicts())


def test_constraints_and_indexes_exist(tmp_path: Path, driver: Driver,
                                       target: Neo4jTarget) -> None:
    with Store(tricky_world(tmp_path / "t.duckdb")) as store:
        load(store, target)
    with driver.session(database=target.database) as session:
        constraints = {r["name"]: (r["labelsOrTypes"], r["properties"], r["type"])
                       for r in session.run("SHOW CONSTRAINTS")}
        indexes = {r["name"]: (r["labelsOrTypes"], r["properties"], r["state"])
                   for r in session.run("SHOW INDEXES")}
    assert constraints["lg_work_key"] == (["Work"], ["key"], "UNIQUENESS")
    assert constraints["lg_target_key"] == (["Target"], ["key"], "UNIQUENESS")
    assert indexes["lg_work_doi"] == (["Work"], ["doi"], "ONLINE")
    assert indexes["lg_work_prefix"] == (["Work"], ["prefix"], "ONLINE")


def test_reload_follows_added_removed_and_retyped_links(
        tmp_path: Path, driver: Driver, target: Neo4jTarget) -> None:
    """The store changes as a second harvest would change it - a link added, one removed, one
    retyped - and an incremental load brings the graph to exactly the new state."""
    import pyarrow as pa
    from linkgraph.crosswalks.pipeline import RELATIONS_SCHEMA
    from neo4j_worlds import _rel

    def links() -> set[tuple[str, str, str]]:
        with driver.session(database=target.database) as session:
            return {(r["a"], r["t"], r["b"]) for r in session.run(
                "MATCH (a:Work)-[r]->(b) RETURN a.key AS a, type(r) AS t, b.key AS b")}

    with Store(audit_world(tmp_path / "a.duckdb")) as store:
        load(store, target)
        before = links()
        assert ("doi:10.77777/ds.2", "IS_SUPPLEMENT_TO", "doi:10.77777/ds.3") in before
        with store.transaction() as cur:
            Store.insert_arrow(cur, "relations", pa.Table.from_pylist([_rel(
                "datacite", "10.77777/ds.3", "doi:10.77777/ds.3", "IsSupplementedBy", "doi",
                "10.77777/ds.2", "10.77777/ds.2")], schema=RELATIONS_SCHEMA))
            cur.execute("DELETE FROM relations WHERE work_key = 'doi:10.66666/vor.1' "
                        "AND relation_type = 'Cites'")
            cur.execute("UPDATE relations SET relation_type = 'IsNewVersionOf', "
                        "raw_type = 'IsNewVersionOf' WHERE work_key = 'doi:10.99999/am.1' "
                        "AND relation_type = 'IsVersionOf'")
        stats = load(store, target)
        assert not stats.full
        assert stats.relationships_written == 2 and stats.relationships_deleted == 2
        after = links()
        assert after - before == {
            ("doi:10.77777/ds.3", "IS_SUPPLEMENTED_BY", "doi:10.77777/ds.2"),
            ("doi:10.99999/am.1", "IS_NEW_VERSION_OF", "doi:10.66666/vor.1"),
        }
        assert before - after == {
            ("doi:10.66666/vor.1", "CITES", "doi:10.55555/gone"),
            ("doi:10.99999/am.1", "IS_VERSION_OF", "doi:10.66666/vor.1"),
        }
        # the target nobody points at any more is gone with its last link
        with driver.session(database=target.database) as session:
            gone = session.run("MATCH (n {key: 'doi:10.55555/gone'}) RETURN count(n) AS n")
            assert gone.single()["n"] == 0


def test_cli_loads_and_queries_with_the_config_settings(
        tmp_path: Path, driver: Driver, target: Neo4jTarget,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`graph neo4j load` and `query --backend neo4j` take uri, user and password_env from the
    config's [neo4j] table when no option or NEO4J_* variable says otherwise."""
    from typer.testing import CliRunner

    from linkgraph.cli import build_app

    for var in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LG_TEST_NEO4J_SECRET", target.password)
    cfg = tmp_path / "linkgraph.toml"
    cfg.write_text(f'[neo4j]\nuri = "{target.uri}"\nuser = "{target.user}"\n'
                   'password_env = "LG_TEST_NEO4J_SECRET"\n', encoding="utf-8")
    monkeypatch.setenv("LINKGRAPH_CONFIG", str(cfg))
    db = audit_world(tmp_path / "a.duckdb")
    app = build_app()
    res = CliRunner().invoke(app, ["graph", "neo4j", "load", "--db", str(db),
                                   "--database", target.database, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["full"] is True
    assert target.password not in res.output
    res = CliRunner().invoke(app, ["query", "audit_same_content", "--backend", "neo4j",
                                   "--database", target.database, "--json"])
    assert res.exit_code == 0, res.output
    pairs = {(r["subject_doi"], r["object_doi"]) for r in json.loads(res.stdout)}
    assert ("10.77777/birds.a", "10.99999/birds.b") in pairs


def test_audit_explorer_notebook_runs_the_cypher_audits(
        tmp_path: Path, driver: Driver, target: Neo4jTarget,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A librarian with NEO4J_* set sees, per finding kind, Neo4j's count beside DuckDB's."""
    import re

    import nbformat
    from linkgraph.graph.audit import run_audit
    from nbclient import NotebookClient

    db = demo_world(tmp_path / "demo.duckdb")
    with Store(db) as store:
        run_audit(store)
        load(store, target)
        duck = dict(store.con.execute("SELECT kind, count(*) FROM findings GROUP BY kind")
                    .fetchall())
    monkeypatch.setenv("LINKGRAPH_DB", str(db))
    monkeypatch.setenv("NEO4J_URI", target.uri)
    monkeypatch.setenv("NEO4J_USER", target.user)
    monkeypatch.setenv("NEO4J_PASSWORD", target.password)
    monkeypatch.setenv("NEO4J_DATABASE", target.database)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    path = Path(__file__).resolve().parents[2] / "notebooks" / "02_linkage_audit_explorer.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=dict(os.environ))
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert f"Cypher audits on {target.uri}" in text
    table = text.split(f"Cypher audits on {target.uri} ({target.database}):", 1)[1]
    rows = {m[1]: (int(m[2]), int(m[3]))
            for m in re.finditer(r"^(\w+)\s+(\d+)\s+(\d+)$", table, re.M)}
    assert rows and "missing_reciprocal" in rows
    for kind, (in_neo4j, in_duckdb) in rows.items():
        assert in_neo4j == in_duckdb == duck[kind], kind
