"""A total deadline for one HTTP request, however slowly its bytes trickle in.

httpx's timeouts are per operation: a read waits at most ``timeout`` for the *next* bytes, so a
server sending one byte every few seconds - in the status line, the headers or the body - keeps
a request alive forever. This network backend (httpcore's own sync backend underneath) gives
every socket read and write of the calling thread at most the time left before that thread's
deadline, and fails it with ``ReadTimeout`` / ``WriteTimeout`` once the deadline has passed;
the transport sets the deadline around each request (:func:`request_deadline`). Threads make
their own requests (lookahead workers, windows), so the deadline is thread-local.
"""

from __future__ import annotations

import threading
import time
import typing
from collections.abc import Iterator
from contextlib import contextmanager

import httpcore

_local = threading.local()


@contextmanager
def request_deadline(seconds: float) -> Iterator[float]:
    """Every read and write of this thread must end within ``seconds`` from now."""
    previous = getattr(_local, "at", None)
    _local.at = at = time.monotonic() + seconds
    try:
        yield at
    finally:
        _local.at = previous


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    at = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0.001:
        raise error("the request's deadline passed (the server sends too slowly)")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))
        except httpcore.ReadTimeout:
            _left(None, httpcore.ReadTimeout)  # says so when it was the deadline that ran out
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: typing.Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                    _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, each stream bounded by its thread's request deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self._inner.connect_tcp(host, port, _left(timeout, httpcore.ConnectTimeout),
                                                      local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(client: typing.Any) -> bool:
    """Put the deadline backend under an httpx client's connection pool; False when the
    client's transport is not the usual one (a test's mock transport, a proxy)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        return False
    pool._network_backend = DeadlineBackend()
    return True
