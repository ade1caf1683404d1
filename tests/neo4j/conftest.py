"""The live Neo4j for these tests: the server named by NEO4J_URI (NEO4J_USER, NEO4J_PASSWORD,
NEO4J_DATABASE), or else one this session starts itself from Maven Central's Neo4j Community
jars (``server/harness.py``, the same code as ``server/run.sh``) and stops at the end. Without
Java and Maven the live tests skip and say how to get them; nothing stands in for the server."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from linkgraph.graph.neo4j_load import Neo4jTarget

sys.path.insert(0, str(Path(__file__).resolve().parent / "server"))

import harness  # noqa: E402

HOW = ("run `bash tests/neo4j/server/run.sh` and export the NEO4J_* lines it prints, "
       "or install Java 17 and Maven (apt-get install openjdk-17-jdk-headless maven) so the "
       "tests start Neo4j themselves")


def require_tools() -> None:
    missing = harness.missing_tools()
    if missing:
        pytest.skip(f"no Neo4j: NEO4J_URI is unset and {', '.join(missing)} missing; {HOW}")


@pytest.fixture(scope="session")
def neo4j_lib() -> Path:
    """The built Neo4j jars (for a second, throwaway DBMS such as the import test's)."""
    require_tools()
    try:
        return harness.build()
    except harness.HarnessError as e:
        pytest.fail(f"could not build the Neo4j test server: {e}")


@pytest.fixture(scope="session")
def neo4j_target(request: pytest.FixtureRequest) -> Iterator[Neo4jTarget]:
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield Neo4jTarget(uri, os.environ.get("NEO4J_USER", "neo4j"),
                          os.environ.get("NEO4J_PASSWORD", ""),
                          os.environ.get("NEO4J_DATABASE", "neo4j"))
        return
    lib = request.getfixturevalue("neo4j_lib")
    home = harness.make_home(lib=lib)
    try:
        harness.start(home, die_with_parent=True, lib=lib)
        yield Neo4jTarget(home.uri, harness.USER, home.password, "neo4j")
    except harness.HarnessError as e:
        pytest.fail(f"the Neo4j test server did not start: {e}")
    finally:
        harness.stop(home)
        shutil.rmtree(home.path, ignore_errors=True)
