"""``linkgraph oai ...``, ``linkgraph harvest oai`` and ``linkgraph status``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.table import Table

from linkgraph.cli.common import (
    DbOption,
    JsonOption,
    MemoryOption,
    QuietOption,
    WaitOption,
    console,
    open_store,
    out,
    print_json,
    record_progress,
    resolve_db,
)
from linkgraph.harvest.http import DEFAULT_CONTACT, HttpPolicy, Transport
from linkgraph.harvest.oai import OAIClient
from linkgraph.harvest.oai_harvest import HarvestResult, OAIHarvester, OAIHarvestOptions
from linkgraph.status import job_history, source_status
from linkgraph.store import (
    HARVEST_ROW_GROUP,
    harvest_threads,
    open_for_reading,
)

oai_app = typer.Typer(help="Ask an OAI-PMH endpoint what it offers (no database needed).", no_args_is_help=True)
harvest_app = typer.Typer(
    help="Harvest a source into the DuckDB file (incremental: each run starts where the last ended).",
    no_args_is_help=True,
)

UrlArg = Annotated[str, typer.Argument(help="OAI-PMH base URL, e.g. https://oai.datacite.org/oai")]
ContactOption = Annotated[
    str,
    typer.Option("--contact", envvar="LINKGRAPH_CONTACT", help="Contact e-mail sent in the User-Agent."),
]
TimeoutOption = Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for a connection or a read.")]
RetriesOption = Annotated[int, typer.Option("--retries", min=0, help="Further attempts after a failed request.")]
DelayOption = Annotated[float, typer.Option("--delay", min=0, help="Politeness: minimum seconds between requests.")]

EXIT_PARTIAL = 3


def _transport(contact: str, timeout: float, retries: int, delay: float, concurrency: int = 8) -> Transport:
    return Transport(HttpPolicy(timeout=timeout, retries=retries, delay=delay, contact=contact, concurrency=concurrency))


@oai_app.command("identify")
def identify(
    url: UrlArg,
    json_out: JsonOption = False,
    contact: ContactOption = DEFAULT_CONTACT,
    timeout: TimeoutOption = 60.0,
    retries: RetriesOption = 5,
) -> None:
    """Show the repository's Identify answer (granularity, earliest datestamp, deletions)."""
    with _transport(contact, timeout, retries, 0) as tr:
        info = OAIClient(url, tr).identify()
    if json_out:
        print_json(asdict(info))
        return
    table = Table(show_header=False)
    for key, value in asdict(info).items():
        table.add_row(key, ", ".join(value) if isinstance(value, list) else str(value))
    out.print(table)


@oai_app.command("formats")
def formats(
    url: UrlArg,
    identifier: Annotated[str | None, typer.Option(help="Only the formats of this record.")] = None,
    json_out: JsonOption = False,
    contact: ContactOption = DEFAULT_CONTACT,
    timeout: TimeoutOption = 60.0,
    retries: RetriesOption = 5,
) -> None:
    """List the metadata formats (metadataPrefix values) the endpoint serves."""
    with _transport(contact, timeout, retries, 0) as tr:
        found = OAIClient(url, tr).list_metadata_formats(identifier)
    if json_out:
        print_json([asdict(f) for f in found])
        return
    table = Table("prefix", "schema", "namespace")
    for f in found:
        table.add_row(f.prefix, f.schema, f.namespace)
    out.print(table)


@oai_app.command("sets")
def sets(
    url: UrlArg,
    json_out: JsonOption = False,
    contact: ContactOption = DEFAULT_CONTACT,
    timeout: TimeoutOption = 60.0,
    retries: RetriesOption = 5,
) -> None:
    """List the endpoint's sets (all pages)."""
    with _transport(contact, timeout, retries, 0) as tr:
        found = OAIClient(url, tr).list_sets()
    if json_out:
        print_json([asdict(s) for s in found])
        return
    table = Table("setSpec", "setName")
    for s in found:
        table.add_row(s.spec, s.name)
    out.print(table)


