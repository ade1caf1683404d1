"""Bulk crosswalk: new or changed ``raw_records`` -> ``works``, ``identifiers``, ``relations``,
``problems`` (migration 0002).

Raw rows are read in ``change_seq`` order, a batch at a time; each batch's old rows are deleted
and its new rows inserted as Arrow tables, and the high-water mark moves, in one transaction.
A kill at any point therefore loses nothing and duplicates nothing; memory stays flat.
The readers can run in worker processes (``workers``); batches are still written in order.
One bad record becomes ``problems`` rows and the batch goes on; a tombstone removes its rows.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from linkgraph.crosswalks.model import Work
from linkgraph.crosswalks.registry import UnknownFormatError, read, resolve

from linkgraph import arrowbuild
from linkgraph.errors import CrosswalkError
from linkgraph.store import Store, usable_cores, utcnow

TABLES = ("works", "identifiers", "relations", "problems")

_TITLE = pa.struct([("text", pa.string()), ("lang", pa.string()), ("kind", pa.string())])
_CREATOR = pa.struct(
    [
        ("name", pa.string()),
        ("given", pa.string()),
        ("family", pa.string()),
        ("orcid", pa.string()),
        ("affiliations", pa.list_(pa.string())),
        ("lang", pa.string()),
        ("seq", pa.int32()),
    ]
)
WORKS_SCHEMA = pa.schema(
    [
        ("source", pa.string()), ("record_id", pa.string()), ("work_seq", pa.int32()),
        ("work_key", pa.string()), ("doi", pa.string()), ("registration_agency", pa.string()),
        ("source_format", pa.string()), ("metadata_format", pa.string()),
        ("resource_type", pa.string()), ("resource_type_raw", pa.string()),
        ("title", pa.string()), ("titles", pa.list_(_TITLE)), ("creators", pa.list_(_CREATOR)),
        ("publisher", pa.string()), ("container", pa.string()), ("year", pa.int32()),
        ("landing_url", pa.string()), ("version", pa.string()), ("raw_change_seq", pa.int64()),
    ]
)
IDENTIFIERS_SCHEMA = pa.schema(
    [
        ("source", pa.string()), ("record_id", pa.string()), ("work_seq", pa.int32()),
        ("work_key", pa.string()), ("scheme", pa.string()), ("value", pa.string()),
    ]
)
RELATIONS_SCHEMA = pa.schema(
    [
        ("source", pa.string()), ("record_id", pa.string()), ("work_seq", pa.int32()),
        ("work_key", pa.string()), ("subject_doi", pa.string()), ("source_format", pa.string()),
        ("relation_type", pa.string()), ("raw_type", pa.string()),
        ("target_scheme", pa.string()), ("target", pa.string()), ("target_raw", pa.string()),
        ("asserted_by", pa.string()), ("problems", pa.list_(pa.string())),
        ("evidence", pa.string()),
    ]
)
PROBLEMS_SCHEMA = pa.schema(
    [
        ("source", pa.string()), ("record_id", pa.string()), ("work_seq", pa.int32()),
        ("metadata_format", pa.string()), ("source_format", pa.string()),
        ("problem", pa.string()), ("raw_change_seq", pa.int64()),
    ]
)
KEYS_SCHEMA = pa.schema([("source", pa.string()), ("record_id", pa.string())])


def work_key(work: Work, source: str, record_id: str, seq: int) -> str:
    if work.doi:
        return f"doi:{work.doi}"
    return f"rec:{source}:{record_id}" + (f"#{seq}" if seq else "")


@dataclass(slots=True)
class Batch:
    """Column buffers for one batch of raw records."""

    keys: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in KEYS_SCHEMA.names})
    works: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in WORKS_SCHEMA.names})
    identifiers: dict[str, list[Any]] = field(
        default_factory=lambda: {n: [] for n in IDENTIFIERS_SCHEMA.names}
    )
    relations: dict[str, list[Any]] = field(
        default_factory=lambda: {n: [] for n in RELATIONS_SCHEMA.names}
    )
    problems: dict[str, list[Any]] = field(
        default_factory=lambda: {n: [] for n in PROBLEMS_SCHEMA.names}
    )
    deleted: int = 0

    def problem(
        self, source: str, record_id: str, seq: int | None, mfmt: str, sfmt: str | None,
        text: str, change_seq: int,
    ) -> None:
        p = self.problems
        for name, value in zip(
            PROBLEMS_SCHEMA.names, (source, record_id, seq, mfmt, sfmt, text, change_seq)
        ):
            p[name].append(value)

    def add_record(
        self, source: str, record_id: str, deleted: bool, mfmt: str, payload: bytes | str | None,
        change_seq: int,
    ) -> None:
        self.keys["source"].append(source)
        self.keys["record_id"].append(record_id)
        if deleted or payload is None:
            self.deleted += 1
            return
        try:
            fmt = resolve(mfmt)
        except UnknownFormatError:
            self.problem(source, record_id, None, mfmt, None,
                         f"no reader for metadata format {mfmt!r}", change_seq)
            return
        for seq, work in enumerate(read(fmt, payload)):
            work.record_id = record_id
            if not work.readable:
                for text in work.problems:
                    self.problem(source, record_id, None, mfmt, fmt, text, change_seq)
                continue
            self.add_work(work, source, record_id, seq, mfmt, change_seq)

    def add_work(
        self, work: Work, source: str, record_id: str, seq: int, mfmt: str, change_seq: int
    ) -> None:
        key = work_key(work, source, record_id, seq)
        w = self.works
        values = (
            source, record_id, seq, key, work.doi, work.registration_agency, work.source_format,
            mfmt, work.resource_type, work.resource_type_raw, work.title,
            [{"text": t.text, "lang": t.lang, "kind": t.kind} for t in work.titles],
            [
                {"name": c.name, "given": c.given, "family": c.family, "orcid": c.orcid,
                 "affiliations": c.affiliations, "lang": c.lang, "seq": c.seq}
                for c in work.creators
            ],
            work.publisher, work.container, work.year, work.landing_url, work.version, change_seq,
        )
        for name, value in zip(WORKS_SCHEMA.names, values):
            w[name].append(value)
        ids = self.identifiers
        for ident in work.identifiers:
            for name, value in zip(
                IDENTIFIERS_SCHEMA.names, (source, record_id, seq, key, ident.scheme, ident.value)
            ):
                ids[name].append(value)
        rels = self.relations
        for rel in work.relations:
            for name, value in zip(
                RELATIONS_SCHEMA.names,
                (
                    source, record_id, seq, key, work.doi, work.source_format, rel.relation_type,
                    rel.raw_type, rel.target_scheme, rel.target, rel.target_raw, rel.asserted_by,
                    rel.problems, rel.evidence,
                ),
            ):
                rels[name].append(value)
        for text in work.problems:
            self.problem(source, record_id, seq, mfmt, work.source_format, text, change_seq)

    def tables(self) -> dict[str, pa.Table]:
        return {
            "works": arrowbuild.table(self.works, WORKS_SCHEMA),
            "identifiers": arrowbuild.table(self.identifiers, IDENTIFIERS_SCHEMA),
            "relations": arrowbuild.table(self.relations, RELATIONS_SCHEMA),
            "problems": arrowbuild.table(self.problems, PROBLEMS_SCHEMA),
        }


@dataclass(slots=True)
class CrosswalkStats:
    pending: int = 0  # raw records (and tombstones) to read when the run started
    workers: int = 1  # processes that ran the readers (1: this one)
    raw_records: int = 0
    works: int = 0
    relations: int = 0
    problems: int = 0
    deleted: int = 0
    from_seq: int = 0
    to_seq: int = 0


def _high_water(cur: duckdb.DuckDBPyConnection) -> int:
    row = cur.execute("SELECT high_water FROM crosswalk_state WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def _set_high_water(cur: duckdb.DuckDBPyConnection, value: int) -> None:
    cur.execute(
        "INSERT INTO crosswalk_state VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "high_water = excluded.high_water, updated_at = excluded.updated_at",
        [value, utcnow()],
    )


@dataclass(slots=True)
class BatchResult:
    """What one batch of raw rows becomes, as Arrow tables: picklable, so a worker process can
    build it and the main process write it."""

    keys: pa.Table  # (source, record_id) of every row read: their old output is replaced
    tables: dict[str, pa.Table]
    deleted: int
    raw_records: int
    last_seq: int  # change_seq of the batch's last row: the high-water mark once written


def build_batch(rows: pa.Table) -> BatchResult:
    """Run the readers over raw rows: an Arrow table of the ``_SELECT`` columns (source,
    record_id, deleted, metadata_format, payload, change_seq) as the pipeline fetches them. No
    database: it runs in worker processes, so a worker - not the writing process - turns the
    Arrow columns into Python values."""
    batch = Batch()
    cols = [rows.column(i).to_pylist() for i in range(6)]
    for source, record_id, deleted, mfmt, payload, change_seq in zip(*cols):
        batch.add_record(source, record_id, deleted, mfmt, payload, change_seq)
    return BatchResult(arrowbuild.table(batch.keys, KEYS_SCHEMA), batch.tables(), batch.deleted,
                       rows.num_rows, int(cols[5][-1]) if rows.num_rows else 0)


def _to_stream(rows: pa.Table) -> bytes:
    """Raw rows as one Arrow IPC stream, the form they cross to a worker process in: pickling
    the table itself cost the writer 20 ms per 2,000-row batch against 8 ms for this (the
    pickling runs on the writing process's queue thread, beside its DuckDB work)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, rows.schema) as stream:
        stream.write_table(rows)
    return sink.getvalue().to_pybytes()


def build_streamed_batch(stream: bytes) -> BatchResult:
    """:func:`build_batch` over rows sent as :func:`_to_stream` made them (read in place)."""
    return build_batch(pa.ipc.open_stream(pa.py_buffer(stream)).read_all())


def write_result(cur: duckdb.DuckDBPyConnection, result: BatchResult, *, replace: bool = True) -> None:
    """Replace the rows of every record in the batch (inside the caller's transaction).
    ``replace=False``: the output tables held none of these records (a run that began on empty
    tables reads each raw record once), so the deletes - a scan of every output table per
    batch, 0.4 s at 5M relations, quadratic over a first crosswalk - are skipped."""
    if replace:
        cur.register("crosswalk_keys", result.keys)
        try:
            for table in TABLES:
                cur.execute(
                    f"DELETE FROM {table} WHERE (source, record_id) IN "
                    "(SELECT source, record_id FROM crosswalk_keys)"
                )
        finally:
            cur.unregister("crosswalk_keys")
    for name, table in result.tables.items():
        Store.insert_arrow(cur, name, table)


# The payload as UTF-8 bytes (encode() is a plain re-typing, no escape parsing): DuckDB hands
# out a 6 KB JSON or XML payload as bytes 4x faster than as str (1.6 against 6.0 us), and the
# XML readers would encode a str straight back to bytes for libxml2.
_SELECT = """
SELECT source, record_id, deleted, metadata_format, encode(payload) AS payload, change_seq
FROM raw_records WHERE change_seq >= ? AND change_seq <= ?
ORDER BY change_seq
"""
# The batches' bounds, many batches at a time: a top-N over the integer column alone. (A top-N
# over the whole rows, ``ORDER BY change_seq LIMIT batch_size``, reads the payload of every row
# still pending for each batch: quadratic, 0.38 s for the first of 100 batches at 200k rows.)
_SEQS = """
SELECT change_seq FROM raw_records WHERE change_seq > ? AND change_seq <= ?
ORDER BY change_seq LIMIT ?
"""
BOUNDS_AHEAD = 64  # batches whose bounds one _SEQS query finds


AUTO_WORKERS_FROM = 20_000
MAX_AUTO_WORKERS = 8


def run_crosswalk(
    store: Store,
    *,
    rebuild: bool = False,
    batch_size: int = 2000,
    progress: Callable[[CrosswalkStats], None] | None = None,
    workers: int = 1,
) -> CrosswalkStats:
    """Crosswalk every raw record changed since the last run (all of them with ``rebuild``).

    With ``workers`` > 1 the readers run in that many processes, a few batches ahead of the
    writer; batches are still written in ``change_seq`` order, each with its high-water mark
    in one transaction, so the output and what a kill leaves behind are those of one process.
    ``workers=0`` picks: one per core (at most ``MAX_AUTO_WORKERS``) when at least
    ``AUTO_WORKERS_FROM`` raw records wait, else none (starting a worker costs about 0.5 s).
    """
    started = utcnow()

    def begin(cur: duckdb.DuckDBPyConnection) -> tuple[int, int, int, bool]:
        if rebuild:
            for table in TABLES:
                cur.execute(f"DELETE FROM {table}")
            _set_high_water(cur, 0)
        start = _high_water(cur)
        row = cur.execute(
            "SELECT coalesce(max(change_seq), 0), count(*) FILTER (WHERE change_seq > ?) "
            "FROM raw_records", [start]
        ).fetchone()
        empty = all(cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {t})").fetchone()[0] for t in TABLES)
        return (start, *((int(row[0]), int(row[1])) if row else (0, 0)), empty)

    start, end, pending, empty = store.write(begin)
    stats = CrosswalkStats(pending=pending, from_seq=start, to_seq=max(start, end))
    if workers == 0:
        workers = min(usable_cores(), MAX_AUTO_WORKERS) if pending >= AUTO_WORKERS_FROM else 1
    stats.workers = workers if workers > 1 and pending > batch_size else 1
    row_batches = _row_batches(store, start, end, batch_size)
    if stats.workers > 1:
        results = _parallel_batches(row_batches, workers)
    else:
        results = map(build_batch, row_batches)
    for result in results:
        store.write(lambda cur, result=result: _write_batch(cur, result, replace=not empty))
        stats.raw_records += result.raw_records
        stats.works += result.tables["works"].num_rows
        stats.relations += result.tables["relations"].num_rows
        stats.problems += result.tables["problems"].num_rows
        stats.deleted += result.deleted
        if progress is not None:
            progress(stats)
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO crosswalk_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [started, utcnow(), rebuild, stats.raw_records, stats.works, stats.relations,
             stats.problems, stats.deleted, stats.from_seq, stats.to_seq],
        )
    return stats


