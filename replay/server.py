"""The replay HTTP server: real sockets on 127.0.0.1, pluggable apps, transport faults.

Why a real server: the harvester's behaviour that matters (keep-alive, gzip, retries on 503 /
429 / dropped connections, truncated bodies) only shows over a real HTTP exchange; no test
should mock it. The server uses the standard library's ``ThreadingHTTPServer`` (one daemon
thread per connection) so it needs no dependency and 4 concurrent clients really overlap.

App interface (how other replay apps are mounted, e.g. Crossref / DataCite / JaLC REST)::

    class App(Protocol):
        def is_page(self, request: Request) -> bool      # a list-page request? (counts for faults)
        def has_token(self, request: Request) -> bool    # does it carry a resumption token/cursor?
        def handle(self, request: Request) -> Response

    server = ReplayServer(apps={"/oai": OAIApp(corpus), "/crossref": CrossrefApp(...)})

``ReplayServer(corpus)`` is shorthand for ``apps={"/oai": OAIApp(corpus, ...)}``. A request is
routed to the app with the longest mount prefix of its path. ``Request`` carries the method,
the path, the decoded query (and, for a form-encoded POST, body) parameters as lists, the
headers, the app's absolute base URL and the ``Fault`` chosen for it. ``Response`` is a status,
a body, a content type, extra headers, the number of records it holds (for the log) and,
optionally, the body as parts whose compressed form the server may keep and reuse.

For every page request the server counts one page in the shared ``FaultPlan``, then applies
the transport faults itself (503, 503date, 500, 429, drop, slow, truncate) and the
``latency_ms`` sleep; content faults (expired, repeat, badchar) are left to the app, which
sees them in ``request.fault``. Every request ends up in ``server.log``.
"""

from __future__ import annotations

import socket
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from .corpus import Corpus
from .faults import Fault, FaultPlan
from .gzipparts import GzipParts, Part

XML_TYPE = "text/xml; charset=utf-8"
GZIP_MIN_BYTES = 512  # below this gzip costs more than it saves


@dataclass
class Request:
    """What an app sees of one HTTP request."""

    method: str
    path: str
    params: dict[str, list[str]]
    headers: Message
    base_url: str
    fault: Fault | None = None

    def param(self, name: str) -> str | None:
        """The first value of a parameter (None when absent)."""
        values = self.params.get(name)
        return values[0] if values else None


@dataclass
class Response:
    """What an app answers; the server adds Content-Length, gzip and the log entry."""

    status: int = 200
    body: bytes = b""
    content_type: str = XML_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    records: int = 0
    # The body as parts, when the app can tell which of them repeat from response to
    # response: their compressed form is then kept and spliced in (see gzipparts). They
    # count only while ``body`` is the very object made from them (see ``current_parts``).
    parts: list[Part] | None = None
    _parts_body: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_parts(cls, parts: list[Part], **kw: object) -> Response:
        body = b"".join(p for p, _ in parts)
        return cls(body=body, parts=parts, _parts_body=body, **kw)  # type: ignore[arg-type]

    def current_parts(self) -> list[Part] | None:
        """The parts, unless ``body`` was replaced since (a wrapper that rewrites it)."""
        return self.parts if self.parts is not None and self.body is self._parts_body else None


class App(Protocol):
    """A replay application mounted at a path prefix (see the module docstring)."""

    def is_page(self, request: Request) -> bool: ...

    def has_token(self, request: Request) -> bool: ...

    def handle(self, request: Request) -> Response: ...


@dataclass(frozen=True, slots=True)
class RequestLog:
    """One served request. ``status`` is 0 for a dropped connection; ``fault`` is the kind."""

    time: float
    method: str
    path: str
    params: dict[str, str]
    status: int
    fault: str | None
    records: int


