"""``linkgraph demo``: every stage that exists, end to end, on the bundled demo corpus.

The corpus ships inside the package (real recorded records, see
``replay/data/demo/PROVENANCE.md``) and is served by the replay server on
127.0.0.1, so the demo needs no network and nothing outside the installed package.
Each stage is a function ``(context) -> summary line``; later stages are appended to
:data:`STAGES` as they are built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from linkgraph.harvest.http import HttpPolicy, Transport
from linkgraph.harvest.oai_harvest import HarvestResult, OAIHarvester, OAIHarvestOptions
from linkgraph.replay.corpus import Corpus
from linkgraph.replay.server import ReplayServer
from linkgraph.lock import open_locked_writer
from linkgraph.store import Store

ProgressFn = Callable[[int, int | None], None]


@dataclass
class DemoContext:
    store: Store
    progress: ProgressFn | None = None
    harvests: list[HarvestResult] = field(default_factory=list)


#: the sources the demo creates; their replay server gets a new port on every run
DEMO_SOURCES = ("demo-oai:%", "world-%", "jalc-targets")
LOCAL_ORIGIN = r"^http://127\.0\.0\.1:[0-9]+"


def rebind_demo_sources(store: Store, server_url: str) -> None:
    """Point the demo's own sources at this run's replay server (same path, new port), so a
    second ``linkgraph demo`` on one database harvests incrementally instead of refusing a
    source whose address changed. Only sources on 127.0.0.1 with the demo's names move."""
    from urllib.parse import urlsplit

    origin = "{0.scheme}://{0.netloc}".format(urlsplit(server_url))
    names = " OR ".join("name LIKE ?" for _ in DEMO_SOURCES)
    with store.transaction() as cur:
        cur.execute(
            "UPDATE sources SET base_url = ? || regexp_replace(base_url, ?, '') "
            f"WHERE ({names}) AND regexp_matches(base_url, ?)",
            [origin, LOCAL_ORIGIN, *DEMO_SOURCES, LOCAL_ORIGIN + "(/|$)"],
        )


def harvest_stage(ctx: DemoContext) -> str:
    """Serve the demo corpus locally and harvest every metadata format it offers."""
    corpus = Corpus.demo()
    with ReplayServer(corpus, page_size=5) as server:
        url = server.url
        rebind_demo_sources(ctx.store, url)
        with Transport(HttpPolicy(retries=2, backoff=0.2, timeout=30)) as transport:
            for prefix in sorted(corpus.formats):
                harvester = OAIHarvester(
                    ctx.store,
                    url,
                    OAIHarvestOptions(prefix=prefix),
                    name=f"demo-oai:{prefix}",
                    transport=transport,
                    progress=_count_only(ctx.progress),
                )
                ctx.harvests.append(harvester.run())
    total = sum(h.records for h in ctx.harvests)
    deleted = sum(h.deleted for h in ctx.harvests)
    return f"harvested {total} records ({deleted} deleted) in {len(ctx.harvests)} formats from {url}"


def _count_only(progress: ProgressFn | None) -> ProgressFn | None:
    """Several harvests share one bar: their list sizes are not one total."""
    if progress is None:
        return None
    return lambda n, _total=None: progress(n, None)


WORLD_SEED = 0


def world_stage(ctx: DemoContext) -> str:
    """Generate the seeded multi-registry world (replay/world.py), serve it in every source's
    format on 127.0.0.1, harvest it with the connectors, fetch link targets, crosswalk."""
    from linkgraph.replay.world import generate
    from linkgraph.replay.world_serve import harvest_world, world_apps

    world = generate(WORLD_SEED)
    with ReplayServer(apps=world_apps(world)) as server:
        rebind_demo_sources(ctx.store, server.url)
        run = harvest_world(ctx.store, server, progress=_count_only(ctx.progress))
    works, relations = ctx.store.query("SELECT (SELECT count(*) FROM works), (SELECT count(*) FROM relations)")[0]
    return (f"world of {len(world.works)} records ({len(world.truth)} planted defects) served as JaLC, Crossref "
            f"and DataCite REST, oai_datacite and JPCOAR 2.0; harvested {sum(run.records.values())}, "
            f"{run.unknown_targets} link targets unknown to every agency, "
            f"{run.unverifiable_targets} unverifiable (offline: the replayed doi.org knows only "
            f"the world); the store now holds "
            f"{works} works and {relations} relations")


def audit_stage(ctx: DemoContext) -> str:
    """Audit the links, export the findings, and score them against the world's planted truth."""
    from linkgraph.graph.audit import run_audit
    from linkgraph.report.findings import export_findings
    from linkgraph.replay.world import generate
    from linkgraph.replay.world_serve import flagged_lookalikes, score_findings

    result = run_audit(ctx.store)
    world = generate(WORLD_SEED)
    out = ctx.store.path.parent / f"{ctx.store.path.stem}-findings"
    export_findings(ctx.store, out)
    world.write_truth(str(out / "planted_truth.json"))
    scores = score_findings(ctx.store, world)
    planted = sum(s.planted for s in scores.values())
    matched = sum(s.matched for s in scores.values())
    found = sum(s.found for s in scores.values())
    return (f"{result.findings} findings in {len(result.counts)} kinds; planted defects found {matched}/{planted}, "
            f"{found - matched} world findings not planted, {len(flagged_lookalikes(ctx.store, world))} look-alikes "
            f"flagged; exported to {out}")


STAGES: list[tuple[str, Callable[[DemoContext], str]]] = [
    ("harvest", harvest_stage),
    ("world", world_stage),
    ("audit", audit_stage),
]


def run_demo(db: Path, *, progress: ProgressFn | None = None) -> list[tuple[str, str]]:
    """Run every stage against the DuckDB file ``db``; returns (stage, summary) pairs."""
    done: list[tuple[str, str]] = []
    with open_locked_writer(db) as store:
        ctx = DemoContext(store, progress)
        for name, stage in STAGES:
            done.append((name, stage(ctx)))
    return done
