"""Pace and bound requests by what the server advertises (Crossref's ``x-rate-limit-*``).

Crossref answers every request with ``x-rate-limit-limit`` (requests), ``x-rate-limit-interval``
(``1s``) and ``x-concurrency-limit``; a client that exceeds them gets 429. :class:`ServerLimits`
is hooked into a :class:`~linkgraph.harvest.http.Transport` (``on_response``) and adapts

* the transport's pacer: request starts at least ``interval / limit`` seconds apart (plus a
  small margin, so that the server, which sees arrivals with some jitter, never counts more);
* an :class:`AdaptiveGate`: how many requests the connector lets into the transport at once.

Before the first answer the client does not know the limits: it starts with one request in
flight and the pool's documented rate, so even the first burst stays within them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from linkgraph.harvest.http import Transport

MARGIN = 1.06  # stay ~6% under the advertised rate: arrival jitter must not look like a burst
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_interval(value: str | None) -> float | None:
    """``"1s"`` -> 1.0, ``"500ms"`` -> 0.5, ``"1m"`` -> 60.0; None when unreadable."""
    if not value:
        return None
    m = _INTERVAL.match(value)
    if m is None:
        return None
    unit = m.group(2).lower() if m.group(2) else None
    seconds = float(m.group(1)) * _UNIT[unit]
    return seconds if seconds > 0 else None


class AdaptiveGate:
    """A counting semaphore whose capacity can change while threads wait on it."""

    def __init__(self, capacity: int = 1):
        self._capacity = max(1, capacity)
        self._inflight = 0
        self._cond = threading.Condition()

    @property
    def capacity(self) -> int:
        with self._cond:
            return self._capacity

    def set_capacity(self, capacity: int) -> None:
        with self._cond:
            self._capacity = max(1, capacity)
            self._cond.notify_all()

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while self._inflight >= self._capacity:
                self._cond.wait()
            self._inflight += 1
        try:
            yield
        finally:
            with self._cond:
                self._inflight -= 1
                self._cond.notify_all()


class ServerLimits:
    """Follow a server's advertised rate and concurrency limits, never above the operator's."""

    def __init__(
        self,
        transport: Transport,
        *,
        max_concurrency: int,
        initial_rate: float,
        max_rate: float | None = None,
    ):
        self.transport = transport
        self.max_concurrency = max(1, max_concurrency)
        self.max_rate = max_rate
        self.gate = AdaptiveGate(1)  # one request until the server has told us its limits
        self.rate: float = initial_rate
        self.concurrency: int | None = None
        self.pool: str | None = None
        self._apply_rate(initial_rate)
        previous = transport.on_response

        def hook(resp: httpx.Response) -> None:
            if previous is not None:
                previous(resp)
            self.observe(resp.headers)

        transport.on_response = hook

    def _apply_rate(self, rate: float) -> None:
        if self.max_rate:
            rate = min(rate, self.max_rate)
        self.rate = rate
        self.transport.pacer.set_interval(MARGIN / rate if rate > 0 else 0.0)

    def observe(self, headers: httpx.Headers) -> None:
        """Adopt the limits a response advertises (headers missing: keep what we have)."""
        limit = headers.get("x-rate-limit-limit")
        interval = parse_interval(headers.get("x-rate-limit-interval")) or 1.0
        if limit and limit.strip().isdigit() and int(limit) > 0:
            self._apply_rate(int(limit) / interval)
        conc = headers.get("x-concurrency-limit")
        if conc and conc.strip().isdigit() and int(conc) > 0:
            self.concurrency = int(conc)
            self.gate.set_capacity(min(self.max_concurrency, self.concurrency))
        elif self.concurrency is None and self.gate.capacity < self.max_concurrency and limit:
            # the server sent rate headers but no concurrency limit: only our own bound applies
            self.gate.set_capacity(self.max_concurrency)
        pool = headers.get("x-api-pool")
        if pool:
            self.pool = pool
