"""The transport: what a server sees of us, and how long we wait when told to."""

from __future__ import annotations

import email.utils
import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from linkgraph.errors import TransportError
from linkgraph.harvest.http import HttpPolicy, Pacer, Transport, body_chunks, parse_retry_after


@contextmanager
def scripted_server(statuses: list[tuple[int, dict[str, str]]]) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """Answers each request with the next (status, headers); records the request headers."""
    seen: list[dict[str, str]] = []
    script = list(statuses)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append({k.lower(): v for k, v in self.headers.items()} | {"_t": str(time.monotonic())})
            status, headers = script.pop(0) if script else (200, {})
            reply(self, status, headers, b"ok")

        def log_message(self, *a: object) -> None:
            pass

    with serving(Handler, "/x") as url:
        yield url, seen


def reply(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    """Send ``status``, ``headers`` and ``body`` (with its Content-Length) from a handler."""
    handler.send_response(status)
    for k, v in headers.items():
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], path: str) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 with ``handler``; yields the URL of ``path``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}{path}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def read(resp: httpx.Response) -> bytes:
    return resp.read()


def test_user_agent_carries_the_contact_and_gzip_is_asked_for() -> None:
    with scripted_server([(200, {})]) as (url, seen), Transport(HttpPolicy(contact="ops@lib.example.ac.jp")) as tr:
        assert tr.fetch(url, read) == b"ok"
    assert "mailto:ops@lib.example.ac.jp" in seen[0]["user-agent"]
    assert "gzip" in seen[0]["accept-encoding"]


def test_retry_after_is_obeyed_then_the_request_succeeds() -> None:
    when = email.utils.formatdate(time.time() + 4, usegmt=True)  # whole seconds: 3-4 s ahead
    script = [(503, {"Retry-After": "1"}), (429, {"Retry-After": when}), (200, {})]
    with scripted_server(script) as (url, seen), Transport(HttpPolicy(retries=3, backoff=0.01)) as tr:
        assert tr.fetch(url, read) == b"ok"
    t = [float(s["_t"]) for s in seen]
    assert len(t) == 3
    assert t[1] - t[0] >= 0.9  # waited the seconds it was told
    assert t[2] - t[1] >= 1.5  # and until the HTTP date (about 2-3 s after the first retry)


def test_retry_after_is_capped() -> None:
    script = [(503, {"Retry-After": "3600"}), (200, {})]
    policy = HttpPolicy(retries=1, retry_after_cap=0.5)
    with scripted_server(script) as (url, seen), Transport(policy) as tr:
        t0 = time.monotonic()
        assert tr.fetch(url, read) == b"ok"
        assert time.monotonic() - t0 < 5


def test_client_errors_are_not_retried_and_name_url_and_status() -> None:
    with scripted_server([(404, {})]) as (url, seen), Transport(HttpPolicy(retries=3, backoff=0.01)) as tr:
        with pytest.raises(TransportError) as info:
            tr.fetch(url, read)
    assert len(seen) == 1
    assert info.value.status == 404 and info.value.url == url and "404" in str(info.value)


def test_server_errors_give_up_after_the_retries() -> None:
    with scripted_server([(500, {})] * 5) as (url, seen), Transport(HttpPolicy(retries=2, backoff=0.01)) as tr:
        with pytest.raises(TransportError, match="giving up after 3 attempts") as info:
            tr.fetch(url, read)
    assert len(seen) == 3 and info.value.status == 500


def test_politeness_delay_spaces_requests() -> None:
    with scripted_server([(200, {})] * 4) as (url, seen), Transport(HttpPolicy(delay=0.3)) as tr:
        for _ in range(4):
            tr.fetch(url, read)
    t = [float(s["_t"]) for s in seen]
    assert all(b - a >= 0.25 for a, b in zip(t, t[1:]))


def test_parse_retry_after_forms() -> None:
    now = time.time()
    assert parse_retry_after("120") == 120
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (parse_retry_after(date, now=now) or 0) <= 31
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_pacer_hold_blocks_every_thread() -> None:
    pacer = Pacer(0.0)
    pacer.hold(0.3)
    t0 = time.monotonic()
    pacer.wait()
    assert time.monotonic() - t0 >= 0.25


@contextmanager
def gzip_server(body: bytes) -> Iterator[str]:
    """Serves ``body`` as it is, labelled Content-Encoding: gzip."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            reply(self, 200, {"Content-Encoding": "gzip"}, body)

        def log_message(self, *a: object) -> None:
            pass

    with serving(Handler, "/g") as url:
        yield url


def _decoded(resp: httpx.Response) -> bytes:
    return b"".join(body_chunks(resp))


@pytest.mark.parametrize(
    "wire, text",
    [
        (gzip.compress(b"<a>" + b"x" * 300_000 + b"</a>"), b"<a>" + b"x" * 300_000 + b"</a>"),
        (gzip.compress(b"<a>one") + gzip.compress(b"two</a>"), b"<a>onetwo</a>"),  # two members
        (gzip.compress(b"<a/>") + b"\x00\x00\x00", b"<a/>"),  # padding after the member: ignored
    ],
    ids=["large", "two-members", "trailing-padding"],
)
def test_gzip_bodies_are_decoded_whole(wire: bytes, text: bytes) -> None:
    with gzip_server(wire) as url, Transport(HttpPolicy()) as tr:
        assert tr.fetch(url, _decoded) == text


def test_a_body_that_is_not_gzip_is_retried_then_reported_with_its_url() -> None:
    with gzip_server(b"<a>plain, not gzip</a>") as url, \
            Transport(HttpPolicy(retries=1, backoff=0.01)) as tr:
        with pytest.raises(TransportError) as err:
            tr.fetch(url, _decoded)
    assert err.value.url == url and "bad gzip body" in str(err.value)
    assert tr.requests == 2
