"""Defaults that never fail at realistic scale: `linkgraph run` with no memory option on a
100k-record multi-format corpus (six OAI sources, one per metadata format, ~103k raw records)
harvests, crosswalks and audits, and a big duplicate-URL group does not blow up the audit.

The 1M-record soak with peak RSS and records/s is ``bench/bench_soak.py``."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from linkgraph.replay.corpus import Corpus
from linkgraph.replay.server import ReplayServer

from .ops_helpers import json_lines, start_run, write_config

FORMATS = ("oai_dc", "oai_datacite", "datacite", "jpcoar_1.0", "jpcoar_2.0", "jpcoar_2.1")


def six_sources(url: str) -> dict[str, dict[str, object]]:
    return {f"s-{fmt.replace('.', '')}": {"kind": "oai", "base_url": url, "metadata_format": fmt}
            for fmt in FORMATS}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_run_at_default_settings_on_100k_records_finishes_with_the_audit(tmp_path: Path) -> None:
    corpus = Corpus.synthetic(100_000, seed=7)
    served = {fmt: sum(1 for r in corpus if fmt in r.metadata) for fmt in FORMATS}
    db, cfg = tmp_path / "lg.duckdb", tmp_path / "lg.toml"
    with ReplayServer(corpus, page_size=500) as server:
        write_config(cfg, six_sources(server.url))
        proc = start_run(cfg, db, "--json", env={"LINKGRAPH_MEMORY_LIMIT": None})
        out, err = proc.communicate(timeout=540)
    assert proc.returncode == 0, err[-3000:]
    report = json.loads(out)
    assert {s["status"] for s in report["sources"].values()} == {"ok"}
    events = [e["event"] for e in json_lines(err)]
    assert "audit-done" in events and events[-1] == "run-done"
    con = duckdb.connect(str(db), read_only=True)
    try:
        per_format = dict(con.execute(
            "SELECT metadata_format, count(*) FROM raw_records GROUP BY 1").fetchall())
        assert per_format == {fmt: n for fmt, n in served.items() if n}
        assert sum(per_format.values()) > 100_000
        works = con.execute("SELECT count(*) FROM works").fetchone()[0]
        assert works == sum(per_format.values())
        # Thousands of synthetic DOIs share a landing URL: every finding names the group's size,
        # but none carries more than 20 of its DOIs (evidence grows with the group, not its square).
        n, biggest, longest = con.execute(
            "SELECT count(*), max((evidence->>'dois_on_url')::INT), max(json_array_length(evidence->'dois'))"
            " FROM findings WHERE kind = 'duplicate_url'").fetchone()
        assert n > 1000 and biggest > 1000 and longest == 20
        assert con.execute("SELECT count(*) FROM audit_runs").fetchone()[0] == 1
    finally:
        con.close()
