"""Bad input through `linkgraph run`: malformed, truncated, oversized, wrongly encoded and
hostile (XXE, billion laughs) payloads from a real server. Each gets a clear error or a
recorded problem, what was stored before is kept intact, and the other source is unaffected.
(Broken configs are in test_config.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from linkgraph.replay.corpus import Corpus
from linkgraph.replay.oai import OAIApp
from linkgraph.replay.rest_registries import registry_apps
from linkgraph.replay.server import ReplayServer, Request, Response

from .ops_helpers import linkgraph, write_config

_DECL = re.compile(rb"^<\?xml[^>]*\?>\s*")


def _with_dtd(body: bytes, dtd: bytes, entity: bytes) -> bytes:
    rest = _DECL.sub(b"", body, count=1)
    rest = re.sub(rb"(<dc:title[^>]*>)", rb"\1" + entity, rest, count=1)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + dtd + b"\n" + rest


LAUGHS = b"<!DOCTYPE OAI-PMH [<!ENTITY lol \"lol\">" + b"".join(
    b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)) + b"]>"
BIG = "x" * (4 * 1024 * 1024)

# mode -> (how a ListRecords body is spoiled, expected outcome, words the error must contain)
MODES: dict[str, tuple[Callable[[bytes], bytes], str, str]] = {
    "xxe": (lambda b: _with_dtd(b, b'<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', b"&xxe;"),
            "failed", "DTD"),
    "billion-laughs": (lambda b: _with_dtd(b, LAUGHS, b"&lol9;"), "failed", "DTD"),
    "malformed": (lambda b: b.replace(b"</header>", b"</headr>", 1), "failed", "malformed"),
    "truncated": (lambda b: b[: len(b) // 2], "failed", "truncated"),
    "not-utf8": (lambda b: b.replace(b"<dc:title>", b"<dc:title>\x93\xfa\x96\x7b\xff", 1), "failed", "XML"),
    "not-xml": (lambda b: b"<html><body>Service temporarily replaced by a login page</body></html>", "failed", ""),
    "oversized": (lambda b: re.sub(rb"(<dc:title[^>]*>)", rb"\1" + BIG.encode(), b, count=1), "ok", ""),
    "latin1-declared": (lambda b: _DECL.sub(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n', b, count=1)
                        .replace(b"<dc:title>", "<dc:title>Universit\u00e9 ".encode("latin-1"), 1), "ok", ""),
}


class SpoiledOAI:
    """The project's OAI replay app, whose ListRecords answers can be spoiled on demand."""

    def __init__(self, corpus: Corpus):
        self.inner = OAIApp(corpus, page_size=25)
        self.mode: str | None = None

    def is_page(self, request: Request) -> bool:
        return self.inner.is_page(request)

    def has_token(self, request: Request) -> bool:
        return self.inner.has_token(request)

    def handle(self, request: Request) -> Response:
        resp = self.inner.handle(request)
        if self.mode is None or request.param("verb") != "ListRecords":
            return resp
        return Response(200, MODES[self.mode][0](resp.body), resp.content_type, resp.headers, resp.records)


