"""Fixtures for the report tests: the demo database built once per session, and a copy of it
audited a second time after a member deposited one missing reciprocal link (for the trend)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from linkgraph.store import RawRecord, Store

FIXED_SUBJECT = "10.80001/ds-188"  # a dataset whose article did not state the link back
FIXED_ARTICLE = "10.5555/art.186"


@dataclass(frozen=True)
class DemoDbs:
    demo: Path  # `linkgraph demo` output: one audit run
    two_runs: Path  # the same, then a fix deposited and audited again


def crossref_work(doi: str, title: str, supplemented_by: str) -> dict[str, object]:
    return {"status": "ok", "message-type": "work", "message": {
        "DOI": doi, "type": "journal-article", "title": [title], "issued": {"date-parts": [[2020]]},
        "author": [{"given": "Kenji", "family": "Sato"}],
        "relation": {"is-supplemented-by": [{"id": supplemented_by, "id-type": "doi", "asserted-by": "subject"}]}}}


@pytest.fixture(scope="session")
def demo_dbs(tmp_path_factory: pytest.TempPathFactory) -> DemoDbs:
    from linkgraph.crosswalks.pipeline import run_crosswalk
    from linkgraph.graph.audit import run_audit

    from linkgraph.demo import run_demo

    base = tmp_path_factory.mktemp("demo")
    demo = base / "demo.duckdb"
    run_demo(demo)
    two = base / "two-runs.duckdb"
    shutil.copy(demo, two)
    doc = crossref_work(FIXED_ARTICLE, "Article now linking its dataset", FIXED_SUBJECT)
    with Store(two) as store:
        with store.transaction() as cur:
            Store.upsert_raw(cur, "member-fix", None, [RawRecord(
                FIXED_ARTICLE, datetime(2026, 1, 5, tzinfo=UTC), False, "crossref-json", json.dumps(doc))])
        run_crosswalk(store)
        run_audit(store)
    return DemoDbs(demo, two)
