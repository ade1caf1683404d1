"""Incremental, crash-safe harvesting of REST registries (Crossref, DataCite, JaLC).

The same bookkeeping as the OAI harvester (:mod:`linkgraph.harvest.checkpoint`): every page
of records is committed together with the window's checkpoint (the cursor, next link or page
number that fetches the next page, the newest update date stored, counters); a run that dies
leaves its window ``open`` and the next run resumes it; a run that finishes records the
high-water mark the next incremental run starts from.

What differs from OAI-PMH is the paging. A :class:`RestSource` knows its registry's paging
(Crossref ``cursor``/``next-cursor``, DataCite ``links.next``, JaLC page numbers) and turns one
page into :class:`~linkgraph.store.RawRecord` objects; this module does the rest. When a
stored cursor is refused (Crossref cursors live a few minutes; a crashed run resumed later
finds it gone) the source raises :class:`CursorExpired` and the list restarts: from the newest
update date already committed when records came in update-date order, otherwise from the
window's start (idempotent upserts make the overlap harmless).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from linkgraph.harvest.checkpoint import Checkpoints, Window, window_key

from linkgraph.errors import HarvestError, ProtocolError, UsageError
from linkgraph.store import RawRecord, Store, utcnow

ProgressFn = Callable[[int, int | None], None]  # (records just stored, list size if known)
DAY = "day"
SECOND = "second"


class CursorExpired(HarvestError):
    """The server refused a stored cursor / next link / page: restart the list."""


@dataclass(slots=True)
class RestPage:
    """One list page, converted."""

    records: list[RawRecord]
    token: str | None  # fetches the next page; None when the list is complete
    total: int | None  # size of the whole list, if the server says
    listed: int  # entries the page listed (JaLC stores only the new or changed ones)
    url: str
    warnings: list[str] = field(default_factory=list)


class RestSource(Protocol):
    """One registry query: what a connector module provides to :class:`RestHarvester`."""

    kind: str  # sources.kind: crossref | datacite | jalc
    base_url: str
    granularity: str  # DAY or SECOND: how the registry's update-date filter is expressed

    def params(self) -> dict[str, Any]:
        """What identifies this harvest (prefix, member, client id, ...)."""
        ...

    def list_page(self, from_: str | None, until: str | None, token: str | None) -> RestPage:
        """Fetch one page: the first of the list when ``token`` is None."""
        ...


@dataclass(slots=True)
class RestHarvestOptions:
    from_: str | None = None  # None: the last run's high-water mark
    until: str | None = None
    full: bool = False
    max_restarts: int = 5
    max_empty_pages: int = 10
    # Second-granularity marks stay this far behind the clock: a registry's search index
    # shows a change some seconds after it was made.
    lag: timedelta = timedelta(minutes=5)


@dataclass(slots=True)
class RestHarvestResult:
    source: str
    run_id: int
    status: str  # ok | partial | failed
    records: int
    pages: int
    expected: int | None
    high_water: str | None
    resumed: bool
    requests: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


def item_date(value: Any) -> datetime | None:
    """A registry's date field as UTC, or None when absent or unreadable (a record with a bad
    date is still stored: its date only orders the harvest)."""
    if isinstance(value, dict):  # Crossref: {"date-time": "...", "date-parts": ...}
        value = value.get("date-time")
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_date(value)
    except (ValueError, OverflowError):
        return None


def list_total(value: Any) -> int | None:
    """A list size the server announced, when it is a plausible whole number."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        n = int(value)
    except ValueError:
        return None
    return n if 0 <= n < 1 << 62 else None


