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
