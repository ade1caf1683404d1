"""The records a replay server serves: a sorted, thread-safe, memory-lean record store.

Why this shape: benchmarks harvest hundreds of thousands of records, so the server must page
through them without holding one Python object per record. A ``Corpus`` therefore has two
layers:

* an optional immutable *base* (``synthetic.SyntheticBase``): columnar arrays, payloads rendered
  lazily from shared templates, about ten bytes per record;
* an *overlay* of materialised ``CorpusRecord`` objects: the demo corpus, and every record added,
  updated or deleted through the mutation API (incremental-harvest tests). An overlay record
  with the identifier of a base record supersedes it.

Listing merges both layers in (datestamp, identifier) order. Paging is keyed by the last
(datestamp, identifier) served, not by an offset, so records changed between two pages of a
harvest are neither skipped nor repeated by the server itself (a record moved to a later
datestamp does show up again at its new place, as on a real repository).
"""

from __future__ import annotations

import bisect
import heapq
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, NamedTuple

from linkgraph.harvest.oai import format_datestamp

if TYPE_CHECKING:
    from .synthetic import SyntheticBase

UTC = timezone.utc
SECONDS = "YYYY-MM-DDThh:mm:ssZ"
DAYS = "YYYY-MM-DD"

#: metadataPrefix -> (schema, metadataNamespace) for the formats the demo data uses.
KNOWN_FORMATS: dict[str, tuple[str, str]] = {
    "oai_dc": (
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        "http://www.openarchives.org/OAI/2.0/oai_dc/",
    ),
    "oai_datacite": (
        "http://schema.datacite.org/oai/oai-1.1/oai.xsd",
        "http://schema.datacite.org/oai/oai-1.1/",
    ),
    "datacite": (
        "http://schema.datacite.org/meta/kernel-4/metadata.xsd",
        "http://datacite.org/schema/kernel-4",
    ),
    **{
        f"jpcoar_{v}": (
            f"https://github.com/JPCOAR/schema/blob/master/{v}/jpcoar_scm.xsd",
            f"https://github.com/JPCOAR/schema/blob/master/{v}/",
        )
        for v in ("1.0", "2.0", "2.1")
    },
}


@dataclass(frozen=True, slots=True)
class CorpusRecord:
    """One OAI item.

    ``metadata`` maps metadataPrefix -> the serialized metadata element (the child of OAI
    ``<metadata>``, namespaces declared on it, no XML declaration). For a deleted record the
    keys name the formats it used to be disseminated in (values are never served); an empty
    mapping means "every format", so the deletion shows up in any list.
    """

    identifier: str
    datestamp: datetime
    sets: tuple[str, ...] = ()
    deleted: bool = False
    metadata: Mapping[str, bytes] = field(default_factory=dict)


class Query(NamedTuple):
    """A list request's selective-harvest arguments, datestamps as UTC epoch seconds."""

    prefix: str
    from_epoch: int | None = None
    until_epoch: int | None = None
    set_spec: str | None = None


class Row(NamedTuple):
    """A listed record, cheap to make: ``ref`` is a ``CorpusRecord`` or a base index."""

    epoch: int
    identifier: str
    sets: tuple[str, ...]
    deleted: bool
    ref: CorpusRecord | int


