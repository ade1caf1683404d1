"""The DuckDB store: one file, a schema version table and forward migrations.

Every writer goes through :class:`Store`. Bulk writes are Arrow tables registered with
DuckDB and inserted with one statement; nothing is written row by row.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa

from linkgraph import arrowbuild, memory
from linkgraph.errors import StoreError, UsageError

ENV_DB = "LINKGRAPH_DB"


_FOREIGN_MAGIC = {b"SQLite format 3\x00": "an SQLite database", b"PAR1": "a Parquet file",
                  b"PK\x03\x04": "a ZIP file", b"\x1f\x8b": "a gzip file"}


def _refuse_foreign_file(path: Path) -> None:
    """A --db that is some other kind of file: DuckDB would try to download an extension to
    read it (the sqlite scanner) - refuse it by its first bytes instead."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return  # absent (created) or unreadable (DuckDB says why)
    for magic, what in _FOREIGN_MAGIC.items():
        if head.startswith(magic):
            raise StoreError(f"cannot open {path}: it is {what}, not a DuckDB database")


def default_db_path() -> Path:
    """``$LINKGRAPH_DB``, else ``$XDG_DATA_HOME/linkgraph/linkgraph.duckdb``."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "linkgraph" / "linkgraph.duckdb"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """Migrations are ``linkgraph/migrations/NNNN_name.sql``, applied in number order."""
    found: list[Migration] = []
    for entry in resources.files("linkgraph.migrations").iterdir():
        name = entry.name
        if not name.endswith(".sql") or not name[:4].isdigit():
            continue
        found.append(Migration(int(name[:4]), name[5:-4], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"two migrations share a number: {versions}")
    return found


@dataclass(slots=True)
class RawRecord:
    """One harvested record as it goes into ``raw_records``."""

    record_id: str
    datestamp: datetime | None
    deleted: bool
    metadata_format: str
    payload: str | None
    sets: Sequence[str] = field(default_factory=tuple)


RAW_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("record_id", pa.string()),
        ("datestamp", pa.timestamp("us", tz="UTC")),
        ("deleted", pa.bool_()),
        ("metadata_format", pa.string()),
        ("payload", pa.large_string()),
        ("payload_hash", pa.string()),
        ("sets", pa.list_(pa.string())),
        ("fetched_at", pa.timestamp("us", tz="UTC")),
        ("run_id", pa.int64()),
    ]
)

# A batch of keys not stored yet; the upsert below adds the conflict rule to the same SELECT.
_INSERT_RAW = """
INSERT INTO raw_records
SELECT source, record_id, datestamp, deleted, metadata_format, payload, payload_hash,
       sets, fetched_at, run_id, nextval('raw_change_seq')
FROM raw_batch
"""

# A newer datestamp replaces; the same datestamp with another payload replaces (the server
# changed content without touching the datestamp); an older one never does. Re-storing the
# same page therefore changes nothing, not even fetched_at.
_UPSERT_RAW = _INSERT_RAW + """ON CONFLICT (source, record_id) DO UPDATE SET
    datestamp = excluded.datestamp,
    deleted = excluded.deleted,
    metadata_format = excluded.metadata_format,
    payload = excluded.payload,
    payload_hash = excluded.payload_hash,
    sets = excluded.sets,
    fetched_at = excluded.fetched_at,
    run_id = excluded.run_id,
    change_seq = excluded.change_seq
WHERE excluded.datestamp > raw_records.datestamp
   OR raw_records.datestamp IS NULL
   OR (excluded.datestamp IS NOT DISTINCT FROM raw_records.datestamp
       AND (excluded.payload_hash IS DISTINCT FROM raw_records.payload_hash
            OR excluded.deleted <> raw_records.deleted))
