"""Synthetic corpora of any size, templated from the real demo records.

Why templates: benchmarks need 10^5-10^6 records whose payloads look like real ones (so the
parser and crosswalks do real work) yet differ from each other (so de-duplication does not
collapse them). Record ``i`` takes demo record ``i % T`` as template, gets identifier
``oai:synthetic.linkgraph:{i}``, and has the template's own DOI (or handle / URI) rewritten to a
value unique to ``i`` wherever it occurs in its payloads.

Why columnar: per record only an epoch (8 bytes in an ``array``) and a deleted flag (1 byte)
are stored; identifiers, sets, formats and payloads are derived from ``i`` on demand. Each
template payload is pre-split on the text to rewrite, so rendering is one ``bytes.join``.
Datestamps are drawn at random over the span, sorted and made strictly increasing, so index
order *is* (datestamp, identifier) order and a position lookup is just ``int(suffix)``.
"""

from __future__ import annotations

import math
import random
import re
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .corpus import CorpusRecord, Query, UTC, matches, to_epoch

ID_PREFIX = "oai:synthetic.linkgraph:"

# The record's *own* identifier, most specific first (never a relation target).
_KEY_PATTERNS = [
    re.compile(rb'<(?:\w+:)?identifier identifierType="DOI"[^>]*>\s*([^<\s]+)'),
    re.compile(rb'<(?:\w+:)?identifierRegistration identifierType="\w+"[^>]*>\s*([^<\s]+)'),
    re.compile(rb"<dc:identifier>\s*(?:doi:|info:doi/|https?://(?:dx\.)?doi\.org/)(10\.[^<\s]+)"),
    re.compile(rb'<(?:\w+:)?identifier identifierType="(?:HDL|URI)"[^>]*>\s*([^<\s]+)'),
    re.compile(rb"<dc:identifier>\s*(https?://[^<\s]+)"),
]
_DOI = re.compile(rb"10\.\d{4,9}/")


@dataclass(frozen=True, slots=True)
class _Template:
    """One demo record pre-split for rendering: payload = replacement(i).join(parts)."""

    formats: tuple[str, ...]
    parts: Mapping[str, tuple[bytes, ...]]
    stem: bytes  # replacement is stem + str(i)

    @classmethod
    def of(cls, rec: CorpusRecord) -> _Template:
        key = None
        for pattern in _KEY_PATTERNS:
            for payload in rec.metadata.values():
                m = pattern.search(payload)
                if m:
                    key = m.group(1)
                    break
            if key is not None:
                break
        if key is None:  # nothing to rewrite: append to the record's identifier text instead
            key = rec.identifier.encode()
        doi = _DOI.search(key)
        if doi is not None:  # rewrite the bare DOI (it also occurs as doi:..., https://doi.org/...)
            key = key[doi.start():]
            stem = key.split(b"/", 1)[0] + b"/syn."
        else:
            stem = key + b"-syn"
        parts = {p: tuple(payload.split(key)) for p, payload in rec.metadata.items()}
        return cls(tuple(rec.metadata), parts, stem)


class SyntheticBase:
    """The immutable, columnar base layer of a synthetic ``Corpus``."""

    def __init__(
        self, epochs: array, deleted: bytearray, templates: list[_Template], nsets: int
    ) -> None:
        self.epochs = epochs
        self.n = len(epochs)
        self._deleted = deleted
        self._templates = templates
        self._nsets = nsets
        self._period = math.lcm(len(templates), nsets or 1)
        self._set_tuples = [(f"syn:{k}",) for k in range(nsets)] or [()]
        self._match_cache: dict[tuple[str, str | None], list[bool]] = {}
        self.formats: tuple[str, ...] = tuple(dict.fromkeys(
            p for t in templates for p in t.formats))
        self.set_names: dict[str, str] = {}
        if nsets:
            self.set_names["syn"] = "Synthetic records"
            self.set_names.update({f"syn:{k}": f"Synthetic records, part {k}" for k in range(nsets)})

    @classmethod
    def build(
        cls,
        n: int,
        *,
        seed: int = 0,
        start: datetime,
        span_days: int = 365,
        deleted_ratio: float = 0.0,
        sets: int = 4,
    ) -> SyntheticBase:
        """Deterministic for ``seed``; ~1 s and a few MB for 500k records."""
        from .demo import load_demo_records

        if n < 0 or span_days <= 0 or sets < 0 or not 0.0 <= deleted_ratio <= 1.0:
            raise ValueError("synthetic: need n >= 0, span_days > 0, sets >= 0, 0 <= ratio <= 1")
        demo = sorted((r for r in load_demo_records() if not r.deleted and r.metadata),
                      key=lambda r: r.identifier)
        templates = [_Template.of(r) for r in demo]
        rng = random.Random(seed)
        span = span_days * 86400
        raw = sorted(rng.randrange(span) for _ in range(n))
        t0 = to_epoch(start)
        prev = -1
        for k, v in enumerate(raw):  # strictly increasing: one record per second at most
            if v <= prev:
                v = prev + 1
            raw[k] = prev = v
        epochs = array("q", (t0 + v for v in raw))
        if deleted_ratio > 0:
            deleted = bytearray(1 if rng.random() < deleted_ratio else 0 for _ in range(n))
        else:
            deleted = bytearray(n)
        return cls(epochs, deleted, templates, sets)

    # -- per-record facts, derived from the index ----------------------------------------

    def identifier(self, i: int) -> str:
        return f"{ID_PREFIX}{i}"

    def position(self, identifier: str) -> int | None:
        if not identifier.startswith(ID_PREFIX):
            return None
        tail = identifier[len(ID_PREFIX):]
        if not tail.isdigit() or (len(tail) > 1 and tail[0] == "0"):
            return None
        i = int(tail)
        return i if i < self.n else None

    def sets_of(self, i: int) -> tuple[str, ...]:
        return self._set_tuples[i % self._nsets] if self._nsets else ()

    def deleted_at(self, i: int) -> bool:
        return bool(self._deleted[i])

    def formats_of(self, i: int) -> tuple[str, ...]:
        return self._templates[i % len(self._templates)].formats

    def payload(self, i: int, prefix: str) -> bytes:
        t = self._templates[i % len(self._templates)]
        return (t.stem + str(i).encode()).join(t.parts[prefix])

    def record(self, i: int) -> CorpusRecord:
        deleted = self.deleted_at(i)
        return CorpusRecord(
            identifier=self.identifier(i),
            datestamp=datetime.fromtimestamp(self.epochs[i], UTC),
            sets=self.sets_of(i),
            deleted=deleted,
            metadata={p: b"" if deleted else self.payload(i, p) for p in self.formats_of(i)},
        )

    # -- selection ------------------------------------------------------------------------

    def _residues(self, q: Query) -> list[bool]:
        """Whether index ``i`` answers ``q`` depends only on ``i`` modulo the period."""
        key = (q.prefix, q.set_spec)
        ok = self._match_cache.get(key)
        if ok is None:
            ok = [matches(self.sets_of(r), False, self.formats_of(r), q)
                  for r in range(self._period)]
            self._match_cache[key] = ok
        return ok

    def match(self, i: int, q: Query) -> bool:
        return self._residues(q)[i % self._period]

    def count(self, lo: int, hi: int, q: Query) -> int:
        """Matching indexes in ``range(lo, hi)``, by arithmetic over residues."""
        period = self._period

        def below(x: int, r: int) -> int:
            return max(0, (x - r + period - 1) // period)

        return sum(below(hi, r) - below(lo, r)
                   for r, ok in enumerate(self._residues(q)) if ok)
