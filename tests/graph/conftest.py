"""Fixtures for the audit tests: a generated world harvested through the replay server."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from linkgraph.replay.world import World, generate
from linkgraph.replay.world_serve import WorldRun, run_world

from linkgraph.store import RawRecord, Store


@dataclass
class AuditedWorld:
    db: Path
    world: World
    run: WorldRun


@pytest.fixture(scope="session")
def audited_world(tmp_path_factory: pytest.TempPathFactory) -> AuditedWorld:
    """Seed 7, scale 2: generated, served on 127.0.0.1, harvested, crosswalked and audited once."""
    db = tmp_path_factory.mktemp("world") / "world.duckdb"
    world = generate(seed=7, scale=2)
    with Store(db) as store:
        run = run_world(store, world)
    return AuditedWorld(db, world, run)


def store_records(db: Path, source: str, fmt: str, docs: Iterable[tuple[str, Any]]) -> None:
    """Store (record_id, JSON document) payloads as a harvest would, then crosswalk them."""
    from datetime import UTC, datetime

    from linkgraph.crosswalks.pipeline import run_crosswalk

    records = [RawRecord(rid, datetime(2024, 5, 1, tzinfo=UTC), False, fmt, json.dumps(doc))
               for rid, doc in docs]
    with Store(db) as store:
        with store.transaction() as cur:
            Store.upsert_raw(cur, source, None, records)
        run_crosswalk(store)


def datacite_doc(doi: str, title: str, relations: list[tuple[str, str]], general: str = "Dataset") -> dict[str, Any]:
    return {"data": {"id": doi, "type": "dois", "attributes": {
        "doi": doi, "titles": [{"title": title}], "publicationYear": 2020,
        "creators": [{"name": "Sato, Kenji", "familyName": "Sato", "givenName": "Kenji"}],
        "types": {"resourceTypeGeneral": general},
        "relatedIdentifiers": [{"relatedIdentifier": t, "relatedIdentifierType": "DOI", "relationType": r}
                               for r, t in relations]}}}


def crossref_doc(doi: str, title: str) -> dict[str, Any]:
    return {"status": "ok", "message-type": "work", "message": {
        "DOI": doi, "type": "journal-article", "title": [title], "issued": {"date-parts": [[2020]]},
        "author": [{"given": "Kenji", "family": "Sato"}]}}
