"""Helpers: registry replay servers on 127.0.0.1 and the real CLI run against them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from linkgraph.replay.rest_common import Limits
from linkgraph.replay.rest_registries import registry_apps
from linkgraph.replay.server import ReplayServer

from linkgraph.store import Store


class Registries:
    """A running replay server with the Crossref, DataCite, JaLC and doi.org apps."""

    def __init__(self, server: ReplayServer):
        self.server = server
        self.apps = server.apps

    def url(self, name: str) -> str:
        return self.server.url_for("/" + name)

    def app(self, name: str):
        return self.apps["/" + name]

    def endpoints(self) -> list[str]:
        return ["--ra-url", self.url("doiorg") + "/ra", "--jalc-url", self.url("jalc"),
                "--crossref-url", self.url("crossref"), "--datacite-url", self.url("datacite")]


def start_registries(*, synthetic: int = 0, latency_ms: float = 0.0, faults: str = "",
                     crossref_limits: Limits | None = None) -> ReplayServer:
    apps = registry_apps(synthetic=synthetic, latency_ms=latency_ms, crossref_limits=crossref_limits)
    server = ReplayServer(apps=apps, faults=faults)
    server.start()
    return server


def cli(*args: str, db: Path | None = None, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``linkgraph ARGS`` as a user would (a subprocess of this interpreter)."""
    cmd = [sys.executable, "-m", "linkgraph", *args]
    if db is not None:
        cmd += ["--db", str(db)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def cli_json(*args: str, db: Path | None = None) -> object:
    return json.loads(cli(*args, "--json", db=db).stdout)


def stored(db: Path, source: str | None = None) -> dict[str, str]:
    """record_id -> payload of what the store holds (optionally one source)."""
    with Store(db, read_only=True) as store:
        sql = "SELECT record_id, payload FROM raw_records"
        params: list[object] = []
        if source is not None:
            sql += " WHERE source = ?"
            params.append(source)
        return dict(store.query(sql, params))
