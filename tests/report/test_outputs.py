"""Outputs never clobber inputs: `--out` that is the database, a file beside it, another
DuckDB file, a device or the wrong kind of path is refused with exit 2 and nothing changes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from linkgraph.store import Store


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "linkgraph", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "v.duckdb"
    with Store(path):
        pass
    return path


def test_outputs_that_would_destroy_an_input_are_refused(db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    with Store(other):
        pass
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "plain-file").write_text("keep me")
    before = {p: digest(p) for p in (db, other, tmp_path / "plain-file")}
    cases = [
        ("report", "--out", str(db)),
        ("report", "--out", str(db) + ".wal"),
        ("report", "--out", str(tmp_path / "v.snapshot.duckdb")),
        ("report", "--out", str(other)),
        ("report", "--out", str(fifo)),
        ("report", "--out", str(tmp_path)),
        ("export", "--out", str(db)),
        ("export", "--out", str(tmp_path / "plain-file")),
        ("audit", "--out", str(db)),
        ("graph", "neo4j", "export", str(db)),
    ]
    for args in cases:
        result = cli(*args, "--db", str(db))
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr, (args, result.stderr)
        # ours say "error: --out ..."; typer refuses a file given as the neo4j directory itself
        flat = "".join(result.stderr.split()).replace("│", "")  # typer's box wraps long paths
        assert "error:--out" in flat or "Invalidvaluefor'directory'" in flat, (args, result.stderr)
    assert {p: digest(p) for p in before} == before
    with Store(db, read_only=True) as store:  # still a database
        assert store.schema_version > 0


def test_a_good_output_is_written_and_no_temporary_file_stays(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("report", "--db", str(db), "--out", str(out / "r.html")).returncode == 0
    assert cli("export", "--db", str(db), "--out", str(out)).returncode == 0
    names = sorted(p.name for p in out.iterdir())
    assert "r.html" in names and "findings.csv" in names
    assert not [n for n in names if n.startswith(".") or ".tmp" in n]
