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
    if corpus_spec == "world" or corpus_spec.startswith("world:"):
        serve_world(corpus_spec, port=port, host=host, page_size=page_size, announce=announce)
        return
    corpus = Corpus.from_spec(corpus_spec)
    server = ReplayServer(corpus, host=host, port=port, page_size=page_size, faults=faults,
                          latency_ms=latency_ms, token_ttl=token_ttl)
    server._bind()
    print(announce.format(url=server.url), flush=True)
    sys.stdout.flush()
    server.serve_forever()


def world_commands(url: str) -> list[str]:
    """The ``linkgraph`` commands that harvest a world served at ``url`` (``serve_world``)."""
    from linkgraph.replay.world import CROSSREF, DATACITE, JALC_ARTICLES

    return [
        f"linkgraph harvest jalc --prefix {JALC_ARTICLES} --base-url {url}/jalc",
        f"linkgraph harvest crossref --prefix {CROSSREF} --base-url {url}/crossref "
        "--mailto you@example.org",
        f"linkgraph harvest datacite --prefix {DATACITE} --base-url {url}/datacite",
        f"linkgraph harvest oai {url}/figshare --metadata-prefix oai_datacite --set portal_999",
        f"linkgraph harvest oai {url}/repository --metadata-prefix jpcoar_2.0",
        "linkgraph crosswalk",
        f"linkgraph harvest targets --ra-url {url}/doiorg/ra --jalc-url {url}/jalc "
        f"--crossref-url {url}/crossref --datacite-url {url}/datacite",
        "linkgraph crosswalk",
        "linkgraph audit",
    ]


def serve_world(spec: str, *, port: int, host: str = "127.0.0.1", page_size: int = 50,
                announce: str = "{url}") -> None:
    """Serve the planted-truth world (``world`` or ``world:SEED``) as every source at once:
    JaLC, Crossref and DataCite REST, doi.org's agency lookup (offline: it knows only the
    world) and two OAI-PMH endpoints; print the URL and the commands that harvest it."""
    from urllib.parse import urlsplit

    from linkgraph.replay.world import generate
    from linkgraph.replay.world_serve import world_apps

    _, _, seed_text = spec.partition(":")
    try:
        seed = int(seed_text) if seed_text else 0
    except ValueError:
        raise ValueError(f"world seed must be an integer: {spec!r} (world or world:SEED)") from None
    world = generate(seed)
    server = ReplayServer(apps=world_apps(world, page_size=page_size), host=host, port=port)
    server._bind()
    url = "{0.scheme}://{0.netloc}".format(urlsplit(server.url))
    print(announce.format(url=url), flush=True)
    print(f"# the planted-truth world (seed {seed}): {len(world.works)} records, "
          f"{len(world.truth)} planted defects. Harvest it into one database:")
    for line in world_commands(url):
        print(line)
    sys.stdout.flush()
    server.serve_forever()
