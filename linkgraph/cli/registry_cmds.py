"""``linkgraph harvest crossref|datacite|jalc|figshare|targets`` and ``linkgraph resolve``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from linkgraph.cli.common import (
    DbOption,
    JsonOption,
    QuietOption,
    console,
    open_store,
    out,
    print_json,
    record_progress,
)
from linkgraph.cli.harvest_cmds import (
    EXIT_PARTIAL,
    ContactOption,
    RetriesOption,
    TimeoutOption,
    _report,
    harvest_app,
)
from linkgraph.errors import UsageError
from linkgraph.harvest import crossref, datacite, figshare, jalc
from linkgraph.harvest.agency import (
    RA_URL,
    AgencyCache,
    AgencyEndpoints,
    RecordFetcher,
    candidate_target_dois,
    clean_doi,
    doi_prefix,
    fetch_targets,
)
from linkgraph.harvest.http import DEFAULT_CONTACT, HttpPolicy, Transport
from linkgraph.harvest.oai_harvest import OAIHarvester
from linkgraph.harvest.ratelimit import MARGIN
from linkgraph.harvest.rest_harvest import (
    RestHarvester,
    RestHarvestOptions,
    RestHarvestResult,
    RestSource,
)
from linkgraph.store import Store

FromOption = Annotated[
    str | None,
    typer.Option("--from", help="Only records updated on or after this date (YYYY-MM-DD); default: where the last run ended."),
]
UntilOption = Annotated[str | None, typer.Option("--until", help="Only records updated on or before this date (inclusive).")]
FullOption = Annotated[bool, typer.Option("--full", help="Ignore the high-water mark and harvest everything.")]
NameOption = Annotated[str | None, typer.Option("--name", help="Source name in the database (default: derived from the query).")]
MailtoOption = Annotated[
    str | None,
    typer.Option("--mailto", envvar="LINKGRAPH_MAILTO", help="Your e-mail: Crossref's polite pool (3 list requests/s instead of 1)."),
]


def _policy(contact: str, timeout: float, retries: int, *, delay: float = 0.0, concurrency: int = 1) -> HttpPolicy:
    return HttpPolicy(timeout=timeout, retries=retries, delay=delay, contact=contact, concurrency=max(1, concurrency))


def _run_rest(
    store: Store, tr: Transport, src: RestSource, source_name: str, label: str,
    *, from_: str | None, until: str | None, full: bool, quiet: bool,
) -> RestHarvestResult:
    """One REST harvest (Crossref, DataCite, JaLC) behind a progress bar."""
    with record_progress(label, quiet=quiet) as advance:
        opts = RestHarvestOptions(from_=from_, until=until, full=full)
        return RestHarvester(store, src, source_name, opts, progress=advance, requests=lambda: tr.requests).run()


def _finish(result: RestHarvestResult, json_out: bool, quiet: bool, extra: str = "") -> None:
    if json_out:
        print_json(asdict(result))
    elif not quiet:
        verb = "resumed and finished" if result.resumed else "finished"
        console.print(
            f"[bold]{result.source}[/]: {verb} run {result.run_id} ({result.status}): {result.records} records "
            f"in {result.pages} pages, {result.requests} requests{extra}; next run starts at {result.high_water or '-'}"
        )
        for w in result.warnings:
            console.print(f"[yellow]warning:[/] {w}")
    if result.status == "partial":
        raise typer.Exit(EXIT_PARTIAL)


@harvest_app.command("crossref")
def harvest_crossref(
    prefix: Annotated[str | None, typer.Option("--prefix", help="DOI prefix, e.g. 10.7554 (uses /prefixes/{p}/works).")] = None,
    member: Annotated[str | None, typer.Option("--member", help="Crossref member id, e.g. 4374 (uses /members/{id}/works).")] = None,
    from_: FromOption = None,
    until: UntilOption = None,
    type_: Annotated[str | None, typer.Option("--type", help="Only this Crossref type, e.g. journal-article.")] = None,
    mailto: MailtoOption = None,
    rows: Annotated[int, typer.Option("--rows", min=1, max=1000, help="Works per page (at most 1000).")] = 1000,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=16, help="Upper bound on requests in flight (the server's x-concurrency-limit may lower it).")] = 3,
    full: FullOption = False,
    name: NameOption = None,
    base_url: Annotated[str, typer.Option("--base-url", help="Crossref REST API base URL.")] = crossref.BASE_URL,
    db: DbOption = None,
    contact: ContactOption = DEFAULT_CONTACT,
    timeout: TimeoutOption = 60.0,
    retries: RetriesOption = 5,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Harvest Crossref works of a prefix or member into raw_records (crossref-json), paced by the server's rate-limit headers."""
    query = crossref.CrossrefQuery(prefix=prefix, member=member, type_=type_, rows=rows, mailto=mailto)
    source_name = name or (f"crossref:prefix:{prefix}" if prefix else f"crossref:member:{member}") + (f":{type_}" if type_ else "")
    with open_store(db) as store, Transport(_policy(mailto or contact, timeout, retries, concurrency=concurrency)) as tr:
        src = crossref.CrossrefSource(tr, query, base_url=base_url, max_concurrency=concurrency)
        result = _run_rest(store, tr, src, source_name, "harvest crossref",
                           from_=from_, until=until, full=full, quiet=quiet or json_out)
    _finish(result, json_out, quiet, f" (pool {src.limits.pool or '?'}, {src.limits.rate:g} req/s)")


