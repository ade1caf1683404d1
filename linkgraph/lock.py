"""One writer at a time per database: an ``flock`` on a file beside it.

Every command that writes the database (``run``, ``harvest``, ``crosswalk``, ``audit``,
``retention``, ``snapshot``, ``neo4j load``, ``demo``, ...) takes it: a second writer waits
(``--wait`` / ``$LINKGRAPH_LOCK_WAIT``) or exits 75. Readers never take it (they read the
published snapshot), so no sequence of commands can have two processes writing one file.

Why ``flock``: the kernel releases it when the holder exits in any way, SIGKILL included, so a
crashed run never leaves a stale lock behind. The file keeps the holder's pid and start time
(informational only) so the refused run can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from linkgraph.errors import LinkgraphError
from linkgraph.store import Store, utcnow

EXIT_BUSY = 75  # sysexits EX_TEMPFAIL: "try again later" - cron and systemd treat it as a failure


class LockBusy(LinkgraphError):
    """Another run holds the lock (and ``--wait`` ran out)."""

    exit_code = EXIT_BUSY


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


class RunLock:
    """``with RunLock(db, wait=30): ...`` - exclusive, or :class:`LockBusy` after ``wait`` s."""

    def __init__(self, db: Path, *, wait: float = 0.0, poll: float = 0.2):
        self.path = lock_path(db)
        self.wait = wait
        self.poll = poll
        self._fd: int | None = None

    def holder(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return "unknown"
        return text or "unknown"

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    waited = f" after waiting {self.wait:g} s" if self.wait else ""
                    raise LockBusy(
                        f"another linkgraph writer holds {self.path} ({self.holder()}); not starting{waited}. "
                        "Use --wait SECONDS (or LINKGRAPH_LOCK_WAIT) to wait for it."
                    ) from None
                time.sleep(self.poll)
        os.ftruncate(fd, 0)
        command = " ".join(os.path.basename(a) for a in sys.argv[:3])
        os.pwrite(fd, f"pid {os.getpid()}, {command!r}, started {utcnow():%Y-%m-%d %H:%M:%S}Z\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def env_wait(default: float = 0.0) -> float:
    """``$LINKGRAPH_LOCK_WAIT`` seconds (a bad value is a usage error), else ``default``."""
    from linkgraph.errors import UsageError

    raw = os.environ.get("LINKGRAPH_LOCK_WAIT", "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (0 <= value <= 7 * 86400):
        raise UsageError(f"LINKGRAPH_LOCK_WAIT={raw!r}: want seconds between 0 and 604800")
    return value


def open_locked_writer(db: Path, *, wait: float | None = None, **store_options: Any) -> Store:
    """The write connection to ``db`` under the writer lock (released when the store closes).

    ``wait`` seconds for another writer (default ``$LINKGRAPH_LOCK_WAIT``, else 0: refuse at
    once with :class:`LockBusy`, exit 75). An in-memory store takes no lock."""
    if str(db) == ":memory:":
        return Store(db, **store_options)
    lock = RunLock(Path(db), wait=env_wait() if wait is None else wait)
    lock.acquire()
    try:
        store = Store(db, **store_options)
    except BaseException:
        lock.release()
        raise
    store.on_close(lock.release)
    return store
