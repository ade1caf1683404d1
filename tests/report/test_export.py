"""`linkgraph export`: what a member opens in Excel or loads in pandas equals the database."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from linkgraph.report.scorecard import scorecard

from linkgraph.report.export import BOM, write_table
from linkgraph.store import open_for_reading

from .conftest import DemoDbs


def linkgraph(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "linkgraph", *args], check=False, capture_output=True,
                          text=True, timeout=120)


def test_excel_csv_reads_back_with_the_japanese_text(demo_dbs: DemoDbs, tmp_path: Path) -> None:
    proc = linkgraph("export", "--db", str(demo_dbs.demo), "--out", str(tmp_path), "--format", "csv", "--excel")
    assert proc.returncode == 0, proc.stderr
    raw = (tmp_path / "scorecard.csv").read_bytes()
    assert raw.startswith(BOM)  # Excel picks UTF-8 only with the BOM
    with open(tmp_path / "scorecard.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open_for_reading(demo_dbs.demo) as store:
        card = scorecard(store)
        titles = dict(store.query("SELECT doi, min(title) FROM works WHERE doi IS NOT NULL GROUP BY doi"))
    assert [(r["level"], r["key"]) for r in rows] == [(r["level"], r["key"]) for r in card.rows]
    member = next(r for r in rows if r["key"] == "須原屋, 茂兵衞")
    assert member["level"] == "member" and member["prefixes"] == "10.20730"
    for got, want in zip(rows, card.rows, strict=True):
        for col in ("works", "datasets", "links_reciprocal", "pct_links_reciprocal", "pct_datasets_linked"):
            if want[col] is None:
                assert got[col] == "", col
            else:
                assert float(got[col]) == float(want[col]), col
    with open(tmp_path / "findings.csv", encoding="utf-8-sig", newline="") as fh:
        findings = list(csv.DictReader(fh))
    japanese = [f for f in findings if any("\u3040" <= ch <= "\u9fff" for ch in f["subject_title"])]
    assert japanese, "the demo's findings include Japanese titles"
    for f in japanese:
        assert f["subject_title"] == titles[f["subject_doi"]]
    assert {f["kind"] for f in findings} >= {"missing_reciprocal", "unknown_doi", "same_content"}


def test_plain_csv_json_and_parquet_equal_the_scorecard_query(demo_dbs: DemoDbs, tmp_path: Path) -> None:
    proc = linkgraph("export", "--db", str(demo_dbs.demo), "--out", str(tmp_path), "--prefix", "10.11501")
    assert proc.returncode == 0, proc.stderr
    with open_for_reading(demo_dbs.demo) as store:
        card = scorecard(store, prefix="10.11501")
    assert not (tmp_path / "scorecard.csv").read_bytes().startswith(BOM)
    assert "Journal of Japanese Field Science" in (tmp_path / "scorecard.csv").read_text(encoding="utf-8")
    assert pq.read_table(tmp_path / "scorecard.parquet").to_pylist() == card.rows
    assert json.loads((tmp_path / "scorecard.json").read_text(encoding="utf-8")) == card.rows
    findings = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert findings and all("10.11501" in (f["subject_prefix"], f["object_prefix"]) for f in findings)
    assert pq.read_table(tmp_path / "findings.parquet").num_rows == len(findings)
    types = pq.read_table(tmp_path / "works_by_type.parquet").to_pylist()
    assert {"level": "prefix", "key": "10.11501", "resource_type": "article", "works": 49} in types


def test_excel_mode_neutralises_formulas_only_there(tmp_path: Path) -> None:
    table = pa.table({"title": ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "研究データ", None], "n": [1, 2, 3, 4]})
    write_table(table, tmp_path / "x.csv", "csv", excel=True)
    write_table(table, tmp_path / "y.csv", "csv")
    with open(tmp_path / "x.csv", encoding="utf-8-sig", newline="") as fh:
        excel = [r["title"] for r in csv.DictReader(fh)]
    with open(tmp_path / "y.csv", encoding="utf-8", newline="") as fh:
        plain = [r["title"] for r in csv.DictReader(fh)]
    assert excel == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "研究データ", ""]
    assert plain == ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "研究データ", ""]


def test_bad_options_are_clear_errors(demo_dbs: DemoDbs, tmp_path: Path) -> None:
    proc = linkgraph("export", "--db", str(demo_dbs.demo), "--out", str(tmp_path), "--format", "xlsx")
    assert proc.returncode == 2 and "unknown export format 'xlsx'" in proc.stderr
    assert not list(tmp_path.iterdir())
    help_text = linkgraph("export", "--help").stdout
    for option in ("--db", "--out", "--table", "--format", "--excel", "--prefix", "--kind"):
        assert option in help_text