class RequestLogBook:
    """A thread-safe, append-only list of ``RequestLog`` (iteration works on a snapshot)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RequestLog] = []

    def append(self, entry: RequestLog) -> None:
        with self._lock:
            self._items.append(entry)

    def snapshot(self) -> list[RequestLog]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __iter__(self) -> Iterator[RequestLog]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __getitem__(self, k: int) -> RequestLog:
        with self._lock:
            return self._items[k]

    def faults(self) -> list[str]:
        """The fault kinds that fired, in order."""
        return [e.fault for e in self.snapshot() if e.fault]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    replay: ReplayServer

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.conns: set[socket.socket] = set()
        self.conns_lock = threading.Lock()

    def close_connections(self) -> None:
        """Cut open keep-alive connections, so a stopped server really stops answering
        (a restarted server on the same port must not be shadowed by the old one)."""
        with self.conns_lock:
            conns, self.conns = self.conns, set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    """Parses the request, routes it, applies transport faults, writes the response."""

    protocol_version = "HTTP/1.1"  # keep-alive: a harvest reuses one connection
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.conns_lock:
            self.server.conns.add(self.connection)

    def finish(self) -> None:
        with self.server.conns_lock:
            self.server.conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Silent: the structured ``server.log`` replaces the stderr access log."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        replay = self.server.replay
        url = urlsplit(self.path)
        params = parse_qs(url.query, keep_blank_values=True)
        if self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype in ("application/x-www-form-urlencoded", ""):
                for k, v in parse_qs(body.decode("utf-8", "replace"),
                                     keep_blank_values=True).items():
                    params.setdefault(k, []).extend(v)
        mount, app = replay.route(url.path)
        if app is None:
            self._send(Response(404, b"no app mounted here\n", "text/plain; charset=utf-8"),
                       url.path, params, None)
            return
        req = Request(self.command, url.path, params, self.headers, replay.base_url + mount)
        fault = None
        page = app.is_page(req)
        if page:
            fault = replay.faults.next_page(has_token=app.has_token(req))
            req.fault = fault
        kind = fault.kind if fault else None
        if kind == "drop":
            replay.record(self.command, url.path, params, 0, kind, 0)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if kind == "slow":
            time.sleep(fault.arg or 0.0)  # type: ignore[union-attr]
        if kind in ("503", "503date", "429", "500"):
            self._send(_transport_error(fault), url.path, params, kind)  # type: ignore[arg-type]
            return
        if page and replay.latency_ms > 0:
            time.sleep(replay.latency_ms / 1000.0)
        try:
            resp = app.handle(req)
        except Exception:  # a bug in an app must show up as a 500, not a hung client
            resp = Response(500, traceback.format_exc().encode(), "text/plain; charset=utf-8")
        self._send(resp, url.path, params, kind, truncate=kind == "truncate")

    def _send(
        self, resp: Response, path: str, params: dict[str, list[str]], fault: str | None,
        *, truncate: bool = False,
    ) -> None:
        body = resp.body
        headers = [("Content-Type", resp.content_type), *resp.headers]
        if truncate:
            # Looks like a complete HTTP exchange (connection close ends the body) but the
            # document is cut: only an XML-level check can tell.
            body = body[: len(body) // 2]
            headers.append(("Connection", "close"))
            self.close_connection = True
        else:
            accept = (self.headers.get("Accept-Encoding") or "").lower()
            if len(body) >= GZIP_MIN_BYTES and _accepts_gzip(accept):
                body = self.server.replay.gzip.compress(resp.current_parts() or [(body, None)])
                headers.append(("Content-Encoding", "gzip"))
            headers.append(("Content-Length", str(len(body))))
        headers.append(("Vary", "Accept-Encoding"))
        reason = HTTPStatus(resp.status).phrase if resp.status in HTTPStatus._value2member_map_ \
            else ""
        head = [f"HTTP/1.1 {resp.status} {reason}",
                "Server: linkgraph-replay", f"Date: {formatdate(usegmt=True)}"]
        head.extend(f"{k}: {v}" for k, v in headers)
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        # log first: a client that has the response must find it in the log
        self.server.replay.record(self.command, path, params, resp.status, fault, resp.records)
        try:
            self.wfile.write(data)  # one write: no Nagle / delayed-ACK stall between parts
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _accepts_gzip(accept: str) -> bool:
    for part in accept.split(","):
        name, _, q = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            return q.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _transport_error(fault: Fault) -> Response:
    """The canned answer of a 503 / 503date / 429 / 500 fault."""
    seconds = fault.arg or 0.0
    headers: list[tuple[str, str]] = []
    if fault.kind == "503date":
        headers.append(("Retry-After", formatdate(time.time() + seconds, usegmt=True)))
        status = 503
    elif fault.kind in ("503", "429"):
        headers.append(("Retry-After", f"{seconds:g}"))
        status = int(fault.kind)
    else:
        status = 500
    text = f"{status} {HTTPStatus(status).phrase} (replay fault {fault.item})\n"
    return Response(status, text.encode(), "text/plain; charset=utf-8", headers)


class ReplayServer:
    """An HTTP server on ``host``:``port`` serving one OAI-PMH corpus and/or other apps."""

    def __init__(
        self,
        corpus: Corpus | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        page_size: int = 100,
        faults: str | FaultPlan = "",
        latency_ms: float = 0,
        token_ttl: float | None = None,
        apps: Mapping[str, App] | None = None,
    ) -> None:
        from .oai import OAIApp

        self.host = host
        self.port = port
        self.latency_ms = float(latency_ms)
        self.faults = FaultPlan.parse(faults)
        self.log = RequestLogBook()
        self.gzip = GzipParts(level=1, max_bytes=128 << 20)  # kept compressed pages, shared by the apps
        self.apps: dict[str, App] = {}
        if corpus is not None:
            self.apps["/oai"] = OAIApp(corpus, page_size=page_size, token_ttl=token_ttl)
        for mount, app in (apps or {}).items():
            self.apps["/" + mount.strip("/")] = app
        if not self.apps:
            raise ValueError("ReplayServer needs a corpus or at least one app")
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def _bind(self) -> _HTTPServer:
        if self._httpd is None:
            httpd = _HTTPServer((self.host, self.port))
            httpd.replay = self
            self.port = httpd.server_address[1]
            self._httpd = httpd
        return self._httpd

    def start(self) -> str:
        """Listen and serve in a background thread; returns ``url`` (the OAI base URL)."""
        httpd = self._bind()
        if self._thread is None:
            self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"replay-{self.port}", daemon=True)
            self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        """Listen and serve in this thread until ``stop()`` or KeyboardInterrupt (CLI)."""
        httpd = self._bind()
        try:
            httpd.serve_forever(poll_interval=0.1)
        except KeyboardInterrupt:
            pass
        finally:
            httpd.server_close()
            httpd.close_connections()

    def stop(self) -> None:
        """Stop serving and close the listening socket (open keep-alive threads die with it)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ReplayServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addressing ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The OAI-PMH base URL (or the first mounted app's URL when there is no corpus)."""
        mount = "/oai" if "/oai" in self.apps else next(iter(self.apps))
        return self.base_url + mount

    def url_for(self, mount: str) -> str:
        return self.base_url + "/" + mount.strip("/")

    def route(self, path: str) -> tuple[str, App | None]:
        """The longest mount prefix of ``path`` and its app."""
        best = ""
        for mount in self.apps:
            if (path == mount or path.startswith(mount + "/")) and len(mount) > len(best):
                best = mount
        return best, self.apps.get(best)

    def record(
        self, method: str, path: str, params: dict[str, list[str]], status: int,
        fault: str | None, records: int,
    ) -> None:
        """Append one entry to ``log`` (repeated parameters are joined with commas)."""
        flat = {k: ",".join(v) for k, v in params.items()}
        self.log.append(RequestLog(time.time(), method, path, flat, status, fault, records))
