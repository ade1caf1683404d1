"""linkgraph.replay: the simulation room - simulated registries and the planted-truth world.

No pipeline module (harvest, crosswalks, graph, report) imports it; only the demo command,
the replay-server command, the tests and the benchmarks do (tests/test_layout.py holds this).

A real local HTTP OAI-PMH 2.0 server with fault injection, used by the demo, the tests and
the benchmarks: it serves a ``Corpus`` (the bundled real
records, or a synthetic corpus of any size) on 127.0.0.1 and can misbehave on purpose
(``FaultPlan``). Public API::

    Corpus, CorpusRecord                       corpus.py
    ReplayServer, Request, Response, App, RequestLog   server.py
    OAIApp                                     oai.py
    FaultPlan, Fault                           faults.py
    serve(...)                                 CLI hook (``linkgraph replay-server``)
    CrossrefApp, DataCiteApp, JalcApp, DoiOrgApp   rest_*.py (REST registries beside it)
    generate(...), world_apps(...), run_world  world.py, world_formats.py, world_serve.py
                                               (the seeded multi-registry demo world)

``python -m linkgraph.replay --corpus synthetic:1000 --port 0`` prints
``READY http://127.0.0.1:PORT/oai`` once listening (for benchmarks run as a subprocess).
"""

from __future__ import annotations

import sys

from .corpus import Corpus, CorpusRecord, Query
from .faults import Fault, FaultPlan
from .oai import OAIApp
from .server import App, ReplayServer, Request, RequestLog, Response

__all__ = [
    "App", "Corpus", "CorpusRecord", "Fault", "FaultPlan", "OAIApp", "Query", "ReplayServer",
    "Request", "RequestLog", "Response", "serve",
]


def serve(
    corpus_spec: str,
    *,
    port: int,
    faults: str = "",
    latency_ms: float = 0,
    page_size: int = 100,
    host: str = "127.0.0.1",
    token_ttl: float | None = None,
    announce: str = "{url}",
) -> None:
    """Serve ``corpus_spec`` (demo | synthetic:N[:SEED]) until interrupted.

    Prints ``announce`` formatted with the base URL (flushed) once the socket listens, so a
    parent process can read the URL (``port=0`` picks a free port). Bad arguments raise
    ``ValueError`` before anything listens.
    """
    corpus = Corpus.from_spec(corpus_spec)
    server = ReplayServer(corpus, host=host, port=port, page_size=page_size, faults=faults,
                          latency_ms=latency_ms, token_ttl=token_ttl)
    server._bind()
    print(announce.format(url=server.url), flush=True)
    sys.stdout.flush()
    server.serve_forever()
