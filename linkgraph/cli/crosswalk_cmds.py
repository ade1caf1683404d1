"""``linkgraph crosswalk`` (raw_records -> works/identifiers/relations/problems),
``linkgraph crosswalk report`` (the relation loss report) and ``linkgraph convert FILE``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from linkgraph.cli.common import (
    DbOption,
    JsonOption,
    MemoryOption,
    QuietOption,
    WaitOption,
    console,
    open_store,
    print_json,
    record_progress,
)
from linkgraph.crosswalks.model import Work
from linkgraph.crosswalks.pipeline import CrosswalkStats, run_crosswalk
from linkgraph.crosswalks.registry import read_document
from linkgraph.crosswalks.report import render, report_from_db


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        name="crosswalk",
        help="Turn raw records into works, identifiers, relations and problems.",
        invoke_without_command=True,
        no_args_is_help=False,
    )

    @group.callback()
    def crosswalk(
        ctx: typer.Context,
        db: DbOption = None,
        rebuild: Annotated[
            bool,
            typer.Option("--rebuild", help="Drop the crosswalk output and redo every raw record."),
        ] = False,
        batch_size: Annotated[
            int, typer.Option("--batch-size", min=1, help="Raw records per transaction.")
        ] = 2000,
        workers: Annotated[
            int,
            typer.Option(
                "--workers", min=0,
                help="Processes running the readers, beside this one that writes: 0 = one per "
                     "core (up to 8) when 20,000 or more raw records wait, else none; 1 = read "
                     "in this process.",
            ),
        ] = 0,
        memory_limit: MemoryOption = None,
        quiet: QuietOption = False,
        as_json: JsonOption = False,
        wait: WaitOption = None,
    ) -> None:
        """Crosswalk raw records that are new or changed since the last run."""
        if ctx.invoked_subcommand is not None:
            ctx.obj = {"db": db}
            return
        with open_store(db, memory_limit=memory_limit, wait=wait, must_exist=True) as store, \
                record_progress("crosswalk", quiet=quiet or as_json) as advance:
            done = 0

            def report_progress(stats: CrosswalkStats) -> None:
                nonlocal done
                advance(stats.raw_records - done, total=stats.pending)
                done = stats.raw_records

            stats = run_crosswalk(store, rebuild=rebuild, batch_size=batch_size, workers=workers,
                                  progress=report_progress)
        if as_json:
            print_json(dataclasses.asdict(stats))
        elif not quiet:
            console.print(
                f"crosswalked {stats.raw_records} raw records "
                f"(change_seq {stats.from_seq}..{stats.to_seq}): {stats.works} works, "
                f"{stats.relations} relations, {stats.problems} problems, "
                f"{stats.deleted} tombstones"
            )

    @group.command("report")
    def report(
        ctx: typer.Context,
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Per format: every raw relation value seen, what it mapped to, what was lost."""
        path = db if db is not None else (ctx.obj or {}).get("db")
        with open_store(path, must_exist=True) as store, store.transaction() as cur:
            rows = report_from_db(cur)
        if as_json:
            print_json([dataclasses.asdict(r) for r in rows])
            return
        from rich.table import Table

        from linkgraph.cli.common import out

        table = Table("format", "raw value", "mapped to", "kind", "count", "flagged", "target lost",
                      title="relation types: what each raw value became")
        for r in rows:
            table.add_row(r.source_format, r.raw_type if r.raw_type is not None else "(none)",
                          r.relation_type, r.kind, str(r.count), str(r.with_problem),
                          str(r.target_lost))
        out.print(table)
        out.print(render(rows).rsplit("\n", 1)[-1], highlight=False)  # the summary line

    app.add_typer(group)

    @app.command("convert")
    def convert(
        file: Annotated[
            Path,
            typer.Argument(exists=True, dir_okay=False, readable=True,
                           help="A metadata file: a record, an API response or an OAI-PMH response."),
        ],
        fmt: Annotated[
            str | None,
            typer.Option("--format", "-f",
                         help="Reader or metadataPrefix (datacite-xml, oai_datacite, jpcoar_2.0, "
                              "crossref-json, ...); detected when omitted."),
        ] = None,
    ) -> None:
        """Print the normalised records of FILE as JSON. Exit status 1 when the file held
        records but none was readable (each carries its problems)."""
        records = convert_file(file.read_bytes(), fmt)
        print_json(records)
        live = [r for r in records if not r.get("deleted")]
        if live and not any(r.get("readable", True) for r in live):
            console.print(f"error: no readable record in {file}; see each record's problems")
            raise typer.Exit(1)


def convert_file(data: bytes, fmt: str | None) -> list[dict[str, Any]]:
    """The JSON-ready records of one file (an OAI-PMH response is split into its records)."""
    out: list[dict[str, Any]] = []
    for rec in read_document(data, fmt):
        if rec.deleted:
            out.append({"record_id": rec.record_id, "deleted": True})
        else:
            out.extend(_dump(w, rec.record_id or w.record_id or w.doi) for w in rec.works)
    return out


def _dump(work: Work, record_id: str | None) -> dict[str, Any]:
    work.record_id = record_id
    return work.to_dict()