@harvest_app.command("oai")
def harvest_oai(
    url: UrlArg,
    prefix: Annotated[
        str | None,
        typer.Option("--metadata-prefix", show_default=False,
                      help="OAI-PMH metadataPrefix to harvest, e.g. oai_dc, jpcoar_2.0 (`linkgraph oai formats URL` lists them)."),
    ] = None,
    set_: Annotated[str | None, typer.Option("--set", help="Only this set (setSpec).")] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", help="Start date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ); default: the last run's high-water mark."),
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="End date, inclusive; default: now.")] = None,
    windows: Annotated[int, typer.Option("--windows", min=1, max=64, help="Workers harvesting at once; the range is cut into date slices (4 per worker with --window-by auto) that they take in turn.")] = 1,
    window_by: Annotated[
        str, typer.Option("--window-by", help="How to cut windows: auto (equal slices), month or day.")
    ] = "auto",
    full: Annotated[bool, typer.Option("--full", help="Ignore the high-water mark and harvest everything.")] = False,
    lookahead: Annotated[
        bool,
        typer.Option("--lookahead/--no-lookahead",
                     help="Request the next page while this one is parsed (one page ahead, never two requests at once)."),
    ] = True,
    name: Annotated[
        str | None, typer.Option("--name", help="Source name in the database; default host/path:prefix[:set].")
    ] = None,
    db: DbOption = None,
    contact: ContactOption = DEFAULT_CONTACT,
    timeout: TimeoutOption = 60.0,
    retries: RetriesOption = 5,
    delay: DelayOption = 0.0,
    memory_limit: MemoryOption = None,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
    wait: WaitOption = None,
    old_prefix: Annotated[str | None, typer.Option("--prefix", hidden=True, help="Old spelling of --metadata-prefix.")] = None,
) -> None:
    """Harvest ListRecords into raw_records, one committed page at a time.

    Exit status: 0 done; 1 failed (rerun to resume where it stopped); 2 bad usage;
    3 done, but the server delivered fewer records than it announced (see `status`).
    """
    from linkgraph.errors import UsageError

    prefix = prefix or old_prefix  # --prefix: the old spelling, kept for one more release
    if not prefix:
        raise UsageError("missing --metadata-prefix (e.g. oai_dc; `linkgraph oai formats URL` lists them)")
    opts = OAIHarvestOptions(prefix=prefix, set_=set_, from_=from_, until=until, windows=windows, window_by=window_by, full=full,
                              lookahead=lookahead)
    with open_store(db, memory_limit=memory_limit, row_group_size=HARVEST_ROW_GROUP,
                    threads=harvest_threads(), wait=wait) as store, \
            _transport(contact, timeout, retries, delay, concurrency=windows) as tr:
        with record_progress(f"harvest {prefix}", quiet=quiet or json_out) as advance:
            harvester = OAIHarvester(store, url, opts, name=name, transport=tr, progress=advance)
            result = harvester.run()
    _report(result, json_out=json_out, quiet=quiet)
    if result.status == "partial":
        raise typer.Exit(EXIT_PARTIAL)


def _report(result: HarvestResult, *, json_out: bool, quiet: bool) -> None:
    if json_out:
        print_json(asdict(result))
        return
    if quiet:
        return
    verb = "resumed and finished" if result.resumed else "finished"
    console.print(
        f"[bold]{result.source}[/]: {verb} run {result.run_id} ({result.status}): "
        f"{result.records} records ({result.deleted} deleted) in {result.pages} pages, "
        f"{result.windows} date slice(s); next run starts at {result.high_water or '-'}"
    )
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}")


def status(
    db: DbOption = None,
    json_out: JsonOption = False,
    history: Annotated[
        bool, typer.Option("--history", help="List the recent `linkgraph run` runs (outcome per run) instead of the sources.")
    ] = False,
) -> None:
    """Per source: records, deletions, last run, high-water mark and problems; recent `run`s.

    Reads the run's published snapshot while a run writes (never blocks it)."""
    with open_for_reading(resolve_db(db, must_exist=True)) as store:
        rows = source_status(store)
        jobs = job_history(store, 20 if history else 5)
    if history:
        if json_out:
            print_json(jobs)
        else:
            _print_jobs(jobs, empty="no `linkgraph run` recorded yet")
        return
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("no sources harvested yet")
        return
    table = Table("source", "kind", "records", "deleted", "last run", "status", "high-water", "problems")
    table.columns[0].overflow = "fold"
    for r in rows:
        when = r["last_run_finished"] or r["last_run_started"]
        table.add_row(
            r["source"],
            r["kind"],
            str(r["records"]),
            str(r["deleted"]),
            when.strftime("%Y-%m-%d %H:%M") if when else "-",
            r["last_status"] or "-",
            r["high_water"] or "-",
            str(r["problems"]) + (f" (last: {r['last_error']})" if r["last_error"] else ""),
        )
    out.print(table)
    _print_jobs(jobs)


def _print_jobs(jobs: list[dict[str, Any]], *, empty: str | None = None) -> None:
    if not jobs:
        if empty:
            console.print(empty)
        return
    table = Table("run", "started", "status", "ok", "failed", "skipped", "error", title="recent `linkgraph run`s")
    for j in jobs:
        table.add_row(str(j["job_id"]), f"{j['started']:%Y-%m-%d %H:%M}", j["status"], str(j["sources_ok"]),
                      str(j["sources_failed"]), str(j["sources_skipped"]), j["error"] or "")
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(oai_app, name="oai")
    app.add_typer(harvest_app, name="harvest")
    app.command("status")(status)
