"""Runs, windows and checkpoints: the bookkeeping every connector shares.

A harvest is a run over one or more *windows* (date ranges). Each page of records is committed
in one transaction together with its window's checkpoint (the token or cursor for the next
page, the newest datestamp stored, counters), so a process killed at any instant resumes from
the last committed page: nothing missing, nothing twice. A window that finished is marked
``done``; windows still ``open`` when a run starts belong to a run that died and are resumed
first. A run that finishes cleanly records the *high-water mark* the next incremental run
starts from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from linkgraph.errors import ProtocolError, StoreError
from linkgraph.store import RawRecord, Store, utcnow


@dataclass(slots=True)
class Window:
    key: str
    from_date: str | None
    until_date: str | None
    token: str | None = None
    last_datestamp: str | None = None
    ordered: bool = True
    pages: int = 0
    records: int = 0
    expected: int | None = None
    list_records: int = 0
    high_water: str | None = None
    status: str = "open"


@dataclass(slots=True)
class PageCommit:
    """One fetched page on its way to the store: its records and the window's checkpoint
    as it stands after the page (a snapshot: the harvest loop goes on mutating its own).

    ``window`` is None for the first part of a page that the writer split (see
    :mod:`linkgraph.harvest.writer`): records stored ahead of their page's checkpoint,
    which a resume fetches and upserts again; the rest of the page carries the checkpoint."""

    window: Window | None
    records: list[RawRecord]
    warnings: list[str] = field(default_factory=list)
    url: str | None = None


def window_key(from_date: str | None, until_date: str | None) -> str:
    return f"{from_date or ''}..{until_date or ''}"


@dataclass(slots=True)
class RunCounters:
    pages: int = 0
    records: int = 0
    deleted: int = 0
    expected: int = 0
    expected_windows: int = 0  # windows whose server announced a completeListSize
    windows_done: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """How a run that raised nothing ended: ``partial`` when a list came up short."""
        return "partial" if any(w.startswith("shortfall") for w in self.warnings) else "ok"

    @property
    def expected_total(self) -> int | None:
        """The announced list size, only when every finished window announced one."""
        if self.windows_done and self.expected_windows == self.windows_done:
            return self.expected
        return None


class Checkpoints:
    """Bookkeeping of one source in one store. Thread-safe through the store's lock."""

    def __init__(self, store: Store, source: str):
        self.store = store
        self.source = source
        self.run_id: int | None = None
        self.counters = RunCounters()
        # Pages go in with a plain INSERT until a key turns out to be stored already (a
        # re-harvest, a resumed window, overlapping windows); then with the upsert for good.
        self._new_only = True

    # -- sources -----------------------------------------------------------------------
    def register_source(self, kind: str, base_url: str, params: dict[str, Any]) -> None:
        """Create the source, or check that a source of that name means the same harvest."""
        rows = self.store.query(
            "SELECT kind, base_url, params FROM sources WHERE name = ?", [self.source]
        )
        blob = json.dumps(params, sort_keys=True)
        if rows:
            kind0, url0, params0 = rows[0]
            if (kind0, url0) != (kind, base_url) or json.loads(params0 or "{}") != params:
                from linkgraph.errors import UsageError

                raise UsageError(
                    f"source {self.source!r} already harvests {kind0} {url0} {params0}; "
                    f"choose another --name for {kind} {base_url} {blob}"
                )
            return
        with self.store.transaction() as cur:
            cur.execute(
                "INSERT INTO sources (name, kind, base_url, params, created_at) VALUES (?,?,?,?,?)",
                [self.source, kind, base_url, blob, utcnow()],
            )

    # -- runs --------------------------------------------------------------------------
    def start_run(self, from_date: str | None, until_date: str | None, windows: int) -> int:
        with self.store.transaction() as cur:
            row = cur.execute(
                "INSERT INTO harvest_runs (source, started_at, status, from_date, until_date, windows)"
                " VALUES (?, ?, 'running', ?, ?, ?) RETURNING run_id",
                [self.source, utcnow(), from_date, until_date, windows],
            ).fetchone()
        assert row is not None
        self.run_id = int(row[0])
        self.counters = RunCounters()
        return self.run_id

    def finish_run(self, status: str, *, high_water: str | None, error: str | None = None) -> None:
        c = self.counters
        with self.store.transaction() as cur:
            cur.execute(
                "UPDATE harvest_runs SET finished_at = ?, status = ?, pages = ?, records = ?,"
                " deleted = ?, expected = ?, high_water = ?, error = ?, warnings = ?"
                " WHERE run_id = ?",
                [
                    utcnow(),
                    status,
                    c.pages,
                    c.records,
                    c.deleted,
                    c.expected_total,
                    high_water,
                    error,
                    json.dumps(c.warnings, ensure_ascii=False) if c.warnings else None,
                    self.run_id,
                ],
            )

    def start_from(self, requested: str | None, *, full: bool) -> str | None:
        """Where a new run starts: the caller's date, nothing with ``full``, else the mark
        the last finished run left (unformatted: the harvester formats it)."""
        if requested:
            return requested
        return None if full else self.last_high_water()

    def last_high_water(self) -> str | None:
        """Where the next incremental run starts: the newest mark of a run that finished."""
        rows = self.store.query(
            "SELECT high_water FROM harvest_runs WHERE source = ? AND status IN ('ok', 'partial')"
            " AND high_water IS NOT NULL ORDER BY run_id DESC LIMIT 1",
            [self.source],
        )
        return rows[0][0] if rows else None

    # -- windows -----------------------------------------------------------------------
    def open_windows(self) -> list[Window]:
        rows = self.store.query(
            "SELECT window_key, from_date, until_date, token, last_datestamp, ordered, pages,"
            " records, expected, list_records, high_water FROM harvest_state"
            " WHERE source = ? AND status = 'open' ORDER BY from_date NULLS FIRST, window_key",
            [self.source],
        )
        return [Window(*row) for row in rows]

    def plan_windows(self, windows: Sequence[Window]) -> None:
        """Record new windows as open (replacing done ones with the same key)."""
        now = utcnow()
        with self.store.transaction() as cur:
            for w in windows:
                cur.execute(
                    "INSERT OR REPLACE INTO harvest_state (source, window_key, run_id, status,"
                    " from_date, until_date, token, last_datestamp, ordered, pages, records,"
                    " expected, list_records, high_water, updated_at)"
                    " VALUES (?, ?, ?, 'open', ?, ?, NULL, NULL, true, 0, 0, NULL, 0, ?, ?)",
                    [self.source, w.key, self.run_id, w.from_date, w.until_date, w.high_water, now],
                )

    def commit_page(
        self,
        window: Window,
        records: Sequence[RawRecord],
        *,
        warnings: Sequence[str] = (),
        url: str | None = None,
    ) -> None:
        """Store a page and move the window's checkpoint, in one transaction.

        ``window`` already carries the new token, counters and newest datestamp."""
        self.commit_pages([PageCommit(window, list(records), list(warnings), url)])

    def commit_pages(self, pages: Sequence[PageCommit]) -> None:
        """Store several pages and each window's newest checkpoint in ONE transaction.

        Pages are given in the order they were fetched; the checkpoint written for a window is
        the one carried by its last page, so the records and the checkpoint stay in step."""
        if not pages:
            return
        records = [r for p in pages for r in p.records]
        if self._new_only:
            try:
                self.store.retry_on_oom(lambda: self._write_pages(pages, records, new_only=True))
                return
            except StoreError as exc:
                if not isinstance(exc.__cause__, duckdb.ConstraintException):
                    raise
                self._new_only = False  # some keys are stored already: upsert from now on
        # A write that runs out of memory (a re-harvest's upsert into a large store, a WAL
        # replayed after a kill) is retried with a larger budget: nothing of it was kept.
        self.store.retry_on_oom(lambda: self._write_pages(pages, records, new_only=False))

    def _write_pages(self, pages: Sequence[PageCommit], records: list[RawRecord], *, new_only: bool) -> None:
        deleted = sum(1 for r in records if r.deleted)
        last: dict[str, Window] = {p.window.key: p.window for p in pages if p.window is not None}
        whole = sum(1 for p in pages if p.window is not None)  # pages whose checkpoint moves
        now = utcnow()
        with self.store.transaction() as cur:
            Store.upsert_raw(cur, self.source, self.run_id, records, new_only=new_only)
            for w in last.values():
                cur.execute(
                    "UPDATE harvest_state SET run_id = ?, token = ?, last_datestamp = ?, ordered = ?,"
                    " pages = ?, records = ?, expected = ?, list_records = ?, updated_at = ?"
                    " WHERE source = ? AND window_key = ?",
                    [
                        self.run_id, w.token, w.last_datestamp, w.ordered, w.pages, w.records,
                        w.expected, w.list_records, now, self.source, w.key,
                    ],
                )
            warnings = [(text, p.url) for p in pages for text in p.warnings]
            for text, url in warnings:
                self._problem(cur, "page-warning", text, url=url)
            cur.execute(
                "UPDATE harvest_runs SET pages = pages + ?, records = records + ?,"
                " deleted = deleted + ? WHERE run_id = ?",
                [whole, len(records), deleted, self.run_id],
            )
        # Counted once the commit went through (a commit that fails is retried: counting
        # inside the transaction counted its pages twice); under the store's lock, as windows
        # run in threads.
        with self.store.lock:
            c = self.counters
            c.pages += whole
            c.records += len(records)
            c.deleted += deleted
            c.warnings.extend(text for text, _ in warnings)

    def finish_window(self, window: Window) -> None:
        with self.store.transaction() as cur:
            cur.execute(
                "UPDATE harvest_state SET status = 'done', token = NULL, updated_at = ?"
                " WHERE source = ? AND window_key = ?",
                [utcnow(), self.source, window.key],
            )
            window.status = "done"
            self.counters.windows_done += 1
            if window.expected is not None:
                self.counters.expected += window.expected
                self.counters.expected_windows += 1

    # -- restarts and reconciliation (shared by the OAI and REST harvesters) ---------------
    def restart_list(
        self,
        w: Window,
        *,
        restarts: int,
        max_restarts: int,
        fmt: Callable[[str], str | None],
        url: str | None,
        why: str,
        kind: str,
    ) -> str | None:
        """Where a list restarts after its token or cursor was refused or looped.

        From the newest datestamp already committed when records have been arriving in
        datestamp order (nothing before it can be missing); from the window's start
        otherwise, since restarting later could skip records. The restart is recorded."""
        if restarts > max_restarts:
            raise ProtocolError(f"{why}; gave up after {max_restarts} restarts", url=url)
        if w.ordered and w.last_datestamp:
            start = fmt(w.last_datestamp)
            how = f"restarting the list from the newest committed datestamp {start}"
        else:
            start = w.from_date
            how = f"restarting the list from the window start {start or '(beginning)'}"
            if not w.ordered:
                how += " (records did not arrive in datestamp order, so a later restart could skip some)"
        self.problem(kind, f"{why}; {how}", url=url)
        w.expected = None
        w.list_records = 0
        return start

    def reconcile(self, w: Window, *, url: str | None) -> None:
        """Compare what a finished list delivered with the size the server announced."""
        if w.expected is None or w.list_records == w.expected:
            return
        if w.list_records < w.expected:
            self.problem(
                "shortfall",
                f"window {w.key}: the server announced {w.expected} records but delivered {w.list_records}",
                url=url,
            )
        else:
            self.problem(
                "surplus",
                f"window {w.key}: the server announced {w.expected} records and delivered "
                f"{w.list_records} (the list changed while it was harvested?)",
                url=url,
            )

    # -- problems ----------------------------------------------------------------------
    def problem(self, kind: str, detail: str, *, url: str | None = None, record_id: str | None = None) -> None:
        with self.store.transaction() as cur:
            self._problem(cur, kind, detail, url=url, record_id=record_id)
            self.counters.warnings.append(f"{kind}: {detail}")

    def _problem(self, cur: Any, kind: str, detail: str, *, url: str | None = None, record_id: str | None = None) -> None:
        cur.execute(
            "INSERT INTO harvest_problems (source, run_id, url, record_id, kind, detail, seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [self.source, self.run_id, url, record_id, kind, detail, utcnow()],
        )
