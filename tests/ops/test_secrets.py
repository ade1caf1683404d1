"""Secrets never stored or printed: a password in a source URL, a token in config and a Neo4j
password in the environment go through harvest, run, status, sources list, report and export,
and none of them appears in any output, log, table, snapshot or file written."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import duckdb
from linkgraph.replay.corpus import Corpus
from linkgraph.replay.oai import OAIApp
from linkgraph.replay.server import ReplayServer, Request, Response

from .ops_helpers import linkgraph, write_config

USER, PASSWORD = "harvester", "url-PASS-7e6d5c4b3a"
TOKEN, NEO4J = "plus-TOKEN-1f2e3d4c5b", "neo4j-PASS-9z8y7x6w"


class BasicAuthOAI:
    """An OAI-PMH app behind HTTP basic auth: 401 without the right credentials."""

    def __init__(self, inner: OAIApp):
        self.inner = inner
        self.authorised = 0
        self.refused = 0

    def is_page(self, request: Request) -> bool:
        return self.inner.is_page(request)

    def has_token(self, request: Request) -> bool:
        return self.inner.has_token(request)

    def handle(self, request: Request) -> Response:
        want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != want:
            self.refused += 1
            return Response(401, b"credentials required", "text/plain")
        self.authorised += 1
        return self.inner.handle(request)


def test_a_password_in_a_url_and_other_secrets_never_leave_the_process(tmp_path: Path) -> None:
    env = {"CROSSREF_PLUS_TOKEN": TOKEN, "NEO4J_PASSWORD": NEO4J}
    db, cfg, out = tmp_path / "lg.duckdb", tmp_path / "lg.toml", tmp_path / "out"
    out.mkdir()
    corpus = Corpus.synthetic(120, seed=3)
    served = sum(1 for r in corpus if "oai_dc" in r.metadata)
    app = BasicAuthOAI(OAIApp(corpus, page_size=25))
    outputs: list[str] = []
    with ReplayServer(apps={"/oai": app}) as server:
        secret_url = server.url_for("/oai").replace("http://", f"http://{USER}:{PASSWORD}@")
        assert PASSWORD in secret_url
        # by hand: the URL on the command line
        r = linkgraph("harvest", "oai", secret_url, "--prefix", "oai_dc", "--db", str(db), "--json", env=env)
        assert r.returncode == 0, r.stderr
        outputs += [r.stdout, r.stderr]
        assert json.loads(r.stdout)["records"] == served
        # scheduled: the URL in the config, beside a token and a Neo4j password from the environment
        write_config(cfg, {"repo": {"kind": "oai", "base_url": secret_url, "metadata_format": "oai_dc"},
                           "cr": {"kind": "crossref", "base_url": server.url_for("/nothing"), "prefix": "10.99999",
                                  "token": TOKEN, "retries": 0}})  # literally in the config
        cfg.write_text(cfg.read_text() + '\n[neo4j]\nuri = "bolt://127.0.0.1:1"\npassword_env = "NEO4J_PASSWORD"\n')
        for fmt in ("json", "text"):
            r = linkgraph("run", "--config", str(cfg), "--db", str(db), "--log-format", fmt, "--json", "--force",
                          env=env)
            assert r.returncode == 1, r.stderr  # cr fails (no such registry), repo is fine
            outputs += [r.stdout, r.stderr]
            assert json.loads(r.stdout)["sources"]["repo"]["status"] == "ok"
        # a wrong password: the error names the URL, without the userinfo
        wrong = secret_url.replace(PASSWORD, "wrong-" + PASSWORD)
        r = linkgraph("harvest", "oai", wrong, "--prefix", "oai_dc", "--db", str(tmp_path / "w.duckdb"),
                      "--retries", "0", env=env)
        assert r.returncode == 1 and "401" in r.stderr and server.url_for("/oai") in r.stderr, r.stderr
        outputs += [r.stdout, r.stderr]
    assert app.authorised > 0 and app.refused >= 1  # the credentials were sent, as basic auth
    for args in (["status"], ["status", "--json"], ["status", "--history", "--json"]):
        outputs.append(linkgraph(*args, "--db", str(db), env=env).stdout)
    for args in (["sources", "list"], ["sources", "list", "--json"], ["config", "check", "--json"]):
        outputs.append(linkgraph(*args, "--config", str(cfg), env=env).stdout)
    r = linkgraph("report", "--db", str(db), "--out", str(out / "report.html"), env=env)
    assert r.returncode == 0, r.stderr
    for table in ("sources", "harvest_runs", "job_runs"):
        r = linkgraph("export", "--db", str(db), "--table", table, "--format", "json", "--out", str(out / table),
                      env=env)
        outputs += [r.stdout, r.stderr]
    for text in outputs:
        for secret in (PASSWORD, TOKEN, NEO4J):
            assert secret not in text, (secret, text[:500])
    # every file written beside the database or into the output folder: DuckDB files, the
    # snapshot, the lock file, the report and the exports
    files = [p for p in [*tmp_path.iterdir(), *out.rglob("*")] if p.is_file() and p.name != "lg.toml"]
    assert any(p.name == "lg.snapshot.duckdb" for p in files) and any(p.suffix == ".html" for p in files)
    for path in files:
        blob = path.read_bytes()
        for secret in (PASSWORD, TOKEN, NEO4J):
            assert secret.encode() not in blob, (secret, path.name)
    con = duckdb.connect(str(db), read_only=True)
    try:
        sources = dict(con.execute("SELECT name, base_url FROM sources").fetchall())
        assert sources["repo"] == server.url_for("/oai")  # stored without userinfo
        assert all(USER not in name for name in sources)  # nor in the default source name
    finally:
        con.close()
