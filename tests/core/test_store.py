"""The DuckDB store: migrations and the raw-record upsert rules a harvest relies on."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from linkgraph.errors import StoreError
from linkgraph.store import RawRecord, Store, default_db_path, load_migrations

UTC = timezone.utc


def rec(rid: str, day: int, payload: str | None = "<x/>", deleted: bool = False) -> RawRecord:
    return RawRecord(rid, datetime(2024, 1, day, tzinfo=UTC), deleted, "oai_dc", payload, ("s1",))


def rows(store: Store) -> dict[str, tuple]:
    got = store.query(
        "SELECT record_id, datestamp, deleted, payload, payload_hash, change_seq, run_id"
        " FROM raw_records ORDER BY record_id"
    )
    return {r[0]: r[1:] for r in got}


def test_migrations_apply_once_and_record_the_version(db_path: Path) -> None:
    with Store(db_path) as store:
        latest = max(m.version for m in load_migrations())
        assert store.schema_version == latest
    with Store(db_path) as store:  # reopening applies nothing twice
        assert store.migrate() == []
        n = store.query("SELECT count(*) FROM schema_version")[0][0]
        assert n == len(load_migrations())


def test_default_path_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LINKGRAPH_DB", str(tmp_path / "a.duckdb"))
    assert default_db_path() == tmp_path / "a.duckdb"
    monkeypatch.delenv("LINKGRAPH_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "linkgraph" / "linkgraph.duckdb"


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_text("this is not a database")
    with pytest.raises(StoreError, match="cannot open"):
        Store(bad)


def test_upsert_rules(db_path: Path) -> None:
    store = Store(db_path)
    with store.transaction() as cur:
        Store.upsert_raw(cur, "src", 1, [rec("a", 1, "<a1/>"), rec("b", 1, "<b1/>")])
    first = rows(store)
    assert set(first) == {"a", "b"}
    assert first["a"][3] == hashlib.sha256(b"<a1/>").hexdigest()  # payload_hash: sha256 of the UTF-8

    # re-storing the same page changes nothing, not even change_seq or run_id
    with store.transaction() as cur:
        Store.upsert_raw(cur, "src", 2, [rec("a", 1, "<a1/>"), rec("b", 1, "<b1/>")])
    assert rows(store) == first

    # newer datestamp replaces; older never does; deletion becomes a tombstone
    with store.transaction() as cur:
        Store.upsert_raw(
            cur, "src", 3, [rec("a", 5, "<a5/>"), rec("b", 5, None, deleted=True)]
        )
        Store.upsert_raw(cur, "src", 3, [rec("a", 2, "<old/>")])
    now = rows(store)
    assert now["a"][2] == "<a5/>" and now["a"][5] == 3
    assert now["a"][4] > first["a"][4]  # change_seq moved
    assert now["b"][1] is True and now["b"][2] is None and now["b"][3] is None

    # same datestamp but other content (a server that edits without touching the datestamp)
    with store.transaction() as cur:
        Store.upsert_raw(cur, "src", 4, [rec("a", 5, "<a5-fixed/>")])
    assert rows(store)["a"][2] == "<a5-fixed/>"

    # the same record twice in one batch: the newest wins, no conflict error
    with store.transaction() as cur:
        Store.upsert_raw(cur, "src", 5, [rec("c", 3, "<c3/>"), rec("c", 9, "<c9/>"), rec("c", 4, "<c4/>")])
    assert rows(store)["c"][2] == "<c9/>"
    # other sources are other rows
    with store.transaction() as cur:
        Store.upsert_raw(cur, "other", 6, [rec("a", 1, "<z/>")])
    assert store.query("SELECT count(*) FROM raw_records WHERE record_id = 'a'")[0][0] == 2
    store.close()


def test_failed_transaction_stores_nothing(db_path: Path) -> None:
    store = Store(db_path)
    with pytest.raises(RuntimeError):
        with store.transaction() as cur:
            Store.upsert_raw(cur, "src", 1, [rec("a", 1)])
            raise RuntimeError("crash between the records and the checkpoint")
    assert store.query("SELECT count(*) FROM raw_records")[0][0] == 0
    store.close()


def test_second_writer_process_gets_a_clear_error(db_path: Path) -> None:
    import subprocess
    import sys

    store = Store(db_path)
    code = (
        "from linkgraph.store import Store\n"
        "from linkgraph.errors import StoreError\n"
        f"try:\n    Store({str(db_path)!r})\nexcept StoreError as e:\n    print('refused', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "refused" in out.stdout and "cannot open" in out.stdout
    store.close()
    assert duckdb.__version__


def test_a_duckdb_failure_is_a_store_error_and_keeps_nothing(db_path: Path) -> None:
    """Out of memory, disk full, a broken statement: a clear StoreError, nothing half-written."""
    store = Store(db_path)
    with store.transaction() as cur:
        Store.upsert_raw(cur, "src", 1, [rec("a", 1)])
    with pytest.raises(StoreError, match="writing .* failed"):
        with store.transaction() as cur:
            Store.upsert_raw(cur, "src", 2, [rec("b", 1)])
            cur.execute("INSERT INTO raw_records (source) VALUES ('no record id')")  # NOT NULL
    assert [r for (r,) in store.query("SELECT record_id FROM raw_records")] == ["a"]
    with store.transaction() as cur:  # the store is still usable
        Store.upsert_raw(cur, "src", 3, [rec("c", 1)])
    assert store.query("SELECT count(*) FROM raw_records")[0][0] == 2
    store.close()


def test_a_harvest_under_a_tiny_budget_grows_it_instead_of_failing(tmp_path: Path) -> None:
    """8 MB is too little for DuckDB to take a page (it used to end in 'Out of Memory', exit 1):
    the write is retried with the budget doubled until it fits, and the harvest completes."""
    import subprocess
    import sys

    from linkgraph.replay.corpus import Corpus
    from linkgraph.replay.server import ReplayServer

    corpus = Corpus.synthetic(3000, seed=1)
    with ReplayServer(corpus, page_size=100) as server:
        out = subprocess.run(
            [sys.executable, "-m", "linkgraph", "harvest", "oai", server.url, "--prefix", "oai_dc",
             "--db", str(tmp_path / "oom.duckdb"), "--memory-limit", "8MB", "--json"],
            capture_output=True, text=True, timeout=120,
        )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    with Store(tmp_path / "oom.duckdb", read_only=True) as store:
        held = store.query("SELECT count(*) FROM raw_records")[0][0]
        reported = store.query("SELECT records FROM harvest_runs")[0][0]
    assert held == sum(1 for r in corpus if not r.metadata or "oai_dc" in r.metadata)
    # a commit that failed and was retried is counted once (DuckDB failed the first commits
    # fatally: the database was reopened, its WAL replayed, and the page written again)
    assert json.loads(out.stdout)["records"] == reported == held


def test_a_store_with_small_row_groups_writes_a_plain_duckdb_file(db_path: Path) -> None:
    """`harvest oai` attaches the file with 8,192-row groups; everyone else opens it as usual."""
    from linkgraph.store import HARVEST_ROW_GROUP

    with Store(db_path, row_group_size=HARVEST_ROW_GROUP) as store:
        recs = [rec(f"r{i:05d}", 1 + i % 28, f"<x>{i}</x>") for i in range(20_000)]
        with store.transaction() as cur:
            Store.upsert_raw(cur, "src", 1, recs)
        with store.transaction() as cur:  # the upsert path works on it too
            Store.upsert_raw(cur, "src", 2, [rec("r00001", 28, "<x>newer</x>")])
        store.cursor().execute("CHECKPOINT")
        groups = store.query("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('raw_records')")[0][0]
        assert groups >= 3  # 20,000 rows in 8,192-row groups, not one group of 122,880
    assert not (db_path.parent / ".tmp").exists()  # spill files would go beside the database
    with Store(db_path, read_only=True) as store:  # a plain open reads everything
        assert store.query("SELECT count(*) FROM raw_records")[0][0] == 20_000
        assert rows(store)["r00001"][2] == "<x>newer</x>"


def test_a_harvest_store_leaves_a_core_to_the_parser(db_path: Path) -> None:
    """`harvest oai` caps DuckDB's threads at one core fewer than the process may use."""
    import os

    from linkgraph.store import harvest_threads

    cores = len(os.sched_getaffinity(0))
    assert harvest_threads() == max(1, cores - 1)
    with Store(db_path, threads=1) as store:
        assert store.query("SELECT current_setting('threads')")[0][0] == 1
        with store.transaction() as cur:
            Store.upsert_raw(cur, "src", 1, [rec("r1", 1, "<x/>")])
        assert rows(store)["r1"][2] == "<x/>"


