"""``python -m linkgraph.replay``: run a replay server as a subprocess.

Prints ``READY http://127.0.0.1:PORT/oai`` on stdout (flushed) once it listens, then serves
until SIGINT/SIGTERM. Why a module entry point: benchmarks must run the server in another
process so its CPU time does not compete with the harvester under test.
"""

from __future__ import annotations

import argparse
import signal
import sys

from . import serve


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m linkgraph.replay",
                                description="Serve an OAI-PMH replay corpus on 127.0.0.1.")
    p.add_argument("--corpus", default="demo", help="demo | synthetic:N | synthetic:N:SEED")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--faults", default="", help="KIND@N[xCOUNT][:ARG],... (see faults.py)")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--token-ttl", type=float, default=None, help="seconds a token stays valid")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        serve(args.corpus, port=args.port, faults=args.faults, latency_ms=args.latency_ms,
              page_size=args.page_size, host=args.host, token_ttl=args.token_ttl,
              announce="READY {url}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
