"""Options and helpers shared by the command modules."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from linkgraph.store import ENV_DB, Store, default_db_path

# Piped output (logs, CI, cron mail) gets wide lines instead of rich's 80-column default,
# so tables do not fold every DOI and source name.
_PIPED_WIDTH = 160
console = Console(stderr=True, width=None if sys.stderr.isatty() else _PIPED_WIDTH)
out = Console(width=None if sys.stdout.isatty() else _PIPED_WIDTH)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar=ENV_DB,
        help=f"DuckDB file to use (default: {default_db_path()}).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")]


MemoryOption = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        envvar="LINKGRAPH_MEMORY_LIMIT",
        help="DuckDB's starting memory budget for this command (e.g. 256MB, 2GB); beyond it DuckDB"
        " spills to a temp directory beside the database. Default: a quarter of the available memory,"
        " at most 384 MiB. A write that still runs out of memory is retried with the budget doubled, up"
        " to half the available memory. The store's key indexes (about 64 bytes per record) come on top.",
        show_default=False,
    ),
]


WaitOption = Annotated[
    float | None,
    typer.Option(
        "--wait", min=0, max=604800, envvar="LINKGRAPH_LOCK_WAIT",
        help="If another command writes this database, wait up to SECONDS for it instead of"
        " refusing at once (exit 75).",
        show_default=False,
    ),
]


def resolve_db(db: Path | None, *, must_exist: bool = False, announce: bool = True) -> Path:
    """The database every command uses, found the same way: ``--db``, else ``$LINKGRAPH_DB``,
    else ``db`` in the ``[linkgraph]`` table of the config ($LINKGRAPH_CONFIG or the default
    config file), else the default file. When it did not come from ``--db`` or the variable,
    the command says on stderr which file it uses and why. ``must_exist``: a command that only
    reads (or works on what was harvested) refuses a missing file instead of creating one."""
    from linkgraph.config import default_config_path, load_config
    from linkgraph.errors import UsageError

    if db is not None:
        path = db.expanduser()
        how = f"${ENV_DB}" if os.environ.get(ENV_DB) and Path(os.environ[ENV_DB]) == db else "--db"
    else:
        cfg_path = default_config_path()
        cfg = load_config(cfg_path) if cfg_path.is_file() else None
        if cfg is not None and cfg.db is not None:
            path, how = cfg.db, f"db in {cfg_path}"
        else:
            path, how = default_db_path(), "the default"
        if announce:
            console.print(f"[dim]database: {path} ({how})[/dim]")
    if must_exist and not path.is_file():
        where = "" if path.parent.is_dir() else f" (no directory {path.parent})"
        raise UsageError(
            f"no database at {path}{where} ({how}); harvest into it first (`linkgraph run`, "
            "`linkgraph harvest ...`, or `linkgraph demo`), or name another with --db, "
            f"${ENV_DB} or db in the config's [linkgraph] table")
    if not path.parent.is_dir() and how != "the default":  # the default's folder is made
        raise UsageError(f"no directory {path.parent} for the database {path} ({how})")
    return path


def open_store(
    db: Path | None, *, read_only: bool = False, memory_limit: str | None = None, row_group_size: int | None = None,
    threads: int | None = None, wait: float | None = None, must_exist: bool | None = None,
) -> Store:
    """The database of a command (see :func:`resolve_db`; readers need it to exist). A writer
    takes the writer lock first (one writer at a time: another waits ``wait`` seconds,
    default ``$LINKGRAPH_LOCK_WAIT`` or 0, then exits 75)."""
    from linkgraph.lock import open_locked_writer

    path = resolve_db(db, must_exist=read_only if must_exist is None else must_exist)
    if read_only:
        return Store(path, read_only=True, memory_limit=memory_limit, threads=threads)
    return open_locked_writer(path, wait=wait, memory_limit=memory_limit, row_group_size=row_group_size,
                              threads=threads)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


class RateColumn(ProgressColumn):
    """Records per second, as the bar's speed."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rec/s" if speed else "- rec/s", style="progress.data.speed")


@contextmanager
def record_progress(description: str, *, quiet: bool = False) -> Iterator[Any]:
    """A rich progress bar; yields ``advance(n, total=None)``. Silent when quiet or not a tty."""
    if quiet:
        yield lambda n, total=None: None
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=None)

        def advance(n: int, total: int | None = None) -> None:
            if total is not None:
                current = progress.tasks[0].total
                if current is None or total > current:
                    progress.update(task, total=total)
            progress.advance(task, n)

        yield advance

#: ``--kind`` of ``linkgraph audit`` and ``linkgraph lake audit``
KindOption = Annotated[
    list[str] | None,
    typer.Option(
        "--kind",
        help="Audit family (reciprocal, versions, duplicates, targets) or finding kind (e.g. same_content); "
        "repeat for several; default: all.",
    ),
]
