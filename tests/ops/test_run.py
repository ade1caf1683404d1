"""`linkgraph run` as cron would drive it: schedule, exit codes, JSON logs, history in status,
one run at a time, readers during a harvest, secrets kept out of every output, retention."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from linkgraph.store import open_for_reading

from .ops_helpers import (
    EXIT_BUSY,
    World,
    json_lines,
    linkgraph,
    start_run,
    stored_ids,
    write_config,
)


def test_run_harvests_crosswalks_audits_then_skips_what_is_not_due(tmp_path: Path) -> None:
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    with World() as world:
        write_config(cfg, world.sources("repo", "dc", "jalc"))
        first = start_run(cfg, db, "--json")
        out, err = first.communicate(timeout=90)
        assert first.returncode == 0, err
        report = json.loads(out)
        assert {n: s["status"] for n, s in report["sources"].items()} == {"repo": "ok", "dc": "ok", "jalc": "ok"}
        assert report["crosswalk"]["works"] > 0 and report["audit"]["findings"] >= 0
        assert stored_ids(db, "repo") == world.served_oai()
        assert stored_ids(db, "dc") == world.served_rest("/datacite")
        events = json_lines(err)
        assert all({"time", "level", "source", "event"} <= set(e) for e in events)
        done = {e["source"]: e for e in events if e["event"] == "source-done"}
        assert done["repo"]["records"] == len(world.served_oai())
        assert [e["event"] for e in events][-1] == "run-done"
        # second run: repo and jalc say every = "1d" -> skipped; dc has no hint -> incremental
        again = start_run(cfg, db, "--json")
        out, err = again.communicate(timeout=90)
        assert again.returncode == 0, err
        second = json.loads(out)["sources"]
        assert second["repo"]["status"] == second["jalc"]["status"] == "skipped"
        assert "not due" in second["repo"]["reason"] and second["dc"]["status"] == "ok"
        forced = start_run(cfg, db, "--json", "--force", "--source", "repo")
        out, err = forced.communicate(timeout=90)
        assert forced.returncode == 0 and list(json.loads(out)["sources"]) == ["repo"], err
    history = json.loads(linkgraph("status", "--db", str(db), "--history", "--json").stdout)
    assert [h["status"] for h in history] == ["ok", "ok", "ok"]
    assert history[1]["sources_skipped"] == 2
    text = linkgraph("status", "--db", str(db)).stdout
    assert "recent `linkgraph run`s" in text


def test_one_failing_source_does_not_stop_the_others(tmp_path: Path) -> None:
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    with World(oai_faults="500@1x0") as world:  # the repository answers 500 to every list request
        write_config(cfg, world.sources("repo", "dc"))
        proc = start_run(cfg, db, "--json")
        out, err = proc.communicate(timeout=90)
    assert proc.returncode == 1
    report = json.loads(out)
    assert report["sources"]["repo"]["status"] == "failed" and "500" in report["sources"]["repo"]["error"]
    assert report["sources"]["dc"]["status"] == "ok"
    assert stored_ids(db, "dc") == world.served_rest("/datacite")
    failed = [e for e in json_lines(err) if e["event"] == "source-failed"]
    assert failed and failed[0]["source"] == "repo" and failed[0]["level"] == "error"
    status = {r["source"]: r for r in json.loads(linkgraph("status", "--db", str(db), "--json").stdout)}
    assert status["repo"]["last_status"] == "failed" and status["dc"]["last_status"] == "ok"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "lg.toml", {"j": {"kind": "jalc", "prefix": "10.11111"}})
    unknown = linkgraph("run", "--config", str(cfg), "--db", str(tmp_path / "x.duckdb"), "--source", "nope")
    assert unknown.returncode == 2 and "no source named 'nope'" in unknown.stderr
    fmt = linkgraph("run", "--config", str(cfg), "--db", str(tmp_path / "x.duckdb"), "--log-format", "xml")
    assert fmt.returncode == 2 and "--log-format" in fmt.stderr


def test_two_runs_at_once_exactly_one_harvests_and_a_reader_is_never_blocked(tmp_path: Path) -> None:
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    with World(oai_records=300, oai_latency=80) as world:  # ~15 pages x 80 ms: a few seconds of harvest
        write_config(cfg, world.sources("repo", "dc"))
        a = start_run(cfg, db, "--json")
        time.sleep(0.3)
        b = start_run(cfg, db, "--json")
        _, err_b = b.communicate(timeout=60)
        assert b.returncode == EXIT_BUSY
        assert "another linkgraph writer holds" in err_b and "--wait" in err_b and "pid" in err_b
        assert json_lines(err_b)[-1]["event"] == "run-refused"
        # readers while the harvest writes: status and a notebook-style query both succeed
        deadline = time.monotonic() + 30
        while a.poll() is None and not (tmp_path / "lg.snapshot.duckdb").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert a.poll() is None, "the harvest ended before the readers could run: slow the server down"
        status = linkgraph("status", "--db", str(db), "--json")
        assert status.returncode == 0, status.stderr
        code = ("from linkgraph.store import open_for_reading\n"
                f"with open_for_reading({str(db)!r}, long_lived=True) as s:\n"
                "    print(s.query('SELECT count(*) FROM raw_records')[0][0])\n")
        reader = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
        assert reader.returncode == 0, reader.stderr
        out_a, err_a = a.communicate(timeout=90)
        assert a.returncode == 0, err_a
        assert json.loads(out_a)["sources"]["repo"]["records"] == len(world.served_oai())
        # a second run told to wait gets its turn once the first is done
        c = start_run(cfg, db, "--json", "--wait", "30")
        d = start_run(cfg, db, "--json", "--wait", "30")
        assert c.wait(timeout=90) == 0 and d.wait(timeout=90) == 0
    with open_for_reading(db) as store:  # the snapshot is current after a run
        assert Path(store.path).name == "lg.snapshot.duckdb"
        assert store.query("SELECT count(*) FROM job_runs WHERE status = 'ok'")[0][0] == 3


def test_manual_writers_while_run_writes_exit_75_or_wait_and_the_database_stays_whole(tmp_path: Path) -> None:
    """A hand-run `audit`, `harvest` or `crosswalk` while the scheduled run writes: refused with
    exit 75 (or, told to wait, run after it); the database opens afterwards and holds what a
    sequential run gives."""
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    with World(oai_records=600, oai_latency=150) as world:  # ~30 pages x 150 ms
        write_config(cfg, world.sources("repo", "dc"))
        run = start_run(cfg, db, "--json")
        deadline = time.monotonic() + 20
        while not (tmp_path / "lg.duckdb.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert run.poll() is None, "the run ended before the manual commands: slow the server down"
        refused = [subprocess.Popen([sys.executable, "-m", "linkgraph", *args, "--db", str(db)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for args in (("audit",), ("crosswalk",), ("harvest", "oai", world.oai.url, "--prefix", "oai_dc"))]
        outcomes = [(p.wait(timeout=60), p.communicate()[1]) for p in refused]
        waited = subprocess.Popen([sys.executable, "-m", "linkgraph", "audit", "--db", str(db), "--wait", "60",
                                   "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert run.wait(timeout=90) == 0, run.stderr.read() if run.stderr else ""
        out, err = waited.communicate(timeout=90)
        assert waited.returncode == 0, err
    for code, stderr in outcomes:
        assert code == EXIT_BUSY, stderr
        assert "another linkgraph writer holds" in stderr and "Traceback" not in stderr
    with duckdb.connect(str(db), read_only=True) as con:  # opens: no torn WAL
        assert con.execute("SELECT count(*) FROM audit_runs").fetchone()[0] == 2  # the run's and the waiter's
        assert {r[0] for r in con.execute("SELECT record_id FROM raw_records WHERE source = 'repo'").fetchall()} \
            == world.served_oai()
        findings = con.execute("SELECT count(*) FROM findings").fetchone()[0]
    # a sequential run of the same world gives the same findings
    seq_db = tmp_path / "seq.duckdb"
    with World(oai_records=600) as again:
        write_config(cfg, again.sources("repo", "dc"))
        assert start_run(cfg, seq_db).wait(timeout=90) == 0
    with duckdb.connect(str(seq_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM findings").fetchone()[0] == findings


def test_a_reader_holding_the_file_delays_the_run_but_does_not_fail_it(tmp_path: Path) -> None:
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    with World() as world:
        write_config(cfg, world.sources("dc"))
        assert start_run(cfg, db).wait(timeout=60) == 0
        holder = subprocess.Popen([sys.executable, "-c", (
            "import duckdb, time, sys\n"
            f"c = duckdb.connect({str(db)!r}, read_only=True)\nprint('open', flush=True)\ntime.sleep(2)\n")],
            stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        t0 = time.monotonic()
        proc = start_run(cfg, db, "--force")
        _, err = proc.communicate(timeout=90)
        holder.wait(timeout=10)
    assert proc.returncode == 0, err
    assert time.monotonic() - t0 >= 1.0  # it waited for the reader, then ran


def test_credentials_never_appear_in_output_logs_or_store(tmp_path: Path) -> None:
    token, password = "plus-TOKEN-9f8e7d6c5b4a", "neo4j-PASS-1a2b3c4d"
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    env = {"CROSSREF_PLUS_TOKEN": token, "NEO4J_PASSWORD": password}
    from linkgraph.replay.server import ReplayServer, Request, Response

    class EchoingRegistry:
        """A hostile server that quotes the request's headers back in its error page."""

        def is_page(self, request: Request) -> bool:
            return True

        def has_token(self, request: Request) -> bool:
            return False

        def handle(self, request: Request) -> Response:
            echoed = "; ".join(f"{k}: {v}" for k, v in request.headers.items() if "token" in k.lower())
            return Response(400, f"bad request, you sent {echoed}".encode(), "text/plain")

    with World() as world, ReplayServer(apps={"/crossref": EchoingRegistry()}) as echo:
        sources = world.sources("dc")
        sources["cr"] = {"kind": "crossref", "base_url": echo.url_for("/crossref"), "prefix": "10.99999",
                         "token_env": "CROSSREF_PLUS_TOKEN", "retries": 0}
        text = write_config(cfg, sources).read_text() + '\n[neo4j]\nuri = "bolt://127.0.0.1:1"\npassword_env = "NEO4J_PASSWORD"\n'
        cfg.write_text(text)
        outputs = []
        for fmt in ("json", "text"):
            r = linkgraph("run", "--config", str(cfg), "--db", str(db), "--log-format", fmt, "--json", "--force", env=env)
            assert r.returncode == 1, r.stderr  # cr failed, dc fine
            assert "Crossref-Plus-API-Token" in r.stderr and "***" in r.stderr  # the echo happened, redacted
            outputs += [r.stdout, r.stderr]
        for args in (["status"], ["status", "--json"], ["status", "--history", "--json"]):
            outputs.append(linkgraph(*args, "--db", str(db), env=env).stdout)
        outputs.append(linkgraph("sources", "list", "--config", str(cfg), "--json", env=env).stdout)
        outputs.append(linkgraph("config", "check", "--config", str(cfg), "--json", env=env).stdout)
    for text in outputs:
        assert token not in text and password not in text
    con = duckdb.connect(str(db), read_only=True)
    try:
        for table in ("harvest_runs", "harvest_problems", "job_runs", "job_log", "sources"):
            dump = repr(con.execute(f"SELECT * FROM {table}").fetchall())
            assert token not in dump and password not in dump, table
    finally:
        con.close()


def test_retention_prunes_history_but_keeps_the_incremental_marks(tmp_path: Path) -> None:
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    with World() as world:
        write_config(cfg, world.sources("dc", "jalc"))
        for _ in range(4):
            assert start_run(cfg, db, "--force").wait(timeout=60) == 0
        dry = linkgraph("retention", "--keep-runs", "1", "--keep-days", "0", "--dry-run", "--json",
                        "--db", str(db), "--config", str(cfg))
        assert dry.returncode == 0, dry.stderr
        would = json.loads(dry.stdout)["deleted"]
        assert would["harvest_runs"] == 6 and would["job_runs"] == 3
        done = linkgraph("retention", "--keep-runs", "1", "--keep-days", "0", "--json", "--db", str(db), "--config", str(cfg))
        assert json.loads(done.stdout)["deleted"] == would
        con = duckdb.connect(str(db), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM harvest_runs").fetchone()[0] == 2
            assert con.execute("SELECT count(DISTINCT job_id) FROM job_log").fetchone()[0] == 1
        finally:
            con.close()
        # the next incremental run still starts from the kept high-water marks
        proc = start_run(cfg, db, "--json", "--force")
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert all(s["records"] == 0 for s in json.loads(out)["sources"].values())
