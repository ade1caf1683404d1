"""Readers while a harvest writes: a read snapshot published beside the database.

DuckDB lets one process open a file for writing, and while it does no other process can open
that file at all, not even read-only; conversely a process holding it read-only keeps every
writer out. So readers (notebooks, ``linkgraph status``, reports) must not depend on the main
file while a run writes, and must not sit on it for long either.

The writer (``linkgraph run``) therefore *publishes* ``NAME.snapshot.duckdb`` after each stage
(each source harvested, crosswalk, audits): ``CHECKPOINT`` (the WAL is folded into the file),
then a plain file copy made while it still holds the write connection (no other writer can
exist, nothing writes during the copy), then an atomic ``rename`` over the previous snapshot.
Readers that still have the old snapshot open keep reading the old inode, consistent, until
they reconnect. Measured here on an 80 MB store (1M rows): checkpoint 0.01 s + copy 0.2 s,
against 1.4 s for DuckDB's ``COPY FROM DATABASE`` into an attached file, hence the copy.

:func:`open_for_reading` picks what to open:

1. the snapshot when it is at least as new as the main file (the usual case after a run);
2. else the main file, read-only (no writer holds it: e.g. after a manual ``linkgraph harvest``)
   - close it soon, since a writer cannot start while it is open;
3. else (a writer holds the main file) the last published snapshot, however old;
4. no snapshot yet: a :class:`~linkgraph.errors.StoreError` that says so.

``long_lived=True`` (notebooks) never returns the main file: when the snapshot is missing or
stale and no writer holds the main file, the reader refreshes the snapshot itself (an
``ATTACH ... (READ_ONLY)`` and ``COPY FROM DATABASE``, holding the main file only for the copy).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from linkgraph.errors import StoreError
from linkgraph.store import Store, default_db_path


def snapshot_path(db: Path) -> Path:
    stem = db.name.removesuffix(".duckdb")
    return db.with_name(stem + ".snapshot.duckdb")


def _mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


def is_fresh(db: Path) -> bool:
    """The snapshot exists and nothing was written to the main file after it was made."""
    snap = snapshot_path(db)
    return snap.exists() and _mtime(snap) >= max(_mtime(db), _mtime(db.with_name(db.name + ".wal")))


def _cleanup(snap: Path) -> None:
    for stale in snap.parent.glob(f".{snap.name}.tmp-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def publish_snapshot(store: Store) -> Path:
    """Checkpoint the writer's store and copy it atomically to the snapshot path."""
    db = Path(store.path)
    snap = snapshot_path(db)
    _cleanup(snap)
    tmp = snap.with_name(f".{snap.name}.tmp-{os.getpid()}")
    with store._lock:  # no page commit can start while the file is copied
        store.con.execute("CHECKPOINT")
        with open(db, "rb") as src, open(tmp, "wb") as dst:
            while chunk := src.read(1 << 22):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    os.replace(tmp, snap)
    return snap


def _refresh_from_main(db: Path) -> None:
    """A reader makes the snapshot itself (main file free, snapshot missing or stale)."""
    snap = snapshot_path(db)
    _cleanup(snap)
    tmp = snap.with_name(f".{snap.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{_sql(db)}' AS main_db (READ_ONLY)")
        con.execute(f"ATTACH '{_sql(tmp)}' AS snap_db")
        con.execute("COPY FROM DATABASE main_db TO snap_db")
    finally:
        con.close()
    os.replace(tmp, snap)


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


def _locked(exc: StoreError) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text


def open_for_reading(path: str | os.PathLike[str] | None = None, *, long_lived: bool = False) -> Store:
    """A read-only :class:`Store` that neither fails nor blocks while ``linkgraph run`` writes."""
    db = Path(path) if path is not None else default_db_path()
    snap = snapshot_path(db)
    if not db.exists() and not snap.exists():
        return Store(":memory:")  # nothing harvested yet: an empty, migrated store
    if is_fresh(db) or not db.exists():
        return Store(snap, read_only=True)
    if long_lived:
        try:
            _refresh_from_main(db)
        except duckdb.Error as exc:
            if not snap.exists():
                raise StoreError(f"{db} is being written by another process and no read snapshot "
                                 f"({snap.name}) has been published yet; try again once its first stage ends") from exc
        return Store(snap, read_only=True)
    try:
        return Store(db, read_only=True)
    except StoreError as exc:
        if not _locked(exc):
            raise
        if snap.exists():
            return Store(snap, read_only=True)
        raise StoreError(f"{db} is being written by another process and no read snapshot ({snap.name}) "
                         "has been published yet; try again once its first stage ends") from exc
