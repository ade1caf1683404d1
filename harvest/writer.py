"""A background writer: fetching the next page overlaps with committing the last one.

The harvest loop hands each parsed page to :class:`PageWriter` and goes on to fetch the next
page while DuckDB commits (DuckDB releases the GIL while it works). Pages are committed in the
order they were fetched. Pages that arrive close together (within ``max_delay``) are committed
in one transaction with each window's newest checkpoint (group commit): the records and their
checkpoint still commit together, so a kill at any instant loses at most pages that were
never committed, and a resume fetches them again. With a slow server every page gets a
transaction of its own.

With ``align`` (the store's row-group size) a full group commits a whole number of row groups:
DuckDB then writes them straight into the file, compressed, instead of logging every payload
in the WAL and spilling it to disk until a checkpoint; and no short row group is left between
full ones for the checkpoint to merge (which rewrote nearly everything). To get there the
writer may split a page: its first records are stored in this transaction *without* moving
the page's checkpoint, the rest commit with the checkpoint in the next one. Killed in
between, a resume fetches that page again and the upsert stores its records once.
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
        align: int | None = None,
        max_group_bytes: int = 8 << 20,
        on_commit: Callable[[list[PageCommit]], None] | None = None,
    ):
        """``align``: commit full groups in multiples of this many records (and wait for
        that many rather than ``max_group_records``); the delay and flushes still commit
        whatever is waiting. ``max_group_bytes`` (payload characters) commits a group of
        large records before it is full, unaligned: a 2,048-record group of 7 KB JPCOAR
        records is 14 MB in Python, again in Arrow, and more inside DuckDB's upsert."""
        self.cp = checkpoints
        self.align = align
        self.max_group_records = align or max_group_records
        self.max_group_bytes = max_group_bytes
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
        size = nbytes = 0
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
                nbytes += _payload_chars(item)
            too_big = nbytes >= self.max_group_bytes
            if group and (item is None or stopping or too_big or size >= self.max_group_records):
                if self.align and item is not None and not stopping and not too_big:
                    done, group = split_group(group, size - size % self.align)
                else:
                    done, group = group, []
                self._commit(done)
                for p in done:
                    if p.window is not None:  # a page's first part is not a queue item
                        self._queue.task_done()
                size = sum(len(p.records) for p in group)
                nbytes = sum(_payload_chars(p) for p in group)
                deadline = time.monotonic() + self.max_delay
            if stopping:
                self._queue.task_done()
                return

    def _commit(self, group: list[PageCommit]) -> None:
        if not group:
            return
        if self._error is not None:
            return  # after a failure nothing more is written: the checkpoint stays consistent
        try:
            self.cp.commit_pages(group)
        except BaseException as exc:  # noqa: BLE001 - handed to the harvest loop
            self._error = exc
            return
        if self.on_commit is not None:
            self.on_commit(group)


def _payload_chars(page: PageCommit) -> int:
    return sum(len(r.payload) for r in page.records if r.payload is not None)


def split_group(group: list[PageCommit], n: int) -> tuple[list[PageCommit], list[PageCommit]]:
    """The first ``n`` records of ``group`` and the rest, split inside a page if need be.

    A split page's first part carries no window (its checkpoint does not move) and its
    second part carries the window, the warnings and the URL."""
    head: list[PageCommit] = []
    for i, page in enumerate(group):
        if n <= 0:
            return head, group[i:]
        if len(page.records) <= n:
            head.append(page)
            n -= len(page.records)
            continue
        head.append(PageCommit(None, page.records[:n]))
        rest = PageCommit(page.window, page.records[n:], page.warnings, page.url)
        return head, [rest, *group[i + 1:]]
    return head, []