def to_epoch(dt: datetime) -> int:
    """UTC epoch seconds of an aware (or naive-as-UTC) datetime."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def in_set(sets: tuple[str, ...], spec: str) -> bool:
    """Set membership with hierarchy: a record in ``a:b`` is also in ``a``."""
    prefix = spec + ":"
    return any(s == spec or s.startswith(prefix) for s in sets)


def matches(sets: tuple[str, ...], deleted: bool, formats: Iterable[str], q: Query) -> bool:
    """Whether a record belongs in the answer to ``q`` (datestamps aside)."""
    fmts = tuple(formats)
    if q.prefix not in fmts and not (deleted and not fmts):
        return False
    return q.set_spec is None or in_set(sets, q.set_spec)


class Corpus:
    """Records sorted by (datestamp, identifier) plus the repository's Identify facts."""

    def __init__(
        self,
        records: Iterable[CorpusRecord] = (),
        *,
        repository_name: str = "linkgraph replay repository",
        admin_email: str = "replay@linkgraph.invalid",
        granularity: str = SECONDS,
        deleted_record: str = "persistent",
        formats: Mapping[str, tuple[str, str]] | None = None,
        sets: Mapping[str, str] | None = None,
        base: SyntheticBase | None = None,
    ) -> None:
        if granularity not in (SECONDS, DAYS):
            raise ValueError(f"granularity must be {SECONDS!r} or {DAYS!r}")
        self.repository_name = repository_name
        self.admin_email = admin_email
        self.granularity = granularity
        self.deleted_record = deleted_record
        self._lock = threading.RLock()
        self._formats: dict[str, tuple[str, str]] = dict(formats or {})
        self._sets: dict[str, str] = dict(sets or {})
        self._base = base
        self._superseded: set[int] = set()
        self._records: dict[str, CorpusRecord] = {}
        self._keys: list[tuple[int, str]] = []
        if base is not None:
            for prefix in base.formats:
                self._register_format(prefix)
            for spec, name in base.set_names.items():
                self._sets.setdefault(spec, name)
        for rec in records:
            self._put(self._normalise(rec), sort=False)
        self._keys.sort()

    # -- construction -------------------------------------------------------------------

    @classmethod
    def demo(cls) -> Corpus:
        """The bundled corpus of real recorded records (see data/demo/PROVENANCE.md)."""
        from .demo import DEMO_SET_NAMES, load_demo_records

        return cls(load_demo_records(), repository_name="linkgraph demo repository",
                   sets=DEMO_SET_NAMES)

    @classmethod
    def synthetic(
        cls,
        n: int,
        *,
        seed: int = 0,
        start: datetime = datetime(2020, 1, 1, tzinfo=UTC),
        span_days: int = 365,
        deleted_ratio: float = 0.0,
        sets: int = 4,
    ) -> Corpus:
        """``n`` records templated from the demo records (see ``synthetic.py``)."""
        from .synthetic import SyntheticBase

        base = SyntheticBase.build(n, seed=seed, start=start, span_days=span_days,
                                   deleted_ratio=deleted_ratio, sets=sets)
        return cls(repository_name=f"linkgraph synthetic repository ({n} records)", base=base)

    @classmethod
    def from_spec(cls, spec: str) -> Corpus:
        """``"demo"``, ``"synthetic:N"`` or ``"synthetic:N:SEED"``."""
        parts = spec.strip().split(":")
        if parts == ["demo"]:
            return cls.demo()
        if parts[0] == "synthetic" and len(parts) in (2, 3):
            try:
                n = int(parts[1])
                seed = int(parts[2]) if len(parts) == 3 else 0
            except ValueError:
                pass
            else:
                if n >= 0:
                    return cls.synthetic(n, seed=seed)
        raise ValueError(f"bad corpus spec {spec!r}: use demo, synthetic:N or synthetic:N:SEED")

    # -- Identify facts -----------------------------------------------------------------

    @property
    def formats(self) -> dict[str, tuple[str, str]]:
        """metadataPrefix -> (schema, namespace), for ListMetadataFormats."""
        with self._lock:
            return dict(self._formats)

    @property
    def sets(self) -> dict[str, str]:
        """setSpec -> setName (parents of hierarchical specs included)."""
        with self._lock:
            return dict(sorted(self._sets.items()))

    def earliest_datestamp(self) -> datetime:
        """The oldest datestamp held (the epoch when empty)."""
        with self._lock:
            firsts = [self._keys[0][0]] if self._keys else []
            if self._base is not None:
                first = next(iter(self._base_range(None, None, None)), None)
                if first is not None:
                    firsts.append(self._base.epochs[first])
            return datetime.fromtimestamp(min(firsts) if firsts else 0, UTC)

    def format_datestamp(self, epoch: int) -> str:
        """A datestamp in the corpus granularity."""
        return format_datestamp(datetime.fromtimestamp(epoch, UTC), self.granularity)

    # -- mutation -----------------------------------------------------------------------

    def add(self, record: CorpusRecord) -> None:
        """Add (or replace) a record."""
        with self._lock:
            self._put(self._normalise(record))

    def update(
        self, identifier: str, datestamp: datetime, metadata: Mapping[str, bytes] | None = None
    ) -> CorpusRecord:
        """Give a record a new datestamp (and optionally new metadata); undeletes it."""
        with self._lock:
            old = self._require(identifier)
            new = replace(old, datestamp=datestamp, deleted=False,
                          metadata=dict(metadata) if metadata is not None else old.metadata)
            self._put(self._normalise(new))
            return new

    def delete(self, identifier: str, datestamp: datetime) -> CorpusRecord:
        """Turn a record into a deleted header (deletedRecord=persistent) at ``datestamp``."""
        with self._lock:
            old = self._require(identifier)
            new = replace(old, datestamp=datestamp, deleted=True,
                          metadata={p: b"" for p in old.metadata})
            self._put(self._normalise(new))
            return new

    def get(self, identifier: str) -> CorpusRecord | None:
        """The record, materialised (payloads rendered), or None."""
        with self._lock:
            rec = self._records.get(identifier)
            if rec is not None:
                return rec
            if self._base is None:
                return None
            i = self._base.position(identifier)
            if i is None or i in self._superseded:
                return None
            return self._base.record(i)

    def __len__(self) -> int:
        with self._lock:
            base = self._base.n - len(self._superseded) if self._base is not None else 0
            return base + len(self._records)

    def __iter__(self) -> Iterator[CorpusRecord]:
        """Materialised records in (datestamp, identifier) order (a snapshot of the keys)."""
        with self._lock:
            rows = list(self._merged(None, None, None))
        for row in rows:
            yield row.ref if isinstance(row.ref, CorpusRecord) else self._base_record(row.ref)

    # -- serving ------------------------------------------------------------------------

    def row(self, identifier: str) -> Row | None:
        """The listing row of one identifier (for GetRecord)."""
        with self._lock:
            rec = self._records.get(identifier)
            if rec is not None:
                return Row(to_epoch(rec.datestamp), rec.identifier, rec.sets, rec.deleted, rec)
            if self._base is None:
                return None
            i = self._base.position(identifier)
            if i is None or i in self._superseded:
                return None
            return self._row(i)

    def row_formats(self, row: Row) -> tuple[str, ...]:
        """The metadataPrefixes a row is (or, deleted, was) disseminated in."""
        if isinstance(row.ref, CorpusRecord):
            return tuple(row.ref.metadata)
        assert self._base is not None
        return self._base.formats_of(row.ref)

    def payload(self, row: Row, prefix: str) -> bytes:
        """The serialized metadata element of a row in one format (rendered on demand)."""
        if isinstance(row.ref, CorpusRecord):
            return row.ref.metadata[prefix]
        assert self._base is not None
        return self._base.payload(row.ref, prefix)

    def count(self, q: Query) -> int:
        """How many records answer ``q`` (completeListSize)."""
        with self._lock:
            n = sum(1 for k in self._overlay_keys(q.from_epoch, q.until_epoch, None)
                    if self._overlay_match(self._records[k[1]], q))
            if self._base is not None:
                lo, hi = self._base_bounds(q.from_epoch, q.until_epoch)
                n += self._base.count(lo, hi, q)
                n -= sum(1 for i in self._superseded
                         if lo <= i < hi and self._base.match(i, q))
            return n

    def page(self, q: Query, after: tuple[int, str] | None, limit: int) -> list[Row]:
        """Up to ``limit`` rows answering ``q`` that sort after the key ``after``."""
        out: list[Row] = []
        with self._lock:
            for row in self._merged(q.from_epoch, q.until_epoch, after, q):
                ref = row.ref
                if not isinstance(ref, CorpusRecord) or self._overlay_match(ref, q):
                    out.append(row)  # base rows come pre-filtered by _merged
                    if len(out) >= limit:
                        break
        return out

    # -- internals ----------------------------------------------------------------------

    def _normalise(self, rec: CorpusRecord) -> CorpusRecord:
        """UTC, whole seconds (whole days on a day-granularity corpus); formats/sets known."""
        ts = rec.datestamp if rec.datestamp.tzinfo else rec.datestamp.replace(tzinfo=UTC)
        ts = ts.astimezone(UTC).replace(microsecond=0)
        if self.granularity == DAYS:
            ts = ts.replace(hour=0, minute=0, second=0)
        for prefix in rec.metadata:
            self._register_format(prefix)
        for spec in rec.sets:
            parts = spec.split(":")
            for k in range(1, len(parts) + 1):
                self._sets.setdefault(":".join(parts[:k]), ":".join(parts[:k]))
        return replace(rec, datestamp=ts, sets=tuple(rec.sets))

    def _register_format(self, prefix: str) -> None:
        if prefix in self._formats:
            return
        if prefix not in KNOWN_FORMATS:
            raise ValueError(f"unknown metadataPrefix {prefix!r}: pass formats= to Corpus")
        self._formats[prefix] = KNOWN_FORMATS[prefix]

    def _put(self, rec: CorpusRecord, *, sort: bool = True) -> None:
        old = self._records.pop(rec.identifier, None)
        if old is not None:
            key = (to_epoch(old.datestamp), old.identifier)
            del self._keys[bisect.bisect_left(self._keys, key)]
        elif self._base is not None:
            i = self._base.position(rec.identifier)
            if i is not None:
                self._superseded.add(i)
        self._records[rec.identifier] = rec
        key = (to_epoch(rec.datestamp), rec.identifier)
        if sort:
            bisect.insort(self._keys, key)
        else:
            self._keys.append(key)

    def _require(self, identifier: str) -> CorpusRecord:
        rec = self.get(identifier)
        if rec is None:
            raise KeyError(identifier)
        return rec

    def _overlay_match(self, rec: CorpusRecord, q: Query) -> bool:
        return matches(rec.sets, rec.deleted, rec.metadata, q)

    def _overlay_keys(
        self, lo: int | None, hi: int | None, after: tuple[int, str] | None
    ) -> Iterator[tuple[int, str]]:
        keys = self._keys
        start = 0 if lo is None else bisect.bisect_left(keys, (lo, ""))
        if after is not None:
            start = max(start, bisect.bisect_right(keys, after))
        for k in range(start, len(keys)):
            key = keys[k]
            if hi is not None and key[0] > hi:
                return
            yield key

    def _base_bounds(self, lo: int | None, hi: int | None) -> tuple[int, int]:
        assert self._base is not None
        epochs = self._base.epochs
        start = 0 if lo is None else bisect.bisect_left(epochs, lo)
        stop = len(epochs) if hi is None else bisect.bisect_right(epochs, hi)
        return start, stop

    def _base_range(
        self, lo: int | None, hi: int | None, after: tuple[int, str] | None
    ) -> Iterator[int]:
        start, stop = self._base_bounds(lo, hi)
        if after is not None:
            assert self._base is not None
            i = bisect.bisect_left(self._base.epochs, after[0])
            # base epochs are strictly increasing: at most one base row shares after's epoch
            if i < stop and self._base.epochs[i] == after[0] and self._base.identifier(i) <= after[1]:
                i += 1
            start = max(start, i)
        sup = self._superseded
        return (i for i in range(start, stop) if i not in sup)

    def _row(self, i: int) -> Row:
        assert self._base is not None
        b = self._base
        return Row(b.epochs[i], b.identifier(i), b.sets_of(i), b.deleted_at(i), i)

    def _base_record(self, i: int) -> CorpusRecord:
        assert self._base is not None
        return self._base.record(i)

    def _merged(
        self, lo: int | None, hi: int | None, after: tuple[int, str] | None,
        q: Query | None = None,
    ) -> Iterator[Row]:
        """Overlay and base rows in key order; with ``q`` base rows are filtered early
        (cheap residue test before a Row is made), overlay rows are not."""
        records = self._records
        overlay = (
            Row(k[0], k[1], records[k[1]].sets, records[k[1]].deleted, records[k[1]])
            for k in self._overlay_keys(lo, hi, after)
        )
        if self._base is None:
            return overlay
        indexes = self._base_range(lo, hi, after)
        if q is not None:
            match = self._base.match
            indexes = (i for i in indexes if match(i, q))
        base = (self._row(i) for i in indexes)
        return heapq.merge(base, overlay, key=lambda r: (r.epoch, r.identifier))
