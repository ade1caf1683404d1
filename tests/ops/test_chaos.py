"""Chaos: `linkgraph run` killed with SIGKILL at random instants (seeded), rerun to completion;
the database must equal a clean run's: same raw records, works, relations, problems, findings
and link snapshot (run ids, fetch times and sequence numbers aside)."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import pytest

from .ops_helpers import World, json_lines, picture, start_run, write_config

SEEDS = [11, 23, 37]


@pytest.fixture(scope="module")
def world() -> World:
    # latency so that a run lasts a few seconds and the kills land in every stage
    with World(oai_records=240, rest_records=160, oai_latency=60, rest_latency=15) as w:
        yield w


@pytest.fixture(scope="module")
def clean(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[str]], int]:
    tmp = tmp_path_factory.mktemp("clean")
    cfg = write_config(tmp / "lg.toml", world.sources("repo", "dc", "jalc"))
    proc = start_run(cfg, tmp / "clean.duckdb")
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    return picture(tmp / "clean.duckdb"), len(json_lines(err))


def run_and_kill(cfg: Path, db: Path, after_events: int, delay: float) -> str | None:
    """Start a run, SIGKILL it ``delay`` s after its ``after_events``-th log line; returns the
    last event it logged (None when it finished on its own)."""
    proc = start_run(cfg, db)
    assert proc.stderr is not None
    last = None
    for n, line in enumerate(proc.stderr, 1):
        last = json.loads(line)["event"]
        if n >= after_events:
            time.sleep(delay)
            break
    if proc.poll() is not None:
        proc.communicate(timeout=30)
        return None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return last


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_at_random_points_then_rerun_equals_a_clean_run(
    world: World, clean: tuple[dict[str, list[str]], int], tmp_path: Path, seed: int
) -> None:
    want, events = clean
    rng = random.Random(seed)
    db = tmp_path / "chaos.duckdb"
    cfg = write_config(tmp_path / "lg.toml", world.sources("repo", "dc", "jalc"))
    killed_after = [run_and_kill(cfg, db, rng.randint(1, events - 1), rng.uniform(0.0, 0.5)) for _ in range(3)]
    kills = [k for k in killed_after if k is not None]
    assert kills, "every run finished before its kill: slow the servers down"
    final = start_run(cfg, db)
    _, err = final.communicate(timeout=90)
    assert final.returncode == 0, err
    assert any(e["event"] == "dead-runs-closed" for e in json_lines(err))  # a dead run's rows were closed
    got = picture(db)
    for table in want:
        assert got[table] == want[table], f"{table} differs (seed {seed}; killed after {killed_after})"
