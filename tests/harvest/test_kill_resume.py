"""kill -9 a registry harvest at random instants, rerun: exactly the served records, once each."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from harvest_helpers import kill_after_requests

from linkgraph.store import Store

from .registry_helpers import start_registries, stored

CASES = {
    # source: (mount, CLI arguments, synthetic size, latency per request in ms)
    "crossref": ("/crossref", ["--prefix", "10.99999", "--rows", "20"], 2400, 20),
    "datacite": ("/datacite", ["--prefix", "10.99998", "--page-size", "20"], 2400, 20),
    "jalc": ("/jalc", ["--prefix", "10.99997", "--rows", "20", "--rate", "0", "--concurrency", "4"], 500, 15),
}


def harvest(kind: str, url: str, db: Path, args: list[str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "linkgraph", "harvest", kind, *args, "--base-url", url, "--db", str(db),
           "--quiet", "--retries", "3"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_sigkill_then_resume_gives_the_served_set(kind: str, tmp_path: Path) -> None:
    mount, args, size, latency = CASES[kind]
    rng = random.Random(f"{kind}-7")
    server = start_registries(synthetic=size, latency_ms=latency)
    db = tmp_path / f"{kind}.duckdb"
    try:
        app = server.apps[mount]
        kills = 0
        for _ in range(3):
            proc = harvest(kind, server.url_for(mount), db, args)
            # kill after a random number of requests served (not after a sleep: a loaded
            # machine would otherwise kill before the first page or after the last)
            # (a JaLC page commits after its list request and ~20 record fetches)
            lo, hi = (30, 90) if kind == "jalc" else (4, 25)
            kills += kill_after_requests(proc, server.log, rng.randint(lo, hi))
        assert kills >= 2, "the harvest finished before the kills: make the corpus larger"
        with Store(db, read_only=True) as store:
            partial = store.query("SELECT count(*) FROM raw_records")[0][0]
        assert 0 < partial < size  # the kills really interrupted it midway
        final = harvest(kind, server.url_for(mount), db, args)
        _, err = final.communicate(timeout=60)
        assert final.returncode == 0, err.decode()
        got = stored(db)
        assert set(got) == app.corpus.keys()
        for key in rng.sample(sorted(got), 5):  # payloads are the served records
            import json

            assert json.loads(got[key]) == app.corpus.render(app.corpus.get(key))
        with Store(db, read_only=True) as store:
            runs = store.query("SELECT status, records FROM harvest_runs ORDER BY run_id")
            states = store.query("SELECT DISTINCT status FROM harvest_state")
        assert runs[-1][0] == "ok" and states == [("done",)]
        if kind == "jalc":  # what the killed runs stored was not fetched again
            fetches = sum(1 for _, _, p in app.observer.spans if "/dois/" in p)
            assert fetches < size + 4 * 20 * kills
    finally:
        server.stop()