"""


_CATALOG = "linkgraph_db"
# Row groups for a store that a harvest writes through (`linkgraph harvest oai`). The harvest
# commits whole row groups (harvest/writer.py), which DuckDB writes straight into the file,
# compressed, with only their block pointers in the WAL. Measured on 60k 3 KB records: 2,048
# and 4,096 rows harvest at the same speed and 8,192 no faster, while peak memory grows with
# the group (223, 262 and 314 MB), since each group waits whole in Python and in Arrow.
HARVEST_ROW_GROUP = 2048


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def harvest_threads() -> int:
    """DuckDB threads for a harvest's store: one core fewer than the process may use. The
    harvest parses in Python on one core while DuckDB appends; with DuckDB on every core the
    two fought over them (2 cores: 4% more records/s with DuckDB on one thread)."""
    return max(1, usable_cores() - 1)


def raw_table(source: str, run_id: int | None, records: Sequence[RawRecord]) -> pa.Table:
    """Arrow table for a batch; a record id seen twice keeps its newest version."""
    latest: dict[str, RawRecord] = {}
    for rec in records:
        prev = latest.get(rec.record_id)
        if prev is None or _newer(rec, prev):
            latest[rec.record_id] = rec
    recs = list(latest.values())
    payloads = [None if r.deleted else r.payload for r in recs]
    now = utcnow()
    return arrowbuild.table(
        {
            "source": [source] * len(recs),
            "record_id": [r.record_id for r in recs],
            "datestamp": [r.datestamp for r in recs],
            "deleted": [r.deleted for r in recs],
            "metadata_format": [r.metadata_format for r in recs],
            "payload": payloads,
            "payload_hash": [None if p is None else payload_hash(p) for p in payloads],
            "sets": [list(r.sets) for r in recs],
            "fetched_at": [now] * len(recs),
            "run_id": [run_id] * len(recs),
        },
        schema=RAW_SCHEMA,
    )


def payload_hash(payload: str) -> str:
    """sha256 hex of the payload's UTF-8. hashlib runs without the GIL on payloads over 2 KB and
    is about 3x faster than DuckDB's ``sha256()`` (2.4 against 8.2 us per 3 KB record here)."""
    return hashlib.sha256(payload.encode()).hexdigest()


_INDEX_BYTES_PER_ROW = 64  # a raw_records key in DuckDB's ART: about 59 bytes measured at 300k rows
T = TypeVar("T")


def _newer(a: RawRecord, b: RawRecord) -> bool:
    if a.datestamp is None or b.datestamp is None:
        return True  # later in the stream wins
    return a.datestamp >= b.datestamp