def held(db: Path, source: str) -> dict[str, tuple[str | None, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT record_id, payload_hash, length(payload) FROM raw_records WHERE source = ?",
                           [source]).fetchall()
        return {r[0]: (r[1], r[2] or 0) for r in rows}
    finally:
        con.close()


@pytest.fixture(scope="module")
def servers() -> tuple[SpoiledOAI, ReplayServer, ReplayServer]:
    app = SpoiledOAI(Corpus.synthetic(100, seed=9))
    with ReplayServer(apps={"/oai": app}) as oai, ReplayServer(apps=registry_apps(synthetic=60)) as rest:
        yield app, oai, rest


@pytest.mark.parametrize("mode", sorted(MODES))
def test_spoiled_pages_are_refused_or_recorded_and_nothing_stored_is_lost(
    servers: tuple[SpoiledOAI, ReplayServer, ReplayServer], tmp_path: Path, mode: str
) -> None:
    app, oai, rest = servers
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    write_config(cfg, {
        "repo": {"kind": "oai", "base_url": oai.url_for("/oai"), "metadata_format": "oai_dc", "retries": 1},
        "dc": {"kind": "datacite", "base_url": rest.url_for("/datacite"), "prefix": "10.99998", "retries": 1},
    })
    app.mode = None
    first = linkgraph("run", "--config", str(cfg), "--db", str(db), "--no-audit")
    assert first.returncode == 0, first.stderr
    before = held(db, "repo")
    assert before
    app.mode = mode
    try:
        again = linkgraph("run", "--config", str(cfg), "--db", str(db), "--full", "--force", "--json", "--no-audit")
    finally:
        app.mode = None
    report = json.loads(again.stdout)
    _, expected, words = MODES[mode]
    outcome = report["sources"]["repo"]
    assert outcome["status"] == expected, again.stderr
    assert report["sources"]["dc"]["status"] == "ok"
    after = held(db, "repo")
    if expected == "failed":
        assert again.returncode == 1 and words in outcome["error"]
        assert "Traceback" not in again.stderr
        assert after == before  # nothing stored was lost or replaced by garbage
    else:
        assert again.returncode == 0
        assert set(after) == set(before)
        if mode == "oversized":  # the big title is kept verbatim
            assert max(length for _, length in after.values()) > len(BIG)
    status = {r["source"]: r for r in json.loads(linkgraph("status", "--db", str(db), "--json").stdout)}
    assert status["repo"]["last_status"] == expected and status["repo"]["records"] == len(before)


class BrokenRegistry:
    """A DataCite lookalike answering 200 with bodies that are not a DOI list."""

    def __init__(self, body: bytes, content_type: str = "application/json"):
        self.body, self.content_type = body, content_type

    def is_page(self, request: Request) -> bool:
        return True

    def has_token(self, request: Request) -> bool:
        return False

    def handle(self, request: Request) -> Response:
        return Response(200, self.body, self.content_type)


@pytest.mark.parametrize(("body", "words"), [
    (b'{"data": "nope"}', "not a DataCite DOI list"),
    (b'{"data": [', "not complete JSON"),
    (b"<html>502 from the proxy</html>", "not complete JSON"),
    (b'[]', "not a DataCite DOI list"),
    (b'null', "not a DataCite DOI list"),
])
def test_broken_registry_bodies_fail_that_source_clearly(
    servers: tuple[SpoiledOAI, ReplayServer, ReplayServer], tmp_path: Path, body: bytes, words: str
) -> None:
    _, oai, _ = servers
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    with ReplayServer(apps={"/datacite": BrokenRegistry(body)}) as broken:
        write_config(cfg, {
            "repo": {"kind": "oai", "base_url": oai.url_for("/oai"), "metadata_format": "oai_dc"},
            "dc": {"kind": "datacite", "base_url": broken.url_for("/datacite"), "prefix": "10.99998", "retries": 1},
        })
        result = linkgraph("run", "--config", str(cfg), "--db", str(db), "--json", "--no-audit")
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert report["sources"]["repo"]["status"] == "ok"
    assert report["sources"]["dc"]["status"] == "failed" and words in report["sources"]["dc"]["error"]


def test_an_unreadable_date_is_a_recorded_problem_and_the_record_is_kept(
    servers: tuple[SpoiledOAI, ReplayServer, ReplayServer], tmp_path: Path
) -> None:
    body = (b'{"data": [{"attributes": {"doi": "10.99998/x", "updated": "yesterday"}},'
            b' {"attributes": {"doi": "10.99998/y", "updated": "2024-02-03T00:00:00Z"}}]}')
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    with ReplayServer(apps={"/datacite": BrokenRegistry(body)}) as broken:
        write_config(cfg, {"dc": {"kind": "datacite", "base_url": broken.url_for("/datacite"),
                                  "prefix": "10.99998", "retries": 1}})
        result = linkgraph("run", "--config", str(cfg), "--db", str(db), "--json", "--no-audit")
    assert result.returncode == 0, result.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = dict(con.execute("SELECT record_id, datestamp FROM raw_records").fetchall())
        problems = [r[0] for r in con.execute("SELECT detail FROM harvest_problems").fetchall()]
    finally:
        con.close()
    assert set(stored) == {"10.99998/x", "10.99998/y"} and stored["10.99998/x"] is None
    assert any("yesterday" in p and "10.99998/x" in p for p in problems), problems