def _write_batch(cur: duckdb.DuckDBPyConnection, result: BatchResult, *, replace: bool = True) -> None:
    write_result(cur, result, replace=replace)
    _set_high_water(cur, result.last_seq)


def _row_batches(store: Store, position: int, end: int, batch_size: int) -> Iterator[pa.Table]:
    """The raw rows after ``position`` up to ``end``, ``batch_size`` at a time, in order;
    each batch read in a transaction of its own, as Arrow (no Python object per value in the
    writing process; a worker gets them as one IPC stream, :func:`_to_stream`). A row replaced
    between the bounds query and its batch's read has left the range (its new ``change_seq`` is
    past ``end``): the batch is smaller, or skipped when empty."""
    while position < end:
        with store.transaction() as cur:
            seqs = cur.sql(_SEQS, params=[position, end, batch_size * BOUNDS_AHEAD]).to_arrow_table()
        if seqs.num_rows == 0:
            return
        bounds = seqs.column(0).to_pylist()
        for i in range(0, len(bounds), batch_size):
            lo, hi = bounds[i], bounds[min(i + batch_size, len(bounds)) - 1]
            with store.transaction() as cur:
                rows = cur.sql(_SELECT, params=[lo, hi]).to_arrow_table()
            if rows.num_rows:
                yield rows
        position = bounds[-1]