class Store:
    """A DuckDB file with linkgraph's schema.

    One :class:`Store` may be shared by threads: :meth:`transaction` serialises writers
    on a lock and gives each a cursor of its own.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
        row_group_size: int | None = None,
        threads: int | None = None,
    ):
        """``row_group_size`` (writers only) makes the rows written through this store go
        into row groups of that many rows instead of DuckDB's 122,880. A harvest appends in
        small transactions, and each checkpoint rewrites the last, growing row group whole:
        with 3 KB payloads that rewrite cost more than parsing (see :data:`HARVEST_ROW_GROUP`).
        DuckDB takes the size only when a file is attached, so the file is then attached to an
        in-memory catalog and every cursor of :meth:`cursor` is pointed at it. ``threads``
        caps DuckDB's worker threads (default: one per core)."""
        self.path = Path(path) if path is not None else default_db_path()
        in_memory = str(self.path) == ":memory:"
        if not in_memory and not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # unwritable, or a file where a directory should be
                raise StoreError(f"cannot create the database's directory {self.path.parent}: "
                                 f"{exc.strerror or exc}") from exc
        self._use: str | None = None
        self._close_hooks: list[Callable[[], None]] = []
        self._memory_base: int | None = None  # the caller's cap, without the indexes
        self._memory_set = 0
        self._fitted_at = 0.0
        self.row_group_size: int | None = None  # set when the file is attached with it
        self._options = (read_only, in_memory, row_group_size, threads)
        self._connect()
        self._lock = threading.RLock()
        self._memory_ceiling = 0
        # Every store runs under a budget: the caller's, else one derived from the machine
        # (linkgraph.memory); an out-of-memory write grows it (retry_on_oom).
        self.set_memory_limit(memory_limit or f"{memory.default_budget()}B")
        self._budget_chosen = memory_limit is not None  # --memory-limit, env or config: kept as is
        if not read_only:
            # Fold the WAL into the file less often: each checkpoint rewrites compressed
            # blocks (and the whole primary-key index), and doing that every 16 MB made
            # harvest commits several times slower.
            self.con.execute("SET checkpoint_threshold = '64MB'")
            self.migrate()

    def _connect(self) -> None:
        read_only, in_memory, row_group_size, threads = self._options
        if not in_memory:
            _refuse_foreign_file(self.path)
        try:
            if row_group_size and not read_only and not in_memory:
                self.con = duckdb.connect()
                quoted = str(self.path).replace("'", "''")
                self.con.execute(f"SET temp_directory = '{quoted}.tmp'")
                self.con.execute(f"ATTACH '{quoted}' AS {_CATALOG} (ROW_GROUP_SIZE {int(row_group_size)})")
                self._use = f"USE {_CATALOG}"
                self.con.execute(self._use)
                self.row_group_size = int(row_group_size)
            else:
                self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:  # locked by another process, not a DuckDB file, ...
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    @property
    def lock(self) -> threading.RLock:
        """The lock :meth:`transaction` serialises writers on (re-entrant)."""
        return self._lock

    def reopen(self) -> None:
        """Open the file again after DuckDB invalidated its instance (a fatal error, such as
        running out of memory while flushing a commit): the WAL is replayed, so every committed
        transaction is there; the budget and settings carry over."""
        read_only, in_memory, _, _ = self._options
        if in_memory:
            raise StoreError("an in-memory store cannot be reopened")
        with self._lock:
            with suppress(Exception):
                self.con.close()
            self._connect()
            if self._memory_set:
                self.con.execute(f"SET memory_limit = '{self._memory_set}B'")
            if not read_only:
                self.con.execute("SET checkpoint_threshold = '64MB'")

    def set_memory_limit(self, limit: str) -> None:
        """Cap DuckDB's buffer memory (e.g. ``"128MB"``) *besides its key indexes*; beyond it
        DuckDB spills to disk.

        DuckDB holds a table's primary-key index whole in memory and counts it against the
        cap, and the index grows with the store (about 60 bytes per raw record): under a fixed
        64 MB a harvest into a store of some 800k records ran out of memory. So the cap set
        is the given limit plus what the indexes hold, refitted as they grow (see
        :meth:`fit_memory_limit`, called after each write transaction)."""
        try:
            self.con.execute(f"SET memory_limit = '{limit}'")
            row = self.con.execute("SELECT current_setting('memory_limit')").fetchall()[0]
        except duckdb.Error as exc:
            raise UsageError(f"bad memory limit {limit!r}: {exc}") from exc
        self._memory_base = memory.parse_size(str(row[0])) if row else None
        self._memory_set = self._memory_base or 0
        self._memory_ceiling = memory.ceiling(self._memory_base or 0)
        self.fit_memory_limit(force=True)

    @property
    def memory_budget(self) -> int | None:
        """DuckDB's budget in bytes, besides its key indexes (see :meth:`set_memory_limit`)."""
        return self._memory_base

    def widen_budget(self, at_least: int | None = None, *, rows: int = 0) -> None:
        """Start a set-based job (the audit) with at least ``at_least`` bytes (default:
        :func:`linkgraph.memory.batch_budget` for a job over ``rows`` rows), unless the user
        chose a budget; the out-of-memory retry still grows it from there."""
        at_least = memory.batch_budget(rows=rows) if at_least is None else at_least
        if self._budget_chosen or (self._memory_base or 0) >= at_least:
            return
        with self._lock:
            self._memory_base = at_least
            self._memory_ceiling = max(self._memory_ceiling, at_least)
            self.fit_memory_limit(force=True)
            if self._memory_set < at_least:
                with suppress(duckdb.Error):
                    self.con.execute(f"SET memory_limit = '{at_least}B'")
                    self._memory_set = at_least

    def grow_memory(self) -> bool:
        """Double the budget, up to the ceiling (half the memory available when the store was
        opened); False when it is there already."""
        with self._lock:
            base = self._memory_base or memory.default_budget()
            grown = min(max(self._memory_ceiling, base), base * 2)
            if grown <= base:
                return False
            self._memory_base = grown
            self.fit_memory_limit(force=True)
            if self._memory_set < grown:  # fit_memory_limit found nothing to add
                with suppress(duckdb.Error):
                    self.con.execute(f"SET memory_limit = '{grown}B'")
                    self._memory_set = grown
            return True

    def retry_on_oom(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (which must be safe to run again: one transaction that rolls back on
        failure); when DuckDB runs out of memory, grow the budget and run it again, until the
        ceiling."""
        while True:
            try:
                return fn()
            except Exception as exc:
                if not memory.is_out_of_memory(exc):
                    raise
                if memory.is_fatal(exc):  # DuckDB invalidated the database: open it again
                    self.reopen()
                if not self.grow_memory():
                    raise

    def retry_step(self, cur: duckdb.DuckDBPyConnection, fn: Callable[[], T]) -> T:
        """Run ``fn`` - statements on ``cur``, in the transaction ``cur`` has open - and commit
        them, leaving a new transaction open. When DuckDB runs out of memory the step is rolled
        back and run again with a larger budget (until the ceiling), so one step of a long job
        is retried, not the job; ``cur``'s TEMP tables of earlier steps stay. An error that
        invalidated the database is raised: the caller's ``retry_on_oom`` starts over."""
        while True:
            try:
                value = fn()
                cur.execute("COMMIT")
                cur.execute("BEGIN TRANSACTION")
                return value
            except duckdb.Error as exc:
                if not memory.is_out_of_memory(exc) or memory.is_fatal(exc):
                    raise
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass  # the failed statement already ended the transaction
                cur.execute("BEGIN TRANSACTION")
                if not self.grow_memory():
                    raise

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """``fn(cur)`` in one write transaction, retried with a larger budget when DuckDB runs
        out of memory (nothing of a failed attempt is kept)."""

        def attempt() -> T:
            with self.transaction() as cur:
                return fn(cur)

        return self.retry_on_oom(attempt)

    def fit_memory_limit(self, *, force: bool = False) -> None:
        """Raise (or lower) the cap to the base limit plus the indexes' memory, a quarter more
        and 4 MB; at most every 0.1 s unless ``force`` (the query costs about 0.5 ms), and
        only when it moved by 5%."""
        if self._memory_base is None or (not force and time.monotonic() - self._fitted_at < 0.1):
            return
        self._fitted_at = time.monotonic()
        with self._lock, suppress(duckdb.Error):  # best effort: the cap stays as set
            # What the indexes hold now, or will once a write loads them (DuckDB reads an
            # index lazily, whole, inside the first transaction that needs it).
            row = self.con.execute(
                "SELECT (SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
                "        WHERE tag = 'ART_INDEX'),"
                "       (SELECT coalesce(sum(estimated_size), 0) FROM duckdb_tables()"
                "        WHERE has_primary_key AND database_name = current_database()) * ?",
                [_INDEX_BYTES_PER_ROW],
            ).fetchall()[0]  # fetchall: a half-read result keeps its transaction open
            index = max(int(row[0]), int(row[1]))
            want = self._memory_base + (index * 5 // 4 + (4 << 20) if index else 0)
            if abs(want - self._memory_set) > self._memory_set // 20:
                self.con.execute(f"SET memory_limit = '{want}B'")
                self._memory_set = want

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor of the store's connection, on the store's database."""
        cur = self.con.cursor()
        if self._use:
            cur.execute(self._use)
        return cur

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        try:
            self.con.close()
        finally:
            hooks, self._close_hooks = self._close_hooks, []
            for hook in hooks:
                hook()

    def on_close(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` once the connection is closed (a writer lock is released there)."""
        self._close_hooks.append(hook)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        row = self.con.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0) if row else 0

    def migrate(self) -> list[int]:
        """Apply every migration newer than the file's version; returns those applied."""
        with self._lock:
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)"
            )
            current = self.schema_version
            applied: list[int] = []
            for mig in load_migrations():
                if mig.version <= current:
                    continue
                self.con.execute("BEGIN TRANSACTION")
                try:
                    self.con.execute(mig.sql)
                    self.con.execute(
                        "INSERT INTO schema_version VALUES (?, ?, ?)",
                        [mig.version, mig.name, utcnow()],
                    )
                    self.con.execute("COMMIT")
                except duckdb.Error as exc:
                    self.con.execute("ROLLBACK")
                    raise StoreError(f"migration {mig.version} ({mig.name}) failed: {exc}") from exc
                applied.append(mig.version)
            return applied

    # -- transactions ----------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write transaction on a cursor of its own, committed on success.

        Nothing of a failed transaction is kept. A DuckDB failure (out of memory, disk full,
        a constraint) becomes a :class:`StoreError` naming the file, so the CLI reports it
        as a message and an exit code rather than a traceback."""
        with self._lock:
            try:
                cur = self.cursor()
                cur.execute("SET TimeZone = 'UTC'")
                cur.execute("BEGIN TRANSACTION")
            except duckdb.Error as exc:  # an invalidated database, a closed connection
                raise StoreError(f"writing {self.path} failed: {exc}") from exc
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException as exc:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass  # the failed statement already ended the transaction
                if isinstance(exc, duckdb.Error):
                    raise StoreError(f"writing {self.path} failed: {exc}") from exc
                raise
            finally:
                cur.close()
            self.fit_memory_limit()  # after the commit: it is not part of the write

    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple]:
        with self._lock:
            cur = self.cursor()
            try:
                return cur.execute(sql, params or []).fetchall()
            finally:
                cur.close()

    # -- writes ----------------------------------------------------------------------
    @staticmethod
    def upsert_raw(
        cur: duckdb.DuckDBPyConnection, source: str, run_id: int | None, records: Sequence[RawRecord],
        *, new_only: bool = False,
    ) -> int:
        """Bulk-upsert one batch inside the caller's transaction; returns rows in the batch.

        ``new_only`` is the fast path for records not stored yet (a first harvest): a plain
        INSERT, about three times cheaper than DuckDB's ON CONFLICT. If a key is already
        there it raises :class:`duckdb.ConstraintException`, which aborts the transaction;
        the caller then writes the batch again without ``new_only``."""
        if not records:
            return 0
        table = raw_table(source, run_id, records)
        cur.register("raw_batch", table)
        cur.execute(_INSERT_RAW if new_only else _UPSERT_RAW)  # a failure discards txn and view
        cur.unregister("raw_batch")
        return table.num_rows

    @staticmethod
    def insert_arrow(cur: duckdb.DuckDBPyConnection, table_name: str, table: pa.Table) -> None:
        """Append an Arrow table to ``table_name`` (columns by name)."""
        if table.num_rows == 0:
            return
        cols = ", ".join(f'"{c}"' for c in table.column_names)
        cur.register("arrow_batch", table)
        cur.execute(f'INSERT INTO "{table_name}" ({cols}) SELECT {cols} FROM arrow_batch')
        cur.unregister("arrow_batch")


def open_for_reading(path: str | os.PathLike[str] | None = None, *, long_lived: bool = False) -> Store:
    """A read-only store that neither fails nor blocks while ``linkgraph run`` writes: the read
    snapshot the run publishes after each stage, or the main file when no writer holds it and it
    is newer (see :mod:`linkgraph.jobs.snapshot`). Notebooks pass ``long_lived=True``."""
    from linkgraph.jobs.snapshot import open_for_reading as _open

    return _open(path, long_lived=long_lived)
