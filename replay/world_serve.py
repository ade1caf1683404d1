"""Serve the demo world through the replay server, harvest it with the real connectors,
crosswalk it with the real pipeline, audit it, and score the findings against the truth.

Mounts on one 127.0.0.1 server: ``/jalc``, ``/crossref``, ``/datacite`` (the REST replay apps,
fed through :class:`RestCorpus`), ``/doiorg`` (registration agencies), and two OAI-PMH apps:
``/figshare`` (J-STAGE Data, ``oai_datacite``) and ``/repository`` (``jpcoar_2.0``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from linkgraph.crosswalks.pipeline import CrosswalkStats, run_crosswalk
from linkgraph.replay import world_formats as fmt
from linkgraph.graph.audit import KINDS, AuditResult, run_audit
from linkgraph.replay.world import (
    AGENCIES,
    CROSSREF,
    DATACITE,
    JALC_ARTICLES,
    REPO_SOURCE,
    UNKNOWN_PREFIX,
    World,
    WorldWork,
)
from linkgraph.harvest.agency import (
    AgencyCache,
    AgencyEndpoints,
    RecordFetcher,
    candidate_target_dois,
    fetch_targets,
)
from linkgraph.harvest.crossref import CrossrefQuery, CrossrefSource
from linkgraph.harvest.datacite import DataCiteSource
from linkgraph.harvest.http import HttpPolicy, Transport
from linkgraph.harvest.jalc import JalcClient, JalcSource
from linkgraph.harvest.oai_harvest import OAIHarvester, OAIHarvestOptions
from linkgraph.replay.corpus import Corpus, CorpusRecord
from linkgraph.replay.oai import OAIApp
from linkgraph.replay.rest_common import Limits, RestCorpus, RestRecord, day, iso
from linkgraph.replay.rest_crossref import CrossrefApp
from linkgraph.replay.rest_datacite import DataCiteApp
from linkgraph.replay.rest_doiorg import DoiOrgApp
from linkgraph.replay.rest_jalc import JalcApp
from linkgraph.replay.server import App, ReplayServer
from linkgraph.harvest.rest_harvest import RestHarvester, RestHarvestOptions

from linkgraph.store import Store

ProgressFn = Callable[[int, int | None], None]


def _epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def _set_jalc_date(item: dict[str, Any], rec: RestRecord) -> dict[str, Any]:
    item["updated_date"] = day(rec.epoch)
    return item


def _set_crossref_date(item: dict[str, Any], rec: RestRecord) -> dict[str, Any]:
    dt = datetime.fromtimestamp(rec.epoch, UTC)
    stamp = {"date-parts": [[dt.year, dt.month, dt.day]], "date-time": iso(rec.epoch), "timestamp": rec.epoch * 1000}
    item["deposited"] = stamp
    item["indexed"] = dict(stamp)
    return item


def _set_datacite_date(item: dict[str, Any], rec: RestRecord) -> dict[str, Any]:
    item["attributes"]["updated"] = iso(rec.epoch, millis=True)
    return item


def _rest_corpus(works: list[WorldWork], render: Callable[[WorldWork], dict[str, Any]],
                 set_date: Callable[[dict[str, Any], RestRecord], dict[str, Any]], group: str,
                 *, day_granularity: bool = False) -> RestCorpus:
    dois = [w.doi or "" for w in works]
    records = [RestRecord(d, _epoch(w.updated), i, group) for i, (d, w) in enumerate(zip(dois, works))]
    return RestCorpus([render(w) for w in works], dois, records, set_date, day_granularity=day_granularity)


def _oai_corpus(works: list[WorldWork], prefix: str, render: Callable[[WorldWork], bytes], sets: tuple[str, ...],
                name: str) -> Corpus:
    recs = [CorpusRecord(w.record_id, w.updated, sets, False, {prefix: render(w)}) for w in works]
    return Corpus(recs, repository_name=name)


def world_apps(world: World, *, page_size: int = 50) -> dict[str, App]:
    """Mount point -> replay app serving the world in each source's format."""
    return {
        "/jalc": JalcApp(_rest_corpus(world.by_registry("jalc"), fmt.jalc_json, _set_jalc_date, "SI/JST.JSTAGE",
                                      day_granularity=True), prefixes=[]),
        "/crossref": CrossrefApp(_rest_corpus(world.by_registry("crossref"), fmt.crossref_json, _set_crossref_date,
                                              "99999"), limits=Limits(limit=100, interval=1.0, concurrency=8)),
        "/datacite": DataCiteApp(_rest_corpus(world.by_registry("datacite"), fmt.datacite_json, _set_datacite_date,
                                              "world.data")),
        "/doiorg": DoiOrgApp(AGENCIES, offline=True, absent=(UNKNOWN_PREFIX,)),
        "/figshare": OAIApp(_oai_corpus(world.by_registry("jstage-data"), "oai_datacite", fmt.oai_datacite,
                                        ("portal_999",), "figshare (J-STAGE Data, replay)"), page_size=page_size),
        "/repository": OAIApp(_oai_corpus(world.by_registry("repository"), "jpcoar_2.0", fmt.jpcoar, ("am",),
                                          "institutional repository (replay)"), page_size=page_size),
    }


