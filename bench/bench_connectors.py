"""Registry connector benchmark: a JaLC-style list-then-fetch harvest.

The replay server lists N synthetic DOIs (``/doilist``, 1000 per page) and serves each record
(``/dois/{doi}``) after ``--latency-ms`` (50 ms by default) on *every* request. Printed:

1. records/s at concurrency 1 and 4 with no rate limit, and their ratio   target >= 3.5x
2. with a rate limit set (``--rate``, default 20 requests/s, concurrency 4): the most request
   arrivals the *server* saw in any 1-second window, and the peak in flight  target <= rate

Prints figures, asserts nothing. Usage:
    python bench/bench_connectors.py [--n 10000] [--latency-ms 50] [--rate 20] [--rate-n 300]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from linkgraph.harvest.http import HttpPolicy, Transport
from linkgraph.harvest.jalc import JalcClient, JalcSource
from linkgraph.harvest.ratelimit import MARGIN
from linkgraph.replay.rest_jalc import JalcApp, jalc_corpus
from linkgraph.replay.server import ReplayServer
from linkgraph.harvest.rest_harvest import RestHarvester, RestHarvestOptions

from linkgraph.store import Store

PREFIX = "10.99997"


def harvest(n: int, latency_ms: float, concurrency: int, rate: float, workdir: Path) -> tuple[float, int, JalcApp]:
    app = JalcApp(jalc_corpus(n, seed=1), latency_ms=latency_ms)
    db = workdir / f"bench-c{concurrency}-r{rate:g}.duckdb"
    with ReplayServer(apps={"/jalc": app}) as server, Store(db) as store:
        policy = HttpPolicy(concurrency=concurrency, delay=MARGIN / rate if rate else 0.0, retries=3)
        with Transport(policy) as tr:
            src = JalcSource(store, "bench", JalcClient(tr, base_url=server.url_for("/jalc")), PREFIX,
                             rows=1000, concurrency=concurrency)
            t0 = time.perf_counter()
            result = RestHarvester(store, src, "bench", RestHarvestOptions()).run()
            elapsed = time.perf_counter() - t0
    assert result.records == n, (result.records, n)
    return elapsed, result.records, app


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=10_000, help="DOIs to list and fetch")
    p.add_argument("--latency-ms", type=float, default=50.0, help="server latency per request")
    p.add_argument("--rate", type=float, default=20.0, help="rate limit for part 2 (requests/s)")
    p.add_argument("--rate-n", type=int, default=300, help="DOIs for part 2")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"JaLC list-then-fetch, {args.n} DOIs, {args.latency_ms:g} ms per request, no rate limit")
        speeds = {}
        for c in (1, 4):
            elapsed, n, app = harvest(args.n, args.latency_ms, c, 0.0, work)
            speeds[c] = n / elapsed
            print(f"  concurrency {c}: {n} records in {elapsed:7.1f} s = {speeds[c]:7.1f} records/s "
                  f"({app.observer.count()} requests, peak {app.observer.peak_inflight} in flight)")
        print(f"  speed-up at concurrency 4: {speeds[4] / speeds[1]:.2f}x (target >= 3.5x)")
        print(f"Rate limit {args.rate:g} requests/s, concurrency 4, {args.rate_n} DOIs")
        elapsed, n, app = harvest(args.rate_n, args.latency_ms, 4, args.rate, work)
        seen = app.observer.max_starts_within(1.0)
        verdict = "holds" if seen <= args.rate else "EXCEEDED"
        print(f"  {n} records in {elapsed:.1f} s; server saw at most {seen} requests in any 1 s window "
              f"(limit {args.rate:g}: {verdict}); {app.observer.count() / elapsed:.1f} requests/s overall")


if __name__ == "__main__":
    main()
