"""The ``linkgraph`` command: a thin typer layer over the library.

Each command group lives in a module of its own and is registered in :func:`build_app`.
One project exception (:class:`linkgraph.errors.LinkgraphError`) becomes a non-zero exit here
and nowhere else.
"""

from __future__ import annotations

import sys

import typer

from linkgraph.errors import LinkgraphError


def build_app() -> typer.Typer:
    from linkgraph.cli import harvest_cmds

    app = typer.Typer(
        name="linkgraph",
        help="Harvest scholarly metadata into DuckDB and audit cross-registry links.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    harvest_cmds.register(app)
    return app


app = build_app()


def main() -> None:
    """Console-script entry point: project errors become clean messages and exit codes."""
    try:
        app(standalone_mode=False)
    except LinkgraphError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
