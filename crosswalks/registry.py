"""The one explicit table of readers, their aliases, and format detection.

``READERS`` maps a reader name to its ``read(payload) -> list[Work]``; ``ALIASES`` maps OAI
``metadataPrefix`` values and REST format names (as stored in ``raw_records.metadata_format``)
onto reader names. An unknown format is a :class:`UnknownFormatError`, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from linkgraph.crosswalks import (
    crossref_deposit,
    crossref_json,
    crossref_xml,
    datacite_json,
    datacite_xml,
    jalc_json,
    jalc_lod,
    jalc_xml,
    jpcoar,
    junii2,
    oai_dc,
)
from linkgraph.crosswalks.jsonutil import parse_json
from linkgraph.crosswalks.model import Relation, Work
from linkgraph.crosswalks.oai import is_oai_response, split_records

from linkgraph.errors import UsageError

Reader = Callable[[bytes | str], list[Work]]

READERS: Final[dict[str, Reader]] = {
    datacite_xml.FORMAT: datacite_xml.read,
    datacite_json.FORMAT: datacite_json.read,
    crossref_json.FORMAT: crossref_json.read,
    crossref_xml.FORMAT: crossref_xml.read,
    crossref_deposit.FORMAT: crossref_deposit.read,
    jalc_json.FORMAT: jalc_json.read,
    jalc_xml.FORMAT: jalc_xml.read,
    jalc_lod.FORMAT: jalc_lod.read,
    jpcoar.FORMAT: jpcoar.read,
    junii2.FORMAT: junii2.read,
    oai_dc.FORMAT: oai_dc.read,
}

ALIASES: Final[dict[str, str]] = {
    # OAI-PMH metadataPrefix values
    "oai_datacite": datacite_xml.FORMAT,
    "datacite": datacite_xml.FORMAT,
    "datacite3": datacite_xml.FORMAT,
    "datacite4": datacite_xml.FORMAT,
    "jpcoar_1.0": jpcoar.FORMAT,
    "jpcoar_2.0": jpcoar.FORMAT,
    "jpcoar_2.1": jpcoar.FORMAT,
    "jpcoar": jpcoar.FORMAT,
    "junii2": junii2.FORMAT,
    "oai_dc": oai_dc.FORMAT,
    "unixsd": crossref_xml.FORMAT,
    "unixref": crossref_xml.FORMAT,
    "cr_unixml": crossref_xml.FORMAT,
    # REST formats as the harvesters store them
    "crossref-json": crossref_json.FORMAT,
    "datacite-json": datacite_json.FORMAT,
    "jalc-json": jalc_json.FORMAT,
}


class UnknownFormatError(UsageError):
    """No reader is registered under this format name (nor an alias of it)."""

    def __init__(self, name: str):
        self.name = name
        known = ", ".join(sorted(set(READERS) | set(ALIASES)))
        super().__init__(f"unknown metadata format {name!r}; known: {known}")


class UndetectableFormatError(UsageError):
    """``detect_format`` could not recognise the payload."""


def resolve(name: str) -> str:
    """The reader name for a format name or alias."""
    if name in READERS:
        return name
    hit = ALIASES.get(name) or ALIASES.get(name.lower())
    if hit is None:
        raise UnknownFormatError(name)
    return hit


def reader_for(name: str) -> Reader:
    return READERS[resolve(name)]


def read(name: str, payload: bytes | str) -> list[Work]:
    """Read a payload with the reader registered for ``name``; never raises on bad payloads.

    A reader bug surfacing as an exception is turned into an unreadable result too, so one
    record can never stop a batch.
    """
    fmt = resolve(name)
    try:
        works = READERS[fmt](payload)
    except Exception as exc:  # noqa: BLE001 - the batch must go on; the problem is recorded
        return [Work.unreadable(fmt, f"reader error {type(exc).__name__}: {exc}")]
    for work in works:
        if work.doi is not None:
            _cstr_identity(work)
    return works


def _cstr_identity(work: Work) -> None:
    """A record giving both a DOI and a CSTR (ScienceDB issues both) says they name one thing:
    ``IsIdenticalTo`` the CSTR, raw type ``identifier``. The audits read a link to that CSTR
    as a link to this DOI (``audit_prepare.sql``), so the graph joins the two names."""
    for ident in work.identifiers:
        if ident.scheme == "cstr" and not any(
            r.target_scheme == "cstr" and r.target == ident.value and r.relation_type == "IsIdenticalTo"
            for r in work.relations
        ):
            work.relations.append(Relation("IsIdenticalTo", "identifier", "cstr", ident.value, ident.value))


_NAMESPACE_HINTS: Final[tuple[tuple[bytes, str], ...]] = (
    (b"https://github.com/JPCOAR/schema/blob/master/", jpcoar.FORMAT),
    (b"http://irdb.nii.ac.jp/oai", junii2.FORMAT),
    (b"http://www.crossref.org/qrschema/", crossref_xml.FORMAT),
    (b"http://www.crossref.org/xschema/", crossref_xml.FORMAT),
    (b"http://www.crossref.org/schema/", crossref_xml.FORMAT),
    (b"http://datacite.org/schema/kernel-", datacite_xml.FORMAT),
    (b"http://www.openarchives.org/OAI/2.0/oai_dc/", oai_dc.FORMAT),
    (b"http://prismstandard.org/namespaces/", jalc_lod.FORMAT),
)


_DEPOSIT_ROOT = re.compile(rb"<(?:[\w.-]+:)?doi_batch[\s>/]")


def detect_format(payload: bytes | str) -> str:
    """Guess the reader for a payload from its JSON keys or XML namespaces."""
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        return _detect_json(data)
    if head == b"<" or data.lstrip().startswith(b"\xef\xbb\xbf<"):
        if _DEPOSIT_ROOT.search(data[:16384]):  # <doi_batch ...> (query responses carry <doi_batch_id>)
            return crossref_deposit.FORMAT
        for needle, fmt in _NAMESPACE_HINTS:
            if needle in data:
                return fmt
        m = re.search(rb"<root[\s>]", data)
        if m and b"<content" in data:
            return jalc_xml.FORMAT
        raise UndetectableFormatError("XML payload: no known metadata namespace found")
    raise UndetectableFormatError("payload is neither JSON nor XML")


def _detect_json(data: bytes) -> str:
    doc, problem = parse_json(data)
    if problem is not None:
        raise UndetectableFormatError(problem)
    if isinstance(doc, dict):
        if "apiType" in doc or "siteId" in doc or "title_list" in doc:
            return jalc_json.FORMAT
        if "message-type" in doc or "DOI" in doc:
            return crossref_json.FORMAT
        if "data" in doc or "attributes" in doc or "relatedIdentifiers" in doc:
            return datacite_json.FORMAT
    raise UndetectableFormatError("JSON payload: not a Crossref, DataCite or JaLC record")


@dataclass(slots=True)
class DocumentRecord:
    """One record of a file: its OAI identifier (None: the file is one payload), whether the
    OAI header marks it deleted, and the works read from it."""

    record_id: str | None
    deleted: bool
    works: list[Work]


def read_document(data: bytes, fmt: str | None = None) -> list[DocumentRecord]:
    """The records of one file: an OAI-PMH response split into its records, each read with
    ``fmt`` or its own detected format; anything else read as one payload. Raises
    :class:`UnknownFormatError` for an unknown ``fmt``, :class:`UndetectableFormatError` for a
    payload no reader recognises, and :class:`UsageError` for an OAI-PMH response that cannot
    be split."""
    reader = resolve(fmt) if fmt else None
    if not is_oai_response(data):
        return [DocumentRecord(None, False, read(reader or detect_format(data), data))]
    records, problem = split_records(data)
    if problem is not None:
        raise UsageError(f"cannot read OAI-PMH response: {problem}")
    return [DocumentRecord(rec.identifier, True, []) if rec.deleted or rec.payload is None
            else DocumentRecord(rec.identifier, False, read(reader or detect_format(rec.payload), rec.payload))
            for rec in records]
