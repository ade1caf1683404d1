"""Crossref REST replay: ``/works``, ``/prefixes/{p}/works``, ``/members/{id}/works``, ``/works/{doi}``.

Deep paging as Crossref does it: ``cursor=*`` starts, each answer carries ``next-cursor`` (also
on the last page; a client stops on a short page). Cursors are the app's own (the last
(update time, DOI) served, so paging stays exact while records change) and expire after
``cursor_ttl`` seconds or on an ``expired`` fault: the answer is then Crossref's recorded
404 ``cursor-invalid`` body. Filters ``from-update-date``, ``until-update-date`` (whole days,
inclusive), ``type``, ``prefix``, ``member``. Every answer advertises the rate limits
(``x-rate-limit-limit``, ``x-rate-limit-interval``, ``x-concurrency-limit``) and, with
``enforce``, answers 429 to a client that exceeds them.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from typing import Any

from .rest_common import (
    UTC,
    Limits,
    RestApp,
    RestCorpus,
    RestRecord,
    decode_token,
    encode_token,
    epoch_of,
    iso,
    json_response,
    load_data,
    subpath,
    unquote_fully,
)
from .server import Request, Response

CURSOR_INVALID = {"status": "failed", "message-type": "resource-failure",
                  "message": [{"type": "cursor-invalid", "value": "", "message": "Cursor specified but it is invalid"}]}


def _render(item: dict[str, Any], rec: RestRecord) -> dict[str, Any]:
    dt = datetime.fromtimestamp(rec.epoch, UTC)
    stamp = {"date-parts": [[dt.year, dt.month, dt.day]], "date-time": iso(rec.epoch), "timestamp": rec.epoch * 1000}
    item["DOI"] = rec.doi
    item["deposited"] = stamp
    item["indexed"] = dict(stamp)
    return item


def crossref_corpus(synthetic: int = 0, *, seed: int = 0, prefix: str = "10.99999") -> RestCorpus:
    """The 44 recorded Crossref works, or ``synthetic`` works templated from them."""
    items = load_data("crossref_works.json")
    return RestCorpus.build(items, lambda t: t["DOI"], lambda t: t["deposited"]["date-time"],
                            lambda t: str(t.get("member", "")), _render, synthetic=synthetic,
                            seed=seed, prefix=prefix)


class CrossrefApp(RestApp):
    def __init__(self, corpus: RestCorpus, *, limits: Limits | None = None, latency_ms: float = 0.0,
                 cursor_ttl: float | None = None, max_rows: int = 1000):
        super().__init__(latency_ms=latency_ms, limits=limits)
        self.corpus = corpus
        self.cursor_ttl = cursor_ttl
        self.max_rows = max_rows
        self._instance = secrets.token_hex(4)

    def _list_scope(self, path: str) -> tuple[str, str] | None:
        parts = [p for p in path.split("/") if p]
        if parts == ["works"]:
            return ("", "")
        if len(parts) == 3 and parts[2] == "works" and parts[0] in ("prefixes", "members"):
            return (parts[0], unquote_fully(parts[1]).lower())
        return None

    def is_page(self, request: Request) -> bool:
        return self._list_scope(subpath(request)) is not None

    def has_token(self, request: Request) -> bool:
        return (request.param("cursor") or "*") != "*"

    def route(self, request: Request) -> Response:
        path = subpath(request)
        scope = self._list_scope(path)
        if scope is not None:
            return self._list(request, scope)
        if path.startswith("/works/"):
            rec = self.corpus.get(unquote_fully(path[len("/works/"):]))
            if rec is None:
                return Response(404, b"Resource not found.", "text/plain")
            body = {"status": "ok", "message-type": "work", "message-version": "1.0.0",
                    "message": self.corpus.render(rec)}
            return json_response(body, records=1)
        return Response(404, b"Resource not found.", "text/plain")

    def _list(self, request: Request, scope: tuple[str, str]) -> Response:
        filters: dict[str, str] = {}
        for part in (request.param("filter") or "").split(","):
            if ":" in part:
                k, v = part.split(":", 1)
                filters[k.strip()] = v.strip()
        kind, value = scope
        if kind == "prefixes":
            filters["prefix"] = value
        elif kind == "members":
            filters["member"] = value
        lo = epoch_of(filters["from-update-date"]) if "from-update-date" in filters else None
        hi = epoch_of(filters["until-update-date"]) + 86399 if "until-update-date" in filters else None
        rows = min(int(request.param("rows") or 20), self.max_rows)
        qkey = "|".join(f"{k}={filters[k]}" for k in sorted(filters))

        def pred(r: RestRecord) -> bool:
            if "prefix" in filters and r.prefix != filters["prefix"].lower():
                return False
            if "member" in filters and r.group != filters["member"]:
                return False
            return "type" not in filters or self.corpus.render(r).get("type") == filters["type"]

        matching = self.corpus.select(lo, hi, pred)
        cursor = request.param("cursor")
        after: tuple[int, str] | None = None
        if cursor and cursor != "*":
            tok = decode_token(cursor)
            expired = (request.fault is not None and request.fault.kind == "expired") or not isinstance(tok, dict) \
                or tok.get("i") != self._instance or tok.get("q") != qkey \
                or (self.cursor_ttl is not None and time.time() - tok.get("t", 0) > self.cursor_ttl)
            if expired:
                body = {**CURSOR_INVALID, "message": [{**CURSOR_INVALID["message"][0], "value": cursor}]}
                return json_response(body, 404)
            after = (int(tok["a"][0]), str(tok["a"][1]))
        if after is not None:
            matching = [r for r in matching if (r.epoch, r.key) > after]
        elif cursor is None:
            matching = matching[int(request.param("offset") or 0):]
        page = matching[:rows]
        message: dict[str, Any] = {
            "facets": {}, "total-results": len(self.corpus.select(lo, hi, pred)),
            "items": [self.corpus.render(r) for r in page], "items-per-page": rows,
            "query": {"start-index": 0, "search-terms": None},
        }
        if cursor is not None:
            last = (page[-1].epoch, page[-1].key) if page else after
            nxt = encode_token({"q": qkey, "a": list(last) if last else [0, ""], "t": time.time(), "i": self._instance})
            if request.fault is not None and request.fault.kind == "repeat" and cursor != "*":
                nxt = cursor
            message["next-cursor"] = nxt
        body = {"status": "ok", "message-type": "work-list", "message-version": "1.0.0", "message": message}
        return json_response(body, records=len(page))
