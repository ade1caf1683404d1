"""One ``linkgraph run`` at a time per database: an ``flock`` on a file beside it.

Why ``flock``: the kernel releases it when the holder exits in any way, SIGKILL included, so a
crashed run never leaves a stale lock behind. The file keeps the holder's pid and start time
(informational only) so the refused run can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from linkgraph.errors import LinkgraphError
from linkgraph.store import utcnow

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
                        f"another linkgraph run holds {self.path} ({self.holder()}); not starting{waited}. "
                        "Use --wait SECONDS to wait for it."
                    ) from None
                time.sleep(self.poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {utcnow():%Y-%m-%d %H:%M:%S}Z\n".encode(), 0)
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
