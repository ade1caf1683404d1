"""JaLC REST API (api.japanlinkcenter.org): list a prefix's DOIs, then fetch each record.

JaLC has no public OAI-PMH endpoint. A harvest lists ``/doilist/{prefix}`` page by page
(``from``/``until`` update dates, ``rows``, ``page``, ``sort=updated_date``, ``order=asc``)
and fetches ``/dois/{doi}`` for each listed DOI that is new or changed, concurrently under a
configurable rate limit (the transport's pacer and concurrency bound). A page is committed
with its checkpoint (the next page number) only once every record of it is fetched.

*New or changed*: a DOI is fetched unless the store already holds it with an update date at
least as new as the list's **and** fetched it after the end of that day (JaLC dates are
whole days, so a record fetched on the day it changed may have changed again later that day).
A resumed run therefore skips what the crashed run already stored.

Errors come in JaLC's envelope ``{"message": {"errors": {"message": "..."}}}`` with HTTP
400/404; a 404 on ``/doilist`` means "nothing listed" (an empty incremental window), on
``/dois`` a listed DOI that cannot be fetched (recorded as a problem, the harvest goes on).
DOIs are URL-encoded in the path; the API is known to need the slash encoded twice
(``10.51094%252Fjxiv.1041``), which is the default.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from linkgraph.harvest.crossref import read_json
from linkgraph.harvest.http import Transport
from linkgraph.harvest.rest_harvest import DAY, RestPage, compact_json, item_date, list_total, page_items

from linkgraph.errors import ProtocolError, TransportError, UsageError
from linkgraph.store import RawRecord, Store

BASE_URL = "https://api.japanlinkcenter.org"
FORMAT = "jalc-json"
MAX_ROWS = 1000
_ENVELOPE = re.compile(r"\{.*\}", re.DOTALL)


def encode_doi(doi: str, *, double: bool = True) -> str:
    once = quote(doi, safe="")
    return quote(once, safe="") if double else once


def jalc_error(exc: TransportError) -> str:
    """The text of JaLC's error envelope inside a transport error, else the error itself."""
    m = _ENVELOPE.search(exc.message)
    if m:
        try:
            doc = json.loads(m.group(0))
            errors = (doc.get("message") or {}).get("errors")
            if isinstance(errors, dict) and errors.get("message"):
                return str(errors["message"])
            if isinstance(errors, list) and errors:
                return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
        except (ValueError, AttributeError):
            pass
    return exc.message


def jalc_record(data: dict[str, Any], listed_updated: str | None = None) -> RawRecord:
    doi = data.get("doi")
    doi = doi.strip().lower() if isinstance(doi, str) else ""
    return RawRecord(doi, item_date(data.get("updated_date")) or item_date(listed_updated), False, FORMAT,
                     compact_json(data))


class JalcClient:
    """The three JaLC REST endpoints over one transport."""

    def __init__(self, transport: Transport, *, base_url: str = BASE_URL, double_encode: bool = True):
        self.transport = transport
        self.base_url = transport.adopt(base_url).rstrip("/")  # userinfo -> auth
        self.double_encode = double_encode

    def prefixes(self, *, ra: str | None = None) -> list[dict[str, Any]]:
        """Every prefix ``/prefixes`` lists (all pages)."""
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {"page": str(page)}
            if ra:
                params["ra"] = ra
            doc = self.transport.fetch(f"{self.base_url}/prefixes", read_json, params=params)
            if not isinstance(doc, dict):
                raise ProtocolError(f"not a JaLC prefix list: {str(doc)[:200]}", url=f"{self.base_url}/prefixes")
            data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
            items, _ = page_items(data.get("items"), f"{self.base_url}/prefixes", "JaLC prefix list")
            out.extend(items)
            message = doc.get("message") if isinstance(doc.get("message"), dict) else {}
            total_pages = list_total(message.get("totalPages")) or 1
            if page >= total_pages:
                return out
            page += 1

    def doilist(self, prefix: str, params: dict[str, str]) -> dict[str, Any] | None:
        """One ``/doilist`` page; None when JaLC answers 404 (nothing listed)."""
        url = f"{self.base_url}/doilist/{quote(prefix, safe='')}"
        try:
            return self.transport.fetch(url, read_json, params=params)
        except TransportError as exc:
            if exc.status == 404:
                return None
            raise TransportError(f"JaLC refused the list: {jalc_error(exc)}", url=exc.url, status=exc.status) from exc

    def doi(self, doi: str) -> dict[str, Any] | None:
        """``/dois/{doi}`` ``data``, or None when JaLC does not know the DOI (404)."""
        url = f"{self.base_url}/dois/{encode_doi(doi, double=self.double_encode)}"
        try:
            doc = self.transport.fetch(url, read_json)
        except TransportError as exc:
            if exc.status in (400, 404):
                return None
            raise
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, dict):
            raise ProtocolError(f"not a JaLC record: {str(doc)[:200]}", url=url)
        return data


