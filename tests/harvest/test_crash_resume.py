"""kill -9 at random instants, then rerun: the store ends with exactly the served records."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from harvest_helpers import kill_after_requests, served, stored

from linkgraph.replay.corpus import Corpus
from linkgraph.replay.server import ReplayServer


def start_harvest(url: str, db: Path, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "linkgraph", "harvest", "oai", url, "--prefix", "oai_dc",
        "--db", str(db), "--name", "crash", "--quiet", "--retries", "3", *extra,
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sigkill_at_random_points_then_resume(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    corpus = Corpus.synthetic(500, seed=seed, deleted_ratio=0.03)
    db = tmp_path / "crash.duckdb"
    windows = ["--windows", "3"] if seed % 2 == 0 else []
    latency = 120 if windows else 40  # windows overlap their pages: slow each page down
    with ReplayServer(corpus, page_size=10, latency_ms=latency) as server:
        kills = 0
        for _ in range(3):
            proc = start_harvest(server.url, db, *windows)
            # kill after a random number of requests served: mid-page, mid-commit, anywhere
            kills += kill_after_requests(proc, server.log, rng.randint(2, 14))
        assert kills >= 1, "the harvest finished before any kill: make the corpus larger"
        final = start_harvest(server.url, db, *windows)
        _, err = final.communicate(timeout=120)
        assert final.returncode == 0, err.decode()
    want = served(corpus, "oai_dc")
    assert stored(db) == want
    # and the runs' bookkeeping agrees: every window done, last run ok
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        assert {s for (s,) in con.execute("SELECT DISTINCT status FROM harvest_state").fetchall()} == {"done"}
        assert con.execute("SELECT status FROM harvest_runs ORDER BY run_id DESC LIMIT 1").fetchone()[0] == "ok"
    finally:
        con.close()


@pytest.mark.parametrize("seed", [5, 6])
def test_sigkill_by_the_clock_on_a_big_corpus_then_the_same_command_completes(tmp_path: Path, seed: int) -> None:
    """The operator's case: a 40k-record corpus, `harvest oai` at default settings killed a few
    hundred milliseconds to a few seconds in (several kills, each followed by the same command),
    then run to the end. The rerun replays a WAL of many pages; at the old 32 MB default cap
    that replay ran out of memory (exit 1, every time)."""
    import signal
    import time

    rng = random.Random(seed)
    corpus = Corpus.synthetic(40_000, seed=seed)
    db = tmp_path / "crash.duckdb"
    with ReplayServer(corpus, page_size=100, latency_ms=5) as server:
        for _ in range(3):
            proc = start_harvest(server.url, db)
            time.sleep(rng.uniform(0.2, 2.5))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        final = start_harvest(server.url, db)
        _, err = final.communicate(timeout=300)
        assert final.returncode == 0, err.decode()[-2000:]
    assert set(stored(db)) == set(served(corpus, "oai_dc"))
