"""A crosswalk stopped between batches and run again: every record's rows exactly once, equal
to an uninterrupted run - also when a record changed in between (its old rows replaced)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from linkgraph.crosswalks.pipeline import CrosswalkStats, run_crosswalk
from linkgraph.store import RawRecord, Store

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _dc(i: int, title: str = "Record") -> str:
    return (f'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title} {i}</dc:title>'
            f"<dc:identifier>https://doi.org/10.5555/r.{i}</dc:identifier>"
            f"<dc:relation>https://doi.org/10.5555/r.{i + 1}</dc:relation></oai_dc:dc>")


def _store(db: Path, n: int) -> None:
    with Store(db) as store, store.transaction() as cur:
        Store.upsert_raw(cur, "repo", None, [RawRecord(f"oai:r:{i}", T0, False, "oai_dc", _dc(i))
                                              for i in range(n)])


def _dump(db: Path) -> list[tuple]:
    with Store(db, read_only=True) as store:
        return store.query("SELECT record_id, doi, title FROM works ORDER BY ALL") + \
            store.query("SELECT record_id, target FROM relations ORDER BY ALL")


class Stop(Exception):
    pass


def test_a_stopped_crosswalk_resumes_without_duplicates(tmp_path: Path) -> None:
    whole, cut = tmp_path / "whole.duckdb", tmp_path / "cut.duckdb"
    _store(whole, 50)
    _store(cut, 50)
    with Store(whole) as store:
        run_crosswalk(store, batch_size=10)  # uninterrupted

    def stop_after_two(stats: CrosswalkStats) -> None:
        if stats.raw_records >= 20:
            raise Stop

    with Store(cut) as store, pytest.raises(Stop):
        run_crosswalk(store, batch_size=10, progress=stop_after_two)
    with Store(cut) as store:  # a record changes before the next run
        with store.transaction() as cur:
            Store.upsert_raw(cur, "repo", None, [RawRecord("oai:r:3", T0, False, "oai_dc", _dc(3, "Changed"))])
        run_crosswalk(store, batch_size=10)
    with Store(whole) as store:
        with store.transaction() as cur:
            Store.upsert_raw(cur, "repo", None, [RawRecord("oai:r:3", T0, False, "oai_dc", _dc(3, "Changed"))])
        run_crosswalk(store, batch_size=10)
    got = _dump(cut)
    assert got == _dump(whole)
    assert ("oai:r:3", "10.5555/r.3", "Changed 3") in got and ("oai:r:3", "10.5555/r.3", "Record 3") not in got
    assert len([r for r in got if len(r) == 3]) == 50  # one work per record


def test_a_record_changed_while_the_crosswalk_runs_is_read_once_in_its_new_form(tmp_path: Path) -> None:
    """The batches' bounds are found many batches ahead; a record replaced after that (its old
    change_seq gone, its new one past the run's end) is skipped by this run - no stale rows, no
    lost batch around the gap - and read by the next."""
    db, ref = tmp_path / "live.duckdb", tmp_path / "ref.duckdb"
    _store(db, 40)
    _store(ref, 40)
    with Store(db) as store, store.transaction() as cur:  # gaps in change_seq before the run
        Store.upsert_raw(cur, "repo", None, [RawRecord(f"oai:r:{i}", T0, False, "oai_dc", _dc(i, "Again"))
                                              for i in (5, 6, 7)])
    changed: list[int] = []

    def change_ahead(stats: CrosswalkStats) -> None:
        if not changed:  # after the first batch: record 30 is still ahead of the writer
            changed.append(stats.raw_records)
            with store.transaction() as cur:
                Store.upsert_raw(cur, "repo", None, [RawRecord("oai:r:30", T0, False, "oai_dc", _dc(30, "Changed"))])

    with Store(db) as store:
        first = run_crosswalk(store, batch_size=4, progress=change_ahead)
        assert changed == [4]
        assert first.raw_records == 39  # 40 records, record 30 left the run's range
        assert store.query("SELECT count(*) FROM works WHERE record_id = 'oai:r:30'") == [(0,)]
        second = run_crosswalk(store, batch_size=4)
        assert second.raw_records == 1
    with Store(ref) as store:
        with store.transaction() as cur:
            Store.upsert_raw(cur, "repo", None, [RawRecord(f"oai:r:{i}", T0, False, "oai_dc", _dc(i, "Again"))
                                                  for i in (5, 6, 7)])
            Store.upsert_raw(cur, "repo", None, [RawRecord("oai:r:30", T0, False, "oai_dc", _dc(30, "Changed"))])
        run_crosswalk(store, batch_size=4)
    got = _dump(db)
    assert got == _dump(ref)
    assert ("oai:r:30", "10.5555/r.30", "Changed 30") in got
    assert ("oai:r:6", "10.5555/r.6", "Again 6") in got
    assert len([r for r in got if len(r) == 3]) == 40
