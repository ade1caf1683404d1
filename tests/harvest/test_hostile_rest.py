"""REST registries that lie: cursors that go round in a cycle, bodies of the wrong shape.

Each case runs the real CLI against a scripted app on 127.0.0.1 and asserts what an operator
sees: a clear error and exit 1 (never a traceback, never a harvest that does not end), or the
good records stored with the bad entries recorded as problems; and the harvest_runs row closed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from linkgraph.replay.server import ReplayServer, Request, Response

from .registry_helpers import cli

JSON = "application/json"


class Scripted:
    """An app whose answer to the n-th list request is ``script(n, request)``."""

    def __init__(self, script: Callable[[int, Request], Any]):
        self.script = script
        self.calls = 0

    def is_page(self, request: Request) -> bool:
        return True

    def has_token(self, request: Request) -> bool:
        return False

    def handle(self, request: Request) -> Response:
        self.calls += 1
        body = self.script(self.calls, request)
        if isinstance(body, Response):
            return body
        return Response(200, json.dumps(body).encode(), JSON)


def work(i: int, **extra: Any) -> dict[str, Any]:
    return {"DOI": f"10.1234/w{i}", "title": [f"Work {i}"], "type": "journal-article",
            "deposited": {"date-time": f"2024-01-{1 + i % 28:02d}T00:00:00Z"}, **extra}


def crossref_page(items: list[Any], cursor: str | None, total: Any = 6) -> dict[str, Any]:
    message: dict[str, Any] = {"items": items, "total-results": total, "items-per-page": 2}
    if cursor is not None:
        message["next-cursor"] = cursor
    return {"status": "ok", "message-type": "work-list", "message": message}


def harvest_crossref(app: Scripted, tmp_path: Path, timeout: float = 60) -> tuple[Any, Path, float]:
    db = tmp_path / "cr.duckdb"
    with ReplayServer(apps={"/crossref": app}) as server:
        t0 = time.monotonic()
        proc = cli("harvest", "crossref", "--prefix", "10.1234", "--rows", "2", "--retries", "0",
                   "--base-url", server.url_for("/crossref"), db=db, check=False, timeout=timeout)
        return proc, db, time.monotonic() - t0


def runs(db: Path) -> list[tuple[str, str | None]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT status, error FROM harvest_runs ORDER BY run_id").fetchall()
    finally:
        con.close()


def stored_ids(db: Path) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT record_id FROM raw_records").fetchall()}
    finally:
        con.close()


def test_a_crossref_cursor_that_stays_the_same_is_followed_to_the_end(tmp_path: Path) -> None:
    """Real Crossref: next-cursor is a scroll id, the same string on every page (recorded in
    fixtures/crossref/vcr_members98_works_cursor_4pages.yaml); the server keeps the position."""
    position = {"n": 0}

    def script(n: int, req: Request) -> Any:
        if req.param("cursor") == "*":
            position["n"] = 0
        start = position["n"]
        position["n"] += 2
        items = [work(i) for i in range(start, min(start + 2, 5))]
        return crossref_page(items, "DnF1ZXJ5VGhlbkZldGNo-SCROLL", total=5)

    proc, db, _ = harvest_crossref(Scripted(script), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert stored_ids(db) == {f"10.1234/w{i}" for i in range(5)}


@pytest.mark.parametrize("shape", ["cycle", "fresh_cursor_same_page"])
def test_crossref_cursors_that_go_round_end_with_a_clear_error(tmp_path: Path, shape: str) -> None:
    def script(n: int, req: Request) -> Any:
        if shape == "cycle":  # A -> B -> A -> B ...: pages 1 and 2 again and again
            first = req.param("cursor") in ("*", "A")
            return crossref_page([work(0), work(1)] if first else [work(2), work(3)], "B" if first else "A")
        return crossref_page([work(0), work(1)], f"fresh-{n}")  # a new cursor, the same page

    app = Scripted(script)
    proc, db, seconds = harvest_crossref(app, tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "cycle" in proc.stderr and app.calls <= 4 and seconds < 30
    assert runs(db)[-1][0] == "failed"
    assert stored_ids(db) >= {"10.1234/w0", "10.1234/w1"}  # what came before is kept


def test_a_datacite_next_link_cycle_ends_with_a_clear_error(tmp_path: Path) -> None:
    def script(n: int, req: Request) -> Any:
        cursor = req.param("page[cursor]") or "1"
        nxt = {"1": "B", "B": "C", "C": "B"}[cursor]
        base = req.base_url + "/dois"
        data = [{"id": f"10.5555/d{n}", "type": "dois",
                 "attributes": {"doi": f"10.5555/d{n}", "updated": "2024-01-01T00:00:00Z"}}]
        return {"data": data, "meta": {"total": 99}, "links": {"next": f"{base}?page%5Bcursor%5D={nxt}"}}

    db = tmp_path / "dc.duckdb"
    with ReplayServer(apps={"/datacite": Scripted(script)}) as server:
        proc = cli("harvest", "datacite", "--prefix", "10.5555", "--retries", "0",
                   "--base-url", server.url_for("/datacite"), db=db, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "sent before" in proc.stderr
    assert runs(db)[-1][0] == "failed"


BAD_BODIES = {
    "array": ([], "not a Crossref work list"),
    "null": (None, "not a Crossref work list"),
    "items_not_a_list": ({"status": "ok", "message": {"items": "lots"}}, "item list is a str"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_a_body_of_the_wrong_shape_is_a_clear_error(tmp_path: Path, case: str) -> None:
    body, message = BAD_BODIES[case]
    proc, db, _ = harvest_crossref(Scripted(lambda n, req: body), tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert message in proc.stderr
    assert runs(db) and runs(db)[-1][0] == "failed" and message in (runs(db)[-1][1] or "")


def test_bad_entries_are_recorded_and_the_good_ones_stored(tmp_path: Path) -> None:
    items = [
        work(0),
        "not an object",
        42,
        work(1, deposited="2024-01-01"),  # a string where an object belongs
        work(2, deposited={"date-time": "the day after tomorrow"}),  # unparseable
        {"title": ["no DOI"]},
    ]
    proc, db, _ = harvest_crossref(Scripted(lambda n, req: crossref_page(items, None, total="lots")), tmp_path)
    assert proc.returncode in (0, 3) and "Traceback" not in proc.stderr, proc.stderr
    assert stored_ids(db) == {"10.1234/w0", "10.1234/w1", "10.1234/w2"}
    con = duckdb.connect(str(db), read_only=True)
    try:
        problems = [r[0] for r in con.execute("SELECT detail FROM harvest_problems").fetchall()]
    finally:
        con.close()
    assert sum("not an object" in p for p in problems) == 2
    assert any("without DOI" in p for p in problems)
    assert runs(db)[-1][0] in ("ok", "partial")
