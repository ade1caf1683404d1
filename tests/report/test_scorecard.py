"""The linkage scorecard (queries/scorecard.sql) against an independent count and the findings."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from linkgraph.crosswalks.vocab import relation_types
from linkgraph.graph.audit import _prepare as prepare_audit_tables
from linkgraph.report.html_report import write_report
from linkgraph.report.scorecard import METRIC_PARTS, scorecard, trend

from linkgraph.errors import UsageError
from linkgraph.store import Store, open_for_reading

from .conftest import FIXED_ARTICLE, FIXED_SUBJECT, DemoDbs


def _pct(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def independent_prefix_scores(db: Path) -> dict[str, dict[str, float | None]]:
    """The four percentages per prefix recomputed in Python from the stored tables."""
    inverse = relation_types()
    with open_for_reading(db) as store:
        run = store.query("SELECT max(run_id) FROM audit_runs WHERE links IS NOT NULL")[0][0]
        links = {(s, r, t) for s, r, t in store.query(
            "SELECT subject_doi, relation_type, target FROM link_snapshots WHERE run_id = ?", [run])}
        # a DOI held by several sources has the type of the record the audits judge (audit_works)
        cur = store.con.cursor()
        prepare_audit_tables(cur)
        types = {d: {t} for d, t in cur.execute("SELECT doi, resource_type FROM audit_works WHERE doi IS NOT NULL")
                 .fetchall()}
        cur.close()
        unknown = {d for (d,) in store.query(
            "SELECT doi FROM unknown_dois WHERE reason IN ('prefix-unknown', 'not-found')")}
        citing = store.query(  # reference lists and References / Cites relations, as held now
            "SELECT subject_doi, target FROM relations WHERE relation_type IN ('References', 'Cites')"
            " AND target_scheme = 'doi' AND asserted_by <> 'text'")
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s, r, t in links:
        p = per[s.split("/")[0]]
        p["links"] += 1
        p["typed"] += r not in ("Other", "IsRelatedTo")
        if inverse.get(r) and r != "Other" and s != t and t in types:
            p["checkable"] += 1
            p["reciprocal"] += (t, inverse[r], s) in links
    targets = {(s, t) for s, _r, t in links}
    for s, t in targets:
        per[s.split("/")[0]]["targets"] += 1
        per[s.split("/")[0]]["resolving"] += t not in unknown
    linked = {d for s, _r, t in links for d, other in ((s, t), (t, s))
              if "dataset" in types.get(d, ()) and "article" in types.get(other, ()) and d != other}
    cited = {t for s, t in citing if "dataset" in types.get(t, ())
             and types.get(s, set()) & {"article", "preprint"}}
    for doi, ts in types.items():
        if "dataset" in ts:
            per[doi.split("/")[0]]["datasets"] += 1
            per[doi.split("/")[0]]["linked"] += doi in linked
            per[doi.split("/")[0]]["cited"] += doi in cited
    return {prefix: {
        "pct_links_typed": _pct(c["typed"], c["links"]),
        "pct_links_reciprocal": _pct(c["reciprocal"], c["checkable"]),
        "pct_targets_resolving": _pct(c["resolving"], c["targets"]),
        "pct_datasets_linked": _pct(c["linked"], c["datasets"]),
        "pct_datasets_cited": _pct(c["cited"], c["datasets"]),
    } for prefix, c in per.items()}


def test_prefix_scores_equal_an_independent_count(demo_dbs: DemoDbs) -> None:
    expected = independent_prefix_scores(demo_dbs.demo)
    with open_for_reading(demo_dbs.demo) as store:
        card = scorecard(store, level="prefix")
    assert {r["key"] for r in card.rows} >= {"10.11501", "10.5555", "10.80001", "10.57400"}
    for row in card.rows:
        want = expected.get(row["key"], dict.fromkeys(METRIC_PARTS))
        got = {m: (float(row[m]) if row[m] is not None else None) for m in METRIC_PARTS}
        assert got == want, row["key"]
    # the world's datasets are partly linked with articles: the metric is neither 0 nor 100
    assert 0 < card.row("prefix", "10.80001")["pct_datasets_linked"] < 100


def test_one_way_links_are_the_reciprocal_findings(demo_dbs: DemoDbs) -> None:
    """What the scorecard counts as one-way is exactly what the fix list shows, per prefix."""
    with open_for_reading(demo_dbs.demo) as store:
        card = scorecard(store, level="prefix")
        by_kind = defaultdict(int)
        for prefix, kind, n in store.query(
                "SELECT subject_prefix, kind, count(*) FROM findings WHERE family = 'reciprocal' GROUP BY ALL"):
            by_kind[(prefix, kind)] = n
        dups = defaultdict(set)
        for doi in store.query("SELECT subject_doi FROM findings WHERE family = 'duplicates' UNION "
                               "SELECT object_doi FROM findings WHERE family = 'duplicates'"):
            if doi[0]:
                dups[doi[0].split("/")[0]].add(doi[0])
    assert sum(r["links_checkable"] - r["links_reciprocal"] for r in card.rows) > 0
    for r in card.rows:
        p = r["key"]
        assert r["links_checkable"] - r["links_reciprocal"] == (
            by_kind[(p, "missing_reciprocal")] + by_kind[(p, "version_one_way")]), p
        assert r["links_unverifiable"] == by_kind[(p, "unverifiable_reciprocal")], p
        assert r["duplicate_dois"] == len(dups[p]), p


def test_member_and_journal_levels_carry_japanese_names(demo_dbs: DemoDbs) -> None:
    with open_for_reading(demo_dbs.demo) as store:
        card = scorecard(store)
    members = {r["key"] for r in card.level("member")}
    assert "須原屋, 茂兵衞" in members and "World Data Repository" in members
    journals = card.level("journal")
    assert {"Journal of Japanese Field Science", "Int. J. Field Sci."} <= {r["key"] for r in journals}
    prefix_works = sum(r["works"] for r in card.level("prefix"))
    assert sum(r["works"] for r in card.level("member")) == prefix_works  # every DOI in one member group
    assert card.types_by_group()[("prefix", "10.80001")] == {"dataset": 44}


def test_trend_after_a_member_deposits_the_missing_link(demo_dbs: DemoDbs) -> None:
    with open_for_reading(demo_dbs.demo) as store:
        before = scorecard(store, level="prefix").row("prefix", "10.80001")
    with open_for_reading(demo_dbs.two_runs) as store:
        card = scorecard(store, level="prefix")
        left = store.query("SELECT count(*) FROM findings WHERE subject_doi = ? AND object_doi = ?",
                           [FIXED_SUBJECT, FIXED_ARTICLE])[0][0]
    after = card.row("prefix", "10.80001")
    assert (card.run_id, card.prev_run_id) == (2, 1)
    assert left == 0
    assert after["links_reciprocal"] == before["links_reciprocal"] + 1
    assert after["prev_pct_links_reciprocal"] == before["pct_links_reciprocal"]
    assert trend(after, "pct_links_reciprocal") == round(after["pct_links_reciprocal"] - before["pct_links_reciprocal"], 1) > 0
    unchanged = card.row("prefix", "10.57400")
    assert trend(unchanged, "pct_links_reciprocal") == 0


def test_prefix_filter_and_an_unaudited_store(demo_dbs: DemoDbs, tmp_path: Path) -> None:
    with open_for_reading(demo_dbs.demo) as store:
        card = scorecard(store, prefix="10.11501")
    assert {(r["level"], r["key"]) for r in card.rows} >= {("prefix", "10.11501"),
                                                          ("journal", "Journal of Japanese Field Science")}
    assert all("10.11501" in r["prefixes"].split(", ") for r in card.rows)
    with Store(tmp_path / "empty.duckdb") as store:
        empty = scorecard(store)
        write_report(store, tmp_path / "empty.html")
    assert empty.rows == [] and empty.run_id is None
    assert "No audit has run yet" in (tmp_path / "empty.html").read_text(encoding="utf-8")
    with open_for_reading(demo_dbs.demo) as store, pytest.raises(UsageError, match="unknown scorecard level"):
        scorecard(store, level="country")


def test_report_command_help_and_output(demo_dbs: DemoDbs, tmp_path: Path) -> None:
    out = tmp_path / "members" / "10.11501.html"
    proc = subprocess.run([sys.executable, "-m", "linkgraph", "report", "--db", str(demo_dbs.demo), "--out", str(out),
                           "--prefix", "10.11501", "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["out"] == str(out) and summary["run_id"] == 1 and summary["by_kind"]["missing_reciprocal"] == 4  # 2 stated by 10.11501, 2 towards it
    page = out.read_text(encoding="utf-8")
    assert "prefix 10.11501" in page and 'data-key="10.5555"' not in page
    helptext = subprocess.run([sys.executable, "-m", "linkgraph", "report", "--help"], capture_output=True,
                              text=True, timeout=120, check=False).stdout
    for option in ("--db", "--out", "--prefix", "--max-findings", "--json"):
        assert option in helptext


def test_a_partial_audit_is_never_the_trend_baseline(demo_dbs: DemoDbs, tmp_path: Path) -> None:
    import shutil

    from linkgraph.graph.audit import run_audit
    from linkgraph.store import Store

    db = tmp_path / "p.duckdb"
    shutil.copy(demo_dbs.two_runs, db)
    with Store(db) as store:
        partial = run_audit(store, ["reciprocal"]).run_id
        full = run_audit(store).run_id
    with open_for_reading(db) as store:
        card = scorecard(store, level="prefix")
    assert (card.run_id, card.prev_run_id) == (full, 2) and partial == 3
    row = card.row("prefix", "10.80001")
    assert row["prev_run_id"] == 2 and trend(row, "pct_links_reciprocal") == 0


def test_the_trend_baseline_names_every_audit_family() -> None:
    """audit_trend_runs (audit_prepare.sql) calls a run full when it ran these families."""
    from linkgraph.graph.audit import FAMILIES
    from linkgraph.queries import load_query

    assert f"list_has_all(kinds, {list(FAMILIES)!r})" in load_query("audit_prepare")
