"""DataCite REST API: ``/dois`` with cursor paging, following ``links.next``.

* Filters ``client-id`` / ``provider-id`` / ``prefix``; ``page[size]`` up to 1000;
  ``page[cursor]=1`` on the first request, then the ``links.next`` URL as given (it carries the
  next cursor and every filter); the list ends when a page has no ``links.next`` or no data.
* Incremental: ``query=updated:[FROM TO UNTIL]`` (Elasticsearch range, ``*`` for open ends).
* A record is one item of ``data`` (``included`` - the client/provider records - is left out),
  datestamp ``attributes.updated``. DataCite sorts a cursor list by creation date, not by
  update date, so a refused cursor restarts the window from its start.
"""

from __future__ import annotations

from typing import Any

from linkgraph.harvest.crossref import read_json
from linkgraph.harvest.http import Transport
from linkgraph.harvest.rest_harvest import (
    SECOND,
    CursorExpired,
    RestPage,
    compact_json,
    item_date,
    list_total,
    page_items,
    parse_date,
)

from linkgraph.errors import ProtocolError, TransportError, UsageError
from linkgraph.store import RawRecord

BASE_URL = "https://api.datacite.org"
FORMAT = "datacite-json"
MAX_SIZE = 1000


def datacite_record(item: dict[str, Any]) -> RawRecord:
    attrs = item.get("attributes")
    attrs = attrs if isinstance(attrs, dict) else {}
    doi = attrs.get("doi") or item.get("id")
    doi = doi.strip().lower() if isinstance(doi, str) else ""
    return RawRecord(doi, item_date(attrs.get("updated")), False, FORMAT, compact_json(item))


def _updated(item: dict[str, Any]) -> Any:
    attrs = item.get("attributes")
    return attrs.get("updated") if isinstance(attrs, dict) else None


def es_date(value: str | None, *, end: bool) -> str:
    """A mark as DataCite's ``updated`` range bound (``*`` when open)."""
    if not value:
        return "*"
    dt = parse_date(value)
    if len(value.strip()) == 10 and end:  # a whole day: up to its last millisecond
        return dt.strftime("%Y-%m-%dT23:59:59.999Z")
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class DataCiteSource:
    """One DataCite ``/dois`` query (a :class:`RestSource`)."""

    kind = "datacite"
    granularity = SECOND

    def __init__(
        self,
        transport: Transport,
        *,
        client_id: str | None = None,
        provider_id: str | None = None,
        prefix: str | None = None,
        page_size: int = MAX_SIZE,
        base_url: str = BASE_URL,
    ):
        given = [v for v in (client_id, provider_id, prefix) if v]
        if len(given) != 1:
            raise UsageError("give exactly one of --client-id, --provider-id or --prefix")
        if not 1 <= page_size <= MAX_SIZE:
            raise UsageError(f"--page-size must be between 1 and {MAX_SIZE}")
        self.transport = transport
        self.client_id, self.provider_id, self.prefix = client_id, provider_id, prefix
        self.page_size = page_size
        self.base_url = transport.adopt(base_url).rstrip("/")  # userinfo -> auth

    def params(self) -> dict[str, Any]:
        if self.client_id:
            return {"client-id": self.client_id}
        if self.provider_id:
            return {"provider-id": self.provider_id}
        return {"prefix": self.prefix}

    def list_page(self, from_: str | None, until: str | None, token: str | None) -> RestPage:
        if token:
            url, params = token, None
        else:
            url = f"{self.base_url}/dois"
            params = {**self.params(), "page[cursor]": "1", "page[size]": str(self.page_size)}
            if from_ or until:
                params["query"] = f"updated:[{es_date(from_, end=False)} TO {es_date(until, end=True)}]"
        try:
            doc = self.transport.fetch(url, read_json, params=params)
        except TransportError as exc:
            if token and exc.status in (400, 404, 410):
                raise CursorExpired(f"next link refused ({exc.message})", url=exc.url, status=exc.status) from exc
            raise
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, list):
            raise ProtocolError(f"not a DataCite DOI list: {str(doc)[:200]}", url=url)
        items, warnings = page_items(data, url, "DataCite DOI list")
        records = [datacite_record(i) for i in items]
        warnings += [f"item without DOI skipped: {compact_json(i)[:120]}" for i, r in zip(items, records) if not r.record_id]
        warnings += [f"unreadable date {compact_json(_updated(i))[:80]} on {r.record_id}: stored without one"
                     for i, r in zip(items, records)
                     if r.record_id and r.datestamp is None and _updated(i) is not None]
        records = [r for r in records if r.record_id]
        links, meta = doc.get("links"), doc.get("meta")
        nxt = links.get("next") if isinstance(links, dict) else None
        total = meta.get("total") if isinstance(meta, dict) else None
        done = not nxt or not isinstance(nxt, str) or not data
        return RestPage(records, None if done else nxt, list_total(total), len(data), url, warnings)
