"""``linkgraph audit`` (run the link-graph audits, export findings) and ``linkgraph audit diff``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from linkgraph.cli.common import (
    DbOption,
    JsonOption,
    KindOption,
    QuietOption,
    WaitOption,
    console,
    open_store,
    out,
    print_json,
    resolve_db,
)

audit_app = typer.Typer(
    help="Audit cross-registry links: missing reciprocals, version links, duplicate DOIs, dangling targets.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@audit_app.callback()
def audit(
    ctx: typer.Context,
    db: DbOption = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Directory to write findings.csv, findings.json and findings.parquet into."),
    ] = None,
    kind: KindOption = None,
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", help="Export format for --out: csv, json, parquet (repeat; default: all three)."),
    ] = None,
    keep_snapshots: Annotated[
        int, typer.Option("--keep-snapshots", min=2, help="Link snapshots to keep for `audit diff` (newest first).")
    ] = 2,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print each audit step's time.")] = False,
    wait: WaitOption = None,
) -> None:
    """Run the audits over the crosswalked works and relations; findings go to the `findings` table."""
    if ctx.invoked_subcommand is not None:
        return
    from linkgraph.graph.audit import run_audit
    from linkgraph.outputs import guard_output
    from linkgraph.report.findings import EXPORT_FORMATS, export_findings

    path = resolve_db(db, must_exist=True)
    if out_dir is not None:
        guard_output(out_dir, path, directory=True)
    with open_store(path, wait=wait) as store:
        def step(name: str, seconds: float) -> None:
            if verbose and not json_out:
                console.print(f"  {name}: {seconds:.2f} s")

        result = run_audit(store, kind, keep_snapshots=keep_snapshots, progress=step)
        written = {}
        if out_dir is not None:
            written = export_findings(store, out_dir, tuple(formats or EXPORT_FORMATS), tuple(kind or ()))
    if json_out:
        print_json({**asdict(result), "findings": result.findings,
                    "exported": {k: str(v) for k, v in written.items()}})
        return
    if quiet:
        return
    table = Table("kind", "findings", title=f"audit run {result.run_id}: {result.findings} findings")
    for k, n in sorted(result.counts.items()):
        table.add_row(k, str(n))
    out.print(table)
    fixes = ", ".join(f"{n} {fmt}" for fmt, n in sorted(result.fixes.items())) if result.fixes else "none"
    console.print(f"{result.links} DOI links snapshotted; {result.clusters} duplicate clusters; "
                  f"fix fragments: {fixes}")
    for fmt, path in written.items():
        console.print(f"wrote {fmt}: {path}")


@audit_app.command("diff")
def diff(
    db: DbOption = None,
    old: Annotated[int | None, typer.Option("--old", help="Audit run to compare from (default: the one before --new).")] = None,
    new: Annotated[int | None, typer.Option("--new", help="Audit run to compare to (default: the latest).")] = None,
    appeared: Annotated[bool, typer.Option("--appeared", help="Also list links that are new since the older run.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Print at most this many changes (0: all).")] = 200,
    json_out: JsonOption = False,
) -> None:
    """List links that disappeared or changed type since the previous audit run."""
    from linkgraph.report.findings import link_changes

    with open_store(db, read_only=True) as store:
        run_old, run_new, changes = link_changes(store, old=old, new=new, include_new=appeared)
    if json_out:
        print_json({"old_run": run_old, "new_run": run_new, "changes": [asdict(c) for c in changes]})
        return
    shown = changes if not limit else changes[:limit]
    table = Table("change", "subject", "target", "was", "now", "source",
                  title=f"link changes from audit run {run_old} to {run_new}: {len(changes)}")
    for c in shown:
        table.add_row(c.change, c.subject_doi, c.target, ", ".join(c.old_types), ", ".join(c.new_types) or "-",
                      c.source or "")
    out.print(table)
    if len(shown) < len(changes):
        console.print(f"... {len(changes) - len(shown)} more (use --limit 0 or --json)")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