@dataclass(slots=True)
class WorldRun:
    records: dict[str, int] = field(default_factory=dict)  # source -> records harvested
    targets_fetched: dict[str, int] = field(default_factory=dict)
    unknown_targets: int = 0
    unverifiable_targets: int = 0
    crosswalk: CrosswalkStats | None = None
    audit: AuditResult | None = None


def harvest_world(store: Store, server: ReplayServer, *, progress: ProgressFn | None = None) -> WorldRun:
    """Harvest every source of a served world, fetch link targets, look up agencies, crosswalk."""
    run = WorldRun()
    policy = HttpPolicy(retries=2, backoff=0.1, timeout=30, concurrency=8)
    with Transport(policy) as tr:
        for mount, prefix, name in (("/figshare", "oai_datacite", "world-figshare:portal_999"),
                                    ("/repository", "jpcoar_2.0", REPO_SOURCE)):
            res = OAIHarvester(store, server.url_for(mount), OAIHarvestOptions(prefix=prefix), name=name,
                               transport=tr, progress=progress).run()
            run.records[name] = res.records
        # One transport per registry: a source that follows advertised limits (Crossref) paces
        # only its own transport.
        makers: list[tuple[str, Callable[[Transport], Any]]] = [
            ("world-jalc", lambda t: JalcSource(store, "world-jalc", JalcClient(t, base_url=server.url_for("/jalc")),
                                                JALC_ARTICLES, concurrency=8)),
            ("world-crossref", lambda t: CrossrefSource(t, CrossrefQuery(prefix=CROSSREF, mailto="demo@linkgraph.invalid"),
                                                        base_url=server.url_for("/crossref"), max_concurrency=8)),
            ("world-datacite", lambda t: DataCiteSource(t, prefix=DATACITE, base_url=server.url_for("/datacite"))),
        ]
        for name, make in makers:
            with Transport(policy) as own:
                res = RestHarvester(store, make(own), name, RestHarvestOptions(full=True), progress=progress).run()
            run.records[name] = res.records
        endpoints = AgencyEndpoints(jalc=server.url_for("/jalc"), crossref=server.url_for("/crossref"),
                                    datacite=server.url_for("/datacite"))
        cache = AgencyCache(store, tr, base_url=server.url_for("/doiorg") + "/ra")
        run_crosswalk(store)  # the relations tell which targets to fetch
        with RecordFetcher(policy, endpoints, concurrency=4) as fetcher:
            targets = fetch_targets(store, candidate_target_dois(store), cache, fetcher)
        run.targets_fetched = targets.fetched
        run.unknown_targets = targets.unknown
        run.unverifiable_targets = targets.unverifiable
        held = [r[0] for r in store.query("SELECT DISTINCT split_part(doi, '/', 1) FROM works WHERE doi IS NOT NULL")]
        cache.lookup(held)  # which agency registered each held prefix (J-STAGE Data DOIs are JaLC's)
    run.crosswalk = run_crosswalk(store)
    return run


def run_world(store: Store, world: World, *, progress: ProgressFn | None = None) -> WorldRun:
    """Serve, harvest, crosswalk and audit ``world`` into ``store``."""
    with ReplayServer(apps=world_apps(world)) as server:
        run = harvest_world(store, server, progress=progress)
    run.audit = run_audit(store)
    return run


@dataclass(frozen=True, slots=True)
class KindScore:
    kind: str
    planted: int
    found: int
    matched: int

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.planted if self.planted else 1.0


def score_findings(store: Store, world: World) -> dict[str, KindScore]:
    """Precision and recall of the stored findings against the world's planted truth, per kind.

    A finding matches a planted one on kind, subject and object (the DOI, or the raw text of a
    malformed target); the relation type too where the truth names one; version cycles match on
    kind and subject (the cycle's smallest DOI) alone. Only findings whose subject is a record
    of the world count (the demo database also holds other records).
    """
    rows = store.query("SELECT kind, subject_key, coalesce(object_doi, object_raw), relation_type FROM findings")
    ours = {w.key for w in world.works}  # findings about records outside the world are not scored
    found: dict[str, set[tuple[str, str, str | None, str | None]]] = {}
    for kind, subject, obj, rel in rows:
        if subject in ours:
            found.setdefault(kind, set()).add((kind, subject, obj, rel))
    scores: dict[str, KindScore] = {}
    kinds = [k for ks in KINDS.values() for k in ks]
    for kind in kinds:
        truth = [p for p in world.truth if p.kind == kind]
        got = found.get(kind, set())
        matched_found: set[tuple[str, str, str | None, str | None]] = set()
        matched = 0
        for p in truth:
            hits = {f for f in got if f[1] == p.subject_key and (p.obj is None or f[2] == p.obj)
                    and (p.relation_type is None or f[3] == p.relation_type)}
            if hits:
                matched += 1
                matched_found |= hits
        scores[kind] = KindScore(kind, len(truth), len(got), min(matched, len(matched_found)) if got else 0)
    return scores


def flagged_lookalikes(store: Store, world: World) -> list[tuple[str, str, str]]:
    """Look-alike pairs (versions, parts, translations, ...) wrongly reported as duplicates."""
    pairs = {(min(a, b), max(a, b)) for a, b in store.query(
        "SELECT subject_doi, object_doi FROM findings WHERE kind = 'same_content'")}
    return [(k, a, b) for k, a, b in world.lookalikes if (min(a, b), max(a, b)) in pairs]
