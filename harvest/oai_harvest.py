"""Incremental, windowed, crash-safe OAI-PMH harvesting into ``raw_records``.

* The next run starts from the previous run's high-water mark (the server's clock when that
  run began, or its ``until``), so an incremental run fetches only what changed; the
  inclusive ``from`` gives one granularity step of overlap, which idempotent upserts make
  harmless.
* A range can be cut into date windows (equal slices, months or days) harvested concurrently,
  each committed and checkpointed on its own (metha's idea).
* An expired or bad resumption token (or one that repeats) restarts the list from the newest
  datestamp already committed - not from zero - when the server has been sending records in
  datestamp order; from the window's start otherwise (restarting later could skip records).
* ``completeListSize`` is reconciled with what arrived; a shortfall is recorded as a problem
  and the run is marked ``partial``, never silently ``ok``.
"""

from __future__ import annotations

import calendar
import contextlib
import difflib
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from linkgraph.errors import (
    BadResumptionToken,
    CannotDisseminateFormat,
    HarvestError,
    LinkgraphError,
    NoSetHierarchy,
    ProtocolError,
    UsageError,
)
from linkgraph.harvest.checkpoint import Checkpoints, PageCommit, Window, window_key
from linkgraph.harvest.http import Transport
from linkgraph.harvest.lookahead import Lookahead
from linkgraph.harvest.writer import PageWriter
from linkgraph.harvest.oai import (
    OAIClient,
    OAIRecord,
    Page,
    format_datestamp,
    granularity_step,
    parse_datestamp,
)
from linkgraph.store import RawRecord, Store

ProgressFn = Callable[[int, int | None], None]  # (records just stored, list size if known)


@dataclass(slots=True)
class OAIHarvestOptions:
    prefix: str
    set_: str | None = None
    from_: str | None = None  # user input: a date or a datetime; None = incremental
    until: str | None = None
    windows: int = 1  # windows harvested concurrently (workers)
    window_by: str = "auto"  # auto (equal slices when windows > 1) | month | day
    full: bool = False  # ignore the high-water mark, harvest everything
    max_empty_pages: int = 10
    max_restarts: int = 5
    lookahead: bool = True  # request page N+1 while page N is parsed (harvest/lookahead.py)


@dataclass(slots=True)
class HarvestResult:
    source: str
    run_id: int
    status: str  # ok | partial | failed
    records: int
    deleted: int
    pages: int
    expected: int | None
    high_water: str | None
    windows: int
    resumed: bool
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


def default_source_name(base_url: str, prefix: str, set_: str | None) -> str:
    parts = urlsplit(base_url)
    name = f"{parts.netloc}{parts.path.rstrip('/')}:{prefix}"
    return f"{name}:{set_}" if set_ else name


def split_range(
    start: datetime, end: datetime, granularity: str, *, windows: int = 1, by: str = "auto"
) -> list[tuple[datetime, datetime]]:
    """Cut ``[start, end]`` (inclusive) into consecutive, non-overlapping inclusive windows."""
    step = granularity_step(granularity)
    if end < start:
        return [(start, end)]
    edges: list[datetime] = [start]
    if by == "month":
        cur = start
        while True:
            days = calendar.monthrange(cur.year, cur.month)[1]
            nxt = cur.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days)
            if nxt > end:
                break
            edges.append(nxt)
            cur = nxt
    elif by == "day":
        cur = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        while cur <= end:
            edges.append(cur)
            cur += timedelta(days=1)
    elif windows > 1:
        span = (end - start) / windows
        for i in range(1, windows):
            edge = start + span * i
            edge = _floor(edge, step)
            if edge > edges[-1]:
                edges.append(edge)
    out: list[tuple[datetime, datetime]] = []
    for i, lo in enumerate(edges):
        hi = edges[i + 1] - step if i + 1 < len(edges) else end
        out.append((lo, hi))
    return out


def _floor(value: datetime, step: timedelta) -> datetime:
    if step >= timedelta(days=1):
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    return value.replace(microsecond=0)


