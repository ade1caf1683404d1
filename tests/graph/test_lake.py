"""`linkgraph lake export`: the store as Hive-partitioned Parquet that DuckDB reads back equal to
the store; a second export rewrites only what changed."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from linkgraph.cli import build_app
from linkgraph.crosswalks.pipeline import run_crosswalk
from linkgraph.store import RawRecord, Store

from .conftest import AuditedWorld, datacite_doc

TABLES = ("raw_records", "works", "identifiers", "relations", "problems", "ra_cache", "unknown_dois")


def _export(db: Path, lake: Path) -> dict:
    result = CliRunner().invoke(build_app(), ["lake", "export", str(lake), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _lake_rows(lake: Path, table: str) -> list[tuple]:
    con = duckdb.connect()
    files = str(lake / table / "**" / "data.parquet")
    cols = ", ".join(c for c in _store_columns(table))
    return sorted(con.execute(
        f"SELECT {cols} FROM read_parquet('{files}', hive_partitioning = true, union_by_name = true)"
    ).fetchall(), key=repr)


_COLUMNS: dict[str, list[str]] = {}


def _store_columns(table: str) -> list[str]:
    return _COLUMNS[table]


def test_the_lake_reads_back_as_the_store_and_updates_incrementally(
    audited_world: AuditedWorld, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(audited_world.db, db)
    lake = tmp_path / "lake"
    first = _export(db, lake)
    assert first["written"] == first["partitions"] and first["unchanged"] == 0
    with Store(db, read_only=True) as store:
        for table in TABLES:
            _COLUMNS[table] = [r[0] for r in store.query(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table])]
            want = sorted(store.query(f"SELECT {', '.join(_COLUMNS[table])} FROM {table}"), key=repr)
            assert _lake_rows(lake, table) == want, table
            assert first["rows"][table] == len(want)
        registries = {r[0] for r in store.query(
            "SELECT DISTINCT coalesce(lower(registration_agency), CASE WHEN doi IS NULL THEN 'repository'"
            " ELSE 'unknown' END) FROM works")}
    assert {p.name for p in (lake / "works").iterdir()} == {f"registry={r}" for r in registries}
    assert any(p.name.startswith("month=") for p in (lake / "raw_records").glob("source=*/*"))
    manifest = json.loads((lake / "manifest.json").read_text("utf-8"))
    assert manifest["high_water"]["raw_change_seq"] > 0 and manifest["schema_version"] >= 8

    # nothing changed: nothing written
    again = _export(db, lake)
    assert (again["written"], again["removed"]) == (0, 0) and again["unchanged"] == again["partitions"]

    # one DataCite record added: only the partitions it touches are rewritten
    mtimes = {p: p.stat().st_mtime_ns for p in lake.rglob("data.parquet")}
    doc = datacite_doc("10.80001/lake.new", "A dataset harvested after the export", [])
    with Store(db) as store:
        with store.transaction() as cur:
            Store.upsert_raw(cur, "world-datacite", None, [RawRecord(
                "10.80001/lake.new", datetime(2026, 11, 5, tzinfo=UTC), False, "datacite-json", json.dumps(doc))])
        run_crosswalk(store)
    third = _export(db, lake)
    changed = {p.relative_to(lake).parent.as_posix() for p in lake.rglob("data.parquet")
               if mtimes.get(p) != p.stat().st_mtime_ns}
    assert "works/registry=datacite" in changed and "works/registry=jalc" not in changed
    assert 0 < third["written"] < third["partitions"]
    assert third["rows"]["works"] == first["rows"]["works"] + 1


def test_partition_values_are_escaped_and_a_missing_store_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store, store.transaction() as cur:
        Store.upsert_raw(cur, "odd/source name", None, [RawRecord(
            "r1", datetime(2025, 2, 1, tzinfo=UTC), False, "datacite-json",
            json.dumps(datacite_doc("10.80001/x.1", "X", [])))])
    _export(db, tmp_path / "lake")
    (part,) = (tmp_path / "lake" / "raw_records").iterdir()
    assert part.name == "source=odd%2Fsource%20name"
    con = duckdb.connect()
    got = con.execute(f"SELECT source FROM read_parquet('{tmp_path}/lake/raw_records/**/*.parquet',"
                      " hive_partitioning = true)").fetchall()
    assert got == [("odd/source name",)]
    missing = CliRunner().invoke(build_app(), ["lake", "export", str(tmp_path / "l2"), "--db",
                                               str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2
