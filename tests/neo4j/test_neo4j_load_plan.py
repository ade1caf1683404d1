"""What an incremental load would send, computed in a real DuckDB file without a server: the
first load sends every node and relationship once, in batches of the asked size; a second sends
nothing; a change sends only itself; a removed work disappears or becomes External.
(Sending it is covered by test_live.py against a real Neo4j.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from linkgraph.graph.neo4j_load import (
    forget_snapshot,
    node_upsert_cypher,
    plan,
    rel_upsert_cypher,
    save_snapshot,
    statements,
)
from linkgraph.graph.neo4j_model import rel_type, relation_type_of, safe_rel_type
from neo4j_worlds import TRICKY_TITLE, tricky_world

from linkgraph.store import Store

GID = "test-graph"


def _sent(store: Store, batch: int = 2) -> list[tuple[str, str, list[dict[str, Any]]]]:
    return list(statements(store.cur, batch))


def _snapshot(store: World) -> None:
    nodes, rels, _ = plan(store.cur, GID)
    save_snapshot(store.cur, GID, "bolt://test", "neo4j", nodes, rels)


class World:
    """A store and the one connection a load works on (its temp tables live there)."""

    def __init__(self, path: Path) -> None:
        self.store = Store(path)
        self.cur = self.store.con.cursor()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[World]:
    w = World(tricky_world(tmp_path / "t.duckdb"))
    yield w
    w.cur.close()
    w.store.close()


def test_first_load_sends_everything_once_in_batches(store: World) -> None:
    nodes, rels, counts = plan(store.cur, GID)
    assert counts == {"nodes_changed": nodes, "nodes_gone": 0, "rels_changed": rels,
                      "rels_gone": 0}
    sent = _sent(store, batch=2)
    assert all(0 < len(rows) <= 2 for _, _, rows in sent)
    node_keys = [r["key"] for kind, _, rows in sent if kind == "nodes_written" for r in rows]
    rel_keys = [r["key"] for kind, _, rows in sent if kind == "relationships_written" for r in rows]
    assert len(node_keys) == len(set(node_keys)) == nodes
    assert len(rel_keys) == len(set(rel_keys)) == rels
    kinds = [kind for kind, _, _ in sent]
    assert kinds.index("relationships_written") > max(
        i for i, k in enumerate(kinds) if k == "nodes_written")

    by_key = {r["key"]: (cypher, r) for kind, cypher, rows in sent if kind == "nodes_written"
              for r in rows}
    cypher, ds = by_key["doi:10.99999/ds.1"]
    assert cypher == node_upsert_cypher(["Work", "Dataset"])
    assert "SET n:Dataset" in cypher and "REMOVE n:Article:Book" in cypher
    assert ds["props"]["title"] == TRICKY_TITLE and ds["props"]["year"] == 2024
    cypher, ext = by_key["doi:10.88888/not.held"]
    assert "SET n:External" in cypher and ext["props"]["prefix"] == "10.88888"
    supp = [(c, r) for kind, c, rows in sent if kind == "relationships_written" for r in rows
            if r["props"]["relation_type"] == "IsSupplementTo"]
    assert len(supp) == 1
    cypher, row = supp[0]
    assert cypher == rel_upsert_cypher("IS_SUPPLEMENT_TO", "Work")
    assert (row["start"], row["end"]) == ("doi:10.99999/ds.1", "doi:10.99999/art.1")
    assert row["props"]["source"] == "jstage-data" and row["props"]["asserted_by"] == "subject"


def test_second_load_sends_nothing_and_a_change_sends_only_itself(store: World) -> None:
    _snapshot(store)
    assert plan(store.cur, GID)[2] == {"nodes_changed": 0, "nodes_gone": 0, "rels_changed": 0,
                                   "rels_gone": 0}
    assert _sent(store) == []

    store.cur.execute("UPDATE works SET title = 'Corrected' WHERE work_key = 'doi:10.99999/ds.1'")
    plan(store.cur, GID)
    sent = _sent(store)
    assert [(k, [r["key"] for r in rows]) for k, _, rows in sent] == [
        ("nodes_written", ["doi:10.99999/ds.1"])]
    assert sent[0][2][0]["props"]["title"] == "Corrected"


def test_removed_work_becomes_external_or_goes(store: World) -> None:
    _snapshot(store)
    # art.1 is pointed at by others: its node stays, as :Work:External; its own statement goes
    store.cur.execute("DELETE FROM works WHERE doi = '10.99999/art.1'")
    store.cur.execute("DELETE FROM relations WHERE work_key = 'doi:10.99999/art.1'")
    # the preprint is pointed at by nobody: node and its statements go
    store.cur.execute("DELETE FROM works WHERE work_key = 'rec:repo;x,y:oai:repo:2'")
    store.cur.execute("DELETE FROM relations WHERE work_key = 'rec:repo;x,y:oai:repo:2'")
    plan(store.cur, GID)
    sent = _sent(store, batch=100)
    got = Counter(kind for kind, _, rows in sent for _ in rows)
    assert got == {"relationships_deleted": 3, "nodes_deleted": 2, "nodes_written": 1}
    gone = sorted(r["key"] for k, _, rows in sent if k == "nodes_deleted" for r in rows)
    # the preprint and the unresolved target only it pointed at
    assert gone[0] == "raw:doi:10.ABC/日本語 ,\"x\"" and gone[1] == "rec:repo;x,y:oai:repo:2"
    (_kind, cypher, rows), = [s for s in sent if s[0] == "nodes_written"]
    assert rows[0]["key"] == "doi:10.99999/art.1" and "SET n:External" in cypher
    assert rows[0]["props"]["title"] is None  # SET n = props drops the old title


def test_a_wiped_graph_gets_everything_again(store: World) -> None:
    _snapshot(store)
    forget_snapshot(store.cur, GID)
    nodes, rels, counts = plan(store.cur, GID)
    assert counts["nodes_changed"] == nodes and counts["rels_changed"] == rels


def test_relationship_type_names() -> None:
    assert rel_type("IsSupplementTo") == "IS_SUPPLEMENT_TO"
    assert rel_type("HasMetadata") == "HAS_METADATA"
    assert relation_type_of("IS_NEW_VERSION_OF") == "IsNewVersionOf"
    with pytest.raises(ValueError):
        safe_rel_type("X]->() DETACH DELETE (n) //")


def test_query_command_runs_audits_on_duckdb(tmp_path: Path) -> None:
    """`linkgraph query NAME` (DuckDB backend) runs each audit with its preparation; the
    audit world holds a finding for every audit that has a Cypher twin."""
    import json

    from linkgraph.queries import query_names
    from neo4j_worlds import audit_world
    from typer.testing import CliRunner

    from linkgraph.cli import build_app

    db = audit_world(tmp_path / "a.duckdb")
    kinds = set()
    for name in query_names("cypher"):
        res = CliRunner().invoke(build_app(), ["query", name, "--db", str(db), "--json"])
        assert res.exit_code == 0, res.output
        rows = json.loads(res.stdout)
        assert rows and set(rows[0]) == {"kind", "severity", "subject_key", "subject_doi",
                                         "object_doi", "object_raw", "relation_type", "score",
                                         "evidence"}
        kinds |= {r["kind"] for r in rows}
    assert kinds == {"duplicate_url", "identical_pair", "malformed_target", "missing_reciprocal",
                     "same_content", "self_link", "supplement_not_publication", "text_only_link", "unknown_doi",
                     "unverifiable_reciprocal", "version_missing", "version_one_way"}
    res = CliRunner().invoke(build_app(), ["query", "nope", "--db", str(db)])
    assert res.exit_code == 2 and "no query named 'nope'" in res.output


def test_load_without_password_or_terminal_names_the_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No NEO4J_PASSWORD, no config, no terminal: exit 2 naming what to set (it printed a
    getpass warning and "Aborted.")."""
    from typer.testing import CliRunner

    from linkgraph.cli import build_app

    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    monkeypatch.setenv("LINKGRAPH_CONFIG", str(tmp_path / "none.toml"))
    db = tricky_world(tmp_path / "t.duckdb")
    res = CliRunner().invoke(build_app(), ["graph", "neo4j", "load", "--db", str(db)])
    assert res.exit_code == 2, res.output
    assert "NEO4J_PASSWORD" in res.output and "[neo4j]" in res.output
    assert "Aborted" not in res.output and "getpass" not in res.output.lower()


def test_the_audit_world_holds_each_text_link_case(tmp_path: Path) -> None:
    """What the Cypher twin of audit_text_links is compared on (DuckDB side, no server)."""
    from neo4j_worlds import audit_world

    db = audit_world(tmp_path / "t.duckdb")
    with Store(db, read_only=True) as store:
        rows = store.query("SELECT subject_key, object_doi, relation_type, severity FROM findings"
                           " WHERE kind = 'text_only_link' ORDER BY ALL")
    assert rows == [
        ("doi:10.66666/birds.art", "10.77777/birds.c", "IsSupplementedBy", "warning"),
        ("doi:10.66666/birds.art", "10.77777/birds.d", "IsSupplementedBy", "warning"),  # by its CSTR
        ("doi:10.66666/vor.2", "10.12345/ext.1", "References", "info"),  # not held
        ("rec:repo:oai:repo:am.2", "10.66666/vor.3", "IsVersionOf", "warning"),  # no DOI of its own
    ]
