"""One memory budget per process that grows instead of failing (linkgraph.memory, Store)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from linkgraph import memory
from linkgraph.errors import StoreError
from linkgraph.graph.audit import run_audit
from linkgraph.store import Store

MiB = 1 << 20


def test_the_default_budget_is_a_share_of_the_machine_within_bounds() -> None:
    assert memory.default_budget(24 << 30) == 384 * MiB  # a big machine: capped
    assert memory.default_budget(1 << 30) == 256 * MiB  # a 1 GB container: a quarter
    assert memory.default_budget(100 * MiB) == 64 * MiB  # never below what DuckDB needs
    assert memory.ceiling(512 * MiB, 24 << 30) == 12 << 30
    assert memory.ceiling(512 * MiB, 200 * MiB) == 512 * MiB  # never below the budget
    assert 64 * MiB <= memory.default_budget() <= 384 * MiB  # this machine, read for real


def test_sizes_read_as_duckdb_and_users_write_them() -> None:
    assert memory.parse_size("512MB") == 512 * 10**6
    assert memory.parse_size("61.0 MiB") == 61 * MiB
    assert memory.parse_size("2GiB") == 2 << 30
    assert memory.parse_size("lots") is None and memory.parse_size("-1GB") is None


def test_a_store_opened_without_a_limit_runs_under_the_default_budget(tmp_path: Path) -> None:
    with Store(tmp_path / "x.duckdb") as store:
        assert 64 * MiB <= (store.memory_budget or 0) <= 384 * MiB
        limit = store.query("SELECT current_setting('memory_limit')")[0][0]
        assert memory.parse_size(str(limit)) <= 500 * MiB  # not DuckDB's own 80% of RAM


def test_a_write_that_runs_out_of_memory_is_retried_with_a_larger_budget() -> None:
    store = Store(":memory:", memory_limit="16MB")
    start = store.memory_budget or 0
    # A single list of 3M numbers cannot spill: at 16 MB DuckDB refuses it.
    probe = Store(":memory:", memory_limit="16MB")
    with pytest.raises(duckdb.OutOfMemoryException):
        probe.con.execute("CREATE TABLE x AS SELECT list(i) AS l FROM range(3000000) t(i)")
    probe.close()
    store.write(lambda cur: cur.execute("CREATE TABLE x AS SELECT list(i) AS l FROM range(3000000) t(i)"))
    assert store.query("SELECT len(l) FROM x")[0][0] == 3_000_000
    assert (store.memory_budget or 0) > start
    store.close()


def test_a_step_that_runs_out_of_memory_is_retried_alone() -> None:
    """A long job's later step gets a larger budget and runs again; its earlier steps are
    neither rolled back nor run again (the audit at 10M works lost 147 s to a whole retry)."""
    store = Store(":memory:", memory_limit="16MB")
    start = store.memory_budget or 0
    calls = {"first": 0, "big": 0}

    def first() -> None:
        calls["first"] += 1
        cur.execute("CREATE TEMP TABLE small AS SELECT range AS i FROM range(10)")

    def big() -> None:
        calls["big"] += 1
        cur.execute("CREATE TEMP TABLE big AS SELECT list(i) AS l FROM range(3000000) t(i)")

    with store.transaction() as cur:
        store.retry_step(cur, first)
        store.retry_step(cur, big)
        assert cur.execute("SELECT (SELECT count(*) FROM small), (SELECT len(l) FROM big)").fetchone() == (10, 3_000_000)
    assert calls["first"] == 1 and calls["big"] >= 2  # the budget doubles until the step fits
    assert (store.memory_budget or 0) > start
    store.close()


def test_out_of_memory_is_recognised_when_wrapped() -> None:
    try:
        try:
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate")
        except duckdb.Error as exc:
            raise StoreError("writing x failed") from exc
    except StoreError as wrapped:
        assert memory.is_out_of_memory(wrapped)
    assert not memory.is_out_of_memory(StoreError("disk full"))


def test_the_audit_under_a_tiny_budget_still_finishes(audited_world_copy: Path) -> None:
    with Store(audited_world_copy, memory_limit="4MB") as store:
        result = run_audit(store)
        assert result.findings > 0
        assert (store.memory_budget or 0) > 4 * 10**6  # it had to grow


@pytest.fixture
def audited_world_copy(tmp_path: Path) -> Path:
    from linkgraph.replay.world import generate
    from linkgraph.replay.world_serve import run_world

    db = tmp_path / "world.duckdb"
    with Store(db) as store:
        run_world(store, generate(seed=3, scale=1))
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    return copy


def test_the_audit_starts_with_a_batch_budget_unless_one_was_chosen(tmp_path: Path) -> None:
    assert memory.batch_budget(24 << 30) == 1 << 30  # a big machine: 1 GiB, not 384 MiB
    assert memory.batch_budget(2 << 30) == 512 * MiB  # a quarter of what is available
    assert memory.batch_budget(1 << 30) == memory.default_budget(1 << 30)  # never below the default
    assert memory.batch_budget(24 << 30, rows=5_000_000) == 1 << 30  # 1M works: as before
    assert memory.batch_budget(24 << 30, rows=50_000_000) == 50_000_000 * memory.BATCH_BYTES_PER_ROW  # 10M works
    assert memory.batch_budget(4 << 30, rows=50_000_000) == 1 << 30  # still a quarter of what there is
    with Store(tmp_path / "a.duckdb") as store:
        before = store.memory_budget
        store.widen_budget(1 << 30)
        assert store.memory_budget == max(before or 0, 1 << 30)
        limit = store.query("SELECT current_setting('memory_limit')")[0][0]
        assert memory.parse_size(limit) >= 1 << 30
    with Store(tmp_path / "b.duckdb", memory_limit="100MB") as store:  # the user's choice stands
        store.widen_budget(1 << 30)
        assert (store.memory_budget or 0) < 1 << 30
