"""``linkgraph graph neo4j load|export`` and ``linkgraph query NAME``."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from linkgraph.cli.common import (
    DbOption,
    JsonOption,
    MemoryOption,
    QuietOption,
    console,
    open_store,
    print_json,
    record_progress,
    resolve_db,
)
from linkgraph.errors import UsageError

if TYPE_CHECKING:
    from linkgraph.graph.neo4j_load import Neo4jTarget

ENV_URI = "NEO4J_URI"
ENV_USER = "NEO4J_USER"
ENV_PASSWORD = "NEO4J_PASSWORD"
ENV_DATABASE = "NEO4J_DATABASE"

DEFAULT_URI = "neo4j://localhost:7687"
DEFAULT_USER = "neo4j"

UriOption = Annotated[
    str | None,
    typer.Option("--uri", envvar=ENV_URI, show_envvar=True,
                 help="Neo4j address (bolt://, neo4j://, neo4j+s://); else the config's "
                 f"[neo4j] uri, else {DEFAULT_URI}."),
]
UserOption = Annotated[
    str | None,
    typer.Option("--user", envvar=ENV_USER, show_envvar=True,
                 help=f"Neo4j user name; else the config's [neo4j] user, else {DEFAULT_USER}."),
]
DatabaseOption = Annotated[
    str,
    typer.Option("--database", envvar=ENV_DATABASE, help="Neo4j database name.",
                 show_envvar=True),
]


def neo4j_target(uri: str | None, user: str | None, database: str) -> Neo4jTarget:
    """Where and as whom to connect: options and NEO4J_* variables first, then the config's
    ``[neo4j]`` table (``uri``, ``user``, ``password`` or ``password_env``), then defaults.

    The password is never an option (it would sit in shell history and the process list) and
    never printed: ``$NEO4J_PASSWORD``, the config, or a hidden prompt when a terminal is there
    to answer it; with none of them the command stops and names the settings."""
    from linkgraph.config import default_config_path, load_config
    from linkgraph.graph.neo4j_load import Neo4jTarget

    cfg = load_config() if default_config_path().exists() else None
    section = cfg.neo4j if cfg is not None else {}
    password = os.environ.get(ENV_PASSWORD)
    if password is None and cfg is not None:
        password = cfg.neo4j_password
    if password is None:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise UsageError(
                "no Neo4j password: set the environment variable NEO4J_PASSWORD, or "
                "password_env (or password) in the [neo4j] table of the config "
                f"({default_config_path()}); a prompt needs a terminal")
        password = typer.prompt("Neo4j password", hide_input=True, err=True)
    return Neo4jTarget(uri or section.get("uri") or DEFAULT_URI,
                       user or section.get("user") or DEFAULT_USER, password, database)


def register(app: typer.Typer) -> None:
    graph = typer.Typer(name="graph", help="The link graph outside DuckDB (Neo4j).",
                        no_args_is_help=True)
    neo4j = typer.Typer(
        name="neo4j",
        help="Put the link graph into Neo4j: incremental load over Bolt, or CSV files for "
        "neo4j-admin database import (full rebuild).",
        no_args_is_help=True,
    )

    @neo4j.command("load")
    def load_cmd(
        db: DbOption = None,
        uri: UriOption = None,
        user: UserOption = None,
        database: DatabaseOption = "neo4j",
        batch: Annotated[
            int, typer.Option("--batch", min=1, help="Rows per transaction (UNWIND batch).")
        ] = 5000,
        quiet: QuietOption = False,
        as_json: JsonOption = False,
    ) -> None:
        """Bring a running Neo4j up to date with the store: constraints first, then only the
        nodes and relationships that changed since the last load (password from
        $NEO4J_PASSWORD or a prompt)."""
        from linkgraph.graph.neo4j_load import load

        target = neo4j_target(uri, user, database)
        with open_store(db, must_exist=True) as store, \
                record_progress("neo4j load", quiet=quiet) as advance:
            stats = load(store, target, batch_size=batch, progress=advance)
        if as_json:
            print_json(dataclasses.asdict(stats)
                       | {"relationships_per_second": round(stats.relationships_per_second, 1)})
        elif not quiet:
            console.print(
                f"{'full' if stats.full else 'incremental'} load into {target.uri} ({database}): "
                f"{stats.nodes_written} nodes written, {stats.nodes_deleted} deleted, "
                f"{stats.relationships_written} relationships written, "
                f"{stats.relationships_deleted} deleted in {stats.batches} batches, "
                f"{stats.seconds:.1f}s; graph holds {stats.nodes} nodes and "
                f"{stats.relationships} relationships from linkgraph"
            )

    @neo4j.command("export")
    def export(
        directory: Annotated[
            Path,
            typer.Argument(file_okay=False, help="Directory for the CSV files (created)."),
        ],
        db: DbOption = None,
        database: Annotated[
            str, typer.Option("--database", help="Database name in the printed import command.")
        ] = "neo4j",
        gzip: Annotated[
            bool, typer.Option("--gzip", help="Compress the data files (the importer reads .gz).")
        ] = False,
        memory_limit: MemoryOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Write nodes and relationships as CSV for `neo4j-admin database import full`, and
        print the import command."""
        from linkgraph.graph.neo4j_export import export_csv
        from linkgraph.outputs import guard_output

        path = resolve_db(db, must_exist=True)
        guard_output(directory, path, directory=True)
        with open_store(path, read_only=True, memory_limit=memory_limit) as store:
            cur = store.cursor()  # the export's temp tables live on this connection
            try:
                result = export_csv(cur, directory, database=database, compress=gzip)
            finally:
                cur.close()
        if as_json:
            print_json({
                "directory": str(result.directory.resolve()), "nodes": result.nodes,
                "relationships": result.relationships, "multiline": result.multiline,
                "seconds": round(result.seconds, 3), "command": result.command,
                "files": [str(f.resolve()) for f in result.files],
            })
            return
        console.print(
            f"exported {result.nodes} nodes and {result.relationships} relationships to "
            f"{result.directory} in {result.seconds:.1f}s "
            f"({result.rows_per_second:,.0f} rows/s); import with (Neo4j stopped or the "
            "database absent):"
        )
        typer.echo(result.command)

    graph.add_typer(neo4j)
    app.add_typer(graph)

    from linkgraph.queries import public_query_names

    listing = "\n\n".join(f"* {n} ({', '.join(b)})" for n, b in public_query_names().items())

    @app.command("query", epilog=f"Queries:\n\n{listing}")
    def query(
        name: Annotated[
            str | None,
            typer.Argument(help="Query name (queries/NAME.sql or NAME.cypher); none: list them.",
                           show_default=False),
        ] = None,
        backend: Annotated[
            str,
            typer.Option("--backend", "-b",
                         help="duckdb (the store) or neo4j (the loaded graph, over Bolt)."),
        ] = "duckdb",
        db: DbOption = None,
        uri: UriOption = None,
        user: UserOption = None,
        database: DatabaseOption = "neo4j",
        limit: Annotated[
            int | None, typer.Option("--limit", min=1, help="Print at most this many rows.")
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Run a named query on DuckDB or Neo4j (the audit queries and their Cypher twins give
        the same rows); with no name, list the queries."""
        from linkgraph.graph import named_query as nq
        from linkgraph.queries import INTERNAL, describe

        nq.check_backend(backend)
        queries = public_query_names()
        if name is None:
            if as_json:
                print_json([{"name": n, "backends": b, "description": describe(n)}
                            for n, b in queries.items()])
                return
            _print_table(["query", "backends", "what it finds"],
                         [(n, ", ".join(b), describe(n)) for n, b in queries.items()])
            return
        if name in INTERNAL:
            raise UsageError(f"{name!r} is a building block of `linkgraph audit`, not a query "
                             f"to run on its own; queries: {', '.join(queries)}")
        if name not in queries:
            raise UsageError(f"no query named {name!r}; queries: {', '.join(queries)} "
                             "(`linkgraph query` lists them)")
        if backend not in queries[name]:
            raise UsageError(f"query {name!r} exists for {', '.join(queries[name])} only")
        if backend == "duckdb":
            with open_store(db, must_exist=True) as store:
                cur = store.cursor()
                try:
                    result = nq.run_duckdb(cur, name)
                finally:
                    cur.close()
        else:
            from linkgraph.graph.neo4j_load import connect

            driver = connect(neo4j_target(uri, user, database))
            try:
                result = nq.run_neo4j(driver, database, name)
            finally:
                driver.close()
        rows = result.rows[:limit] if limit else result.rows
        if as_json:
            print_json([dict(zip(result.columns, r, strict=True)) for r in rows])
            return
        if len(result.columns) > WIDE:
            _print_records(result.columns, rows)
        else:
            _print_table(result.columns, rows)
        console.print(f"{len(result.rows)} rows ({backend})")


#: more columns than this print one record per block (``column  value`` lines), not a table
WIDE = 8


def _print_records(columns: list[str], rows: list[tuple[object, ...]]) -> None:
    from linkgraph.cli.common import out

    width = max(len(c) for c in columns)
    for i, row in enumerate(rows, 1):
        out.print(f"[bold]-- row {i}[/bold]", highlight=False)
        for col, value in zip(columns, row, strict=True):
            out.print(f"{col:<{width}}  {'' if value is None else value}", highlight=False,
                      markup=False)


def _print_table(columns: list[str], rows: list[tuple[object, ...]]) -> None:
    from rich.table import Table

    from linkgraph.cli.common import out

    table = Table(*columns, show_lines=False)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    out.print(table)
