"""``linkgraph demo`` and ``linkgraph replay-server``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkgraph.cli.common import QuietOption, console, record_progress


def demo(
    db: Annotated[
        Path | None,
        typer.Option("--db", envvar="LINKGRAPH_DB", help="DuckDB file for the demo (default: ./linkgraph-demo.duckdb)."),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Run every stage end to end on the bundled demo corpus, served on 127.0.0.1."""
    from linkgraph.cli.harvest_cmds import status
    from linkgraph.demo import run_demo

    path = db or Path("linkgraph-demo.duckdb")
    with record_progress("demo", quiet=quiet) as advance:
        stages = run_demo(path, progress=advance)
    for name, summary in stages:
        console.print(f"[green]✓[/] {name}: {summary}")
    if not quiet:
        status(db=path, json_out=False)
    console.print(f"database: {path.resolve()}")


def replay_server(
    corpus: Annotated[
        str, typer.Option("--corpus", help="demo (bundled real records, OAI-PMH), synthetic:N[:SEED] (OAI-PMH), or world[:SEED]: the planted-truth world as JaLC, Crossref and DataCite REST, doi.org and OAI-PMH at once, with the commands that harvest it.")
    ] = "demo",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")] = 8757,
    faults: Annotated[
        str,
        typer.Option(
            "--faults",
            help="Faults to inject, KIND@N[xCOUNT][:ARG],... on the Nth page request; kinds: "
            "503, 503date, 500, 429, drop, slow, truncate, expired, repeat, badchar.",
        ),
    ] = "",
    latency: Annotated[float, typer.Option("--latency", min=0, help="Milliseconds to wait before each page.")] = 0.0,
    page_size: Annotated[int, typer.Option("--page-size", min=1, help="Records per page.")] = 100,
) -> None:
    """Serve a corpus on 127.0.0.1 until interrupted (for demos, tests, benchmarks, and trying
    each connector by hand)."""
    from linkgraph.errors import UsageError
    from linkgraph.replay import serve

    try:
        serve(corpus, port=port, faults=faults, latency_ms=latency, page_size=page_size)
    except ValueError as exc:  # a bad corpus or fault spec, found before anything listens
        raise UsageError(str(exc)) from exc
    except OSError as exc:  # the port is taken, or not ours to bind
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; "
                         "choose another --port (0: any free port)") from exc


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("replay-server")(replay_server)
