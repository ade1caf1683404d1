"""`linkgraph audit` and `linkgraph audit diff` as a user runs them (subprocesses, real files)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
from linkgraph.graph.audit import run_audit
from linkgraph.replay.world import generate
from linkgraph.replay.world_formats import oai_datacite
from linkgraph.replay.world_serve import harvest_world, world_apps
from linkgraph.replay.server import ReplayServer

from linkgraph.store import Store

from .conftest import AuditedWorld, datacite_doc, store_records

COLUMNS = {"kind", "severity", "subject_doi", "object_doi", "relation_type", "subject_registry",
           "object_registry", "subject_prefix", "object_prefix", "subject_date", "object_date", "evidence",
           "fix_format", "fix_fragment"}


def linkgraph(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}  # a wide terminal: rich tables are not cut
    proc = subprocess.run([sys.executable, "-m", "linkgraph", *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"linkgraph {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_audit_exports_csv_json_parquet(audited_world: AuditedWorld, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(audited_world.db, db)
    out = tmp_path / "out"
    proc = linkgraph("audit", "--db", str(db), "--out", str(out), "--json")
    summary = json.loads(proc.stdout)
    n = summary["findings"]
    assert n > 0 and set(summary["exported"]) == {"csv", "json", "parquet"}
    with open(out / "findings.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n and COLUMNS <= set(rows[0])
    doc = json.loads((out / "findings.json").read_text("utf-8"))
    assert len(doc) == n and all(isinstance(d["evidence"], dict) for d in doc)
    table = pq.read_table(out / "findings.parquet")
    assert table.num_rows == n and COLUMNS <= set(table.column_names)


def test_audit_kind_selects_a_family_and_rejects_unknown(audited_world: AuditedWorld, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(audited_world.db, db)
    summary = json.loads(linkgraph("audit", "--db", str(db), "--kind", "same_content", "--json").stdout)
    assert summary["families"] == ["duplicates"]
    assert set(summary["counts"]) == {"duplicate_url", "identical_pair", "same_content"}
    bad = linkgraph("audit", "--db", str(db), "--kind", "nonsense", check=False)
    assert bad.returncode == 2 and "unknown audit kind 'nonsense'" in bad.stderr


def test_every_option_has_help() -> None:
    for cmd in (["audit"], ["audit", "diff"]):
        text = linkgraph(*cmd, "--help").stdout
        for option in (["--db", "--out", "--kind", "--format", "--keep-snapshots", "--json"] if cmd == ["audit"]
                       else ["--db", "--old", "--new", "--appeared", "--limit", "--json"]):
            assert option in text, (cmd, option)


def test_diff_lists_links_that_disappeared_or_changed_type(tmp_path: Path) -> None:
    """Between two audit runs a J-STAGE Data record changes upstream: one link changes type,
    another record drops its link. `audit diff` names both, with the source that stated them."""
    db = tmp_path / "w.duckdb"
    world = generate(seed=3)
    apps = world_apps(world)
    changed, dropped = [w for w in world.by_registry("jstage-data") if w.relations][:2]
    with ReplayServer(apps=apps) as server, Store(db) as store:
        harvest_world(store, server)
        run_audit(store)
        was = changed.relations[0]
        changed.relations[0] = ("IsReferencedBy", was[1])
        lost = dropped.relations.pop(0)
        later = datetime.now(UTC).replace(microsecond=0)
        figshare = apps["/figshare"].corpus  # type: ignore[attr-defined]
        for w in (changed, dropped):
            figshare.update(w.record_id, later, {"oai_datacite": oai_datacite(w)})
        harvest_world(store, server)
        run_audit(store)
    doc = json.loads(linkgraph("audit", "diff", "--db", str(db), "--json").stdout)
    got = {(c["change"], c["subject_doi"], c["target"]): c for c in doc["changes"]}
    hit = got[("changed_type", changed.doi, was[1])]
    assert hit["old_types"] == [was[0]] and hit["new_types"] == ["IsReferencedBy"]
    assert hit["source"] == "world-figshare:portal_999"
    assert ("disappeared", dropped.doi, lost[1]) in got
    assert len(doc["changes"]) == 2
    table = linkgraph("audit", "diff", "--db", str(db)).stdout
    assert "changed_type" in table and "disappeared" in table


def test_diff_needs_two_runs(db_path: Path) -> None:
    store_records(db_path, "dc", "datacite-json", [("10.80001/x", datacite_doc("10.80001/x", "X", []))])
    with Store(db_path) as store:
        run_audit(store)
    proc = linkgraph("audit", "diff", "--db", str(db_path), check=False)
    assert proc.returncode == 2 and "run `linkgraph audit` again" in proc.stderr


def test_only_the_newest_snapshots_are_kept(db_path: Path) -> None:
    store_records(db_path, "dc", "datacite-json", [
        ("10.80001/a", datacite_doc("10.80001/a", "A dataset", [("IsSupplementTo", "10.80001/b")])),
        ("10.80001/b", datacite_doc("10.80001/b", "B dataset", []))])
    with Store(db_path) as store:
        runs = [run_audit(store, ["targets"], keep_snapshots=2).run_id for _ in range(3)]
        kept = store.query("SELECT DISTINCT run_id FROM link_snapshots ORDER BY 1")
    assert kept == [(runs[1],), (runs[2],)]
    proc = linkgraph("audit", "diff", "--db", str(db_path), "--old", str(runs[0]), check=False)
    assert proc.returncode == 2 and "no link snapshot for audit run" in proc.stderr
    doc = json.loads(linkgraph("audit", "diff", "--db", str(db_path), "--json").stdout)
    assert (doc["old_run"], doc["new_run"], doc["changes"]) == (runs[1], runs[2], [])
