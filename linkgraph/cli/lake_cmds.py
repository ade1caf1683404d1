"""``linkgraph lake export``: the store as a Hive-partitioned Parquet lake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from linkgraph.cli.common import DbOption, JsonOption, QuietOption, console, out, print_json, resolve_db

lake_app = typer.Typer(help="The store as a Hive-partitioned Parquet lake (DuckDB, Spark and Trino read it).",
                       no_args_is_help=True)


@lake_app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="The lake's directory (created; brought up to date when it exists).")],
    db: DbOption = None,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write raw records (partitioned by source and harvest month), works, identifiers and
    relations (by registry), problems, the agency cache and unknown DOIs as Parquet, with a
    manifest. A second export rewrites only the partitions that changed."""
    from linkgraph.lake.export import export_lake
    from linkgraph.store import open_for_reading

    path = resolve_db(db, must_exist=True)
    if directory.exists() and not directory.is_dir():
        from linkgraph.errors import UsageError

        raise UsageError(f"{directory} exists and is not a directory")

    def step(name: str) -> None:
        if not quiet and not json_out:
            console.print(f"  wrote {escape(name)}")

    with open_for_reading(path) as store:
        result = export_lake(store, directory, progress=step)
    if json_out:
        print_json({"directory": str(result.directory), "partitions": result.partitions,
                    "written": result.written, "unchanged": result.unchanged, "removed": result.removed,
                    "rows": result.rows, "bytes": result.bytes, "seconds": round(result.seconds, 3)})
        return
    if not quiet:
        rows = ", ".join(f"{t} {n:,}" for t, n in result.rows.items())
        out.print(f"lake {escape(str(directory))}: {result.partitions} partitions ({result.written} written, "
                  f"{result.unchanged} unchanged, {result.removed} removed), {result.bytes / 1e6:.1f} MB "
                  f"in {result.seconds:.1f} s; rows: {rows}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(lake_app, name="lake")
