"""One page ahead: page N+1 is requested while page N is still being parsed.

An OAI-PMH list is a chain (each page names the next by its resumption token), so a plain
client leaves the server idle while it parses and the parser idle while the server builds
the next page. Once a page's bytes have all arrived, its token can be read from the tail
of the bytes (see :func:`token_hint`) before the strict parse runs, and the next request
started at once on a thread of its own.

Nothing about correctness rests on the guess: the harvest loop still takes each page's token
from the strict parse, and a prefetched page is used only when it was requested with exactly
that token. A guess that turns out wrong (or a chain that was abandoned: a restart, an error)
is dropped unseen, at the cost of one wasted request. The prefetch goes through the same
:class:`~linkgraph.harvest.http.Transport` (pacing, concurrency, retries), and at most
``depth`` pages wait ahead, so memory stays bounded and the server sees no more concurrency
than before: the harvest loop waits for the prefetched page instead of asking again.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

R = TypeVar("R")

_TAIL = 16384  # the token sits just before </ListRecords></OAI-PMH>
_TOKEN = re.compile(
    rb"<(?:[\w.-]+:)?resumptionToken\b[^>]*>([^<]*)</(?:[\w.-]+:)?resumptionToken\s*>"
)
_END = re.compile(rb"</(?:[\w.-]+:)?OAI-PMH\s*>\s*$")


def token_hint(chunks: Sequence[bytes]) -> str | None:
    """The resumption token of a whole response, read from its raw tail; None when unsure.

    Only a plain token is guessed: one with entity or character references, CDATA or
    non-UTF-8 bytes is left to the parser (the page is then simply not prefetched)."""
    tail = b""
    for chunk in reversed(chunks):
        tail = chunk + tail
        if len(tail) >= _TAIL:
            break
    tail = tail[-_TAIL:]
    if not _END.search(tail):
        return None  # incomplete: the parse will say what is wrong
    matches = _TOKEN.findall(tail)
    if not matches:
        return None
    raw = matches[-1].strip()
    if not raw or b"&" in raw:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


class Lookahead(Generic[R]):
    """Prefetched pages of one list, keyed by the resumption token that asks for them.

    ``fetch(token, offer)`` requests the page for ``token``; it calls ``offer(next_token)``
    as soon as it has guessed the next token, which may start the page after it."""

    def __init__(self, fetch: Callable[[str, Callable[[str], None]], R], *, depth: int = 1):
        self._fetch = fetch
        self.depth = depth
        self._lock = threading.Lock()
        self._pending: dict[str, Future[R]] = {}
        self._generation = 0
        self._closed = False
        # Two long-lived workers: one can still be reading page N+1 when the other requests N+2.
        # (A thread per page made every prefetch wait for the new thread to get the GIL.)
        self._jobs: queue.SimpleQueue[tuple[str, Future[R]] | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._declined: tuple[int, str | None, str] | None = None  # (generation, current, token)
        self.started = 0  # prefetches begun
        self.used = 0  # prefetched pages the harvest loop took

    def offer_for(self, current: str | None) -> Callable[[str], None]:
        """The ``offer`` callback for the request of ``current`` (None: the list's first page)."""
        with self._lock:
            generation = self._generation

        def offer(token: str) -> None:
            with self._lock:
                if self._closed or generation != self._generation or not self._is_new(current, token):
                    return  # this chain was abandoned, or the page is already fetched or asked for
                job = self._start(current, token)
                if job is None:
                    # Too far ahead for now: started when the loop takes a page (see take).
                    # Without this, a loop slower than the server fetched every other page itself.
                    self._declined = (generation, current, token)
            if job is not None:
                self._jobs.put(job)

        return offer

    def _is_new(self, current: str | None, token: str) -> bool:
        """``token`` names a page neither being read (``current``) nor fetched ahead."""
        return token != current and token not in self._pending

    def _start(self, current: str | None, token: str) -> tuple[str, Future[R]] | None:
        """Register the prefetch of the new page ``token`` (offered by the page of ``current``)
        if fewer than ``depth`` pages wait ahead; the caller holds the lock and queues the job."""
        ahead = len(self._pending) - (1 if current in self._pending else 0)
        if ahead >= self.depth:
            return None
        future: Future[R] = Future()
        self._pending[token] = future
        self.started += 1
        if len(self._workers) < 2:
            worker = threading.Thread(target=self._work, name="oai-lookahead", daemon=True)
            self._workers.append(worker)
            worker.start()
        return token, future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            token, future = job
            if not future.set_running_or_notify_cancel():
                continue  # dropped before it started
            try:
                future.set_result(self._fetch(token, self.offer_for(token)))
            except BaseException as exc:  # noqa: BLE001 - delivered to whoever takes the page
                future.set_exception(exc)

    def take(self, token: str | None) -> Future[R] | None:
        """The prefetched page for ``token``, if one was started; otherwise every pending
        page belongs to an abandoned chain and is dropped."""
        job = None
        with self._lock:
            future = self._pending.pop(token, None) if token else None
            if future is None:
                self._drop()
            else:
                self.used += 1
                declined, self._declined = self._declined, None
                # resumed only while the page that offered it waits ahead (it is the chain's tip)
                if (declined is not None and declined[0] == self._generation
                        and declined[1] in self._pending and self._is_new(declined[1], declined[2])):
                    job = self._start(declined[1], declined[2])
                    if job is None:
                        self._declined = declined  # still too far ahead: the next take tries again
        if job is not None:
            self._jobs.put(job)
        return future

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop()
            for _ in self._workers:
                self._jobs.put(None)  # each worker ends after its current page

    def _drop(self) -> None:
        self._generation += 1
        self._declined = None
        for future in self._pending.values():
            future.cancel()  # one already running finishes on its own; nobody reads it
        self._pending.clear()


__all__ = ["Lookahead", "token_hint"]
