"""The neo4j-admin CSV export, checked structurally against the documented import format
(no Neo4j needed): header grammar, unique IDs, every endpoint a node, escaping, and every
property value read back as the importer would read it."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import duckdb
import pytest
from linkgraph.graph.neo4j_export import (
    ARRAY_DELIMITER,
    NODES_DATA,
    NODES_HEADER,
    RELS_DATA,
    RELS_HEADER,
    ExportResult,
    export_csv,
)
from linkgraph.graph.neo4j_model import NODE_PROPS, NODES_TABLE, REL_PROPS, RELS_TABLE
from neo4j_importcsv import read_entities
from neo4j_worlds import JA_TITLE, TRICKY_TITLE, demo_world, tricky_world
from typer.testing import CliRunner

from linkgraph.cli import build_app
from linkgraph.store import Store


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_world(tmp_path_factory.mktemp("demo") / "demo.duckdb")


def _read(out: Path, gz: str = "") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def text(name: str) -> str:
        path = out / name
        if name.endswith(".gz"):
            return gzip.decompress(path.read_bytes()).decode("utf-8")
        return path.read_bytes().decode("utf-8")

    _, nodes = read_entities(text(NODES_HEADER), text(NODES_DATA + gz), ARRAY_DELIMITER)
    _, rels = read_entities(text(RELS_HEADER), text(RELS_DATA + gz), ARRAY_DELIMITER)
    return nodes, rels


def _export(db: Path, out: Path, **kw: Any) -> tuple[ExportResult, duckdb.DuckDBPyConnection]:
    cur = Store(db, read_only=True).con.cursor()
    return export_csv(cur, out, **kw), cur


def _expected(con: duckdb.DuckDBPyConnection, table: str, cols: list[str]) -> list[dict[str, Any]]:
    cur = con.execute(f"SELECT {', '.join(cols)} FROM {table}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _clean(v: Any) -> Any:
    if isinstance(v, list):
        return [x.replace(ARRAY_DELIMITER, " ") for x in v]
    return v


def _check_structure_and_round_trip(out: Path, con: duckdb.DuckDBPyConnection) -> None:
    nodes, rels = _read(out)
    ids = [n["key:ID"] for n in nodes]
    assert len(ids) == len(set(ids)), "node IDs are not unique"
    assert all(ids), "a node without ID"
    id_set = set(ids)
    dangling = [(r[":START_ID"], r[":END_ID"]) for r in rels
                if r[":START_ID"] not in id_set or r[":END_ID"] not in id_set]
    assert dangling == []
    assert all(r[":TYPE"] and r[":TYPE"].replace("_", "").isalpha() and r[":TYPE"].isupper()
               for r in rels)
    rel_keys = [r["key"] for r in rels]
    assert len(rel_keys) == len(set(rel_keys))
    for n in nodes:
        assert ("Work" in n[":LABEL"]) != ("Target" in n[":LABEL"])

    # every value, as the importer reads it, is the value in the graph model
    want = {row["key"]: row for row in _expected(
        con, NODES_TABLE, ["key", "labels"] + [p.name for p in NODE_PROPS])}
    assert len(want) == len(nodes)
    for n in nodes:
        exp = want[n["key:ID"]]
        assert n[":LABEL"] == exp["labels"]
        for p in NODE_PROPS:
            col = p.name
            assert n[col] == _clean(exp[p.name]), (n["key:ID"], p.name)
    want = {row["key"]: row for row in _expected(
        con, RELS_TABLE, ["key", "start_key", "end_key", "type"] + [p.name for p in REL_PROPS])}
    assert len(want) == len(rels)
    for r in rels:
        exp = want[r["key"]]
        assert (r[":START_ID"], r[":END_ID"], r[":TYPE"]) == (
            exp["start_key"], exp["end_key"], exp["type"])
        for p in REL_PROPS:
            col = p.name
            assert r[col] == _clean(exp[p.name]), (r["key"], p.name)


def test_demo_world_export_is_importable(demo_db: Path, tmp_path: Path) -> None:
    result, con = _export(demo_db, tmp_path / "out")
    _check_structure_and_round_trip(tmp_path / "out", con)
    # one node per held work (DOI or repository item), plus every target nobody harvested
    works = con.execute("SELECT count(DISTINCT work_key) FROM works").fetchone()[0]
    nodes, rels = _read(tmp_path / "out")
    held = [n for n in nodes if "Work" in n[":LABEL"] and "External" not in n[":LABEL"]]
    assert len(held) == works
    stated = con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT source, record_id, work_seq, relation_type, "
        "target_scheme, coalesce(target, target_raw) FROM relations "
        "WHERE coalesce(target, target_raw) <> '')").fetchone()[0]
    assert len(rels) == result.relationships == stated
    # the demo's JaLC book keeps its Japanese title; its type is a label
    book = next(n for n in nodes if n["key:ID"] == "doi:10.20730/200017323")
    assert book[":LABEL"] == ["Work", "Book"] and book["registry"] == "jalc"
    assert book["year"] == 1777 and book["prefix"] == "10.20730"
    assert "--multiline-fields" not in result.command


def test_awkward_values_survive(tmp_path: Path) -> None:
    db = tricky_world(tmp_path / "tricky.duckdb")
    out = tmp_path / "out"
    result, con = _export(db, out)
    _check_structure_and_round_trip(out, con)
    nodes, rels = _read(out)
    by_id = {n["key:ID"]: n for n in nodes}

    ds = by_id["doi:10.99999/ds.1"]
    assert ds["title"] == TRICKY_TITLE
    assert ds["landing_url"] == 'https://example.org/a,b?c="d"'
    assert ds[":LABEL"] == ["Work", "Dataset"]
    art = by_id["doi:10.99999/art.1"]
    assert art["title"] == JA_TITLE and art["registry"] == "jalc"
    assert art["sources"] == ["jalc", "repo;x,y"]
    preprint = by_id["rec:repo;x,y:oai:repo:2"]
    assert preprint["title"] == "" and preprint["year"] is None and preprint["doi"] is None
    assert by_id["rec:repo;x,y:oai:repo:3"]["title"] == "  leading spaces"
    assert by_id["rec:repo;x,y:oai:repo:3"][":LABEL"] == ["Work"]
    ext = by_id["doi:10.88888/not.held"]
    assert ext[":LABEL"] == ["Work", "External"] and ext["prefix"] == "10.88888"
    bad = [n for n in nodes if "Unresolved" in n[":LABEL"]]
    assert [(b["scheme"], b["value"]) for b in bad] == [("doi", '10.ABC/日本語 ,"x"')]

    assert len(rels) == 6  # the repeated statement collapsed; the empty target left out
    supp = [r for r in rels if r[":TYPE"] == "IS_SUPPLEMENT_TO"]
    assert len(supp) == 1 and supp[0]["relation_type"] == "IsSupplementTo"
    doc = next(r for r in rels if r[":TYPE"] == "IS_DOCUMENTED_BY")
    assert doc[":END_ID"] == 'url:https://example.org/doc?a=1,b="2"'
    assert doc["problems"] == ['odd "quote", comma', "line\nbreak", "unit separator"]
    back = next(r for r in rels if r[":TYPE"] == "IS_SUPPLEMENTED_BY")
    assert back["asserted_by"] == "both" and back["registry"] == "jalc"
    assert "--multiline-fields=true" in result.command


def test_gzip_export_has_the_same_rows(tmp_path: Path) -> None:
    db = tricky_world(tmp_path / "tricky.duckdb")
    _export(db, tmp_path / "plain")
    result, _ = _export(db, tmp_path / "gz", compress=True)
    assert _read(tmp_path / "gz", ".gz") == _read(tmp_path / "plain")
    assert f"{(tmp_path / 'gz').resolve() / 'nodes.csv.gz'}" in result.command


def test_export_twice_gives_identical_files(tmp_path: Path) -> None:
    db = tricky_world(tmp_path / "tricky.duckdb")
    _export(db, tmp_path / "a")
    _export(db, tmp_path / "b")
    for name in (NODES_DATA, RELS_DATA):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_cli_prints_the_import_command(tmp_path: Path) -> None:
    db = tricky_world(tmp_path / "tricky.duckdb")
    out = tmp_path / "csv dir"
    res = CliRunner().invoke(
        build_app(), ["graph", "neo4j", "export", str(out), "--db", str(db), "--database", "links"]
    )
    assert res.exit_code == 0, res.output
    command = res.stdout.strip().splitlines()[-1]
    assert command.startswith("neo4j-admin database import full links ")
    assert f"'--nodes={out.resolve()}/nodes_header.csv,{out.resolve()}/nodes.csv'" in command
    assert "--array-delimiter=U+001F" in command and "--multiline-fields=true" in command
    assert (out / "import-command.txt").read_text().strip() == command


def test_audit_world_has_the_title_matching_cases(tmp_path: Path) -> None:
    """The world the Cypher twins are held to: each found and each kept-apart case is there."""
    from linkgraph.graph.named_query import run_duckdb
    from neo4j_worlds import audit_world

    with Store(audit_world(tmp_path / "a.duckdb")) as store:
        vm = run_duckdb(store.con.cursor(), "audit_version_missing").as_dicts()
        sc = run_duckdb(store.con.cursor(), "audit_same_content").as_dicts()
    assert {(r["subject_key"], r["object_doi"]) for r in vm} == {
        ("rec:repo:oai:repo:am.2", "10.66666/vor.2"),  # the candidate sharing two creators
        ("rec:repo:oai:repo:am.3", "10.99999/vor.4"),  # no creators, one year apart
    }
    assert {(r["subject_doi"], r["object_doi"], r["severity"]) for r in sc} == {
        ("10.77777/birds.a", "10.99999/birds.b", "error"),
        ("10.77777/birds.a", "10.77777/birds.c", "warning"),
        ("10.77777/birds.c", "10.99999/birds.b", "warning"),
        ("10.77777/birds.e", "10.99999/birds.b", "error"),
        ("10.77777/birds.c", "10.77777/birds.e", "warning"),
        ("10.66666/vor.2", "10.66666/vor.3", "error"),
    }


def test_identifiers_that_carry_their_scheme_are_not_prefixed_twice(tmp_path: Path) -> None:
    """An ARK or URN value already starts with its scheme: its node key is the value itself
    (it was ``ark:ark:/13030/...``); other schemes get the ``<scheme>:`` prefix."""
    import pyarrow as pa
    from linkgraph.crosswalks.pipeline import RELATIONS_SCHEMA
    from neo4j_worlds import _rel

    db = tricky_world(tmp_path / "t.duckdb")
    rels = [
        _rel("jstage-data", "10.99999/ds.1", "doi:10.99999/ds.1", "IsDerivedFrom", "ark",
             "ark:/13030/tf5p30086k", "ARK:/13030/tf5p30086k"),
        _rel("jstage-data", "10.99999/ds.1", "doi:10.99999/ds.1", "IsPartOf", "urn",
             "urn:nbn:de:0001-1234", "urn:nbn:de:0001-1234"),
        _rel("jstage-data", "10.99999/ds.1", "doi:10.99999/ds.1", "IsPublishedIn", "issn",
             "1234-5679", "1234-5679"),
    ]
    with Store(db) as store, store.transaction() as cur:
        Store.insert_arrow(cur, "relations", pa.Table.from_pylist(rels, schema=RELATIONS_SCHEMA))
    _export(db, tmp_path / "out")
    nodes, edges = _read(tmp_path / "out")
    keys = {n["key:ID"] for n in nodes}
    assert {"ark:/13030/tf5p30086k", "urn:nbn:de:0001-1234", "issn:1234-5679"} <= keys
    assert not [k for k in keys if k.startswith(("ark:ark:", "urn:urn:"))]
    assert {e[":END_ID"] for e in edges} >= {"ark:/13030/tf5p30086k", "urn:nbn:de:0001-1234"}
