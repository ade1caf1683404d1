"""``linkgraph check FILE...``: the pre-deposit check a publisher runs in its deposit pipeline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from linkgraph.cli.common import ENV_DB, JsonOption, console, out, print_json, resolve_db


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        files: Annotated[
            list[Path],
            typer.Argument(help="Deposit files: Crossref deposit XML, DataCite XML or JSON, JaLC XML or JSON, "
                                "JPCOAR, or an OAI-PMH response holding such records."),
        ],
        db: Annotated[
            Path | None,
            typer.Option("--db", help="Check against this store (its published snapshot while `linkgraph run` "
                                      "writes). Default: $LINKGRAPH_DB, the config's db, or the default file - "
                                      "each only when it exists; none: the deposit is checked alone."),
        ] = None,
        alone: Annotated[
            bool, typer.Option("--alone", help="Check the deposit alone, even when a store is found.")
        ] = False,
        fmt: Annotated[
            str | None,
            typer.Option("--format", "-f", help="Reader for every file (crossref-deposit, datacite-xml, jalc-json, "
                                                "jpcoar, ...); detected per record when omitted."),
        ] = None,
        json_out: JsonOption = False,
    ) -> None:
        """Report what a deposit would leave wrong: links left one-way (either side), targets no
        agency knows, malformed DOIs, unknown relation types, duplicates of held works and links
        stated only in text - each with the fragment to add. Exit status: 0 clean, 1 findings,
        2 a file could not be read (or a usage error)."""
        from linkgraph.errors import UsageError
        from linkgraph.graph.check import check_files

        store: Path | None = None
        if not alone:
            explicit = db is not None or bool(os.environ.get(ENV_DB))
            path = resolve_db(db if db is not None else None, announce=False)
            if path.is_file():
                store = path
                console.print(f"[dim]checking against {escape(str(path))}[/dim]")
            elif explicit:
                raise UsageError(f"no database at {path}; give an existing store or --alone")
        result = check_files(files, db=store, fmt=fmt)
        if json_out:
            print_json(result.to_json())
            raise typer.Exit(result.exit_code)
        for f in result.files:
            if f.problem is not None:
                console.print(f"[red]error[/red]: {escape(f.path)}: {escape(f.problem)}")
            else:
                out.print(f"{escape(f.path)}: {f.works} work(s) read ({f.format})", highlight=False)
        if store is None:
            out.print("checked alone: links out of the deposit cannot be verified "
                      "(give --db to check against a store)", style="dim")
        if not result.findings:
            if not result.unreadable:
                out.print("clean: nothing to fix", style="green")
            raise typer.Exit(result.exit_code)
        table = Table(title=f"{len(result.findings)} finding(s)", show_lines=False)
        for col in ("kind", "severity", "subject", "object", "what to do"):
            table.add_column(col, overflow="fold")
        for f in result.findings:
            table.add_row(f.kind, f.severity, f.subject or "", f.object or "", escape(f.message))
        out.print(table)
        fixes = [f for f in result.findings if f.fix_fragment]
        for f in fixes:
            where = "in this deposit" if f.fix_owner == "deposit" else "held; for its owner"
            out.print(f"\nadd to [bold]{escape(f.fix_for or '')}[/bold] ({where}), {f.fix_format}:", highlight=False)
            out.print(escape(f.fix_fragment or ""), highlight=False, soft_wrap=True)
        raise typer.Exit(result.exit_code)
