"""The bulk pipeline on a real DuckDB file, and the CLI commands through typer's CliRunner."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from linkgraph.crosswalks.pipeline import TABLES, run_crosswalk
from typer.testing import CliRunner

from linkgraph.cli import build_app
from linkgraph.store import RawRecord, Store

from .helpers import SHARED

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _raw(record_id: str, fmt: str, path: str, when: datetime = T0) -> RawRecord:
    return RawRecord(record_id, when, False, fmt, (SHARED / path).read_text("utf-8"))


def _load(store: Store, source: str, records: list[RawRecord]) -> None:
    with store.transaction() as cur:
        Store.upsert_raw(cur, source, None, records)


def _seed(store: Store) -> None:
    _load(store, "crossref", [
        _raw("10.7554/elife.01567", "crossref-json", "crossref/work_10.7554_elife.01567.json"),
        _raw("page-1", "crossref-json", "crossref/works_list_filter_prefix_type.json"),
    ])
    _load(store, "datacite", [
        _raw("10.5281/zenodo.28518", "datacite-json",
             "datacite/rest_doi_zenodo.28518_IsSupplementTo_IsVersionOf.json"),
    ])
    _load(store, "utokyo", [
        RawRecord("oai:x:1", T0, False, "jpcoar_2.0",
                  (SHARED / "jpcoar/sample_2.0_04_journal_article_accepted_embargoed.xml").read_text()),
        RawRecord("oai:x:2", T0, False, "jpcoar_2.0", "<jpcoar:jpcoar broken"),
        RawRecord("oai:x:3", T0, False, "marc21", "<record/>"),
    ])


def test_crosswalk_incremental_tombstone_rebuild(tmp_path: Path) -> None:
    db = tmp_path / "lg.duckdb"
    with Store(db) as store:
        _seed(store)
        stats = run_crosswalk(store, batch_size=2)
        assert stats.raw_records == 6
        assert stats.works == 1 + 20 + 1 + 1
        assert store.query("SELECT count(*) FROM works")[0][0] == 23
        # the repository item without DOI is keyed by (source, record id)
        assert store.query(
            "SELECT work_key, version, doi FROM works WHERE source = 'utokyo'"
        ) == [("rec:utokyo:oai:x:1", "AM", None)]
        rels = store.query(
            "SELECT relation_type, raw_type, target, asserted_by FROM relations "
            "WHERE record_id = '10.7554/elife.01567' AND asserted_by <> 'reference' ORDER BY target"
        )
        cited = [t for (t,) in store.query(
            "SELECT target FROM relations WHERE record_id = '10.7554/elife.01567' "
            "AND asserted_by = 'reference' AND relation_type = 'References'")]
        assert len(cited) == 27 and "10.5061/dryad.b835k" in cited  # its reference list
        assert rels == [
            ("IsSupplementedBy", "is-supplemented-by", "10.5061/dryad.b835k", "subject"),
            ("IsReviewedBy", "has-review", "10.7554/elife.01567.016", "object"),
            ("IsReviewedBy", "has-review", "10.7554/elife.01567.017", "object"),
            ("IsPublishedIn", "issn", "2050-084X", "subject"),  # the journal, as the container
        ]
        problems = dict(store.query(
            "SELECT record_id, problem FROM problems WHERE source = 'utokyo'"
        ))
        assert problems["oai:x:2"].startswith("malformed XML")
        assert "no reader for metadata format 'marc21'" in problems["oai:x:3"]
        titles = store.query(
            "SELECT titles[1].text, titles[1].lang, creators[1].orcid FROM works WHERE source='utokyo'"
        )
        assert titles == [("情報爆発時代の研究基盤構想", "ja", "0000-0001-0002-0003")]

        # nothing new: nothing done
        assert run_crosswalk(store).raw_records == 0

        # a changed record replaces its rows, a tombstone removes them
        later = T0 + timedelta(days=1)
        _load(store, "crossref", [
            RawRecord("10.7554/elife.01567", later, True, "crossref-json", None),
            _raw("page-1", "crossref-json", "crossref/work_10.7554_elife.55167.sa2_is-review-of.json", later),
        ])
        stats = run_crosswalk(store)
        assert (stats.raw_records, stats.deleted, stats.works) == (2, 1, 1)
        assert store.query("SELECT count(*) FROM works WHERE source = 'crossref'")[0][0] == 1
        assert store.query("SELECT count(*) FROM relations WHERE record_id = '10.7554/elife.01567'")[0][0] == 0

        # rebuild gives the same tables as the incremental runs
        before = store.query("SELECT source, record_id, work_seq, doi FROM works ORDER BY ALL")
        stats = run_crosswalk(store, rebuild=True)
        assert stats.raw_records == 6
        assert store.query("SELECT source, record_id, work_seq, doi FROM works ORDER BY ALL") == before
        assert store.query("SELECT count(*) FROM crosswalk_runs")[0][0] == 4


def _output(store: Store) -> dict[str, list[tuple[object, ...]]]:
    tables = {t: store.query(f"SELECT * FROM {t} ORDER BY ALL") for t in TABLES}
    tables["high_water"] = store.query("SELECT high_water FROM crosswalk_state")
    return tables


def test_worker_processes_write_what_one_process_writes(tmp_path: Path) -> None:
    with Store(tmp_path / "one.duckdb") as store:
        _seed(store)
        assert run_crosswalk(store, workers=0).workers == 1  # auto: too few records for workers
        expected = _output(store)
    assert len(expected["works"]) == 23 and expected["problems"]
    db = tmp_path / "many.duckdb"
    with Store(db) as store:
        _seed(store)
    # one record per batch: the writer takes six batches from two processes, four in flight
    res = CliRunner().invoke(build_app(), ["crosswalk", "--db", str(db), "--workers", "2",
                                           "--batch-size", "1", "--json"])
    assert res.exit_code == 0, res.output
    stats = json.loads(res.stdout)
    assert (stats["workers"], stats["pending"], stats["raw_records"], stats["works"]) == (2, 6, 6, 23)
    with Store(db) as store:
        assert _output(store) == expected


def test_cli_crosswalk_report_and_convert(tmp_path: Path) -> None:
    db = tmp_path / "lg.duckdb"
    with Store(db) as store:
        _seed(store)
    runner = CliRunner()
    app = build_app()
    res = runner.invoke(app, ["crosswalk", "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["works"] == 23
    res = runner.invoke(app, ["crosswalk", "report", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "is-supplemented-by" in res.stdout and "0 unmapped without a problem" in res.stdout
    res = runner.invoke(app, ["crosswalk", "report", "--db", str(db), "--json"])
    rows = json.loads(res.stdout)
    assert {"source_format": "jpcoar", "raw_type": "isVersionOf", "relation_type": "IsVersionOf",
            "kind": "exact", "count": 1, "with_problem": 0, "target_lost": 0} in rows

    res = runner.invoke(app, ["convert", str(SHARED / "jpcoar/oai_getrecord_utokyo_jpcoar_1.0_49042.xml")])
    assert res.exit_code == 0, res.output
    (rec,) = json.loads(res.stdout)
    assert rec["record_id"] == "oai:repository.dl.itc.u-tokyo.ac.jp:00049042"
    assert rec["relations"][0]["target"] == "10.22151/politikon.34.4"
    res = runner.invoke(app, ["convert", "--format", "oai_datacite",
                              str(SHARED / "datacite/kernel4_example_dataset.xml")])
    assert res.exit_code == 0 and json.loads(res.stdout)[0]["doi"] == "10.82433/9184-dy35"
    res = runner.invoke(app, ["convert", str(SHARED / "oai-pmh/eur_dspace_getrecord_deleted_2004.xml")])
    assert json.loads(res.stdout)[0]["deleted"] is True
    res = runner.invoke(app, ["convert", "--format", "marc21", str(SHARED / "jalc/lod_rdf_sample_1.xml")])
    assert res.exit_code == 2 and "unknown metadata format" in res.output
    res = runner.invoke(app, ["convert", str(SHARED / "other/doi_org_ra_not_found.json")])
    assert res.exit_code == 2 and "JSON payload" in res.output


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.update(int(c) for c in (task / "children").read_text().split())
    except OSError:
        pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_worker_processes_die_with_a_killed_crosswalk(tmp_path: Path) -> None:
    """SIGKILL the crosswalk while its readers work: no reader process outlives it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    db = tmp_path / "w.duckdb"
    page = (SHARED / "jpcoar/sample_2.0_04_journal_article_accepted_embargoed.xml").read_text()
    with Store(db) as store:
        _load(store, "repo", [RawRecord(f"oai:x:{i}", T0, False, "jpcoar_2.0", page) for i in range(30_000)])
    proc = subprocess.Popen([sys.executable, "-m", "linkgraph", "crosswalk", "--db", str(db), "--workers", "2",
                             "--batch-size", "200", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
        workers = {c for c in _children(proc.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()}
        time.sleep(0.1)
    assert len(workers) >= 2, "the workers did not start"
    time.sleep(1.0)  # mid-batch
    everyone = _children(proc.pid) | workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in everyone):
        time.sleep(0.1)
    assert not [p for p in everyone if _alive(p)], "processes outlived their killed parent"
