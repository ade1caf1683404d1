"""`linkgraph lake crosswalk` and `lake audit` on Spark (local[2], a real JVM): the same tables
as `linkgraph crosswalk` and the same findings as `linkgraph audit`, row for row."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from linkgraph.cli import build_app
from linkgraph.crosswalks.pipeline import TABLES, run_crosswalk
from linkgraph.graph.audit import run_audit
from linkgraph.lake.sparksql import translate
from linkgraph.queries import load_query
from linkgraph.store import RawRecord, Store

from .conftest import AuditedWorld

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime (java on PATH)", allow_module_level=True)

MASTER = "local[2]"
#: two shuffle partitions (the product gives a local master 2 per core, at least 4): the world is
#: small, and the suite has a CI time budget
SMALL = ("--conf", "spark.sql.shuffle.partitions=2")
#: findings columns compared (run_id differs by design: each engine numbers its own runs)
COLUMNS = ("family", "kind", "severity", "subject_key", "subject_doi", "object_doi", "object_raw",
           "relation_type", "subject_registry", "object_registry", "subject_prefix", "object_prefix",
           "subject_source", "object_source", "subject_date", "object_date", "score", "evidence",
           "finding_id", "cluster_id", "fix_owner", "fix_format", "fix_fragment", "fix_valid", "fix_schema")


def _invoke(*args: str) -> dict:
    result = CliRunner().invoke(build_app(), [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _canon(rows: list[tuple]) -> set[tuple]:
    """Evidence as parsed JSON (key order and spacing are the engines' own), instants in UTC."""
    out = set()
    at = COLUMNS.index("evidence")
    for row in rows:
        values = list(row)
        values[at] = json.dumps(json.loads(values[at]), sort_keys=True, ensure_ascii=False)
        values = [v.astimezone(UTC) if isinstance(v, datetime) else v for v in values]
        out.add(tuple(values))
    return out


def _store_findings(db: Path) -> set[tuple]:
    with Store(db, read_only=True) as store:
        cols = ", ".join("evidence::VARCHAR" if c == "evidence" else c for c in COLUMNS)
        return _canon(store.query(f"SELECT {cols} FROM findings"))


def _lake_findings(lake: Path) -> set[tuple]:
    files = str(lake / "findings" / "*" / "*.parquet")
    return _canon(duckdb.sql(f"SELECT {', '.join(COLUMNS)} FROM read_parquet('{files}', hive_partitioning = true)")
                  .fetchall())


def _lake_table(lake: Path, table: str, columns: list[str]) -> list[tuple]:
    files = str(lake / table / "**" / "*.parquet")
    rows = duckdb.sql(f"SELECT {', '.join(columns)} FROM read_parquet('{files}', hive_partitioning = true,"
                      " union_by_name = true)").fetchall()
    return sorted(rows, key=repr)


def test_spark_crosswalk_and_audits_equal_duckdb_on_the_world(audited_world: AuditedWorld, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(audited_world.db, db)
    # records a harvest stores but no reader can read: they become problems on both engines
    bad = [RawRecord("broken-xml", datetime(2024, 5, 1, tzinfo=UTC), False, "oai_datacite", "<resource><unclosed"),
           RawRecord("odd-format", datetime(2024, 5, 1, tzinfo=UTC), False, "no_such_format", "<x/>"),
           RawRecord("gone", datetime(2024, 5, 1, tzinfo=UTC), True, "oai_datacite", "")]
    with Store(db) as store:
        with store.transaction() as cur:
            Store.upsert_raw(cur, "world-broken", None, bad)
        run_crosswalk(store)
        run_audit(store)
    lake = tmp_path / "lake"
    _invoke("lake", "export", str(lake), "--db", str(db))

    crosswalk = _invoke("lake", "crosswalk", str(lake), "--master", MASTER, *SMALL)
    with Store(db, read_only=True) as store:
        assert store.query("SELECT count(*) FROM problems")[0][0] >= 2
        for table in TABLES:
            columns = [r[0] for r in store.query(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table])]
            want = sorted(store.query(f"SELECT {', '.join(columns)} FROM {table}"), key=repr)
            assert _lake_table(lake, table, columns) == want, table
            assert crosswalk["rows"][table] == len(want)
    manifest = json.loads((lake / "manifest.json").read_text())
    assert manifest["crosswalk"]["engine"] == "spark"
    assert not any(p["table"] in TABLES for p in manifest["partitions"])

    summary = _invoke("lake", "audit", str(lake), "--master", MASTER, *SMALL)
    want = _store_findings(db)
    assert len(want) > 50 and {r[1] for r in want} >= {"missing_reciprocal", "version_cycle", "same_content",
                                                       "text_only_link", "malformed_target"}
    assert _lake_findings(lake) == want
    assert summary["findings"] == len(want)
    assert (lake / "findings" / "_run.json").is_file()

    # the report reads the lake's findings in place of the store's
    out = tmp_path / "export"
    _invoke("export", "--db", str(db), "--out", str(out), "--table", "findings", "--format", "json",
            "--findings-from", str(lake))
    exported = json.loads((out / "findings.json").read_text())
    assert len(exported) == len(want)

    # a second export takes the tables back from the store: one data file per partition again
    _invoke("lake", "export", str(lake), "--db", str(db))
    for table in ("works", "relations"):
        assert all(f.name == "data.parquet" for f in (lake / table).rglob("*.parquet")), table
    # --kind replaces that family's findings and keeps the others
    _invoke("lake", "audit", str(lake), "--master", MASTER, *SMALL, "--kind", "targets")
    assert _lake_findings(lake) == want


def test_every_audit_query_has_a_spark_form() -> None:
    """Each DuckDB query file translates; the rewrites the engines need are made."""
    names = ["audit_prepare", "audit_reciprocal", "audit_text_links", "audit_version_missing", "audit_duplicate_url",
             "audit_identical", "audit_same_content", "audit_targets", "audit_enrich", "audit_version_edges",
             "audit_version_prune"]
    params = {"threshold": 0.86, "max_block": 25, "run_id": 1, "family": "targets"}
    text = "\n".join(s.sql for n in names for s in translate(load_query(n), params)).upper()
    assert "JSON_OBJECT" not in text and "TO_JSON(NAMED_STRUCT" in text
    assert "XXHASH64(" in text and " HASH(" not in text
    assert "MATERIALIZED" not in text and "$" not in text
    enrich = translate(load_query("audit_enrich"), params)
    assert [s.action for s in enrich] == ["select"]


def test_spark_jobs_name_a_missing_lake(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["lake", "audit", str(tmp_path)])
    assert result.exit_code == 2
    assert "lake export" in result.output


def test_spark_jobs_say_when_java_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java here
    for command in ("audit", "crosswalk"):
        result = CliRunner().invoke(build_app(), ["lake", command, str(tmp_path)])
        assert result.exit_code == 2, result.output
        assert "Java 17" in result.output