def die_with_parent(parent: int) -> None:
    """Worker initialiser: the kernel kills this process when its parent dies (Linux
    PR_SET_PDEATHSIG), so a SIGKILLed crosswalk leaves no readers behind; elsewhere a thread
    watches the parent and exits when it is gone."""
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG = 1
            if os.getppid() != parent:  # the parent died before the call: too late to be told
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _parallel_batches(row_batches: Iterator[pa.Table], workers: int) -> Iterator[BatchResult]:
    """Batches built by ``workers`` processes, yielded in order. One batch more than there are
    workers is in flight: each worker has the next batch while the writer writes (each one held
    costs its rows twice, as an Arrow stream and pickled: 25 MB for 2,000 records of 6 KB)."""
    # spawn, not fork: the parent holds DuckDB's threads, which a forked child would inherit
    # in whatever state they were in
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=die_with_parent, initargs=(os.getpid(),))
    inflight: deque[Future[BatchResult]] = deque()
    try:
        while True:
            while len(inflight) <= workers:
                rows = next(row_batches, None)
                if rows is None:
                    break
                inflight.append(pool.submit(build_streamed_batch, _to_stream(rows)))
            if not inflight:
                return
            try:
                result = inflight.popleft().result()
            except BrokenProcessPool as exc:
                raise CrosswalkError(
                    "a crosswalk worker process died (out of memory?); the batches written so "
                    "far are kept: run the crosswalk again to go on, or with --workers 1"
                ) from exc
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
