"""Shared test helpers. Tests talk to real servers on 127.0.0.1 and real DuckDB files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/peer_*.py helpers


@pytest.fixture
def shared_fixtures() -> Path:
    """The project's recorded fixtures (../shared/fixtures beside the clone)."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures is not beside this checkout")
    return SHARED_FIXTURES


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "linkgraph.duckdb"
