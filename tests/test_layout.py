"""The rooms of the repository and the one-way flow between them (README, "Layout").

Data flows harvest -> store -> crosswalks -> graph -> report; the simulation room
(``replay/``: replay servers and the planted-truth world) is imported only by the demo and
replay-server commands, the tests and the benchmarks. These tests walk every import statement
(module level and inside functions) of every module, so a stray import anywhere fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# room directory -> import name
ROOMS = {
    "linkgraph": "linkgraph",
    "harvest": "linkgraph.harvest",
    "crosswalks": "linkgraph.crosswalks",
    "graph": "linkgraph.graph",
    "report": "linkgraph.report",
    "replay": "linkgraph.replay",
    "queries": "linkgraph.queries",
    "lake": "linkgraph.lake",
}

# What each pipeline room may import of the project (besides itself). The core modules
# ``linkgraph.errors`` and ``linkgraph.store`` (and ``arrowbuild``, ``__version__``) are shared.
SHARED = ("linkgraph.errors", "linkgraph.store", "linkgraph.arrowbuild", "linkgraph.__version__")
ALLOWED = {
    "harvest": (),
    "crosswalks": (),
    "graph": ("linkgraph.crosswalks", "linkgraph.queries"),
    "report": ("linkgraph.graph", "linkgraph.queries"),
    "queries": (),
    "lake": ("linkgraph.crosswalks", "linkgraph.graph", "linkgraph.queries"),
}
# Core modules that may start the simulation room: the demo and the replay-server command.
REPLAY_USERS = {"linkgraph/demo.py", "linkgraph/cli/demo_cmds.py"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    room = ROOMS[rel.parts[0]]
    parts = list(rel.with_suffix("").parts[1:])
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join([room, *parts])


def _imports(path: Path) -> set[str]:
    """Every project module ``path`` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{alias.name}" for alias in node.names)  # `from pkg import mod`
    return {m for m in found if m == "linkgraph" or m.startswith("linkgraph.")}


def _modules(room: str) -> list[Path]:
    return sorted(p for p in (ROOT / room).rglob("*.py") if "__pycache__" not in p.parts)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_walk_sees_every_kind_of_import() -> None:
    # The walk itself must catch what it is meant to catch: a function-level import, a
    # relative one and a `from linkgraph import replay`.
    demo = _imports(ROOT / "linkgraph" / "demo.py")
    assert any(_within(m, ("linkgraph.replay",)) for m in demo)
    world_serve = _imports(ROOT / "replay" / "world_serve.py")
    assert "linkgraph.replay.world" in world_serve
    init = _imports(ROOT / "replay" / "__init__.py")
    assert "linkgraph.replay.corpus" in init  # `from .corpus import ...`


@pytest.mark.parametrize("room", ["harvest", "crosswalks", "graph", "report", "queries"])
def test_pipeline_rooms_never_import_the_simulation_room(room: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if _within(m, ("linkgraph.replay",)))
        for p in _modules(room)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_imports_the_simulation_room_only_for_the_demo() -> None:
    users = {
        str(p.relative_to(ROOT))
        for p in _modules("linkgraph")
        if any(_within(m, ("linkgraph.replay",)) for m in _imports(p))
    }
    assert users <= REPLAY_USERS, users - REPLAY_USERS


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_data_flows_one_way(room: str) -> None:
    own = ROOMS[room]
    allowed = (own, *SHARED, *ALLOWED[room])
    wrong: dict[str, list[str]] = {}
    for path in _modules(room):
        # `from linkgraph import store` names both "linkgraph" and "linkgraph.store"
        bad = sorted(m for m in _imports(path) if m != "linkgraph" and not _within(m, allowed))
        if bad:
            wrong[str(path.relative_to(ROOT))] = bad
    assert wrong == {}


def test_rooms_hold_only_their_own_code() -> None:
    graph = {p.stem for p in _modules("graph")}
    harvest = {p.relative_to(ROOT / "harvest").parts[0] for p in _modules("harvest")}
    assert not graph & {"world", "world_formats", "world_serve", "html_report", "svg", "scorecard",
                        "report"}
    assert "replay" not in harvest
    # No HTTP server code in harvest/ or graph/: servers are the simulation room's.
    for room in ("harvest", "crosswalks", "graph", "report"):
        for path in _modules(room):
            served = {m for m in _imports_all(path) if m in ("http.server", "socketserver")}
            assert not served, f"{path.relative_to(ROOT)} imports {served}"


def _imports_all(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out
