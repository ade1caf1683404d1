from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkgraph.cli import build_app


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's database, made once for the tests that only read it."""
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    res = CliRunner().invoke(build_app(), ["demo", "--db", str(db), "--quiet"])
    assert res.exit_code == 0, res.output
    return db
