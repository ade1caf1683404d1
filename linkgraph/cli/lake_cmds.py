"""``linkgraph lake export|crosswalk|audit``: the store as a Hive-partitioned Parquet lake, and
the crosswalk and audits run on Apache Spark over it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from linkgraph.cli.common import (
    DbOption,
    JsonOption,
    KindOption,
    QuietOption,
    console,
    out,
    print_json,
    resolve_db,
)

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


MasterOption = Annotated[
    str,
    typer.Option("--master", help="Spark master: local[N] on this machine (default: every core) or a "
                 "cluster URL (spark://host:7077, yarn, k8s://...); the workers need linkgraph installed."),
]
ConfOption = Annotated[
    list[str] | None,
    typer.Option("--conf", help="A Spark setting KEY=VALUE (e.g. spark.driver.memory=8g); repeat for several."),
]


def local_memory(avail: int | None = None) -> str:
    """A local Spark JVM's heap (it is driver and executor): half of the memory available,
    between 1 and 16 GiB. Spark's own 1g default lost a broadcast of the 1M-work audit's
    working table (TaskResultLost): a default must not fail at scale."""
    from linkgraph.memory import available

    room = available() if avail is None else avail
    return f"{max(1024, min(16 * 1024, room // 2 // 2**20))}m"


def spark_conf(values: list[str] | None, master: str) -> dict[str, str]:
    """``--conf KEY=VALUE`` settings, plus the heap of a local master unless one is given."""
    from linkgraph.errors import UsageError

    conf: dict[str, str] = {}
    for value in values or ():
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--conf takes KEY=VALUE, not {value!r}")
        conf[key.strip()] = val
    if master.startswith("local"):
        conf.setdefault("spark.driver.memory", local_memory())
    return conf


def _lake_dir(directory: Path) -> Path:
    from linkgraph.errors import UsageError
    from linkgraph.lake.export import MANIFEST

    if not (directory / MANIFEST).is_file():
        raise UsageError(f"{directory} is not a lake (no {MANIFEST}): run `linkgraph lake export DIR` first")
    return directory


@lake_app.command("crosswalk")
def crosswalk(
    directory: Annotated[Path, typer.Argument(help="The lake (written by `linkgraph lake export`).")],
    master: MasterOption = "local[*]",
    conf: ConfOption = None,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run the crosswalk on Spark over the lake's raw records (the same readers as
    `linkgraph crosswalk`) and replace the lake's works, identifiers, relations and problems."""
    from linkgraph.lake.crosswalk import run_spark_crosswalk
    from linkgraph.lake.spark import spark_session

    root = _lake_dir(directory)
    settings = spark_conf(conf, master)
    if quiet or json_out:  # no stage bars either
        settings.setdefault("spark.ui.showConsoleProgress", "false")

    def step(name: str) -> None:
        if not quiet and not json_out:
            console.print(f"  wrote {escape(name)}")

    with spark_session(master, app="linkgraph lake crosswalk", conf=settings) as spark:
        result = run_spark_crosswalk(spark, root, progress=step)
    if json_out:
        print_json({"directory": str(root), "raw_records": result.raw_records, "rows": result.rows,
                    "seconds": round(result.seconds, 3)})
    elif not quiet:
        rows = ", ".join(f"{t} {n:,}" for t, n in result.rows.items())
        out.print(f"crosswalk on Spark ({escape(master)}): {result.raw_records:,} raw records -> {rows} "
                  f"in {result.seconds:.1f} s", highlight=False)


@lake_app.command("audit")
def audit(
    directory: Annotated[Path, typer.Argument(help="The lake (written by `linkgraph lake export`).")],
    master: MasterOption = "local[*]",
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Write findings to OUT/findings instead of the lake's own findings/.")] = None,
    kind: KindOption = None,
    conf: ConfOption = None,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run the audits on Spark over the lake (the DuckDB audits' own queries, translated) and
    write the findings as Parquet, partitioned by family, with a _run.json summary."""
    from rich.table import Table

    from linkgraph.graph.audit import resolve_families
    from linkgraph.lake.audit import run_spark_audit, summary
    from linkgraph.lake.spark import spark_session

    root = _lake_dir(directory)
    resolve_families(kind)  # an unknown kind is a usage error before Spark starts
    settings = spark_conf(conf, master)
    if quiet or json_out:  # no stage bars either
        settings.setdefault("spark.ui.showConsoleProgress", "false")

    def step(name: str, seconds: float) -> None:
        if not quiet and not json_out:
            console.print(f"  {escape(name)}: {seconds:.1f} s")

    with spark_session(master, app="linkgraph lake audit", conf=settings) as spark:
        result = run_spark_audit(spark, root, kind, out=out_dir, progress=step)
    if json_out:
        print_json(summary(result))
        return
    if not quiet:
        table = Table("kind", "findings", title=f"Spark audit run {result.run_id}: {result.findings} findings")
        for k, n in sorted(result.counts.items()):
            table.add_row(k, f"{n:,}")
        out.print(table)
        out.print(f"findings: {escape(str(result.directory))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(lake_app, name="lake")
