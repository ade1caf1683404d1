"""One memory budget per process, derived from the machine, that grows instead of failing.

DuckDB is the only large consumer of memory in linkgraph (the harvest and the crosswalk
stream; the audits are set-based SQL). Its buffer cap is the *budget*: what a command starts
with (``--memory-limit``, ``$LINKGRAPH_MEMORY_LIMIT`` or the config's ``memory_limit``; by
default :func:`default_budget`, a share of the memory the machine has available). Beyond the
budget DuckDB spills to a temp directory beside the database. When a statement still runs out
of memory (DuckDB cannot spill everything: hash tables of an ART index, an insert's undo
buffers, ...), the write is retried with the budget doubled, up to :func:`ceiling` - half of
what the machine has available - so a default run never fails for a cap chosen too small.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

MiB = 1 << 20
GiB = 1 << 30
#: the default budget never starts above this: DuckDB keeps blocks it has just written up to
#: its cap, so the cap is most of a harvest's RSS, and a nightly job should stay small.
DEFAULT_MAX = 384 * MiB
#: ... nor below this (DuckDB itself needs some tens of MB to replay a WAL and load indexes).
DEFAULT_MIN = 64 * MiB

_UNITS = {"": 1, "b": 1, "bytes": 1, "kib": 1 << 10, "mib": MiB, "gib": GiB, "tib": 1 << 40,
          "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "k": 1 << 10, "m": MiB, "g": GiB}


def parse_size(text: str) -> int | None:
    """``'512MB'``, ``'1.5 GiB'``, ``'61.0 MiB'`` (DuckDB's way) as bytes; None when unreadable."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _meminfo_available() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    m = re.search(r"^MemAvailable:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) * 1024 if m else None


def _cgroup_room() -> int | None:
    """What a cgroup (v2 or v1) memory limit leaves this process, when one is set."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            raw = Path(limit_file).read_text().strip()
            if raw == "max" or int(raw) >= 1 << 60:
                return None
            used = int(Path(usage_file).read_text().strip())
            return max(0, int(raw) - used)
        except (OSError, ValueError):
            continue
    return None


def available() -> int:
    """Bytes this process can still use: the smaller of the machine's available memory and
    what a cgroup limit leaves; 2 GiB when neither can be read."""
    found = [v for v in (_meminfo_available(), _cgroup_room()) if v is not None]
    if not found:
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return 2 * GiB
    return min(found)


def default_budget(avail: int | None = None) -> int:
    """The budget a command starts with: a quarter of the available memory, between 64 MiB and
    384 MiB (a 24 GB machine: 384 MiB; a 1 GB container: about 250 MiB). Measured with
    bench/bench_soak.py at 1M records: 384 MiB gave a 788 MiB largest process and 1,039 MiB for
    the run and its crosswalk workers together, 512 MiB gave 921 and 1,105 MiB (and was no
    faster)."""
    avail = available() if avail is None else avail
    return max(DEFAULT_MIN, min(DEFAULT_MAX, avail // 4))


#: the audit's default budget never starts above this (see :func:`batch_budget`)
BATCH_MAX = 1 * GiB


#: bytes of budget per relation a large store's audit starts with (see :func:`batch_budget`)
BATCH_BYTES_PER_ROW = 48


def batch_budget(avail: int | None = None, rows: int = 0) -> int:
    """The budget a set-based batch job (the audit) starts with: a quarter of the available
    memory up to 1 GiB, never less than :func:`default_budget`. The audit is joins and
    aggregates over whole tables, run once after a harvest; under 384 MiB it spills most of its
    hash tables. Measured on 1M works / 5M relations (bench_audit.py, 2 threads): 384 MiB
    28.5 s and 686 MB peak RSS, 1 GiB 18.9 s and 1.4 GB, 2 GiB 13.5 s and 2.1 GB - 1 GiB takes
    two thirds of the gain for a third of the memory. A quarter of what is available still
    leaves the machine three quarters, and the out-of-memory retry grows it from there.

    A store of more than ``BATCH_MAX / BATCH_BYTES_PER_ROW`` (22M) relations starts with 48 bytes
    per relation instead (still at most a quarter of what is available): at 10M works / 50M
    relations the reciprocal anti-join ran out of memory at 1 GiB and its retry cost 40 s of a
    322 s audit; with 2 GiB from the start it runs once."""
    avail = available() if avail is None else avail
    want = max(BATCH_MAX, rows * BATCH_BYTES_PER_ROW)
    return max(default_budget(avail), min(want, avail // 4))


def ceiling(budget: int, avail: int | None = None) -> int:
    """How far an out-of-memory retry may grow a budget: half the available memory, and never
    below the budget itself."""
    avail = available() if avail is None else avail
    return max(budget, avail // 2)


# DuckDB's words for running out of its budget, also inside a FatalException ("Failed to flush
# table ... during commit: failed to pin block of size 256.0 KiB (12.9 MiB/13.1 MiB used)").
_OOM_TEXTS = ("Out of Memory Error", "failed to pin block", "could not allocate block", "failed to allocate data")


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and what it was raised from (a StoreError wraps DuckDB's error), 8 deep at most."""
    for _ in range(8):
        if exc is None:
            return
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_fatal(exc: BaseException | None) -> bool:
    """True when DuckDB invalidated the database (its FatalException, also when wrapped)."""
    import duckdb

    return any(isinstance(e, duckdb.FatalException) or "database has been invalidated" in str(e)
               for e in _chain(exc))


def is_out_of_memory(exc: BaseException | None) -> bool:
    """True for DuckDB's out-of-memory error, also when wrapped (StoreError's ``__cause__``)."""
    import duckdb

    return any(isinstance(e, duckdb.OutOfMemoryException)
               or (isinstance(e, duckdb.Error) and any(s in str(e) for s in _OOM_TEXTS))
               for e in _chain(exc))
