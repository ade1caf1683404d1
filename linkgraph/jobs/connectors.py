"""One configured source -> the project's connector, run once (incrementally).

Nothing is re-implemented here: each kind maps onto the connector the ``linkgraph harvest ...``
commands use (OAIHarvester, the figshare preset, RestHarvester over CrossrefSource,
DataCiteSource, JalcSource), with the politeness settings taken from the config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from linkgraph.config import SourceConfig
from linkgraph.harvest import crossref, datacite, figshare, jalc
from linkgraph.harvest.http import DEFAULT_CONTACT, HttpPolicy, Transport
from linkgraph.harvest.oai_harvest import OAIHarvester, OAIHarvestOptions
from linkgraph.harvest.ratelimit import MARGIN
from linkgraph.harvest.rest_harvest import RestHarvester, RestHarvestOptions
from linkgraph.store import Store

CROSSREF_PLUS_HEADER = "Crossref-Plus-API-Token"


@dataclass(slots=True)
class SourceOutcome:
    """What one source's harvest did (the runner logs it and stores it in job_runs.outcome)."""

    status: str  # ok | partial | failed | skipped
    records: int = 0
    pages: int = 0
    run_id: int | None = None
    high_water: str | None = None
    resumed: bool = False
    warnings: int = 0
    error: str | None = None
    reason: str | None = None  # why skipped
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in ("status", "records", "pages", "run_id", "high_water", "resumed",
                                          "warnings", "error", "reason")}
        return {k: v for k, v in d.items() if v is not None and v is not False} | self.extra


def _policy(src: SourceConfig, *, delay: float | None = None, concurrency: int | None = None,
            headers: dict[str, str] | None = None) -> HttpPolicy:
    if delay is None:
        delay = MARGIN / src.rate if src.rate else 0.0
    return HttpPolicy(timeout=src.timeout, retries=src.retries, delay=delay,
                      contact=src.contact or DEFAULT_CONTACT,
                      concurrency=max(1, concurrency or src.concurrency or 1), headers=headers or {})


def harvest_source(store: Store, src: SourceConfig, *, full: bool = False,
                   progress: Callable[[int, int | None], None] | None = None) -> SourceOutcome:
    """Harvest ``src`` into ``store`` from where its last run ended; raises on failure."""
    opt = src.options
    if src.kind in ("oai", "jstage-data"):
        if src.kind == "oai":
            windows = int(opt.get("windows", 1))
            opts = OAIHarvestOptions(prefix=opt["metadata_format"], set_=opt.get("set"), windows=windows, full=full)
            policy = _policy(src, concurrency=src.concurrency or windows)
        else:
            opts = figshare.options(portal=opt.get("portal"), set_=opt.get("set"),
                                    prefix=opt.get("metadata_format", "oai_datacite"), full=full)
            delay = MARGIN / src.rate if src.rate else figshare.DELAY
            policy = figshare.policy(src.contact or DEFAULT_CONTACT, src.timeout, src.retries, delay)
        with Transport(policy) as tr:
            res = OAIHarvester(store, src.base_url, opts, name=src.name, transport=tr, progress=progress).run()
        return SourceOutcome(res.status, res.records, res.pages, res.run_id, res.high_water, res.resumed,
                             len(res.warnings), extra={"deleted": res.deleted})
    rest_opts = RestHarvestOptions(full=full)
    if src.kind == "crossref":
        headers = {CROSSREF_PLUS_HEADER: f"Bearer {src.secret}"} if src.secret else None
        concurrency = src.concurrency or 3
        query = crossref.CrossrefQuery(prefix=opt.get("prefix"), member=str(opt["member"]) if "member" in opt else None,
                                       type_=opt.get("type"), rows=int(opt.get("rows", crossref.MAX_ROWS)),
                                       mailto=opt.get("mailto"))
        with Transport(_policy(src, delay=0.0, concurrency=concurrency, headers=headers)) as tr:
            source: Any = crossref.CrossrefSource(tr, query, base_url=src.base_url, max_concurrency=concurrency)
            res = RestHarvester(store, source, src.name, rest_opts, progress=progress,
                                requests=lambda: tr.requests).run()
    elif src.kind == "datacite":
        with Transport(_policy(src)) as tr:
            source = datacite.DataCiteSource(tr, client_id=opt.get("client"), provider_id=opt.get("provider"),
                                             prefix=opt.get("prefix"),
                                             page_size=int(opt.get("page_size", datacite.MAX_SIZE)),
                                             base_url=src.base_url)
            res = RestHarvester(store, source, src.name, rest_opts, progress=progress,
                                requests=lambda: tr.requests).run()
    elif src.kind == "jalc":
        concurrency = src.concurrency or 4
        with Transport(_policy(src, concurrency=concurrency)) as tr:
            client = jalc.JalcClient(tr, base_url=src.base_url)
            source = jalc.JalcSource(store, src.name, client, opt["prefix"],
                                     rows=int(opt.get("rows", jalc.MAX_ROWS)), concurrency=concurrency)
            res = RestHarvester(store, source, src.name, rest_opts, progress=progress,
                                requests=lambda: tr.requests).run()
    else:  # parse_config only lets known kinds through
        raise AssertionError(src.kind)
    return SourceOutcome(res.status, res.records, res.pages, res.run_id, res.high_water, res.resumed,
                         len(res.warnings), extra={"requests": res.requests})