def test_zstd_migration_keeps_stored_rows_and_compresses_payloads(db_path: Path) -> None:
    """A store made before migration 7 keeps every raw row (and its change_seq) when the table
    is rebuilt with a zstd payload column, and the upsert rules still hold afterwards."""
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)")
    for mig in load_migrations():
        if mig.version >= 7:
            break
        con.execute(mig.sql)
        con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [mig.version, mig.name])
    con.execute(
        "INSERT INTO raw_records SELECT 'src', 'r' || i, TIMESTAMPTZ '2024-01-01', false, 'oai_dc',"
        " '<dc>' || repeat('title ', 500) || i || '</dc>', 'h' || i, ['s'], now(), 1, i"
        " FROM range(3000) t(i)"
    )
    con.close()
    with Store(db_path) as store:
        assert store.schema_version >= 7
        n, seq, sample = store.query(
            "SELECT count(*), max(change_seq), min(payload) FILTER (record_id = 'r7') FROM raw_records"
        )[0]
        assert (n, seq) == (3000, 2999)
        assert sample.endswith("title 7</dc>")
        store.con.execute("CHECKPOINT")
        kinds = {r[0] for r in store.query(
            "SELECT compression FROM pragma_storage_info('raw_records') WHERE column_name = 'payload'"
            " AND segment_type = 'VARCHAR'"
        )}
        assert kinds == {"ZSTD"}
        with store.transaction() as cur:  # the primary key survived the rebuild
            Store.upsert_raw(cur, "src", 2, [rec("r7", 2, "<new/>")])
        assert store.query("SELECT payload FROM raw_records WHERE record_id = 'r7'")[0][0] == "<new/>"
        assert store.query("SELECT count(*) FROM raw_records")[0][0] == 3000


