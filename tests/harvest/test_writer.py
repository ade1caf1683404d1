"""The page writer's group commits: whole row groups, a split page, checkpoints kept in step."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from harvest_helpers import kill_after_requests, one_window_run, served, stored
from linkgraph.harvest.checkpoint import PageCommit, Window
from linkgraph.replay.corpus import Corpus
from linkgraph.replay.server import ReplayServer
from linkgraph.harvest.writer import PageWriter, split_group

from linkgraph.store import RawRecord, Store

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def page(window: Window, token: str, ids: range) -> PageCommit:
    recs = [RawRecord(f"id{i}", T0, False, "oai_dc", f"<x>{i}</x>") for i in ids]
    return PageCommit(replace(window, token=token), recs, [f"warning of {token}"], f"http://x/{token}")


def test_split_group_cuts_inside_a_page_and_keeps_its_checkpoint_with_the_rest() -> None:
    a, b = Window("a", None, None), Window("b", None, None)
    group = [page(a, "a1", range(0, 3)), page(b, "b1", range(3, 6)), page(a, "a2", range(6, 9))]
    head, rest = split_group(group, 4)
    assert [len(p.records) for p in head] == [3, 1] and head[1].window is None
    assert head[1].warnings == [] and head[1].records[0].record_id == "id3"
    assert rest[0].window is not None and rest[0].window.token == "b1"
    assert [r.record_id for r in rest[0].records] == ["id4", "id5"] and rest[0].warnings == ["warning of b1"]
    assert rest[1] is group[2]
    head, rest = split_group(group, 6)  # on a page boundary: nothing is split
    assert head == group[:2] and rest == group[2:]
    head, rest = split_group(group, 9)
    assert head == group and rest == []


def test_aligned_commits_store_whole_groups_and_move_each_checkpoint_only_with_its_page(db_path: Path) -> None:
    seen: list[tuple[int, str | None, int]] = []  # records committed, stored token, stored rows
    with Store(db_path) as store:
        cp, w = one_window_run(store)

        def committed(group: list[PageCommit]) -> None:
            token = store.query("SELECT token FROM harvest_state WHERE source = 'src'")[0][0]
            rows = store.query("SELECT count(*) FROM raw_records")[0][0]
            seen.append((sum(len(p.records) for p in group), token, rows))

        writer = PageWriter(cp, align=4, max_delay=30, on_commit=committed)
        for n, start in enumerate(range(0, 9, 3), 1):
            w.token, w.pages, w.records = f"t{n}", n, start + 3
            writer.submit(w, page(w, f"t{n}", range(start, start + 3)).records, [f"w{n}"], f"http://x/{n}")
        writer.flush()
        writer.close()
        # 4 = page 1 and the first record of page 2 (checkpoint still page 1); 4 = the rest
        # of page 2 and two of page 3 (checkpoint page 2); the flush stores the last one.
        assert seen == [(4, "t1", 4), (4, "t2", 8), (1, "t3", 9)]
        run = store.query("SELECT pages, records FROM harvest_runs")[0]
        assert run == (3, 9) and (cp.counters.pages, cp.counters.records) == (3, 9)
        kinds = store.query("SELECT detail FROM harvest_problems ORDER BY detail")
        assert [k for (k,) in kinds] == ["w1", "w2", "w3"]  # each page's warning, once


def test_kill_between_aligned_commits_then_resume_stores_exactly_the_served_set(tmp_path: Path) -> None:
    """Pages of 100 against groups of 2,048 records: most group commits end inside a page."""
    corpus = Corpus.synthetic(10_000, seed=9, deleted_ratio=0.02)
    db = tmp_path / "split.duckdb"
    rng = random.Random(9)
    cmd = [sys.executable, "-m", "linkgraph", "harvest", "oai", "", "--prefix", "oai_dc",
           "--db", str(db), "--name", "split", "--quiet", "--retries", "3"]
    with ReplayServer(corpus, page_size=100, latency_ms=30) as server:
        cmd[5] = server.url
        kills = 0
        for _ in range(2):
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            kills += kill_after_requests(proc, server.log, rng.randint(28, 45))
        assert kills >= 1
        with Store(db, read_only=True) as store:  # a kill landed after some group commits
            assert store.query("SELECT count(*) FROM raw_records")[0][0] >= 2048
        final = subprocess.run(cmd, capture_output=True, timeout=300)
        assert final.returncode == 0, final.stderr.decode()
    assert stored(db) == served(corpus, "oai_dc")
