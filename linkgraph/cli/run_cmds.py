"""``linkgraph run``, ``linkgraph sources add|list|remove``, ``linkgraph config check``,
``linkgraph retention`` and ``linkgraph snapshot``: scheduled, boring harvests."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from linkgraph.cli.common import (
    DbOption,
    JsonOption,
    MemoryOption,
    QuietOption,
    console,
    out,
    print_json,
    resolve_db,
)
from linkgraph.config import (
    ENV_CONFIG,
    KINDS,
    Config,
    add_source,
    default_config_path,
    load_config,
    remove_source,
)
from linkgraph.errors import LinkgraphError, UsageError
from linkgraph.logs import FORMATS, Redactor, RunLog
from linkgraph.store import ENV_DB, default_db_path

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar=ENV_CONFIG, show_default=False,
                 help=f"Config file (default: {default_config_path()}; $XDG_CONFIG_HOME respected)."),
]

sources_app = typer.Typer(help="Edit the sources in the config file (comments and layout are kept).",
                          no_args_is_help=True)
config_app = typer.Typer(help="Check the config file.", no_args_is_help=True)


def _db(db: Path | None, cfg: Config | None) -> Path:
    if db is not None:
        return db
    if cfg is not None and cfg.db is not None:
        return cfg.db
    return default_db_path()


def run(
    config: ConfigOption = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="Only this source (repeat for several); runs it even if disabled.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Ignore the schedule hints (`every`): harvest every selected source now.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Ignore the high-water marks: harvest everything again.")] = False,
    wait: Annotated[float | None, typer.Option("--wait", min=0, help="If another run holds the lock, wait up to SECONDS for it instead of refusing (default: [linkgraph] lock_wait, else 0).")] = None,
    no_audit: Annotated[bool, typer.Option("--no-audit", help="Harvest and crosswalk only; skip the audits.")] = False,
    no_snapshot: Annotated[bool, typer.Option("--no-snapshot", help="Do not publish the read snapshot for readers after each stage.")] = False,
    log_format: Annotated[str, typer.Option("--log-format", help="Log lines on stderr: text, or json (one object per line: time, level, source, event, counts).")] = "text",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also log debug events (snapshot timings).")] = False,
    db: DbOption = None,
    memory_limit: MemoryOption = None,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Harvest every due source incrementally, then crosswalk, audit and snapshot the links.

    Exit status: 0 all good; 1 a source (or the crosswalk / audits) failed - the others still
    ran; 2 bad config or usage; 3 no failure, but a server delivered fewer records than it
    announced; 75 another run holds the lock (see --wait).
    """
    from linkgraph.jobs.runner import Runner, RunOptions, RunStopped

    if log_format not in FORMATS:
        raise UsageError(f"--log-format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    cfg = load_config(config)
    log = RunLog(log_format, redact=Redactor(cfg.secrets), quiet=quiet, verbose=verbose)
    opts = RunOptions(db=_db(db, cfg), only=list(source or []), force=force, full=full,
                      wait=cfg.lock_wait if wait is None else wait, audit=not no_audit,
                      snapshot=not no_snapshot, memory_limit=memory_limit or cfg.memory_limit)
    try:
        report = Runner(cfg, opts, log).run()
    except RunStopped as exc:  # run-done (with the error) was logged already
        if log.fmt == "text":
            typer.secho(f"error: {log.redact(str(exc))}", fg=typer.colors.RED, err=True)
        raise typer.Exit(exc.exit_code) from None
    except LinkgraphError as exc:
        log.error("run-refused" if exc.exit_code != 2 else "usage", error=log.redact(str(exc)), exit_code=exc.exit_code)
        raise typer.Exit(exc.exit_code) from None
    if json_out:
        sys.stdout.write(log.redact(json.dumps(report.as_dict(), ensure_ascii=False, default=str)) + "\n")
    raise typer.Exit(report.exit_code)


# -- sources -------------------------------------------------------------------------------


@sources_app.command("add")
def sources_add(
    name: Annotated[str, typer.Argument(help="Source name (letters, digits, . _ : -); also its name in the database.")],
    kind: Annotated[str, typer.Option("--kind", help=f"One of: {', '.join(KINDS)} (figshare: the same as jstage-data, as `harvest figshare` names it).")],
    base_url: Annotated[str | None, typer.Option("--base-url", help="Endpoint base URL (registries and J-STAGE Data have defaults).")] = None,
    metadata_format: Annotated[str | None, typer.Option("--metadata-prefix", help="OAI-PMH metadataPrefix (oai, jstage-data); the config key is metadata_format.")] = None,
    set_: Annotated[str | None, typer.Option("--set", help="OAI-PMH setSpec (oai, jstage-data).")] = None,
    portal: Annotated[int | None, typer.Option("--portal", help="figshare portal number (jstage-data).")] = None,
    prefix: Annotated[str | None, typer.Option("--prefix", help="DOI prefix (crossref, datacite, jalc).")] = None,
    member: Annotated[str | None, typer.Option("--member", help="Crossref member id.")] = None,
    client: Annotated[str | None, typer.Option("--client-id", help="DataCite repository (client) id.")] = None,
    provider: Annotated[str | None, typer.Option("--provider-id", help="DataCite member (provider) id.")] = None,
    mailto: Annotated[str | None, typer.Option("--mailto", help="Crossref polite-pool e-mail.")] = None,
    token_env: Annotated[str | None, typer.Option("--token-env", help="Environment variable holding a Crossref Plus token (the token itself is never written).")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="Contact e-mail sent in the User-Agent.")] = None,
    every: Annotated[str | None, typer.Option("--every", help="Schedule hint: harvest when the last success is this old (30m, 6h, 1d, 1w).")] = None,
    rate: Annotated[float | None, typer.Option("--rate", help="At most this many requests per second.")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", help="Requests in flight at once.")] = None,
    config: ConfigOption = None,
    old_metadata_format: Annotated[str | None, typer.Option("--metadata-format", hidden=True, help="Old spelling of --metadata-prefix.")] = None,
    old_client: Annotated[str | None, typer.Option("--client", hidden=True, help="Old spelling of --client-id.")] = None,
    old_provider: Annotated[str | None, typer.Option("--provider", hidden=True, help="Old spelling of --provider-id.")] = None,
) -> None:
    """Append a \\[sources.NAME] table to the config (validated before it is written)."""
    metadata_format = metadata_format or old_metadata_format  # old spellings: one more release
    client, provider = client or old_client, provider or old_provider
    values: dict[str, Any] = {
        "kind": kind, "base_url": base_url, "metadata_format": metadata_format, "set": set_, "portal": portal,
        "prefix": prefix, "member": member, "client": client, "provider": provider, "mailto": mailto,
        "token_env": token_env, "contact": contact, "every": every, "rate": rate, "concurrency": concurrency,
    }
    path = config or default_config_path()
    cfg = add_source(path, name, {k: v for k, v in values.items() if v is not None})
    console.print(f"added source {name!r} to {path} ({len(cfg.sources)} source(s))")


@sources_app.command("remove")
def sources_remove(
    name: Annotated[str, typer.Argument(help="Source to remove from the config (its harvested records stay in the database).")],
    config: ConfigOption = None,
) -> None:
    """Remove \\[sources.NAME] from the config."""
    path = config or default_config_path()
    cfg = remove_source(path, name)
    console.print(f"removed source {name!r} from {path} ({len(cfg.sources)} source(s) left)")


@sources_app.command("list")
def sources_list(config: ConfigOption = None, json_out: JsonOption = False) -> None:
    """List the configured sources (secrets shown as ***)."""
    cfg = load_config(config)
    rows = [s.describe() for s in cfg.sources.values()]
    if json_out:
        print_json(rows)
        return
    table = Table("name", "kind", "base URL", "query", "every", "enabled")
    for r in rows:
        query = ", ".join(f"{k}={v}" for k, v in r.items()
                          if k not in ("name", "kind", "base_url", "every", "rate", "concurrency", "enabled") and v is not None)
        table.add_row(r["name"], r["kind"], r["base_url"], query, r["every"] or "always", "yes" if r["enabled"] else "no")
    out.print(table)


@config_app.command("check")
def config_check(config: ConfigOption = None, json_out: JsonOption = False) -> None:
    """Validate the config file; errors name the line and key. Exit 0 when valid, 2 otherwise."""
    path = config or default_config_path()
    cfg = load_config(path)
    if json_out:
        print_json({"path": str(path), "valid": True, "sources": list(cfg.sources),
                    "db": str(cfg.db) if cfg.db else None})
        return
    console.print(f"{path}: valid, {len(cfg.sources)} source(s): {', '.join(cfg.sources) or 'none'}")


def retention(
    keep_runs: Annotated[int | None, typer.Option("--keep-runs", min=1, help="Runs kept per source and `run`s kept (default: [retention] keep_runs, else 30).")] = None,
    keep_days: Annotated[int | None, typer.Option("--keep-days", min=0, help="History younger than this is always kept (default: [retention] keep_days, else 90).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")] = False,
    config: ConfigOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Prune old run history and run logs (see docs/operations.md for the policy)."""
    from linkgraph.jobs.runner import open_writer
    from linkgraph.lock import RunLock
    from linkgraph.retention import DEFAULT_KEEP_DAYS, DEFAULT_KEEP_RUNS, prune

    cfg = load_config(config) if (config or default_config_path().exists()) else None
    runs = keep_runs or (cfg.keep_runs if cfg and cfg.keep_runs else DEFAULT_KEEP_RUNS)
    days = keep_days if keep_days is not None else (cfg.keep_days if cfg and cfg.keep_days else DEFAULT_KEEP_DAYS)
    path = _db(db, cfg)
    with RunLock(path, wait=cfg.lock_wait if cfg else 0.0):
        store = open_writer(path)
        try:
            result = prune(store, keep_runs=runs, keep_days=days, dry_run=dry_run)
        finally:
            store.close()
    if json_out:
        print_json({"keep_runs": runs, "keep_days": days, "dry_run": dry_run, "deleted": result.deleted})
        return
    verb = "would delete" if dry_run else "deleted"
    console.print(f"kept the newest {runs} runs and {days} days; {verb}: "
                  + ", ".join(f"{t} {n}" for t, n in result.deleted.items()))


def snapshot(db: DbOption = None) -> None:
    """Publish the read snapshot now (after manual `linkgraph harvest` commands), under the run lock."""
    from linkgraph.jobs.runner import open_writer
    from linkgraph.jobs.snapshot import publish_snapshot
    from linkgraph.lock import RunLock

    path = resolve_db(db, must_exist=True)
    with RunLock(path):
        store = open_writer(path)
        try:
            snap = publish_snapshot(store)
        finally:
            store.close()
    console.print(f"published {snap}")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.add_typer(sources_app, name="sources")
    app.add_typer(config_app, name="config")
    app.command("retention")(retention)
    app.command("snapshot")(snapshot)


__all__ = ["ENV_DB", "register"]