def test_memory_limit_leaves_room_for_the_key_index_as_the_store_grows(db_path: Path) -> None:
    """DuckDB keeps raw_records' key index whole in memory and counts it against the cap: a
    fixed 16MB cap made writes into a store of some 300k records fail with Out of Memory."""
    stamp = datetime(2024, 1, 1, tzinfo=UTC)
    recs = [RawRecord(f"oai:example.org:{i:09d}", stamp, False, "oai_dc", "<x/>") for i in range(300_000)]
    with Store(db_path, memory_limit="16MB") as store:
        for start in range(0, len(recs), 3000):  # the index grows past the 16MB asked for
            with store.transaction() as cur:
                Store.upsert_raw(cur, "src", 1, recs[start:start + 3000], new_only=True)
    with Store(db_path, memory_limit="16MB") as store:  # reopened: the index is not loaded yet
        limit = store.query("SELECT current_setting('memory_limit')")[0][0]
        assert limit != "15.2 MiB"  # the cap set makes room for the index it will load
        more = [RawRecord(f"oai:example.org:x{i}", stamp, False, "oai_dc", "<y/>") for i in range(2000)]
        with store.transaction() as cur:  # loads the whole index
            Store.upsert_raw(cur, "src", 2, more)
        assert store.query("SELECT count(*) FROM raw_records")[0][0] == 302_000
