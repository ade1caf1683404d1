"""`linkgraph replay-server --corpus world`: every registry of the planted-truth world at once,
and the harvest commands it prints work against it as printed."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from linkgraph.cli import build_app


def test_the_printed_commands_harvest_the_world(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "linkgraph", "replay-server", "--corpus", "world",
                             "--port", "0"], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        header = proc.stdout.readline()
        assert "planted defects" in header
        commands = []
        while len(commands) < 9:
            commands.append(proc.stdout.readline().strip())
        db = tmp_path / "w.duckdb"
        runner = CliRunner()
        harvested = {}
        for line in commands:
            args = shlex.split(line)[1:]
            res = runner.invoke(build_app(), [*args, "--db", str(db)])
            assert res.exit_code == 0, (line, res.output)
            if args[0] == "harvest":
                harvested[" ".join(args[:2])] = res.output
        status = json.loads(runner.invoke(build_app(), ["status", "--db", str(db), "--json"]).stdout)
        records = {r["source"]: r["records"] for r in status}
        assert len([n for n in records.values() if n > 0]) >= 5, records
        findings = runner.invoke(build_app(), ["query", "audit_reciprocal", "--db", str(db), "--json"])
        assert json.loads(findings.stdout), "the world's planted one-way links are found"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
