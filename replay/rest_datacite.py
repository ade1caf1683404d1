"""DataCite REST replay: ``/dois`` (cursor paging through ``links.next``) and ``/dois/{doi}``.

``page[cursor]=1`` starts a cursor list; every page that is not the last carries
``links.next``, an absolute URL with all the filters and the next ``page[cursor]`` (the app's
own token: the last (update time, DOI) served). Filters ``client-id``, ``provider-id``,
``prefix`` and ``query=updated:[FROM TO UNTIL]`` (ISO datetimes or ``*``). Without a cursor,
``page[number]`` paging. An ``expired`` fault answers a cursor request with 400.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlencode

from .rest_common import (
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

_RANGE = re.compile(r"updated:\[\s*(\S+)\s+TO\s+(\S+)\s*\]")
NOT_FOUND = {"errors": [{"status": "404", "title": "The resource you are looking for doesn't exist."}]}


def _render(item: dict[str, Any], rec: RestRecord) -> dict[str, Any]:
    item["id"] = rec.key
    attrs = item.setdefault("attributes", {})
    attrs["doi"] = rec.key
    attrs["prefix"] = rec.prefix
    attrs["suffix"] = rec.key.split("/", 1)[1]
    attrs["updated"] = iso(rec.epoch, millis=True)
    return item


def _client(item: dict[str, Any]) -> str:
    return str((((item.get("relationships") or {}).get("client") or {}).get("data") or {}).get("id") or "")


def datacite_corpus(synthetic: int = 0, *, seed: int = 0, prefix: str = "10.99998") -> RestCorpus:
    """The 31 recorded DataCite DOIs, or ``synthetic`` DOIs templated from them."""
    items = load_data("datacite_dois.json")
    return RestCorpus.build(items, lambda t: t["attributes"]["doi"], lambda t: t["attributes"]["updated"],
                            _client, _render, synthetic=synthetic, seed=seed, prefix=prefix)


class DataCiteApp(RestApp):
    def __init__(self, corpus: RestCorpus, *, latency_ms: float = 0.0, max_size: int = 1000):
        super().__init__(latency_ms=latency_ms)
        self.corpus = corpus
        self.max_size = max_size
        self._instance = secrets.token_hex(4)

    def is_page(self, request: Request) -> bool:
        return subpath(request).rstrip("/") == "/dois"

    def has_token(self, request: Request) -> bool:
        return (request.param("page[cursor]") or "1") != "1"

    def route(self, request: Request) -> Response:
        path = subpath(request)
        if path.rstrip("/") == "/dois":
            return self._list(request)
        if path.startswith("/dois/"):
            rec = self.corpus.get(unquote_fully(path[len("/dois/"):]))
            if rec is None:
                return json_response(NOT_FOUND, 404)
            return json_response({"data": self.corpus.render(rec)}, records=1)
        return json_response(NOT_FOUND, 404)

    def _list(self, request: Request) -> Response:
        client, provider, prefix = (request.param(k) for k in ("client-id", "provider-id", "prefix"))
        lo = hi = None
        query = request.param("query")
        if query:
            m = _RANGE.search(query)
            if m is None:
                return json_response({"errors": [{"status": "400", "title": f"unsupported query {query}"}]}, 400)
            lo = None if m.group(1) == "*" else epoch_of(m.group(1).replace(".000Z", "Z").replace(".999Z", "Z"))
            hi = None if m.group(2) == "*" else epoch_of(m.group(2).replace(".000Z", "Z").replace(".999Z", "Z"))

        def pred(r: RestRecord) -> bool:
            if client and r.group != client.lower():
                return False
            if provider and r.group.split(".", 1)[0] != provider.lower():
                return False
            return not prefix or r.prefix == prefix.lower()

        matching = self.corpus.select(lo, hi, pred)
        total = len(matching)
        size = min(int(request.param("page[size]") or 25), self.max_size)
        cursor = request.param("page[cursor]")
        qkey = f"{client}|{provider}|{prefix}|{query}"
        if cursor is not None and cursor != "1":
            tok = decode_token(cursor)
            if (request.fault is not None and request.fault.kind == "expired") or not isinstance(tok, dict) \
                    or tok.get("i") != self._instance or tok.get("q") != qkey:
                return json_response({"errors": [{"status": "400", "title": "Invalid cursor"}]}, 400)
            after = (int(tok["a"][0]), str(tok["a"][1]))
            matching = [r for r in matching if (r.epoch, r.key) > after]
        elif cursor is None:
            number = int(request.param("page[number]") or 1)
            matching = matching[(number - 1) * size:]
        page = matching[:size]
        params = {k: v[0] for k, v in request.params.items() if v}
        links: dict[str, str] = {"self": f"{request.base_url}/dois?{urlencode(params)}"}
        if cursor is not None and len(matching) > size:
            nxt = encode_token({"q": qkey, "a": [page[-1].epoch, page[-1].key], "i": self._instance})
            if request.fault is not None and request.fault.kind == "repeat" and cursor != "1":
                nxt = cursor
            links["next"] = f"{request.base_url}/dois?{urlencode({**params, 'page[cursor]': nxt})}"
        body = {"data": [self.corpus.render(r) for r in page], "included": [],
                "meta": {"total": total, "totalPages": (total + size - 1) // size if size else 0},
                "links": links}
        return json_response(body, records=len(page))
