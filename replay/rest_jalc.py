"""JaLC REST replay: ``/prefixes``, ``/doilist/{prefix}`` (page numbers), ``/dois/{doi}``.

The envelope is JaLC's (``status``, ``apiType``, ``apiVersion``, ``message`` with
``total/rows/totalPages/page``, ``data``); errors use its ``message.errors.message`` with 404
(nothing found) or 400 (bad parameter). ``/doilist`` filters ``from``/``until`` (whole days,
inclusive) and sorts by ``updated_date`` (``order=asc|desc``); paging is by page number over the
list as it is *now*, as on the real API. ``/dois/{doi}`` accepts the DOI encoded once or twice.
Only ``/doilist`` requests count as pages for the fault plan.
"""

from __future__ import annotations

from typing import Any

from .rest_common import (
    RestApp,
    RestCorpus,
    RestRecord,
    day,
    epoch_of,
    json_response,
    load_data,
    subpath,
    unquote_fully,
)
from .server import Request, Response

NOT_FOUND_TEXT = "データが見つかりませんでした。"


def _render(item: dict[str, Any], rec: RestRecord) -> dict[str, Any]:
    item["doi"] = rec.doi
    item["prefix"] = rec.prefix
    item["url"] = f"https://doi.org/{rec.doi}"
    item["updated_date"] = day(rec.epoch)
    return item


def jalc_corpus(synthetic: int = 0, *, seed: int = 0, prefix: str = "10.99997") -> RestCorpus:
    """The 3 recorded JaLC records, or ``synthetic`` records templated from them."""
    items = load_data("jalc_dois.json")
    return RestCorpus.build(items, lambda t: t["doi"], lambda t: t["updated_date"],
                            lambda t: str(t.get("siteId", "")), _render, synthetic=synthetic,
                            seed=seed, prefix=prefix, day_granularity=True)


def envelope(api: str, data: Any, *, total: int, rows: int, pages: int, page: int) -> dict[str, Any]:
    return {"status": "OK", "apiType": api, "apiVersion": "1.0.0",
            "message": {"total": total, "rows": rows, "totalPages": pages, "page": page}, "data": data}


def error(api: str, status: int, text: str) -> Response:
    body = {"status": "NG", "apiType": api, "apiVersion": "1.0.0", "message": {"errors": {"message": text}}}
    return json_response(body, status)


class JalcApp(RestApp):
    def __init__(self, corpus: RestCorpus, *, latency_ms: float = 0.0, max_rows: int = 1000,
                 prefixes: list[dict[str, Any]] | None = None):
        super().__init__(latency_ms=latency_ms)
        self.corpus = corpus
        self.max_rows = max_rows
        self.prefixes = prefixes if prefixes is not None else load_data("jalc_prefixes.json")["data"]["items"]

    def is_page(self, request: Request) -> bool:
        return subpath(request).startswith("/doilist/")

    def has_token(self, request: Request) -> bool:
        return (request.param("page") or "1") != "1"

    def route(self, request: Request) -> Response:
        path = subpath(request)
        if path.rstrip("/") == "/prefixes":
            items = list(self.prefixes)
            known = {p["prefix"] for p in items}
            for rec in self.corpus.select():
                if rec.prefix not in known:
                    known.add(rec.prefix)
                    items.append({"prefix": rec.prefix, "ra": "JaLC", "siteId": rec.group, "updated_date": day(rec.epoch)})
            if request.param("ra"):
                items = [p for p in items if p.get("ra") == request.param("ra")]
            return json_response(envelope("prefixes", {"items": items}, total=len(items), rows=len(items),
                                          pages=1, page=1), records=len(items))
        if path.startswith("/doilist/"):
            return self._doilist(request, unquote_fully(path[len("/doilist/"):]).lower())
        if path.startswith("/dois/"):
            rec = self.corpus.get(unquote_fully(path[len("/dois/"):]))
            if rec is None:
                return error("doi", 404, NOT_FOUND_TEXT)
            return json_response(envelope("doi", self.corpus.render(rec), total=1, rows=1, pages=1, page=1),
                                 records=1)
        return error("unknown", 404, NOT_FOUND_TEXT)

    def _doilist(self, request: Request, prefix: str) -> Response:
        try:
            lo = epoch_of(request.param("from")) if request.param("from") else None
            hi = epoch_of(request.param("until")) + 86399 if request.param("until") else None
            rows = int(request.param("rows") or 100)
            page = int(request.param("page") or 1)
        except ValueError as exc:
            return error("doilist", 400, f"パラメータが不正です。({exc})")
        if not 1 <= rows <= self.max_rows or page < 1:
            return error("doilist", 400, "パラメータが不正です。")
        matching = self.corpus.select(lo, hi, lambda r: r.prefix == prefix)
        if request.param("order") == "desc":
            matching.reverse()
        total = len(matching)
        pages = (total + rows - 1) // rows
        chunk = matching[(page - 1) * rows: page * rows]
        if not chunk:
            return error("doilist", 404, NOT_FOUND_TEXT)
        items = [{"dois": {"doi": r.doi, "url": f"https://doi.org/{r.doi}"}, "ra": "JaLC", "siteId": r.group,
                  "updated_date": day(r.epoch)} for r in chunk]
        return json_response(envelope("doilist", {"items": items}, total=total, rows=rows, pages=pages, page=page),
                             records=len(items))
