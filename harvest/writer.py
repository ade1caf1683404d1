"""A background writer: fetching the next page overlaps with committing the last one.

The harvest loop hands each parsed page to :class:`PageWriter` and goes on to fetch the next
page while DuckDB commits (DuckDB releases the GIL while it works). Pages are committed in the
order they were fetched. Pages that arrive close together (within ``max_delay``) are committed
in one transaction with each window's newest checkpoint (group commit): the records and their
checkpoint still commit together, so a kill at any instant loses at most pages that were
never committed, and a resume fetches them again. With a slow server every page gets a
transaction of its own.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from linkgraph.harvest.checkpoint import Checkpoints, PageCommit, Window
from linkgraph.store import RawRecord

_STOP = object()


class PageWriter:
    """Commits submitted pages in order, grouping those that arrive close together.

    A group is committed when it holds ``max_group_records`` records, when its first page
    has waited ``max_delay`` seconds, or when someone calls :meth:`flush`. DuckDB pays a
    fixed cost per transaction, so grouping is what lets a fast server be harvested fast."""

    def __init__(
        self,
        checkpoints: Checkpoints,
        *,
        max_pending: int = 8,
        max_group_records: int = 1000,
        max_delay: float = 0.5,
        on_commit: Callable[[list[PageCommit]], None] | None = None,
    ):
        self.cp = checkpoints
        self.max_group_records = max_group_records
        self.max_delay = max_delay
        self.on_commit = on_commit
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_pending)
        self._flush = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="page-writer", daemon=True)
        self._thread.start()

    def submit(self, window: Window, records: list[RawRecord], warnings: list[str], url: str | None) -> None:
        """Queue a page with a snapshot of its window's checkpoint (blocks when far behind)."""
        self.raise_if_failed()
        self._queue.put(PageCommit(replace(window), records, warnings, url))

    def flush(self) -> None:
        """Wait until everything submitted is committed; re-raise a commit failure."""
        self._flush.set()
        self._queue.join()
        self._flush.clear()
        self.raise_if_failed()

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()

    @property
    def error(self) -> BaseException | None:
        return self._error

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        group: list[PageCommit] = []
        size = 0
        deadline = 0.0
        while True:
            if not group:
                timeout: float | None = None
            elif self._flush.is_set():
                timeout = 0.0
            else:
                timeout = max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None  # waited long enough, or a flush is waiting: commit what we have
            stopping = item is _STOP
            if isinstance(item, PageCommit):
                if not group:
                    deadline = time.monotonic() + self.max_delay
                group.append(item)
                size += len(item.records)
            if group and (item is None or stopping or size >= self.max_group_records):
                self._commit(group)
                for _ in group:
                    self._queue.task_done()
                group, size = [], 0
            if stopping:
                self._queue.task_done()
                return

    def _commit(self, group: list[PageCommit]) -> None:
        if self._error is not None:
            return  # after a failure nothing more is written: the checkpoint stays consistent
        try:
            self.cp.commit_pages(group)
        except BaseException as exc:  # noqa: BLE001 - handed to the harvest loop
            self._error = exc
            return
        if self.on_commit is not None:
            self.on_commit(group)
