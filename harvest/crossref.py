"""Crossref REST API: ``/works`` deep paging with cursors, under the server's rate limits.

* Route: ``/prefixes/{p}/works``, ``/members/{id}/works`` or ``/works``; ``cursor=*`` then each
  answer's ``message.next-cursor``; ``rows`` up to 1000; the list ends on a page with fewer
  items than ``rows`` (Crossref keeps sending a next cursor on the last page).
* Filters ``from-update-date`` / ``until-update-date`` (day granularity) and ``type``.
* Polite pool: ``mailto=`` on every request. Pacing and concurrency follow the
  ``x-rate-limit-*`` / ``x-concurrency-limit`` headers (:mod:`linkgraph.harvest.ratelimit`);
  429 is retried after ``Retry-After`` by the transport.
* A record's datestamp is ``deposited.date-time``: Crossref documents ``from-update-date`` as
  "metadata updated, currently the same as the deposit date", so ``deposited`` is the field the
  incremental filter selects on. ``indexed`` moves whenever Crossref re-indexes a work
  (citation counts, ...) without any change by its owner; marks taken from it would not
  match what the filter returns. A re-indexed work whose JSON changed is still re-stored
  (same datestamp, other payload hash).
* Cursors expire after a few minutes: a refused cursor (400/404 on a request that carried one)
  restarts the list (see :mod:`linkgraph.harvest.rest_harvest`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from linkgraph.harvest.http import RetryableError, Transport, body_chunks
from linkgraph.harvest.ratelimit import ServerLimits
from linkgraph.harvest.rest_harvest import (
    DAY,
    CursorExpired,
    RestPage,
    compact_json,
    item_date,
    list_total,
    page_items,
)

from linkgraph.errors import ProtocolError, TransportError, UsageError
from linkgraph.store import RawRecord

BASE_URL = "https://api.crossref.org"
FORMAT = "crossref-json"
MAX_ROWS = 1000
PUBLIC_LIST_RATE = 1.0  # requests/s for list queries in the public pool (2025-12 limits)
POLITE_LIST_RATE = 3.0


def read_json(resp: httpx.Response) -> Any:
    """The whole body as JSON; a cut or garbled body is retried by the transport."""
    body = b"".join(body_chunks(resp))  # bounded: inflated size and request deadline
    try:
        return json.loads(body)
    except ValueError as exc:
        raise RetryableError(f"response is not complete JSON ({exc})", url=str(resp.request.url)) from exc


def crossref_record(item: dict[str, Any]) -> RawRecord:
    doi = item.get("DOI")
    doi = doi.strip().lower() if isinstance(doi, str) else ""
    stamp = None
    for key in ("deposited", "indexed", "created"):
        stamp = item_date(item.get(key))
        if stamp is not None:
            break
    return RawRecord(doi, stamp, False, FORMAT, compact_json(item))


@dataclass(slots=True)
class CrossrefQuery:
    prefix: str | None = None
    member: str | None = None
    type_: str | None = None
    rows: int = MAX_ROWS
    mailto: str | None = None

    def __post_init__(self) -> None:
        if bool(self.prefix) == bool(self.member):
            raise UsageError("give exactly one of --prefix or --member")
        if not 1 <= self.rows <= MAX_ROWS:
            raise UsageError(f"--rows must be between 1 and {MAX_ROWS}")


class CrossrefSource:
    """One Crossref works query, paged with cursors (a :class:`RestSource`)."""

    kind = "crossref"
    granularity = DAY
    stable_cursor = True  # next-cursor is a scroll id: the same string on every page

    def __init__(self, transport: Transport, query: CrossrefQuery, *, base_url: str = BASE_URL,
                 max_concurrency: int = 3):
        self.transport = transport
        self.query = query
        self.base_url = transport.adopt(base_url).rstrip("/")  # userinfo -> auth
        rate = POLITE_LIST_RATE if query.mailto else PUBLIC_LIST_RATE
        self.limits = ServerLimits(transport, max_concurrency=max_concurrency, initial_rate=rate)

    def params(self) -> dict[str, Any]:
        p: dict[str, Any] = {}
        if self.query.prefix:
            p["prefix"] = self.query.prefix
        if self.query.member:
            p["member"] = self.query.member
        if self.query.type_:
            p["type"] = self.query.type_
        return p

    @property
    def list_url(self) -> str:
        if self.query.prefix:
            return f"{self.base_url}/prefixes/{quote(self.query.prefix, safe='')}/works"
        return f"{self.base_url}/members/{quote(str(self.query.member), safe='')}/works"

    def get(self, url: str, params: dict[str, str], consume: Callable[[httpx.Response], Any]) -> Any:
        if self.query.mailto:
            params = {**params, "mailto": self.query.mailto}
        with self.limits.gate.slot():
            return self.transport.fetch(url, consume, params=params)

    def list_page(self, from_: str | None, until: str | None, token: str | None) -> RestPage:
        filters = []
        if from_:
            filters.append(f"from-update-date:{from_}")
        if until:
            filters.append(f"until-update-date:{until}")
        if self.query.type_:
            filters.append(f"type:{self.query.type_}")
        params = {"rows": str(self.query.rows), "cursor": token or "*"}
        if filters:
            params["filter"] = ",".join(filters)
        try:
            doc = self.get(self.list_url, params, read_json)
        except TransportError as exc:
            if token and exc.status in (400, 404, 410):
                raise CursorExpired(f"cursor refused ({exc.message})", url=exc.url, status=exc.status) from exc
            raise
        message = doc.get("message") if isinstance(doc, dict) else None
        if not isinstance(doc, dict) or doc.get("status") != "ok" or not isinstance(message, dict):
            raise ProtocolError(f"not a Crossref work list: {str(doc)[:200]}", url=self.list_url)
        raw_items = message.get("items")
        items, warnings = page_items(raw_items, self.list_url, "Crossref work list")
        records = [crossref_record(i) for i in items]
        warnings += [f"work without DOI skipped: {compact_json(i)[:120]}" for i, r in zip(items, records) if not r.record_id]
        warnings += [f"unreadable date {compact_json(i.get('deposited'))[:80]} on {r.record_id}: stored without one"
                     for i, r in zip(items, records)
                     if r.record_id and r.datestamp is None and i.get("deposited") is not None]
        records = [r for r in records if r.record_id]
        nxt = message.get("next-cursor")
        listed = len(raw_items) if isinstance(raw_items, list) else 0
        done = listed < self.query.rows or not nxt or not isinstance(nxt, str)
        return RestPage(records, None if done else str(nxt), list_total(message.get("total-results")),
                        listed, self.list_url, warnings)
