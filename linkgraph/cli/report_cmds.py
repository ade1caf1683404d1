"""``linkgraph report`` (self-contained HTML scorecard and fix list) and ``linkgraph export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkgraph.cli.common import DbOption, JsonOption, QuietOption, console, print_json, resolve_db
from linkgraph.store import Store, open_for_reading

PrefixOption = Annotated[
    str | None,
    typer.Option("--prefix", help="Only this DOI prefix (e.g. 10.11501): its scorecard groups and the findings "
                 "whose subject or object carries it."),
]


FindingsFromOption = Annotated[
    Path | None,
    typer.Option("--findings-from", help="Read the findings a Spark audit wrote into this lake "
                 "(`linkgraph lake audit DIR`) instead of the store's; the scorecard stays the store's."),
]


def _lake_findings(store: Store, directory: Path | None) -> None:
    if directory is not None:
        from linkgraph.lake.findings import use_lake_findings

        use_lake_findings(store.con, directory)


def _check_prefix(store: Store, prefix: str | None) -> None:
    """A DOI prefix the store holds no work of is a typo, not an empty report."""
    if prefix is None:
        return
    from linkgraph.errors import UsageError

    held = store.query("SELECT count(*) FROM works WHERE starts_with(doi, ?)",
                       [prefix.lower().rstrip("/") + "/"])[0][0]
    if not held:
        top = [p for (p,) in store.query(
            "SELECT split_part(doi, '/', 1) AS p FROM works WHERE doi IS NOT NULL "
            "GROUP BY p ORDER BY count(*) DESC, p LIMIT 8")]
        raise UsageError(f"no work in the store has a DOI with prefix {prefix!r}; "
                         f"prefixes held: {', '.join(top) or 'none'}")


def report(
    db: DbOption = None,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write (one file, no external resources).")] = Path(
        "report.html"),
    prefix: PrefixOption = None,
    max_findings: Annotated[
        int, typer.Option("--max-findings", min=0, help="Findings listed per kind (0: all); the rest via `export`.")
    ] = 200,
    findings_from: FindingsFromOption = None,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write the linkage scorecard, charts and findings with their fixes as one HTML file."""
    from linkgraph.outputs import guard_output
    from linkgraph.report.html_report import write_report

    path = resolve_db(db, must_exist=True)
    guard_output(out, path, directory=False)
    with open_for_reading(path) as store:
        _check_prefix(store, prefix)
        _lake_findings(store, findings_from)
        data = write_report(store, out, prefix=prefix, max_findings=max_findings)
    if json_out:
        print_json({"out": str(out), "run_id": data.card.run_id, "prev_run_id": data.card.prev_run_id,
                    "scorecard_rows": len(data.card.rows), "findings": len(data.findings), "by_kind": data.counts})
    elif not quiet:
        console.print(f"wrote {out} ({len(data.card.rows)} scorecard rows, {len(data.findings)} findings"
                      f"{', audit run ' + str(data.card.run_id) if data.card.run_id else ', no audit run yet'})")


def export(
    db: DbOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write <table>.<format> files into.")] = Path(
        "linkgraph-export"),
    tables: Annotated[
        list[str] | None,
        typer.Option("--table", help="findings, scorecard or works_by_type (repeat; default: all three)."),
    ] = None,
    formats: Annotated[
        list[str] | None, typer.Option("--format", help="csv, json or parquet (repeat; default: all three).")
    ] = None,
    excel: Annotated[
        bool, typer.Option("--excel", help="CSV for Excel: UTF-8 with byte-order mark (Japanese text opens "
                           "correctly) and formula-like cells prefixed with '.")
    ] = False,
    prefix: PrefixOption = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only these finding kinds or audit families (repeat).")
    ] = None,
    findings_from: FindingsFromOption = None,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Export findings and the linkage scorecard as CSV, JSON and Parquet."""
    from linkgraph.outputs import guard_output
    from linkgraph.report.export import FORMATS, TABLES
    from linkgraph.report.export import export as run_export

    from linkgraph.graph.audit import resolve_families

    resolve_families(kind)  # an unknown kind is a usage error, as in `audit --kind`
    path = resolve_db(db, must_exist=True)
    guard_output(out_dir, path, directory=True)
    with open_for_reading(path) as store:
        _check_prefix(store, prefix)
        _lake_findings(store, findings_from)
        written = run_export(store, out_dir, tables=tuple(tables or TABLES), formats=tuple(formats or FORMATS),
                             excel=excel, prefix=prefix, kinds=tuple(kind or ()))
    if json_out:
        print_json({k: str(v) for k, v in written.items()})
    elif not quiet:
        for name, path in written.items():
            console.print(f"wrote {name}: {path}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("export")(export)
