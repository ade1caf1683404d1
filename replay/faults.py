"""Fault injection for replay servers: which page request fails, and how.

Why: the harvester's retry, resume and integrity checks are only worth something if tests and
benchmarks can make a real server misbehave at a precise, reproducible point.

Spec grammar (comma-separated items)::

    KIND@N[xCOUNT][:ARG]

``N`` is the 1-based index of the *page request* (OAI ListRecords / ListIdentifiers, a REST
app's list request), counted over the server's life in arrival order. The fault fires on
``COUNT`` page requests starting at ``N`` (default 1; ``x0`` = forever). When several items are
due on the same request the first one in the spec fires and the others stay due (they fire on
the next page requests), so no fault is silently lost. ``expired`` only fires on a request that
carries a resumption token / cursor; until one comes it stays due.

Kinds: ``503[:S]`` (Retry-After S seconds, default 1), ``503date[:S]`` (Retry-After as an
HTTP-date S seconds ahead), ``500``, ``429[:S]``, ``drop`` (close without a response),
``slow[:S]`` (sleep S seconds, default 5, then answer), ``truncate`` (about half the body, no
Content-Length, ``Connection: close``; sent uncompressed even to a gzip client, so what breaks
is the XML, not the gzip stream), ``expired`` (badResumptionToken), ``repeat`` (the page, but
with the resumption token the request carried; on a first page, a token that leads back to that
same first page), ``badchar`` (U+000B inside a record's text; in the identifier for headers).

The first five are *transport* faults applied by the HTTP layer for every app; ``expired``,
``repeat`` and ``badchar`` are *content* faults the app applies (it sees ``request.fault``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

TRANSPORT_KINDS = frozenset({"503", "503date", "500", "429", "drop", "slow", "truncate"})
CONTENT_KINDS = frozenset({"expired", "repeat", "badchar"})
KINDS = TRANSPORT_KINDS | CONTENT_KINDS
_DEFAULT_ARG = {"503": 1.0, "503date": 1.0, "429": 1.0, "slow": 5.0}
_ITEM = re.compile(r"^(?P<kind>[a-z0-9]+)@(?P<n>\d+)(?:x(?P<count>\d+))?(?::(?P<arg>[0-9.]+))?$")


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault as it fires: kind, its argument (seconds) and the spec item it came from."""

    kind: str
    arg: float | None
    item: str

    @property
    def transport(self) -> bool:
        return self.kind in TRANSPORT_KINDS


@dataclass(slots=True)
class _Item:
    fault: Fault
    start: int
    remaining: int  # -1 = forever


@dataclass
class FaultPlan:
    """A parsed fault spec plus the page-request counter; safe to share between threads."""

    items: list[_Item] = field(default_factory=list)
    _pages: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def parse(cls, spec: str | FaultPlan | None) -> FaultPlan:
        """Parse ``KIND@N[xCOUNT][:ARG],...``; raises ValueError naming the bad item."""
        if isinstance(spec, FaultPlan):
            return spec
        items = []
        for raw in (spec or "").split(","):
            text = raw.strip()
            if not text:
                continue
            m = _ITEM.match(text)
            if m is None or m["kind"] not in KINDS:
                raise ValueError(
                    f"bad fault {text!r}: expected KIND@N[xCOUNT][:ARG] with KIND one of "
                    f"{', '.join(sorted(KINDS))}")
            n = int(m["n"])
            if n < 1:
                raise ValueError(f"bad fault {text!r}: page numbers start at 1")
            if m["arg"] is not None and m["kind"] not in _DEFAULT_ARG:
                raise ValueError(f"bad fault {text!r}: {m['kind']} takes no argument")
            arg = float(m["arg"]) if m["arg"] is not None else _DEFAULT_ARG.get(m["kind"])
            count = int(m["count"]) if m["count"] is not None else 1
            items.append(_Item(Fault(m["kind"], arg, text), n, count if count > 0 else -1))
        return cls(items)

    @property
    def pages(self) -> int:
        """How many page requests were seen so far."""
        with self._lock:
            return self._pages

    def next_page(self, *, has_token: bool) -> Fault | None:
        """Count one page request and return the fault to apply to it, if any."""
        with self._lock:
            self._pages += 1
            for item in self.items:
                if item.remaining == 0 or self._pages < item.start:
                    continue
                if item.fault.kind == "expired" and not has_token:
                    continue
                if item.remaining > 0:
                    item.remaining -= 1
                return item.fault
            return None

    def __bool__(self) -> bool:
        return bool(self.items)
