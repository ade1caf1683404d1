"""Helpers shared by the harvest integration tests (not fixtures of behaviour)."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

from linkgraph.harvest.checkpoint import Checkpoints, Window
from linkgraph.replay.corpus import Corpus

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


def kill_after_requests(proc: "subprocess.Popen[bytes]", log: object, n: int, *, timeout: float = 120) -> bool:
    """SIGKILL ``proc`` once the server's request log has grown by ``n`` entries.

    Waiting on the server's own count, not on the clock, makes the kill land mid-harvest
    however loaded the machine is. Returns False when the process ended first."""
    import signal
    import time

    start = len(log.snapshot())  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if len(log.snapshot()) - start >= n:  # type: ignore[attr-defined]
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        time.sleep(0.005)
    proc.kill()
    raise AssertionError(f"the harvest made fewer than {n} requests in {timeout} s")


def one_window_run(store: Store, source: str = "src") -> tuple[Checkpoints, Window]:
    """A registered source with a started run and one planned window spanning everything."""
    cp = Checkpoints(store, source)
    cp.register_source("oai", "http://example.invalid/oai", {})
    cp.start_run(None, None, 1)
    w = Window("all", None, None)
    cp.plan_windows([w])
    return cp, w
