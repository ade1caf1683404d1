"""Every fault the replay server can inject, driven through `linkgraph run` (the library entry
point the CLI calls, in-process for speed; real servers, real DuckDB): the faulty source ends
with exactly the served records or reports its failure, and the other source is unaffected.
A source that failed then completes on the next run once the server behaves (nothing lost)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from linkgraph.replay.faults import KINDS, FaultPlan

from linkgraph.config import parse_config
from linkgraph.jobs.runner import Runner, RunOptions, RunReport
from linkgraph.logs import RunLog

from .ops_helpers import World, config_text, stored_ids

ARGS = {"slow": ":3"}  # slow answers take 3 s; the source's timeout is 1 s


def run_once(world: World, sources: dict[str, dict[str, object]], db: Path) -> tuple[RunReport, str]:
    config = parse_config(config_text(sources), "<test>")
    stream = io.StringIO()
    report = Runner(config, RunOptions(db=db, force=True, audit=False, snapshot=False),
                    RunLog("json", stream=stream)).run()
    return report, stream.getvalue()


def check(world: World, report: RunReport, db: Path, faulty: str, healthy: str, log: str) -> str:
    """Both sources end correct, or the faulty one reports its failure; returns its status."""
    served = {"repo": world.served_oai, "dc": lambda: world.served_rest("/datacite")}
    assert report.sources[healthy].status == "ok", log
    assert stored_ids(db, healthy) == served[healthy]()
    outcome = report.sources[faulty]
    if outcome.status == "failed":
        assert outcome.error and report.exit_code == 1
        assert '"event": "source-failed"' in log
    else:
        assert outcome.status in ("ok", "partial"), outcome
        assert stored_ids(db, faulty) == served[faulty]()
        assert report.exit_code in (0, 3)
    return outcome.status


def sources(world: World, faulty: str, retries: int) -> dict[str, dict[str, object]]:
    srcs = world.sources("repo", "dc")
    srcs[faulty] = {**srcs[faulty], "retries": retries, "timeout": 1.0}
    srcs["repo"].pop("every", None)
    return srcs


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("target", ["repo", "dc"])
def test_a_fault_once_is_survived(kind: str, target: str, tmp_path: Path) -> None:
    spec = f"{kind}@2{ARGS.get(kind, '')}"
    faults = {"oai_faults": spec} if target == "repo" else {"rest_faults": spec}
    with World(oai_records=120, rest_records=80, **faults) as world:
        report, log = run_once(world, sources(world, target, retries=2), tmp_path / "f.duckdb")
        server = world.oai if target == "repo" else world.rest
        deadline = time.monotonic() + 5  # a slow answer is logged once the server finished sleeping
        while not server.log.faults() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.log.faults(), "the fault never fired"
        check(world, report, tmp_path / "f.duckdb", target, "dc" if target == "repo" else "repo", log)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_fault_that_persists_fails_that_source_only_and_the_next_run_recovers(kind: str, tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    with World(oai_records=120, rest_records=80, oai_faults=f"{kind}@2x0{ARGS.get(kind, '')}") as world:
        report, log = run_once(world, sources(world, "repo", retries=1), db)
        status = check(world, report, db, "repo", "dc", log)
        kept = stored_ids(db, "repo")
        if status == "failed":
            assert report.sources["repo"].error in log.replace('\\"', '"')
        world.oai.faults = FaultPlan.parse("")  # the server is fixed
        again, log = run_once(world, sources(world, "repo", retries=1), db)
        assert again.sources["repo"].status == "ok", log
        assert stored_ids(db, "repo") == world.served_oai() >= kept