def page_items(items: Any, url: str, what: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The object entries of a list page, and a warning for each entry that is not an object;
    a list that is not a list is a :class:`ProtocolError` naming the URL."""
    if items is None:
        return [], []
    if not isinstance(items, list):
        raise ProtocolError(f"not a {what}: its item list is a {type(items).__name__}", url=url)
    good = [i for i in items if isinstance(i, dict)]
    warnings = [f"entry that is not an object skipped: {json.dumps(i)[:120]}" for i in items if not isinstance(i, dict)]
    return good, warnings


def parse_date(value: str) -> datetime:
    """A registry date or datetime (``2019-02-11``, ``2019-02-11T10:00:00Z``, ``+09:00``) in UTC."""
    text = value.strip()
    if len(text) == 10:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def format_mark(value: datetime, granularity: str) -> str:
    if granularity == DAY:
        return value.astimezone(UTC).strftime("%Y-%m-%d")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact_json(value: Any) -> str:
    """One record's JSON as the API gave it: same keys, order and values, no whitespace."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class RestHarvester:
    """Harvest one :class:`RestSource` into ``raw_records`` as the source ``name``."""

    def __init__(
        self,
        store: Store,
        source: RestSource,
        name: str,
        options: RestHarvestOptions | None = None,
        *,
        progress: ProgressFn | None = None,
        requests: Callable[[], int] | None = None,
    ):
        self.store = store
        self.source = source
        self.name = name
        self.opts = options or RestHarvestOptions()
        self.progress = progress
        self.cp = Checkpoints(store, name)
        self._requests = requests or (lambda: 0)

    def _fmt(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return format_mark(parse_date(value), self.source.granularity)
        except ValueError as exc:
            raise UsageError(f"not a date: {value!r} (use YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)") from exc

    def run(self) -> RestHarvestResult:
        self.cp.register_source(self.source.kind, self.source.base_url, self.source.params())
        pending = self.cp.open_windows()
        resumed = bool(pending)
        if resumed:
            window = pending[0]
            run_id = self.cp.start_run(window.from_date, window.until_date, 1)
        else:
            until = self._fmt(self.opts.until)
            from_ = self._fmt(self.cp.start_from(self.opts.from_, full=self.opts.full))
            now = utcnow() if self.source.granularity == DAY else utcnow() - self.opts.lag
            high_water = until or format_mark(now, self.source.granularity)
            window = Window(window_key(from_, until), from_, until, high_water=high_water)
            run_id = self.cp.start_run(from_, until, 1)
            self.cp.plan_windows([window])
        try:
            self._harvest_window(window)
        except BaseException as exc:  # any failure closes the run row first
            text = str(exc) if isinstance(exc, HarvestError) else f"{type(exc).__name__}: {exc}"
            try:
                self.cp.finish_run("failed", high_water=None, error=text[:2000])
            except Exception:  # noqa: BLE001 - the store itself failed (disk full): keep the first error
                pass
            if isinstance(exc, HarvestError) or not isinstance(exc, Exception):
                raise
            raise HarvestError(f"harvest failed: {text}") from exc
        c = self.cp.counters
        status = c.status
        self.cp.finish_run(status, high_water=window.high_water)
        return RestHarvestResult(
            source=self.name,
            run_id=run_id,
            status=status,
            records=c.records,
            pages=c.pages,
            expected=c.expected_total,
            high_water=window.high_water,
            resumed=resumed,
            requests=self._requests(),
            warnings=list(c.warnings),
        )

    def _harvest_window(self, w: Window) -> None:
        token = w.token
        from_ = w.from_date
        # A resumed window restarts from the newest committed date when its cursor is gone.
        restarts = 0
        empties = 0
        newest = parse_date(w.last_datestamp) if w.last_datestamp else None
        # Cycle guards over the whole run: a cursor / next link seen before (A -> B -> A), or a
        # page of records served before. Crossref's cursor is a scroll id that stays the same
        # from page to page (recorded: fixtures/crossref/vcr_*), so only the pages count there.
        seen_tokens: set[str] = set()
        seen_pages: set[bytes] = set()
        stable = bool(getattr(self.source, "stable_cursor", False))
        while True:
            try:
                page = self.source.list_page(from_, w.until_date, token)
            except CursorExpired as exc:
                if not token:
                    raise
                restarts += 1
                from_ = self._restart_point(w, restarts, exc.url, str(exc))
                token, empties = None, 0
                continue
            for rec in page.records:
                stamp = rec.datestamp
                if stamp is None:
                    continue
                if newest is not None and stamp < newest:
                    w.ordered = False
                if newest is None or stamp > newest:
                    newest = stamp
            if newest is not None:
                w.last_datestamp = format_mark(newest, SECOND)
            empties = empties + 1 if (not page.listed and page.token) else 0
            if empties > self.opts.max_empty_pages:
                raise ProtocolError(f"{empties} empty pages in a row, each pointing to another", url=page.url)
            if page.token is not None and not stable:
                if page.token == token or page.token in seen_tokens:
                    raise ProtocolError(f"the server sent a cursor it had sent before ({page.token[:200]!r}):"
                                        " the list would never end", url=page.url)
                seen_tokens.add(page.token)
            if page.records:
                fingerprint = hashlib.blake2b("\n".join(sorted(r.record_id for r in page.records)).encode(),
                                              digest_size=16).digest()
                if fingerprint in seen_pages and page.token is not None:
                    raise ProtocolError("the server served a page it had served before: its cursors go round"
                                        " in a cycle", url=page.url)
                seen_pages.add(fingerprint)
            w.token = page.token
            w.pages += 1
            w.records += len(page.records)
            w.list_records += page.listed
            if w.expected is None and page.total is not None:
                w.expected = page.total
            self.cp.commit_page(w, page.records, warnings=page.warnings, url=page.url)
            if self.progress is not None:
                self.progress(len(page.records), w.expected)
            if page.token is None:
                break
            token = page.token
        self.cp.reconcile(w, url=self.source.base_url)
        self.cp.finish_window(w)

    def _restart_point(self, w: Window, restarts: int, url: str | None, why: str) -> str | None:
        return self.cp.restart_list(
            w, restarts=restarts, max_restarts=self.opts.max_restarts, fmt=self._fmt, url=url,
            why=why, kind="cursor-restart",
        )
