"""What the REST replay apps (Crossref, DataCite, JaLC, doi.org) share.

* :class:`RestCorpus`: JSON records sorted by (update time, DOI), rendered from templates (the
  real recorded records bundled in ``data/rest``) so that a synthetic corpus of any size looks
  like the real thing; records can be touched (new update time) or added while a test runs,
  for incremental-harvest tests.
* :class:`RestApp`: the replay-server app base. Every request is timed *inside the server*
  (:class:`Observer`: arrival and completion times), optionally delayed (``latency_ms``, every
  request, not only list pages) and checked against advertised limits (:class:`Limits`: a
  client that starts more than ``limit`` requests per ``interval`` or has more than
  ``concurrency`` in flight gets 429 with ``Retry-After``, as Crossref does).
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from .server import Request, Response

JSON_TYPE = "application/json; charset=utf-8"
__all__ = ["UTC", "Limits", "Observer", "RestApp", "RestCorpus", "RestRecord"]


def load_data(name: str) -> Any:
    """A bundled JSON file from ``data/rest``."""
    ref = resources.files("linkgraph.replay").joinpath("data", "rest", name)
    return json.loads(ref.read_text(encoding="utf-8"))


def json_response(obj: Any, status: int = 200, headers: list[tuple[str, str]] | None = None,
                  records: int = 0) -> Response:
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, JSON_TYPE, list(headers or []), records)


def epoch_of(text: str) -> int:
    value = text.strip()
    if len(value) == 10:
        return int(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def iso(epoch: int, *, millis: bool = False) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.000Z" if millis else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.fromtimestamp(epoch, UTC).strftime(fmt)


def day(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def encode_token(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass(slots=True)
class RestRecord:
    doi: str  # as the registry spells it
    epoch: int  # update time, UTC epoch seconds
    template: int  # index into the corpus templates
    group: str = ""  # member / client id / site: what the registry filters on besides prefix

    @property
    def key(self) -> str:
        return self.doi.lower()

    @property
    def prefix(self) -> str:
        return self.key.split("/", 1)[0]


Render = Callable[[dict[str, Any], RestRecord], dict[str, Any]]


class RestCorpus:
    """JSON records in (update time, DOI) order; thread-safe; mutable for incremental tests."""

    def __init__(self, templates: list[dict[str, Any]], template_dois: list[str],
                 records: Iterable[RestRecord], render: Render, *, day_granularity: bool = False):
        self._templates = [json.dumps(t, ensure_ascii=False, separators=(",", ":")) for t in templates]
        self._template_dois = template_dois
        self._render = render
        self.day_granularity = day_granularity
        self._lock = threading.RLock()
        self._by_key: dict[str, RestRecord] = {}
        self._sorted: list[RestRecord] | None = None
        for rec in records:
            self._put(rec)

    @classmethod
    def build(cls, templates: list[dict[str, Any]], doi_of: Callable[[dict[str, Any]], str],
              date_of: Callable[[dict[str, Any]], str], group_of: Callable[[dict[str, Any]], str],
              render: Render, *, synthetic: int = 0, seed: int = 0, prefix: str = "10.99999",
              start: datetime = datetime(2020, 1, 1, tzinfo=UTC), span_days: int = 365,
              day_granularity: bool = False) -> RestCorpus:
        """The real records (``synthetic=0``) or ``synthetic`` records templated from them."""
        dois = [doi_of(t) for t in templates]
        if not synthetic:
            recs = [RestRecord(d, epoch_of(date_of(t)), i, group_of(t))
                    for i, (d, t) in enumerate(zip(dois, templates))]
        else:
            rng = random.Random(seed)
            base = int(start.timestamp())
            recs = []
            for i in range(synthetic):
                t = i % len(templates)
                recs.append(RestRecord(f"{prefix}/syn.{i}", base + rng.randrange(span_days * 86400), t,
                                       group_of(templates[t])))
        return cls(templates, dois, recs, render, day_granularity=day_granularity)

    def _put(self, rec: RestRecord) -> None:
        if self.day_granularity:
            rec.epoch -= rec.epoch % 86400
        self._by_key[rec.key] = rec
        self._sorted = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_key)

    def keys(self) -> set[str]:
        with self._lock:
            return set(self._by_key)

    def get(self, doi: str) -> RestRecord | None:
        with self._lock:
            return self._by_key.get(doi.strip().lower())

    def touch(self, doi: str, when: datetime | None = None) -> RestRecord:
        """Give a record a new update time (default: now): the next incremental run sees it."""
        with self._lock:
            rec = self._by_key[doi.lower()]
            moved = RestRecord(rec.doi, int((when or datetime.now(UTC)).timestamp()), rec.template, rec.group)
            self._put(moved)
            return moved

    def add(self, doi: str, template: int = 0, when: datetime | None = None, group: str = "") -> RestRecord:
        with self._lock:
            rec = RestRecord(doi, int((when or datetime.now(UTC)).timestamp()), template, group)
            self._put(rec)
            return rec

    def select(self, from_epoch: int | None = None, until_epoch: int | None = None,
               pred: Callable[[RestRecord], bool] | None = None) -> list[RestRecord]:
        """A snapshot of the matching records, in (update time, DOI) order."""
        with self._lock:
            if self._sorted is None:
                self._sorted = sorted(self._by_key.values(), key=lambda r: (r.epoch, r.key))
            rows = self._sorted
        return [r for r in rows
                if (from_epoch is None or r.epoch >= from_epoch)
                and (until_epoch is None or r.epoch <= until_epoch)
                and (pred is None or pred(r))]

    def render(self, rec: RestRecord) -> dict[str, Any]:
        """The record's JSON: its template with the DOI and the update time put in."""
        text = self._templates[rec.template]
        own = self._template_dois[rec.template]
        if own != rec.doi:
            text = text.replace(json.dumps(own)[1:-1], rec.doi)
        return self._render(json.loads(text), rec)


