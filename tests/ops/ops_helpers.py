"""Helpers for the operations tests: replay servers on 127.0.0.1, configs, the real CLI, and
a timestamp-free picture of a database to compare a crashed-and-resumed run with a clean one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
from linkgraph.replay.corpus import Corpus
from linkgraph.replay.rest_registries import registry_apps
from linkgraph.replay.server import ReplayServer

from linkgraph.config import source_block

EXIT_BUSY = 75


def config_text(sources: Mapping[str, Mapping[str, Any]], **general: Any) -> str:
    head = "[linkgraph]\ncontact = \"ops@example.org\"\n" + "".join(
        f"{k} = {json.dumps(v)}\n" for k, v in general.items())
    return head + "\n" + "\n".join(source_block(name, dict(values)) for name, values in sources.items())


def write_config(path: Path, sources: Mapping[str, Mapping[str, Any]], **general: Any) -> Path:
    path.write_text(config_text(sources, **general), encoding="utf-8")
    return path


class World:
    """An OAI repository and the REST registries, each on its own replay server."""

    def __init__(self, *, oai_records: int = 200, rest_records: int = 120, oai_latency: float = 0.0,
                 rest_latency: float = 0.0, oai_faults: str = "", rest_faults: str = "", page: int = 20):
        self.corpus = Corpus.synthetic(oai_records, seed=5, deleted_ratio=0.03)
        self.oai = ReplayServer(self.corpus, page_size=page, latency_ms=oai_latency, faults=oai_faults)
        self.rest = ReplayServer(apps=registry_apps(synthetic=rest_records, latency_ms=rest_latency),
                                 faults=rest_faults)
        self.page = page

    def __enter__(self) -> World:
        self.oai.start()
        self.rest.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.oai.stop()
        self.rest.stop()

    def sources(self, *names: str) -> dict[str, dict[str, Any]]:
        every = {"every": "1d"}
        table = {
            "repo": {"kind": "oai", "base_url": self.oai.url, "metadata_format": "oai_dc", "retries": 3, **every},
            "dc": {"kind": "datacite", "base_url": self.rest.url_for("/datacite"), "prefix": "10.99998",
                   "page_size": self.page, "retries": 3},
            "jalc": {"kind": "jalc", "base_url": self.rest.url_for("/jalc"), "prefix": "10.99997",
                     "rows": self.page, "retries": 3, **every},
            "cr": {"kind": "crossref", "base_url": self.rest.url_for("/crossref"), "prefix": "10.99999",
                   "rows": self.page, "retries": 3},
        }
        return {n: table[n] for n in (names or ("repo", "dc", "jalc"))}

    def served_oai(self) -> set[str]:
        return {r.identifier for r in self.corpus if not r.metadata or "oai_dc" in r.metadata}

    def served_rest(self, mount: str) -> set[str]:
        return set(self.rest.apps[mount].corpus.keys())


def linkgraph(*args: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "linkgraph", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, check=False)


def start_run(config: Path, db: Path, *extra: str, env: Mapping[str, str | None] | None = None
              ) -> subprocess.Popen[str]:
    """``linkgraph run`` in a child process; ``env`` entries set to None are removed."""
    cmd = [sys.executable, "-m", "linkgraph", "run", "--config", str(config), "--db", str(db),
           "--log-format", "json", *extra]
    merged = {**os.environ, **(env or {})}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={k: v for k, v in merged.items() if v is not None})


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def stored_ids(db: Path, source: str) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT record_id FROM raw_records WHERE source = ?", [source]).fetchall()}
    finally:
        con.close()


# What a user sees of the data, without run ids, timestamps of fetching or sequence numbers.
_PICTURE = {
    "raw_records": "SELECT source, record_id, datestamp, deleted, metadata_format, payload_hash FROM raw_records",
    "works": "SELECT * EXCLUDE (raw_change_seq) FROM works",
    "identifiers": "SELECT * FROM identifiers",
    "relations": "SELECT * FROM relations",
    "problems": "SELECT * EXCLUDE (raw_change_seq) FROM problems",
    "findings": "SELECT * EXCLUDE (run_id) FROM findings",
    "links": "SELECT * EXCLUDE (run_id) FROM link_snapshots WHERE run_id = (SELECT max(run_id) FROM link_snapshots)",
}


def picture(db: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: sorted(repr(row) for row in con.execute(sql).fetchall()) for name, sql in _PICTURE.items()}
    finally:
        con.close()