class JalcSource:
    """One prefix's DOIs, listed then fetched (a :class:`RestSource`)."""

    kind = "jalc"
    granularity = DAY

    def __init__(
        self,
        store: Store,
        source_name: str,
        client: JalcClient,
        prefix: str,
        *,
        rows: int = MAX_ROWS,
        concurrency: int = 4,
    ):
        if not re.match(r"^10\.\d{4,9}$", prefix):
            raise UsageError(f"not a DOI prefix: {prefix!r} (expected 10.NNNN)")
        if not 1 <= rows <= MAX_ROWS:
            raise UsageError(f"--rows must be between 1 and {MAX_ROWS}")
        self.store = store
        self.source_name = source_name
        self.client = client
        self.base_url = client.base_url
        self.prefix = prefix
        self.rows = rows
        self.concurrency = max(1, concurrency)
        self.fetched = 0
        self.skipped = 0

    def params(self) -> dict[str, Any]:
        return {"prefix": self.prefix}

    def list_page(self, from_: str | None, until: str | None, token: str | None) -> RestPage:
        page_no = list_total(token) or 1 if token else 1
        params = {"rows": str(self.rows), "page": str(page_no), "sort": "updated_date", "order": "asc"}
        if from_:
            params["from"] = from_
        if until:
            params["until"] = until
        url = f"{self.base_url}/doilist/{self.prefix}"
        doc = self.client.doilist(self.prefix, params)
        if doc is None:
            return RestPage([], None, 0 if page_no == 1 else None, 0, url)
        if not isinstance(doc, dict):
            raise ProtocolError(f"not a JaLC DOI list: {str(doc)[:200]}", url=url)
        message = doc.get("message") if isinstance(doc.get("message"), dict) else {}
        data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
        items, bad = page_items(data.get("items"), url, "JaLC DOI list")
        listed: dict[str, str | None] = {}
        for item in items:
            dois = item.get("dois")
            doi = dois.get("doi") if isinstance(dois, dict) else None
            if isinstance(doi, str) and doi.strip():
                updated = item.get("updated_date")
                listed[doi.strip()] = updated if isinstance(updated, str) else None
        todo = self._changed(listed)
        self.skipped += len(listed) - len(todo)
        records, warnings = self._fetch_all(todo, listed)
        total_pages = list_total(message.get("totalPages")) or page_no
        nxt = str(page_no + 1) if page_no < total_pages and items else None
        return RestPage(records, nxt, list_total(message.get("total")), len(items), url, bad + warnings)

    def _changed(self, listed: dict[str, str | None]) -> list[str]:
        if not listed:
            return []
        rows = self.store.query(
            "SELECT record_id, datestamp, fetched_at FROM raw_records WHERE source = ?"
            " AND record_id IN (SELECT unnest(?::VARCHAR[]))",
            [self.source_name, [d.lower() for d in listed]],
        )
        held: dict[str, tuple[datetime | None, datetime]] = {r[0]: (r[1], r[2]) for r in rows}
        todo = []
        for doi, updated in listed.items():
            prev = held.get(doi.lower())
            if prev is None or not updated or prev[0] is None:
                todo.append(doi)
                continue
            when = item_date(updated)
            if when is None or prev[0] < when or prev[1] < when + timedelta(days=1):
                todo.append(doi)
        return todo

    def _fetch_all(self, dois: list[str], listed: dict[str, str | None]) -> tuple[list[RawRecord], list[str]]:
        records: list[RawRecord] = []
        warnings: list[str] = []
        if not dois:
            return records, warnings
        workers = min(self.concurrency, len(dois))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jalc") as pool:
            for doi, data in zip(dois, pool.map(self.client.doi, dois)):
                if data is None:
                    warnings.append(f"listed DOI {doi} could not be fetched (JaLC: not found)")
                    continue
                rec = jalc_record(data, listed.get(doi))
                if not rec.record_id:
                    rec.record_id = doi.lower()
                records.append(rec)
        self.fetched += len(records)
        return records, warnings