class OAIHarvester:
    """Harvest one (base URL, metadataPrefix, set) into a store as the source ``name``."""

    def __init__(
        self,
        store: Store,
        base_url: str,
        options: OAIHarvestOptions,
        *,
        name: str | None = None,
        transport: Transport | None = None,
        progress: ProgressFn | None = None,
    ):
        if options.windows < 1:
            raise UsageError("--windows must be at least 1")
        if options.window_by not in ("auto", "month", "day"):
            raise UsageError("--window-by must be auto, month or day")
        self.store = store
        self.client = OAIClient(base_url, transport)
        self.base_url = self.client.base_url  # without userinfo: it names the source, logs, rows
        self.opts = options
        self.name = name or default_source_name(self.base_url, options.prefix, options.set_)
        self.progress = progress
        self.cp = Checkpoints(store, self.name)
        self.granularity = "YYYY-MM-DD"
        self.lookahead_used = 0  # pages that were already fetched when the loop asked (bench, tests)
        self._announced: dict[str, int] = {}  # window key -> completeListSize, for progress

    # -- the run ----------------------------------------------------------------------
    def _check_options(self) -> None:
        """Typos that would otherwise harvest nothing and still move the high-water mark."""
        if not re.match(r"^https?://[^\s/?#]+", self.base_url):
            raise UsageError(f"not an http(s) URL: {self.base_url!r} "
                             "(an OAI-PMH base URL, e.g. https://oai.datacite.org/oai)")
        lo, hi = self.opts.from_, self.opts.until
        if lo and hi:
            try:
                bad = parse_datestamp(lo) > parse_datestamp(hi)
            except ValueError as exc:
                raise UsageError(f"--from/--until: {exc}") from None
            if bad:
                raise UsageError(f"--from {lo} is after --until {hi}: nothing to harvest")

    def _explain(self, exc: BaseException) -> BaseException:
        """A wrong metadataPrefix: say which ones the endpoint serves."""
        if isinstance(exc, CannotDisseminateFormat):
            try:
                known = [f.prefix for f in self.client.list_metadata_formats()]
            except LinkgraphError:
                return exc
            return UsageError(f"{self.base_url} does not serve metadataPrefix "
                              f"{self.opts.prefix!r}; it serves: {', '.join(known)} "
                              "(`linkgraph oai formats URL`)")
        return exc

    def _check_set(self) -> UsageError | None:
        """After a run that found nothing in a set: does the set exist at all?"""
        try:
            specs = [s.spec for s in self.client.list_sets()]
        except NoSetHierarchy:
            return UsageError(f"{self.base_url} has no sets; --set {self.opts.set_!r} matches "
                              "nothing (the high-water mark was not moved)")
        except LinkgraphError:
            return None  # cannot tell: keep the run's answer
        if self.opts.set_ in specs:
            return None
        close = difflib.get_close_matches(self.opts.set_ or "", specs, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f" ({len(specs)} sets: `linkgraph oai sets URL`)"
        return UsageError(f"{self.base_url} has no set {self.opts.set_!r}{hint} "
                          "(the high-water mark was not moved)")

    def run(self) -> HarvestResult:
        self._check_options()
        params: dict[str, object] = {"metadataPrefix": self.opts.prefix}
        if self.opts.set_:
            params["set"] = self.opts.set_
        self.cp.register_source("oai", self.base_url, params)
        ident = self.client.identify()
        self.granularity = ident.granularity
        pending = self.cp.open_windows()
        resumed = bool(pending)
        if resumed:
            run_id = self.cp.start_run(pending[0].from_date, pending[-1].until_date, len(pending))
            high_water = _min_mark([w.high_water for w in pending])
        else:
            from_, until, high_water = self._plan_range(ident.response_date, ident.earliest_datestamp)
            pending = self._plan_windows(from_, until, ident.earliest_datestamp, ident.response_date, high_water)
            run_id = self.cp.start_run(from_, until, len(pending))
            self.cp.plan_windows(pending)

        errors: list[BaseException] = []
        workers = max(1, min(self.opts.windows, len(pending)))
        self.writer = PageWriter(self.cp, align=self.store.row_group_size, on_commit=self._committed)
        try:
            if workers == 1:
                for w in pending:
                    try:
                        self._harvest_window(w)
                    except Exception as exc:  # noqa: BLE001 - the run row is closed below, then it is told
                        errors.append(exc)
                        break
            else:
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="window") as pool:
                    futures = [pool.submit(self._harvest_window, w) for w in pending]
                    for fut in futures:
                        exc = fut.exception()
                        if exc is not None:
                            errors.append(exc)
        except BaseException as exc:  # interrupted: close the run row, then go on being interrupted
            self.writer.close()
            with contextlib.suppress(Exception):
                self.cp.finish_run("failed", high_water=None, error=f"interrupted: {type(exc).__name__}")
            raise
        self.writer.close()  # pages fetched before a failure are still committed
        if self.writer.error is not None and not errors:
            errors.append(self.writer.error)
        c = self.cp.counters
        errors = [self._explain(e) for e in errors]
        if (not errors and self.opts.set_ and c.records == 0 and c.deleted == 0
                and not self.store.query("SELECT 1 FROM raw_records WHERE source = ? LIMIT 1",
                                         [self.name])):
            # a set that never matched anything: is it there at all? (an incremental run of a
            # set that did match finds nothing new often, and asks nothing more)
            unknown_set = self._check_set()
            if unknown_set is not None:
                errors.append(unknown_set)
        if errors:
            first = errors[0]
            status = "failed"
            error = str(first) if isinstance(first, LinkgraphError) else f"{type(first).__name__}: {first}"
            self.cp.finish_run(status, high_water=None, error=error)
            if not isinstance(first, LinkgraphError):  # a bug or a storage error: the row is closed, say it
                raise HarvestError(f"harvest failed: {error}") from first
        else:
            status = c.status
            error = None
            self.cp.finish_run(status, high_water=high_water)
        result = HarvestResult(
            source=self.name,
            run_id=run_id,
            status=status,
            records=c.records,
            deleted=c.deleted,
            pages=c.pages,
            expected=c.expected_total,
            high_water=high_water if not errors else None,
            windows=len(pending),
            resumed=resumed,
            warnings=list(c.warnings),
            error=error,
        )
        if errors:
            raise errors[0]
        return result

    def _fmt(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return format_datestamp(parse_datestamp(value), self.granularity)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc

    def _plan_range(self, response_date: str, earliest: str) -> tuple[str | None, str | None, str | None]:
        until = self._fmt(self.opts.until)
        from_ = self._fmt(self.cp.start_from(self.opts.from_, full=self.opts.full))
        # The mark for the next run: the server's clock now, unless the caller bounded the run.
        high_water = until or self._fmt(response_date) or None
        return from_, until, high_water

    def _plan_windows(
        self,
        from_: str | None,
        until: str | None,
        earliest: str,
        response_date: str,
        high_water: str | None,
    ) -> list[Window]:
        if self.opts.windows == 1 and self.opts.window_by == "auto":
            return [Window(window_key(from_, until), from_, until, high_water=high_water)]
        lo_s = from_ or self._fmt(earliest)
        hi_s = until or self._fmt(response_date)
        if not lo_s or not hi_s:
            raise UsageError("the server gives no earliestDatestamp/responseDate: pass --from and --until")
        lo, hi = parse_datestamp(lo_s), parse_datestamp(hi_s)
        # Records are rarely spread evenly over time, so "auto" cuts four slices per worker:
        # the workers take them in turn and one crowded slice does not leave the rest idle.
        slices = self.opts.windows * 4 if self.opts.window_by == "auto" else 1
        out: list[Window] = []
        for a, b in split_range(lo, hi, self.granularity, windows=slices, by=self.opts.window_by):
            fa = format_datestamp(a, self.granularity)
            # the last window stays open-ended when the caller gave no until: nothing is missed
            fb = format_datestamp(b, self.granularity) if (b < hi or until) else None
            out.append(Window(window_key(fa, fb), fa, fb, high_water=high_water))
        return out

    # -- one window -------------------------------------------------------------------
    def _harvest_window(self, w: Window) -> None:
        opts = self.opts
        newest = parse_datestamp(w.last_datestamp) if w.last_datestamp else None
        ahead = self.client.lookahead() if opts.lookahead else None
        try:
            self._window_pages(w, w.token, w.from_date, newest, ahead)
        finally:
            if ahead is not None:
                ahead.close()
                self.lookahead_used += ahead.used
        self.writer.flush()
        self.cp.reconcile(w, url=self.base_url)
        self.cp.finish_window(w)

    def _window_pages(
        self, w: Window, token: str | None, from_: str | None, newest: datetime | None,
        ahead: Lookahead[Any] | None,
    ) -> None:
        opts = self.opts
        seen_tokens: set[str] = set()
        empties = 0
        restarts = 0
        while True:
            try:
                page = self.client.list_page(
                    prefix=opts.prefix, token=token, from_=from_, until=w.until_date, set_=opts.set_,
                    lookahead=ahead,
                )
            except BadResumptionToken as exc:
                if not token:
                    raise
                restarts += 1
                from_ = self._restart_point(w, restarts, exc.url, f"resumption token refused ({exc.detail})")
                token, seen_tokens, empties = None, set(), 0
                continue
            records, newest = self._convert(page, w, newest)
            if page.token and (page.token == token or page.token in seen_tokens):
                # The page is real data (store it) but its token would loop forever.
                self._commit(w, page, records, token=None)
                restarts += 1
                from_ = self._restart_point(w, restarts, page.url, f"resumption token repeats ({page.token!r})")
                token, seen_tokens, empties = None, set(), 0
                continue
            empties = empties + 1 if (not records and page.token) else 0
            if empties > opts.max_empty_pages:
                raise ProtocolError(
                    f"{empties} empty pages in a row, each with a new resumption token", url=page.url
                )
            self._commit(w, page, records, token=page.token)
            if not page.token:
                break
            if token:
                seen_tokens.add(token)
            token = page.token

    def _restart_point(self, w: Window, restarts: int, url: str | None, why: str) -> str | None:
        return self.cp.restart_list(
            w, restarts=restarts, max_restarts=self.opts.max_restarts, fmt=self._fmt, url=url,
            why=why, kind="token-restart",
        )

    def _convert(
        self, page: Page, w: Window, newest: datetime | None
    ) -> tuple[list[RawRecord], datetime | None]:
        out: list[RawRecord] = []
        for rec in page.records:
            stamp = self._stamp(rec, page.url)
            if stamp is not None:
                if newest is not None and stamp < newest:
                    w.ordered = False
                if newest is None or stamp > newest:
                    newest = stamp
            out.append(
                RawRecord(rec.identifier, stamp, rec.deleted, self.opts.prefix, rec.metadata, tuple(rec.sets))
            )
        if newest is not None:
            w.last_datestamp = format_datestamp(newest, "YYYY-MM-DDThh:mm:ssZ")
        return out, newest

    def _stamp(self, rec: OAIRecord, url: str) -> datetime | None:
        try:
            return parse_datestamp(rec.datestamp)
        except ValueError:
            self.cp.problem("bad-datestamp", f"{rec.datestamp!r}", url=url, record_id=rec.identifier)
            return None

    def _commit(self, w: Window, page: Page, records: list[RawRecord], *, token: str | None) -> None:
        w.token = token
        w.pages += 1
        w.records += len(records)
        w.list_records += len(records)
        if w.expected is None and page.complete_list_size is not None:
            w.expected = page.complete_list_size
        if w.expected is not None:
            self._announced[w.key] = w.expected + (w.records - w.list_records)
        self.writer.submit(w, records, page.warnings, page.url)

    def _committed(self, pages: list[PageCommit]) -> None:
        if self.progress is not None:
            self.progress(sum(len(p.records) for p in pages), sum(self._announced.values()) or None)


def _min_mark(marks: list[str | None]) -> str | None:
    known = [m for m in marks if m]
    if len(known) != len(marks) or not known:
        return None
    return min(known, key=lambda m: parse_datestamp(m).astimezone(timezone.utc))
