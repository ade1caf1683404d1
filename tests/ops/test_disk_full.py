"""Disk full during `linkgraph run`: one clear line, a `run-done status=failed` event, the
database intact; once space is back the same command completes with the served record set.

The database lives on a small tmpfs mounted for the test (needs root, as CI runs; skipped
elsewhere). Space comes back by remounting the tmpfs larger."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from .ops_helpers import World, json_lines, start_run, stored_ids, write_config


# 6 MB fills up during the harvest; 12 MB during the snapshot and the audit
@pytest.fixture(params=["6m", "12m"])
def small_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={request.param}", "tmpfs", str(mnt)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_ends_the_run_cleanly_and_the_rerun_completes(small_disk: Path, tmp_path: Path) -> None:
    db, cfg = small_disk / "lg.duckdb", tmp_path / "lg.toml"
    with World(oai_records=4000, page=200) as world:
        write_config(cfg, world.sources("repo"))
        first = start_run(cfg, db)
        _, err = first.communicate(timeout=180)
        assert first.returncode == 1, err[-2000:]
        assert "Traceback" not in err
        events = json_lines(err)
        assert events[-1]["event"] == "run-done" and events[-1]["status"] == "failed"
        assert any("No space left" in str(e) or "disk" in str(e).lower() for e in events), events[-3:]
        # the database opens and holds whole pages only
        con = duckdb.connect(str(db), read_only=True)
        try:
            held = con.execute("SELECT count(*) FROM raw_records").fetchone()[0]
        finally:
            con.close()
        assert held <= len(world.served_oai())
        # space is back
        subprocess.run(["mount", "-o", "remount,size=400m", str(small_disk)], check=True)
        again = start_run(cfg, db, "--no-snapshot", "--force")
        _, err = again.communicate(timeout=180)
        assert again.returncode == 0, err[-2000:]
        assert stored_ids(db, "repo") == world.served_oai()