@dataclass(slots=True)
class Observer:
    """Arrival and completion times of the requests an app handled (server clock)."""

    spans: list[tuple[float, float, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _inflight: int = 0
    peak_inflight: int = 0

    def begin(self) -> float:
        with self._lock:
            self._inflight += 1
            self.peak_inflight = max(self.peak_inflight, self._inflight)
        return time.monotonic()

    def end(self, start: float, path: str) -> None:
        with self._lock:
            self._inflight -= 1
            self.spans.append((start, time.monotonic(), path))

    def starts(self) -> list[float]:
        with self._lock:
            return sorted(s for s, _, _ in self.spans)

    def max_starts_within(self, seconds: float = 1.0) -> int:
        """The most request arrivals in any window of ``seconds`` (closed on both ends)."""
        starts = self.starts()
        best, lo = 0, 0
        for hi, t in enumerate(starts):
            while t - starts[lo] > seconds:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def count(self, path_prefix: str = "") -> int:
        with self._lock:
            return sum(1 for _, _, p in self.spans if p.startswith(path_prefix))

    def clear(self) -> None:
        with self._lock:
            self.spans.clear()
            self.peak_inflight = self._inflight


@dataclass(slots=True)
class Limits:
    """Advertised (and, with ``enforce``, policed) request rate and concurrency."""

    limit: int = 0  # requests per interval; 0 = none advertised
    interval: float = 1.0
    concurrency: int = 0  # 0 = none advertised
    pool: str = "public"
    enforce: bool = True
    violations: int = 0
    _starts: list[float] = field(default_factory=list)
    _inflight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def headers(self) -> list[tuple[str, str]]:
        out = [("x-api-pool", self.pool)]
        if self.limit:
            out += [("x-rate-limit-limit", str(self.limit)), ("x-rate-limit-interval", f"{self.interval:g}s")]
        if self.concurrency:
            out.append(("x-concurrency-limit", str(self.concurrency)))
        return out

    def admit(self) -> bool:
        """Count one arriving request; False when it breaks a limit (answer 429)."""
        now = time.monotonic()
        with self._lock:
            self._starts = [s for s in self._starts if now - s < self.interval]
            over = (self.limit and len(self._starts) >= self.limit) or (
                self.concurrency and self._inflight >= self.concurrency)
            if over:
                self.violations += 1
                if self.enforce:
                    return False
            self._starts.append(now)
            self._inflight += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._inflight -= 1


class RestApp:
    """Base of the REST replay apps: timing, latency, limits; subclasses implement ``route``."""

    def __init__(self, *, latency_ms: float = 0.0, limits: Limits | None = None):
        self.latency_ms = latency_ms
        self.limits = limits
        self.observer = Observer()

    def is_page(self, request: Request) -> bool:
        return False

    def has_token(self, request: Request) -> bool:
        return False

    def route(self, request: Request) -> Response:
        raise NotImplementedError

    def handle(self, request: Request) -> Response:
        start = self.observer.begin()
        admitted = True
        try:
            if self.limits is not None and not self.limits.admit():
                admitted = False
                body = {"status": "error", "message": "rate limit exceeded (replay)"}
                return json_response(body, 429, [("Retry-After", "1"), *self.limits.headers()])
            if self.latency_ms > 0:
                time.sleep(self.latency_ms / 1000.0)
            resp = self.route(request)
            if self.limits is not None:
                resp.headers.extend(self.limits.headers())
            return resp
        finally:
            if self.limits is not None and admitted:
                self.limits.release()
            self.observer.end(start, request.path)


def subpath(request: Request) -> str:
    """The request path below the app's mount point (``/works/10.1/x``), still URL-encoded."""
    from urllib.parse import urlsplit

    mount = urlsplit(request.base_url).path.rstrip("/")
    return request.path[len(mount):] or "/"


def unquote_fully(text: str) -> str:
    """Decode until stable: accepts a DOI encoded once or twice in a path."""
    from urllib.parse import unquote

    for _ in range(3):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text
