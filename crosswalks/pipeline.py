"""Bulk crosswalk: new or changed ``raw_records`` -> ``works``, ``identifiers``, ``relations``,
``problems`` (migration 0002).

Raw rows are read in ``change_seq`` order, a batch at a time; each batch's old rows are deleted
and its new rows inserted as Arrow tables, and the high-water mark moves, in one transaction.
A kill at any point therefore loses nothing and duplicates nothing; memory stays flat.
One bad record becomes ``problems`` rows and the batch goes on; a tombstone removes its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from linkgraph import arrowbuild
from linkgraph.crosswalks.model import Work
from linkgraph.crosswalks.registry import UnknownFormatError, read, resolve
from linkgraph.store import Store, utcnow

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
                    rel.problems,
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


def write_batch(cur: duckdb.DuckDBPyConnection, batch: Batch) -> dict[str, int]:
    """Replace the rows of every record in the batch (inside the caller's transaction)."""
    keys = arrowbuild.table(batch.keys, KEYS_SCHEMA)
    cur.register("crosswalk_keys", keys)
    try:
        for table in TABLES:
            cur.execute(
                f"DELETE FROM {table} WHERE (source, record_id) IN "
                "(SELECT source, record_id FROM crosswalk_keys)"
            )
    finally:
        cur.unregister("crosswalk_keys")
    counts = {}
    for name, table in batch.tables().items():
        Store.insert_arrow(cur, name, table)
        counts[name] = table.num_rows
    return counts


# The payload as UTF-8 bytes (encode() is a plain re-typing, no escape parsing): DuckDB hands
# out a 6 KB JSON or XML payload as bytes 4x faster than as str (1.6 against 6.0 us), and the
# XML readers would encode a str straight back to bytes for libxml2.
_SELECT = """
SELECT source, record_id, deleted, metadata_format, encode(payload) AS payload, change_seq
FROM raw_records WHERE change_seq > ? AND change_seq <= ?
ORDER BY change_seq LIMIT ?
"""


def run_crosswalk(
    store: Store,
    *,
    rebuild: bool = False,
    batch_size: int = 2000,
    progress: Callable[[CrosswalkStats], None] | None = None,
) -> CrosswalkStats:
    """Crosswalk every raw record changed since the last run (all of them with ``rebuild``)."""
    started = utcnow()
    with store.transaction() as cur:
        if rebuild:
            for table in TABLES:
                cur.execute(f"DELETE FROM {table}")
            _set_high_water(cur, 0)
        start = _high_water(cur)
        row = cur.execute("SELECT coalesce(max(change_seq), 0) FROM raw_records").fetchone()
        end = int(row[0]) if row else 0
    stats = CrosswalkStats(from_seq=start, to_seq=max(start, end))
    position = start
    while position < end:
        with store.transaction() as cur:
            rows = cur.execute(_SELECT, [position, end, batch_size]).fetchall()
            if not rows:
                break
            batch = Batch()
            for source, record_id, deleted, mfmt, payload, change_seq in rows:
                batch.add_record(source, record_id, deleted, mfmt, payload, change_seq)
            counts = write_batch(cur, batch)
            position = int(rows[-1][5])
            _set_high_water(cur, position)
        stats.raw_records += len(rows)
        stats.works += counts["works"]
        stats.relations += counts["relations"]
        stats.problems += counts["problems"]
        stats.deleted += batch.deleted
        if progress is not None:
            progress(stats)
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO crosswalk_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [started, utcnow(), rebuild, stats.raw_records, stats.works, stats.relations,
             stats.problems, stats.deleted, stats.from_seq, stats.to_seq],
        )
    return stats


def works_to_batch(
    items: Iterable[tuple[str, str, str, bytes | str | None]], change_seq: int = 0
) -> Batch:
    """A :class:`Batch` from ``(source, record_id, metadata_format, payload)`` tuples
    (no database): used by the benchmark and the loss report over files."""
    batch = Batch()
    for source, record_id, mfmt, payload in items:
        batch.add_record(source, record_id, payload is None, mfmt,
                         payload if payload is None or isinstance(payload, str) else payload.decode("utf-8", "replace"),
                         change_seq)
    return batch
