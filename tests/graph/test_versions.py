"""Version chains: long chains are pruned in SQL, only the cycle reaches networkx."""

from __future__ import annotations

import json
from pathlib import Path

from linkgraph.graph.audit import run_audit

from linkgraph.store import Store

from .conftest import datacite_doc, store_records


def test_a_cycle_at_the_end_of_a_long_chain_is_one_finding(db_path: Path) -> None:
    chain = [f"10.80001/v{i}" for i in range(12)]  # v0 -> v1 -> ... -> v11 (IsNewVersionOf)
    ring = ["10.80001/r1", "10.80001/r2", "10.80001/r3"]
    docs = []
    for i, doi in enumerate(chain):
        rel = [("IsNewVersionOf", chain[i + 1])] if i + 1 < len(chain) else [("IsNewVersionOf", ring[0])]
        docs.append((doi, datacite_doc(doi, f"Chain {i}", rel)))
    for i, doi in enumerate(ring):
        docs.append((doi, datacite_doc(doi, f"Ring {i}", [("IsNewVersionOf", ring[(i + 1) % 3])])))
    store_records(db_path, "dc", "datacite-json", docs)
    with Store(db_path) as store:
        result = run_audit(store, ["versions"])
        rows = store.query("SELECT subject_doi, evidence FROM findings WHERE kind = 'version_cycle'")
    assert result.graph_stats["version_edges"] == 15
    assert result.graph_stats["after_pruning"] == 3  # only the ring was left for networkx
    (subject, evidence), = rows
    assert subject == "10.80001/r1"
    assert json.loads(evidence)["cycle"] == ["10.80001/r1", "10.80001/r2", "10.80001/r3", "10.80001/r1"]
