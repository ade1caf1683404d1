"""Loading shared fixtures the way the pipeline would see them (record payloads)."""

from __future__ import annotations

import base64
import gzip
import re
from pathlib import Path

import pytest
from linkgraph.crosswalks.model import Work
from linkgraph.crosswalks.oai import is_oai_response, split_records
from linkgraph.crosswalks.registry import detect_format, read

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
if not SHARED.is_dir():  # every module that loads fixtures through here is skipped, as the README says
    pytest.skip("../shared/fixtures is not beside this checkout", allow_module_level=True)


def cassette_bodies(path: Path) -> list[bytes]:
    """Response bodies of a VCR.py cassette (``string: !!binary |`` gzip blocks), no YAML lib."""
    lines = path.read_text("utf-8").splitlines()
    bodies: list[bytes] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "string: !!binary |":
            i += 1
            indent = len(lines[i]) - len(lines[i].lstrip())
            chunk: list[str] = []
            while i < len(lines) and lines[i].strip() and lines[i].startswith(" " * indent):
                chunk.append(lines[i].strip())
                i += 1
            raw = base64.b64decode("".join(chunk))
            bodies.append(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        else:
            i += 1
    return bodies


def markdown_oai_blocks(path: Path, needle: str) -> list[bytes]:
    text = path.read_text("utf-8")
    blocks = re.findall(r"<OAI-PMH\b.*?</OAI-PMH>", text, flags=re.DOTALL)
    return [b.encode("utf-8") for b in blocks if needle in b]


def load_works(rel_path: str, fmt: str, extract: str | None = None) -> tuple[list[Work], int]:
    """``(works, deleted records)`` of a fixture; ``fmt`` 'oai' splits an OAI-PMH response."""
    path = SHARED / rel_path
    if path.suffix == ".yaml":
        works: list[Work] = []
        for body in cassette_bodies(path):
            works.extend(read(fmt, body))
        return works, 0
    if extract == "oai_dc":
        payloads = markdown_oai_blocks(path, "purl.org/dc/terms/")
    else:
        payloads = [path.read_bytes()]
    works, deleted = [], 0
    for data in payloads:
        if fmt != "oai":
            works.extend(read(fmt, data))
            continue
        assert is_oai_response(data), f"{rel_path} is not an OAI-PMH response"
        records, problem = split_records(data)
        assert problem is None, problem
        for rec in records:
            if rec.deleted or rec.payload is None:
                deleted += 1
                continue
            for work in read(detect_format(rec.payload), rec.payload):
                work.record_id = rec.identifier
                works.append(work)
    return works, deleted
