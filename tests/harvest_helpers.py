"""Helpers shared by the harvest integration tests (not fixtures of behaviour)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from linkgraph.harvest.replay.corpus import Corpus
from linkgraph.store import Store


def served(corpus: Corpus, prefix: str) -> dict[str, tuple[datetime, bool]]:
    """What the server holds for ``prefix``: identifier -> (datestamp, deleted)."""
    return {
        r.identifier: (r.datestamp, r.deleted)
        for r in corpus
        if not r.metadata or prefix in r.metadata
    }


def stored(db: Path | Store, source: str | None = None) -> dict[str, tuple[datetime, bool]]:
    """What the store holds: record_id -> (datestamp, deleted)."""
    store = db if isinstance(db, Store) else Store(db, read_only=True)
    try:
        sql = "SELECT record_id, datestamp, deleted FROM raw_records"
        params: list[object] = []
        if source is not None:
            sql += " WHERE source = ?"
            params.append(source)
        return {rid: (stamp, deleted) for rid, stamp, deleted in store.query(sql, params)}
    finally:
        if not isinstance(db, Store):
            store.close()