@harvest_app.command("datacite")
def harvest_datacite(
    client_id: Annotated[str | None, typer.Option("--client-id", help="DataCite repository id, e.g. figshare.ars.")] = None,
    provider_id: Annotated[str | None, typer.Option("--provider-id", help="DataCite member (provider) id, e.g. jalc.")] = None,
    prefix: Annotated[str | None, typer.Option("--prefix", help="DOI prefix, e.g. 10.5281.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Only DOIs updated at or after this date/time; default: where the last run ended.")] = None,
    until: UntilOption = None,
    page_size: Annotated[int, typer.Option("--page-size", min=1, max=1000, help="DOIs per page (page[size], at most 1000).")] = 1000,
    full: FullOption = False,
    name: NameOption = None,
    base_url: Annotated[str, typer.Option("--base-url", help="DataCite REST API base URL.")] = datacite.BASE_URL,
    db: DbOption = None,
    contact: ContactOption = DEFAULT_CONTACT,
    timeout: TimeoutOption = 60.0,
    retries: RetriesOption = 5,
    delay: Annotated[float, typer.Option("--delay", min=0, help="Politeness: minimum seconds between requests.")] = 0.0,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Harvest DataCite DOIs of a client, provider or prefix into raw_records (datacite-json), following links.next."""
    key = ("client", client_id) if client_id else ("provider", provider_id) if provider_id else ("prefix", prefix)
    source_name = name or f"datacite:{key[0]}:{key[1]}"
    with open_store(db) as store, Transport(_policy(contact, timeout, retries, delay=delay)) as tr:
        src = datacite.DataCiteSource(tr, client_id=client_id, provider_id=provider_id, prefix=prefix,
                                      page_size=page_size, base_url=base_url)
        result = _run_rest(store, tr, src, source_name, "harvest datacite",
                           from_=from_, until=until, full=full, quiet=quiet or json_out)
    _finish(result, json_out, quiet)


@harvest_app.command("jalc")
def harvest_jalc(
    prefix: Annotated[str | None, typer.Option("--prefix", help="JaLC DOI prefix to harvest, e.g. 10.11473.")] = None,
    prefixes: Annotated[bool, typer.Option("--prefixes", help="List JaLC's prefixes (/prefixes) instead of harvesting.")] = False,
    from_: FromOption = None,
    until: UntilOption = None,
    rows: Annotated[int, typer.Option("--rows", min=1, max=1000, help="DOIs per list page.")] = 1000,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=32, help="Record fetches in flight at once.")] = 4,
    rate: Annotated[float, typer.Option("--rate", min=0, help="At most this many requests per second (0: no limit).")] = 5.0,
    single_encode: Annotated[bool, typer.Option("--single-encode", help="Encode the DOI's slash once (%2F) instead of twice (%252F).")] = False,
    full: FullOption = False,
    name: NameOption = None,
    base_url: Annotated[str, typer.Option("--base-url", help="JaLC REST API base URL.")] = jalc.BASE_URL,
    db: DbOption = None,
    contact: ContactOption = DEFAULT_CONTACT,
    timeout: TimeoutOption = 60.0,
    retries: RetriesOption = 5,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Harvest a JaLC prefix: list /doilist/{prefix}, then fetch /dois/{doi} for each new or changed DOI."""
    delay = MARGIN / rate if rate > 0 else 0.0  # a little under the rate: arrivals jitter
    policy = _policy(contact, timeout, retries, delay=delay, concurrency=concurrency)
    if prefixes:
        with Transport(policy) as tr:
            items = jalc.JalcClient(tr, base_url=base_url).prefixes()
        if json_out:
            print_json(items)
            return
        table = Table("prefix", "ra", "siteId", "updated_date")
        for p in items:
            table.add_row(str(p.get("prefix")), str(p.get("ra")), str(p.get("siteId")), str(p.get("updated_date")))
        out.print(table)
        return
    if not prefix:
        raise UsageError("give --prefix P to harvest, or --prefixes to list them")
    source_name = name or f"jalc:prefix:{prefix}"
    with open_store(db) as store, Transport(policy) as tr:
        client = jalc.JalcClient(tr, base_url=base_url, double_encode=not single_encode)
        src = jalc.JalcSource(store, source_name, client, prefix, rows=rows, concurrency=concurrency)
        result = _run_rest(store, tr, src, source_name, f"harvest jalc {prefix}",
                           from_=from_, until=until, full=full, quiet=quiet or json_out)
    _finish(result, json_out, quiet, f" ({src.fetched} fetched, {src.skipped} unchanged)")


@harvest_app.command("figshare")
def harvest_figshare(
    portal: Annotated[int | None, typer.Option("--portal", help="figshare portal number: harvests the set portal_N (J-STAGE Data or an institution).")] = None,
    set_: Annotated[str | None, typer.Option("--set", help="Any figshare set instead (category_N, item_type_N, ...).")] = None,
    prefix: Annotated[str, typer.Option("--metadata-prefix", help="metadataPrefix (oai_datacite keeps relatedIdentifiers).")] = "oai_datacite",
    from_: FromOption = None,
    until: UntilOption = None,
    full: FullOption = False,
    name: NameOption = None,
    base_url: Annotated[str, typer.Option("--base-url", help="figshare OAI-PMH base URL.")] = figshare.BASE_URL,
    delay: Annotated[float, typer.Option("--delay", min=0, help="Seconds between requests (figshare asks for about 1 request/s).")] = figshare.DELAY,
    db: DbOption = None,
    contact: ContactOption = DEFAULT_CONTACT,
    timeout: TimeoutOption = 60.0,
    retries: RetriesOption = 5,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Harvest a figshare portal (J-STAGE Data, ...) over OAI-PMH; expired tokens (1 h) restart from the last committed datestamp."""
    opts = figshare.options(portal=portal, set_=set_, prefix=prefix, from_=from_, until=until, full=full)
    source_name = name or figshare.source_name(opts)
    with (
        open_store(db) as store,
        Transport(figshare.policy(contact, timeout, retries, delay)) as tr,
        record_progress(f"harvest figshare {opts.set_}", quiet=quiet or json_out) as advance,
    ):
        result = OAIHarvester(store, base_url, opts, name=source_name, transport=tr, progress=advance).run()
    _report(result, json_out=json_out, quiet=quiet)
    if result.status == "partial":
        raise typer.Exit(EXIT_PARTIAL)


RaUrlOption = Annotated[str, typer.Option("--ra-url", help="doi.org registration-agency lookup base URL.")]
JalcUrlOption = Annotated[str, typer.Option("--jalc-url", help="JaLC REST API base URL.")]
CrossrefUrlOption = Annotated[str, typer.Option("--crossref-url", help="Crossref REST API base URL.")]
DataciteUrlOption = Annotated[str, typer.Option("--datacite-url", help="DataCite REST API base URL.")]


@harvest_app.command("targets")
def harvest_targets(
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many target DOIs in this run.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=16, help="Record fetches in flight at once.")] = 4,
    mailto: MailtoOption = None,
    ra_url: RaUrlOption = RA_URL,
    jalc_url: JalcUrlOption = jalc.BASE_URL,
    crossref_url: CrossrefUrlOption = crossref.BASE_URL,
    datacite_url: DataciteUrlOption = datacite.BASE_URL,
    db: DbOption = None,
    contact: ContactOption = DEFAULT_CONTACT,
    timeout: TimeoutOption = 60.0,
    retries: RetriesOption = 5,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Fetch every relation target DOI no harvest holds from the agency that registered it; record DOIs nobody knows."""
    policy = _policy(mailto or contact, timeout, retries, concurrency=concurrency)
    endpoints = AgencyEndpoints(jalc=jalc_url, crossref=crossref_url, datacite=datacite_url)
    with open_store(db) as store, Transport(policy) as ra_tr, RecordFetcher(policy, endpoints, mailto=mailto, concurrency=concurrency) as fetcher:
        dois = candidate_target_dois(store, limit=limit)
        with record_progress("harvest targets", quiet=quiet or json_out) as advance:
            result = fetch_targets(store, dois, AgencyCache(store, ra_tr, base_url=ra_url), fetcher,
                                   concurrency=concurrency, progress=advance)
    if json_out:
        print_json(asdict(result))
    elif not quiet:
        fetched = ", ".join(f"{k} {v}" for k, v in sorted(result.fetched.items())) or "none"
        console.print(f"{result.candidates} target DOIs not held: fetched {fetched}; {result.unknown} unknown to every agency"
                      + (f"; agencies linkgraph cannot fetch from: {result.unsupported}" if result.unsupported else "")
                      + f"; {result.prefixes_asked} prefixes asked at doi.org")


def resolve(
    dois: Annotated[list[str], typer.Argument(help="DOIs (10.x/y, doi:..., or https://doi.org/... links).")],
    store_records: Annotated[bool, typer.Option("--store/--no-store", help="Keep fetched records in raw_records.")] = True,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ask doi.org again even for cached prefixes.")] = False,
    mailto: MailtoOption = None,
    ra_url: RaUrlOption = RA_URL,
    jalc_url: JalcUrlOption = jalc.BASE_URL,
    crossref_url: CrossrefUrlOption = crossref.BASE_URL,
    datacite_url: DataciteUrlOption = datacite.BASE_URL,
    db: DbOption = None,
    contact: ContactOption = DEFAULT_CONTACT,
    timeout: TimeoutOption = 60.0,
    retries: RetriesOption = 5,
    json_out: JsonOption = False,
) -> None:
    """Print each DOI's registration agency (doi.org/ra, cached per prefix) and fetch its record from that agency."""
    from linkgraph.harvest.agency import record_unknown
    from linkgraph.harvest.checkpoint import Checkpoints, Window

    cleaned = []
    for text in dois:
        doi = clean_doi(text)
        if doi is None:
            raise UsageError(f"not a DOI: {text!r}")
        cleaned.append(doi)
    policy = _policy(mailto or contact, timeout, retries)
    endpoints = AgencyEndpoints(jalc=jalc_url, crossref=crossref_url, datacite=datacite_url)
    rows = []
    with open_store(db) as store, Transport(policy) as ra_tr, RecordFetcher(policy, endpoints, mailto=mailto, concurrency=1) as fetcher:
        answers = AgencyCache(store, ra_tr, base_url=ra_url).lookup({doi_prefix(d) for d in cleaned}, refresh=refresh)
        for doi in cleaned:
            ans = answers[doi_prefix(doi)]
            rec = fetcher.fetch(ans.kind, doi) if ans.kind else None
            row = {"doi": doi, "agency": ans.agency, "status": ans.status,
                   "found": rec is not None, "datestamp": rec.datestamp.isoformat() if rec and rec.datestamp else None,
                   "record": None}
            if rec is not None:
                import json

                row["record"] = json.loads(rec.payload or "null")
                if store_records:
                    cp = Checkpoints(store, f"{ans.kind}-targets")
                    base = {"jalc": jalc_url, "crossref": crossref_url, "datacite": datacite_url}[ans.kind or ""]
                    cp.register_source(ans.kind or "", base, {"targets": True})
                    cp.commit_page(Window("resolve", None, None), [rec])
            elif store_records:
                reason = "prefix-unknown" if ans.agency is None else "agency-unsupported" if ans.kind is None else "not-found"
                record_unknown(store, [(doi, doi_prefix(doi), ans.agency, reason)])
            rows.append(row)
    if json_out:
        print_json(rows)
        return
    table = Table("DOI", "agency", "record", "updated")
    for r in rows:
        table.add_row(r["doi"], r["agency"] or f"- ({r['status']})", "found" if r["found"] else "not found", r["datestamp"] or "-")
    out.print(table)


def register(app: typer.Typer) -> None:
    """The harvest commands attach to ``harvest_app`` on import; ``resolve`` is top-level."""
    app.command("resolve")(resolve)
