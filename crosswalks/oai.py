"""Split a whole OAI-PMH response (GetRecord / ListRecords) into its records, so that
``linkgraph convert`` can read a saved response file the way the pipeline reads
``raw_records`` rows: header identifier + deleted flag + the serialized ``<metadata>`` child."""

from __future__ import annotations

from dataclasses import dataclass

from linkgraph.crosswalks.xmlutil import OAI, child, child_text, local, parse_xml
from lxml import etree


@dataclass(slots=True)
class OAIRecord:
    identifier: str | None
    deleted: bool
    payload: bytes | None  # the <metadata> child serialized with its namespaces


def is_oai_response(payload: bytes | str) -> bool:
    head = payload[:2000] if isinstance(payload, bytes) else payload[:2000].encode()
    return b"<OAI-PMH" in head and OAI.encode() in head


def split_records(payload: bytes | str) -> tuple[list[OAIRecord], str | None]:
    root, problem = parse_xml(payload)
    if root is None:
        return [], problem
    out: list[OAIRecord] = []
    for rec in root.iter(f"{{{OAI}}}record"):
        header = child(rec, "header")
        ident = child_text(header, "identifier") if header is not None else None
        deleted = header is not None and header.get("status") == "deleted"
        meta = child(rec, "metadata")
        body = next((c for c in meta if isinstance(c.tag, str)), None) if meta is not None else None
        payload_bytes = etree.tostring(body, encoding="utf-8") if body is not None else None
        out.append(OAIRecord(ident, deleted, payload_bytes))
    if not out:
        errors = [local(e.tag) for e in root.iter(f"{{{OAI}}}error")]
        return [], ("OAI-PMH error response" if errors else "OAI-PMH response without records")
    return out, None
