"""Outputs never clobber inputs: where a command may write a file or a directory.

``--out`` of ``report``, ``export``, ``audit`` and ``graph neo4j export`` goes through
:func:`guard_output` first. Refused (a usage error, exit 2): the database itself, its WAL, lock,
read snapshot or spill directory; any existing DuckDB file; anything that is not a regular
file (a device, a FIFO, a socket); a directory where a file is asked for and the reverse.
"""

from __future__ import annotations

import stat
from pathlib import Path

from linkgraph.errors import UsageError

_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def protected_paths(db: Path) -> set[Path]:
    """The database and every file linkgraph keeps beside it."""
    from linkgraph.jobs.snapshot import snapshot_path

    db = db.expanduser().resolve()
    snap = snapshot_path(db)
    names = [db, snap]
    out = set(names)
    for base in names:
        out.update(base.with_name(base.name + suffix) for suffix in (".wal", ".lock", ".tmp"))
    return out


def _is_duckdb_file(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[8:12] == _DUCKDB_MAGIC


def guard_output(out: Path, db: Path, *, directory: bool) -> Path:
    """``out`` if writing there cannot destroy an input; else a :class:`UsageError`."""
    target = out.expanduser().resolve()
    if target in protected_paths(db):
        raise UsageError(f"--out {out} is the database or a file kept beside it ({db}); choose another path")
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return out
    except OSError as exc:
        raise UsageError(f"--out {out}: {exc.strerror or exc}") from None
    if directory:
        if not stat.S_ISDIR(mode):
            raise UsageError(f"--out {out} exists and is not a directory")
        return out
    if stat.S_ISDIR(mode):
        raise UsageError(f"--out {out} is a directory; give a file name")
    if not stat.S_ISREG(mode):
        raise UsageError(f"--out {out} is not a regular file (a device, FIFO or socket); refusing to write it")
    if _is_duckdb_file(target):
        raise UsageError(f"--out {out} is a DuckDB database; refusing to overwrite it")
    return out
