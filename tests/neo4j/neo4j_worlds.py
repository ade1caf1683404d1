"""Worlds for the Neo4j tests: the demo corpus crosswalked, and a small hand-made world whose
values are the awkward ones (commas, quotes, line breaks, Japanese, empty strings, delimiter
characters), written into a real DuckDB file's works/relations tables."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pyarrow as pa
from linkgraph.crosswalks.pipeline import RELATIONS_SCHEMA, WORKS_SCHEMA, run_crosswalk

from linkgraph.demo import run_demo
from linkgraph.store import Store

TRICKY_TITLE = 'Tide, "storm" and surge;\nA study\r\nof 潮汐・高潮 (第2版)'
JA_TITLE = "情報爆発時代の研究基盤構想"


def demo_world(path: Path) -> Path:
    """The bundled demo corpus, harvested from the local replay server and crosswalked."""
    run_demo(path)
    with Store(path) as store:
        run_crosswalk(store)
    return path


def _work(source: str, record_id: str, key: str, doi: str | None, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {name: None for name in WORKS_SCHEMA.names}
    row.update(source=source, record_id=record_id, work_seq=0, work_key=key, doi=doi,
               source_format="test", metadata_format="test", raw_change_seq=1)
    row.update(kw)
    return row


def _rel(source: str, record_id: str, key: str, rtype: str, scheme: str, target: str | None,
         raw: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {name: None for name in RELATIONS_SCHEMA.names}
    row.update(source=source, record_id=record_id, work_seq=0, work_key=key,
               subject_doi=key[4:] if key.startswith("doi:") else None, source_format="test",
               relation_type=rtype, raw_type=rtype, target_scheme=scheme, target=target,
               target_raw=raw, asserted_by="subject", problems=[])
    row.update(kw)
    return row


TRICKY_WORKS = [
    _work("jstage-data", "10.99999/ds.1", "doi:10.99999/ds.1", "10.99999/ds.1",
          registration_agency="jalc", resource_type="dataset", resource_type_raw="Dataset",
          title=TRICKY_TITLE, year=2024, landing_url="https://example.org/a,b?c=\"d\""),
    _work("jalc", "10.99999/art.1", "doi:10.99999/art.1", "10.99999/art.1",
          registration_agency="jalc", resource_type="article", resource_type_raw="journal article",
          title=JA_TITLE, year=2023, version="VoR"),
    # the same DOI held by a second source: one node, both sources listed
    _work("repo;x,y", "oai:repo:1", "doi:10.99999/art.1", "10.99999/art.1",
          registration_agency=None, resource_type="article", title="other copy", year=2023),
    # an empty title is a value (""), a missing year is no value
    _work("repo;x,y", "oai:repo:2", "rec:repo;x,y:oai:repo:2", None,
          resource_type="preprint", title="", version="AM"),
    _work("repo;x,y", "oai:repo:3", "rec:repo;x,y:oai:repo:3", None, title="  leading spaces"),
]

TRICKY_RELATIONS = [
    _rel("jstage-data", "10.99999/ds.1", "doi:10.99999/ds.1", "IsSupplementTo", "doi",
         "10.99999/art.1", "https://doi.org/10.99999/art.1"),
    # stated twice in one record (two raw spellings): one relationship
    _rel("jstage-data", "10.99999/ds.1", "doi:10.99999/ds.1", "IsSupplementTo", "doi",
         "10.99999/art.1", "10.99999/ART.1", raw_type="isSupplementTo"),
    _rel("jstage-data", "10.99999/ds.1", "doi:10.99999/ds.1", "References", "doi",
         "10.88888/not.held", "doi:10.88888/NOT.HELD"),
    _rel("jstage-data", "10.99999/ds.1", "doi:10.99999/ds.1", "IsDocumentedBy", "url",
         "https://example.org/doc?a=1,b=\"2\"", "https://example.org/doc?a=1,b=\"2\"",
         problems=['odd "quote", comma', "line\nbreak", "unit\x1fseparator"]),
    _rel("jalc", "10.99999/art.1", "doi:10.99999/art.1", "IsSupplementedBy", "doi",
         "10.99999/ds.1", "10.99999/ds.1", asserted_by="both"),
    _rel("repo;x,y", "oai:repo:2", "rec:repo;x,y:oai:repo:2", "IsVersionOf", "doi",
         "10.99999/art.1", "10.99999/art.1", raw_type=None),
    # a malformed DOI keeps its verbatim value on an :Unresolved target
    _rel("repo;x,y", "oai:repo:2", "rec:repo;x,y:oai:repo:2", "Cites", "doi", None,
         "10.ABC/日本語 ,\"x\"", problems=["malformed DOI"]),
    # nothing to point at: left out
    _rel("repo;x,y", "oai:repo:3", "rec:repo;x,y:oai:repo:3", "Cites", "unknown", None, ""),
]


def tricky_world(path: Path) -> Path:
    with Store(path) as store, store.transaction() as cur:
        Store.insert_arrow(cur, "works", pa.Table.from_pylist(TRICKY_WORKS, schema=WORKS_SCHEMA))
        Store.insert_arrow(
            cur, "relations", pa.Table.from_pylist(TRICKY_RELATIONS, schema=RELATIONS_SCHEMA)
        )
    return path


AUDIT_WORKS = [
    _work("datacite", "10.77777/ds.2", "doi:10.77777/ds.2", "10.77777/ds.2",
          registration_agency="datacite", resource_type="dataset", title="Second dataset",
          year=2022, landing_url="https://www.example.org/landing/1"),
    _work("datacite", "10.77777/ds.3", "doi:10.77777/ds.3", "10.77777/ds.3",
          registration_agency="datacite", resource_type="dataset", title="Third dataset",
          year=2022, landing_url="http://example.org/landing/1"),
    _work("crossref", "10.66666/vor.1", "doi:10.66666/vor.1", "10.66666/vor.1",
          registration_agency="crossref", resource_type="article", title="A version of record",
          year=2021, version="VoR"),
    _work("jalc", "10.99999/am.1", "doi:10.99999/am.1", "10.99999/am.1",
          registration_agency="jalc", resource_type="article", title="An accepted manuscript",
          year=2021, version="AM"),
]

AUDIT_RELATIONS = [
    # a dataset supplementing a dataset; ds.3 says nothing back (missing reciprocal)
    _rel("datacite", "10.77777/ds.2", "doi:10.77777/ds.2", "IsSupplementTo", "doi",
         "10.77777/ds.3", "10.77777/ds.3"),
    # a self-link
    _rel("datacite", "10.77777/ds.3", "doi:10.77777/ds.3", "References", "doi",
         "10.77777/ds.3", "10.77777/ds.3"),
    # one-way version link between held DOIs
    _rel("jalc", "10.99999/am.1", "doi:10.99999/am.1", "IsVersionOf", "doi",
         "10.66666/vor.1", "10.66666/vor.1"),
    # declared identical, both ways
    _rel("datacite", "10.77777/ds.2", "doi:10.77777/ds.2", "IsIdenticalTo", "doi",
         "10.77777/ds.3", "10.77777/ds.3"),
    _rel("datacite", "10.77777/ds.3", "doi:10.77777/ds.3", "IsIdenticalTo", "doi",
         "10.77777/ds.2", "10.77777/ds.2"),
    # a DOI that no agency knows
    _rel("crossref", "10.66666/vor.1", "doi:10.66666/vor.1", "Cites", "doi",
         "10.55555/gone", "10.55555/gone"),
]


def _t(text: str) -> list[dict[str, Any]]:
    return [{"text": text, "lang": "en", "kind": None}]


def _c(*families: str) -> list[dict[str, Any]]:
    return [{"name": f"{f}, A.", "family": f, "seq": i} for i, f in enumerate(families)]


TIDES = "Tidal energy in the Seto Inland Sea"
BIRDS = "Migratory birds of Hokkaido wetlands, 1990-2020"
FERNS = "Fern spores under the electron microscope"
SOILS = "Soil carbon survey of Kyushu volcanic plateaus"
# Title matching (version_missing, same_content): found and kept-apart cases side by side.
TITLED_WORKS = [
    # version_missing: an author version without DOI, two versions of record with its title;
    # the one sharing more creators is named
    _work("repo", "oai:repo:am.2", "rec:repo:oai:repo:am.2", None, resource_type="article",
          title=TIDES, titles=_t(TIDES), creators=_c("Tanaka", "Sato"), year=2020, version="AM"),
    _work("crossref", "10.66666/vor.2", "doi:10.66666/vor.2", "10.66666/vor.2",
          registration_agency="crossref", resource_type="article", title=TIDES,
          titles=_t(TIDES.upper()), creators=_c("Tanaka", "Sato", "Ito"), year=2021),
    _work("crossref", "10.66666/vor.3", "doi:10.66666/vor.3", "10.66666/vor.3",
          registration_agency="crossref", resource_type="article", title=TIDES,
          titles=_t(TIDES), creators=_c("Sato"), year=2021, version="VoR"),
    # an author version with no creators, one year from its version of record: found
    _work("repo", "oai:repo:am.3", "rec:repo:oai:repo:am.3", None, resource_type="article",
          title=FERNS, titles=_t(FERNS), year=2019, version="AO"),
    _work("jalc", "10.99999/vor.4", "doi:10.99999/vor.4", "10.99999/vor.4",
          registration_agency="jalc", resource_type="article", title=FERNS,
          titles=_t(FERNS + "."), creators=_c("Mori"), year=2020),
    # already linked (IsVersionOf below): not found
    _work("jalc", "10.99999/am.5", "doi:10.99999/am.5", "10.99999/am.5",
          registration_agency="jalc", resource_type="article", title=SOILS, titles=_t(SOILS),
          creators=_c("Kato"), year=2018, version="SMUR"),
    _work("crossref", "10.66666/vor.5", "doi:10.66666/vor.5", "10.66666/vor.5",
          registration_agency="crossref", resource_type="article", title=SOILS,
          titles=_t(SOILS), creators=_c("Kato"), year=2018),
    # same_content: two datasets, same title, creators and year (error, 0.97) ...
    _work("datacite", "10.77777/birds.a", "doi:10.77777/birds.a", "10.77777/birds.a",
          registration_agency="datacite", resource_type="dataset", title=BIRDS,
          titles=_t(BIRDS), creators=_c("Suzuki", "Ono"), year=2021),
    _work("jalc", "10.99999/birds.b", "doi:10.99999/birds.b", "10.99999/birds.b",
          registration_agency="jalc", resource_type="dataset", title=BIRDS,
          titles=_t(BIRDS.lower()), creators=_c("Ono", "Suzuki", "Abe"), year=2021,
          container="Hokkaido Data"),
    # ... a third one year apart in the same container (warning, 0.925) ...
    _work("datacite", "10.77777/birds.c", "doi:10.77777/birds.c", "10.77777/birds.c",
          registration_agency="datacite", resource_type="dataset", title=BIRDS,
          titles=_t(BIRDS), creators=_c("Ono"), year=2022, container="hokkaido data"),
    # ... its article (another type), half its creators (0.825 < 0.86), and a linked copy
    _work("crossref", "10.66666/birds.art", "doi:10.66666/birds.art", "10.66666/birds.art",
          registration_agency="crossref", resource_type="article", title=BIRDS,
          titles=_t(BIRDS), creators=_c("Suzuki", "Ono"), year=2021),
    _work("datacite", "10.77777/birds.d", "doi:10.77777/birds.d", "10.77777/birds.d",
          registration_agency="datacite", resource_type="dataset", title=BIRDS,
          titles=_t(BIRDS), creators=_c("Suzuki", "Kimura"), year=2023),
    _work("datacite", "10.77777/birds.e", "doi:10.77777/birds.e", "10.77777/birds.e",
          registration_agency="datacite", resource_type="dataset", title=BIRDS,
          titles=_t(BIRDS), creators=_c("Suzuki", "Ono"), year=2021),
    # siblings: two parts of one collection with one title are not "the same content"
    _work("datacite", "10.77777/part.1", "doi:10.77777/part.1", "10.77777/part.1",
          registration_agency="datacite", resource_type="dataset", title="Station records part",
          titles=_t("Station records part"), creators=_c("Ueda"), year=2020),
    _work("datacite", "10.77777/part.2", "doi:10.77777/part.2", "10.77777/part.2",
          registration_agency="datacite", resource_type="dataset", title="Station records part",
          titles=_t("Station records part"), creators=_c("Ueda"), year=2020),
]

TITLED_RELATIONS = [
    _rel("jalc", "10.99999/am.5", "doi:10.99999/am.5", "IsVersionOf", "doi",
         "10.66666/vor.5", "10.66666/vor.5"),
    _rel("datacite", "10.77777/birds.e", "doi:10.77777/birds.e", "References", "doi",
         "10.77777/birds.a", "10.77777/birds.a"),
    _rel("datacite", "10.77777/part.1", "doi:10.77777/part.1", "IsPartOf", "doi",
         "10.77777/collection", "10.77777/collection"),
    _rel("datacite", "10.77777/part.2", "doi:10.77777/part.2", "IsPartOf", "doi",
         "10.77777/collection", "10.77777/collection"),
]


def _text(source: str, record_id: str, key: str, scheme: str, target: str, sentence: str) -> dict[str, Any]:
    return _rel(source, record_id, key, "IsRelatedTo", scheme, target, target, raw_type="text",
                asserted_by="text", evidence=sentence)


BIRDS_CSTR = "CSTR:31253.11.birds.d"
# Links stated only in text (audit_text_links): found, and kept apart where a relation exists.
TEXT_RELATIONS = [
    # an article's data statement names a held dataset: IsSupplementedBy
    _text("crossref", "10.66666/birds.art", "doi:10.66666/birds.art", "doi", "10.77777/birds.c",
          "Data: https://doi.org/10.77777/birds.c."),
    # ... and another by its CSTR (the dataset's record gives it as an identifier)
    _text("crossref", "10.66666/birds.art", "doi:10.66666/birds.art", "cstr", BIRDS_CSTR,
          f"Also {BIRDS_CSTR}."),
    # a dataset naming a work it already References: not found
    _text("datacite", "10.77777/birds.e", "doi:10.77777/birds.e", "doi", "10.77777/birds.a",
          "Builds on 10.77777/birds.a"),
    # an article naming a DOI nobody holds (info), and one no agency knows (not found)
    _text("crossref", "10.66666/vor.2", "doi:10.66666/vor.2", "doi", "10.12345/ext.1",
          "See doi:10.12345/ext.1"),
    _text("crossref", "10.66666/vor.2", "doi:10.66666/vor.2", "doi", "10.55555/gone.text",
          "And 10.55555/gone.text."),
    # an author version without DOI names its version of record: IsVersionOf
    _text("repo", "oai:repo:am.2", "rec:repo:oai:repo:am.2", "doi", "10.66666/vor.3",
          "Published version: https://doi.org/10.66666/vor.3"),
]


def audit_world(path: Path) -> Path:
    """The tricky world plus one case of each audit the Cypher twins cover, audited."""
    from datetime import datetime

    from linkgraph.graph.audit import run_audit

    tricky_world(path)
    with Store(path) as store:
        with store.transaction() as cur:
            Store.insert_arrow(cur, "works", pa.Table.from_pylist(
                AUDIT_WORKS + TITLED_WORKS, schema=WORKS_SCHEMA))
            Store.insert_arrow(cur, "relations", pa.Table.from_pylist(
                AUDIT_RELATIONS + TITLED_RELATIONS + TEXT_RELATIONS, schema=RELATIONS_SCHEMA))
            cur.execute("INSERT INTO unknown_dois VALUES (?, ?, ?, ?, ?)",
                        ["10.55555/gone.text", "10.55555", None, "not-found", datetime(2024, 1, 1, tzinfo=UTC)])
            cur.execute("INSERT INTO identifiers VALUES ('datacite', '10.77777/birds.d', 0,"
                        " 'doi:10.77777/birds.d', 'cstr', ?)", [BIRDS_CSTR])
            cur.execute("INSERT INTO unknown_dois VALUES (?, ?, ?, ?, ?)",
                        ["10.55555/gone", "10.55555", None, "prefix-unknown",
                         datetime(2024, 1, 1, tzinfo=UTC)])
        run_audit(store)
    return path
