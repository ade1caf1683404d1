"""Examples shown at the end of every command's ``--help``, in one place.

:func:`add_examples` walks the typer app after every module registered its commands and gives
each command (and each group that runs on its own) an "Examples" epilog from :data:`EXAMPLES`;
``tests/core/test_help.py`` checks that none is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

EXAMPLES: dict[str, tuple[str, ...]] = {
    "status": ("linkgraph status", "linkgraph status --history --json"),
    "demo": ("linkgraph demo", "linkgraph demo --db /tmp/try.duckdb"),
    "replay-server": ("linkgraph replay-server --port 8765",
                      "linkgraph replay-server --corpus world   # every registry at once"),
    "convert": ("linkgraph convert record.xml",
                "linkgraph convert ListRecords.xml --format jpcoar_2.0"),
    "resolve": ("linkgraph resolve 10.11501/3180360 https://doi.org/10.5281/zenodo.28518",),
    "query": ("linkgraph query", "linkgraph query audit_reciprocal --limit 20",
              "linkgraph query audit_same_content --backend neo4j"),
    "run": ("linkgraph run                      # every source that is due, from the config",
            "linkgraph run --source jstage --full"),
    "retention": ("linkgraph retention --dry-run", "linkgraph retention --keep-runs 10"),
    "snapshot": ("linkgraph snapshot",),
    "report": ("linkgraph report --out report.html", "linkgraph report --prefix 10.11501 --out jalc.html",
               "linkgraph report --findings-from lake/ --out lake-report.html"),
    "export": ("linkgraph export --out findings/ --format csv --excel",
               "linkgraph export --kind reciprocal --prefix 10.11501"),
    "oai identify": ("linkgraph oai identify https://jpcoar.repo.nii.ac.jp/oai",),
    "oai formats": ("linkgraph oai formats https://oai.datacite.org/oai",),
    "oai sets": ("linkgraph oai sets https://oai.datacite.org/oai --json",),
    "harvest oai": ("linkgraph harvest oai https://oai.datacite.org/oai --metadata-prefix oai_datacite "
                    "--set JALC.JST",
                    "linkgraph harvest oai URL --metadata-prefix jpcoar_2.0 --from 2024-01-01 --windows 4"),
    "harvest crossref": ("linkgraph harvest crossref --prefix 10.5555 --mailto you@example.org",),
    "harvest datacite": ("linkgraph harvest datacite --client-id jst.jstage",
                         "linkgraph harvest datacite --prefix 10.57400 --from 2025-01-01"),
    "harvest jalc": ("linkgraph harvest jalc --prefix 10.11501",),
    "harvest figshare": ("linkgraph harvest figshare --portal jstagedata",),
    "harvest targets": ("linkgraph harvest targets --limit 1000",),
    "crosswalk": ("linkgraph crosswalk", "linkgraph crosswalk --json"),
    "crosswalk report": ("linkgraph crosswalk report",),
    "graph neo4j load": ("NEO4J_PASSWORD=... linkgraph graph neo4j load --uri bolt://localhost:7687",),
    "graph neo4j export": ("linkgraph graph neo4j export neo4j-csv/ --gzip",),
    "audit": ("linkgraph audit", "linkgraph audit --kind reciprocal --out findings/"),
    "audit diff": ("linkgraph audit diff", "linkgraph audit diff --appeared --json"),
    "lake export": ("linkgraph lake export lake/", "linkgraph lake export /data/lake --db linkgraph.duckdb --json"),
    "lake crosswalk": ("linkgraph lake crosswalk lake/",
                       "linkgraph lake crosswalk /data/lake --master spark://head:7077 --conf spark.executor.memory=8g"),
    "lake audit": ("linkgraph lake audit lake/", "linkgraph lake audit lake/ --master local[4] --kind reciprocal --json"),
    "check": ("linkgraph check deposit.xml", "linkgraph check batch/*.xml --db linkgraph.duckdb --json",
              "linkgraph check record.json --alone"),
    "sources add": ("linkgraph sources add jalc-11501 --kind jalc --prefix 10.11501 --every 1d",
                    "linkgraph sources add dc-jst --kind datacite --client-id jst.jstage"),
    "sources remove": ("linkgraph sources remove jalc-11501",),
    "sources list": ("linkgraph sources list --json",),
    "config check": ("linkgraph config check", "LINKGRAPH_CONFIG=prod.toml linkgraph config check"),
}


def _name(info: Any, fallback: str) -> str:
    name = getattr(info, "name", None)
    return name if isinstance(name, str) and name else fallback


def commands(app: typer.Typer, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(path, info) of every command and every group below ``app``."""
    for info in app.registered_commands:
        yield " ".join((*path, _name(info, info.callback.__name__.replace("_", "-")))), info
    for group in app.registered_groups:
        sub = group.typer_instance
        name = _name(group, _name(sub.info, ""))
        yield " ".join((*path, name)), group
        yield from commands(sub, (*path, name))


def epilog(lines: tuple[str, ...]) -> str:
    return "Examples:\n\n" + "\n\n".join(lines)


def add_examples(app: typer.Typer) -> None:
    for path, info in commands(app):
        if path in EXAMPLES:
            before = info.epilog if isinstance(info.epilog, str) else ""
            info.epilog = (before + "\n\n" if before else "") + epilog(EXAMPLES[path])
