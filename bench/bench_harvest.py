"""Harvest benchmarks: prints figures, asserts nothing (targets are in the issue, not in tests).

1. Throughput on a synthetic corpus served by the replay server in another process:
   linkgraph's records/s as a ratio to Sickle's, Sickle's records also bulk-inserted into
   DuckDB through Arrow (so both do the same job: fetch, parse, store).   target >= 3x
2. Peak memory (max RSS of a `linkgraph harvest oai` subprocess) for 10k vs 500k-record
   corpora.                                                                 target flat, < 250 MB
3. With 200 ms latency per page, 4 date windows against 1.                  target >= 3x

Usage: python bench/bench_harvest.py [--quick] [--only throughput,memory,windows]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from linkgraph.harvest.http import HttpPolicy, Transport
from linkgraph.harvest.oai_harvest import OAIHarvester, OAIHarvestOptions
from linkgraph.store import (
    HARVEST_ROW_GROUP,
    RawRecord,
    Store,
    harvest_threads,
    raw_table,
    usable_cores,
)

PREFIX = "oai_dc"


@contextmanager
def replay_server(corpus: str, *, latency_ms: float = 0, page_size: int = 100,
                  pids: list[int] | None = None) -> Iterator[str]:
    """The replay server in a subprocess (its process id appended to ``pids`` when given)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkgraph.replay", "--corpus", corpus, "--port", "0",
         "--latency-ms", str(latency_ms), "--page-size", str(page_size)],
        stdout=subprocess.PIPE, text=True,
    )
    if pids is not None:
        pids.append(proc.pid)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"replay server did not start: {line!r}")
        yield line.split(" ", 1)[1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def harvest_linkgraph(url: str, db: Path, *, windows: int = 1, full: bool = False,
                      from_: str | None = None, until: str | None = None) -> int:
    # the store as `linkgraph harvest oai` opens it
    with Store(db, row_group_size=HARVEST_ROW_GROUP,
               threads=harvest_threads()) as store, \
            Transport(HttpPolicy(concurrency=max(windows, 1))) as tr:
        opts = OAIHarvestOptions(prefix=PREFIX, windows=windows, full=full, from_=from_, until=until)
        return OAIHarvester(store, url, opts, name="bench", transport=tr).run().records


def harvest_sickle(url: str, db: Path) -> int:
    """Sickle fetches and parses; its records go to the same table in Arrow batches of one
    row group each (the size DuckDB writes straight to the file, as linkgraph's commits do)."""
    from datetime import datetime, timezone

    from sickle import Sickle

    def stamp(value: str) -> datetime:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    n = 0
    batch: list[RawRecord] = []
    with Store(db, row_group_size=HARVEST_ROW_GROUP,
               threads=harvest_threads()) as store:  # the same store
        def flush() -> None:
            with store.transaction() as cur:
                cur.register("raw_batch_t", raw_table("sickle", None, batch))
                cur.execute("INSERT INTO raw_records SELECT source, record_id, datestamp, deleted,"
                            " metadata_format, payload, payload_hash, sets, fetched_at, run_id,"
                            " nextval('raw_change_seq') FROM raw_batch_t")
                cur.unregister("raw_batch_t")
            batch.clear()

        for rec in Sickle(url, max_retries=3).ListRecords(metadataPrefix=PREFIX, ignore_deleted=False):
            h = rec.header
            batch.append(RawRecord(h.identifier, stamp(h.datestamp), h.deleted, PREFIX,
                                   None if h.deleted else rec.raw, tuple(h.setSpecs)))
            n += 1
            if len(batch) >= HARVEST_ROW_GROUP:
                flush()
        if batch:
            flush()
    return n


def timed(fn, *args, **kw) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    n = fn(*args, **kw)
    return n, time.perf_counter() - t0


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) another process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_timed(server: int, fn, *args, **kw) -> tuple[int, float, float, float, float]:  # type: ignore[no-untyped-def]
    """``timed`` plus CPU seconds: this process (all its threads), this thread, the server."""
    own, mine, theirs = time.process_time(), time.thread_time(), process_cpu(server)
    n, secs = timed(fn, *args, **kw)
    return n, secs, time.process_time() - own, time.thread_time() - mine, process_cpu(server) - theirs


_TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")


def fetch_pages(url: str) -> list[bytes]:
    """The fetch ceiling: every ListRecords page with plain httpx, nothing parsed but the token."""
    import httpx

    pages: list[bytes] = []
    params = {"verb": "ListRecords", "metadataPrefix": PREFIX}
    with httpx.Client(timeout=60) as client:
        while True:
            body = client.get(url, params=params).content
            pages.append(body)
            m = _TOKEN.search(body)
            if not m:
                return pages
            params = {"verb": "ListRecords", "resumptionToken": m.group(1).decode()}


def parse_pages(pages: list[bytes]) -> int:
    """The parse ceiling: lxml iterparse of each page, reading what the store keeps of a record
    (identifier, datestamp, the metadata serialised)."""
    from io import BytesIO

    from lxml import etree

    oai = "{http://www.openarchives.org/OAI/2.0/}"
    n = 0
    for page in pages:
        for _, rec in etree.iterparse(BytesIO(page), tag=f"{oai}record"):
            header = rec.find(f"{oai}header")
            _ = header.findtext(f"{oai}identifier"), header.findtext(f"{oai}datestamp")
            meta = rec.find(f"{oai}metadata")
            if meta is not None and len(meta):
                etree.tostring(meta[0])
            rec.clear()
            n += 1
    return n


def _spread(rates: list[float]) -> str:
    lo, mid, hi = min(rates), statistics.median(rates), max(rates)
    return f"{lo:,.0f} / {mid:,.0f} / {hi:,.0f}"


def bench_throughput(size: int, rounds: int) -> None:
    """Linkgraph, the Sickle loop and both ceilings, alternating in each round on the same server, so
    a slow spell on the shared cores falls on all four; the ratios are of medians."""
    print(f"\n## throughput: synthetic:{size} corpus, {PREFIX} records, page size 100, {rounds} rounds")
    lg: list[float] = []
    sk: list[float] = []
    fetch: list[float] = []
    parse: list[float] = []
    cpu: dict[str, list[float]] = {"linkgraph": [], "main": [], "sickle": [], "server": []}  # us/record
    pids: list[int] = []
    with replay_server(f"synthetic:{size}", pids=pids) as url, tempfile.TemporaryDirectory() as tmp:
        harvest_linkgraph(url, Path(tmp) / "warm.duckdb")  # warm the server's caches
        for i in range(rounds):
            n_l, t_l, c_l, c_main, c_srv = cpu_timed(pids[0], harvest_linkgraph, url, Path(tmp) / f"lg{i}.duckdb")
            n_s, t_s, c_s, _, _ = cpu_timed(pids[0], harvest_sickle, url, Path(tmp) / f"sickle{i}.duckdb")
            cpu["linkgraph"].append(1e6 * c_l / n_l)
            cpu["main"].append(1e6 * c_main / n_l)
            cpu["sickle"].append(1e6 * c_s / n_s)
            cpu["server"].append(1e6 * c_srv / n_l)
            t0 = time.perf_counter()
            pages = fetch_pages(url)
            t_f = time.perf_counter() - t0
            n_p, t_p = timed(parse_pages, pages)
            del pages
            lg.append(n_l / t_l)
            sk.append(n_s / t_s)
            fetch.append(n_p / t_f)
            parse.append(n_p / t_p)
            print(f"round {i + 1}: linkgraph {lg[-1]:,.0f}, sickle {sk[-1]:,.0f}, "
                  f"fetch {fetch[-1]:,.0f}, parse {parse[-1]:,.0f} records/s "
                  f"(ratio {lg[-1] / sk[-1]:.2f}x, {100 * lg[-1] / min(fetch[-1], parse[-1]):.0f}% of ceiling)")
    m_l, m_s = statistics.median(lg), statistics.median(sk)
    ceiling = min(statistics.median(fetch), statistics.median(parse))
    print("records/s, min / median / max:")
    print(f"  linkgraph:      {_spread(lg)}")
    print(f"  sickle:         {_spread(sk)}")
    print(f"  fetch ceiling:  {_spread(fetch)}")
    print(f"  parse ceiling:  {_spread(parse)}")
    print(f"ratio linkgraph/sickle (medians): {m_l / m_s:.2f}x (target >= 3x)")
    print(f"linkgraph at {100 * m_l / ceiling:.0f}% of min(fetch, parse) (medians; target >= 60%)")
    c = {k: statistics.median(v) for k, v in cpu.items()}
    cores = usable_cores()
    bound = cores * 1e6 / (c["linkgraph"] + c["server"])
    serial = 1e6 / c["main"]
    print(f"CPU per record (medians): linkgraph {c['linkgraph']:.0f} us (its process, every thread; "
          f"{c['main']:.0f} us on the thread that parses), sickle loop {c['sickle']:.0f} us, "
          f"the replay server {c['server']:.0f} us")
    print(f"  bounds on linkgraph: every core busy (it and the server on {cores}) {bound:,.0f} rec/s = "
          f"{bound / m_s:.2f}x sickle; its parsing thread never off the CPU {serial:,.0f} rec/s = "
          f"{serial / m_s:.2f}x; reached {100 * m_l / min(bound, serial):.0f}% of the lower")
    _ = pa  # Arrow is what both paths insert through


_CHILD = (
    "import atexit, sys\n"
    "def hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM'):\n"
    "            print('VMHWM', line.split()[1], file=sys.stderr, flush=True)\n"
    "atexit.register(hwm)\n"
    "sys.argv = ['linkgraph'] + sys.argv[1:]\n"
    "from linkgraph.cli import main\n"
    "main()\n"
)


def peak_rss_mb(url: str, db: Path) -> tuple[float, float]:
    """Peak RSS (MB) and wall time of a CLI harvest in a child process.

    The child reports its own VmHWM at exit: ``ru_maxrss`` from wait4 is not usable here,
    because Linux carries the parent's high-water mark into a forked child."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, "harvest", "oai", url, "--prefix", PREFIX,
         "--db", str(db), "--quiet"],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"harvest failed with {proc.returncode}: {proc.stderr[-500:]}")
    kb = next(int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("VMHWM"))
    return kb / 1024, time.perf_counter() - t0


def bench_memory(small: int, large: int) -> None:
    print(f"\n## peak memory: {small} vs {large} records (max RSS of the harvest process)")
    results = []
    for size in (small, large):
        with replay_server(f"synthetic:{size}") as url, tempfile.TemporaryDirectory() as tmp:
            mb, secs = peak_rss_mb(url, Path(tmp) / "mem.duckdb")
            results.append(mb)
            print(f"synthetic:{size}: peak RSS {mb:.0f} MB ({secs:.1f} s)")
    print(f"growth {results[1] / results[0]:.2f}x for {large // small}x the records (target flat, < 250 MB)")


def bench_windows(size: int, latency_ms: float) -> None:
    print(f"\n## date windows: synthetic:{size}, {latency_ms:.0f} ms latency per page")
    with replay_server(f"synthetic:{size}", latency_ms=latency_ms) as url, tempfile.TemporaryDirectory() as tmp:
        span = {"from_": "2020-01-01", "until": "2021-01-01"}  # the synthetic corpus's year
        n1, t1 = timed(harvest_linkgraph, url, Path(tmp) / "w1.duckdb", windows=1, **span)
        n4, t4 = timed(harvest_linkgraph, url, Path(tmp) / "w4.duckdb", windows=4, **span)
    print(f"1 window:  {n1} records in {t1:.2f} s")
    print(f"4 windows: {n4} records in {t4:.2f} s")
    print(f"speed-up: {t1 / t4:.2f}x (target >= 3x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller corpora (a smoke run)")
    ap.add_argument("--rounds", type=int, default=3, help="throughput rounds (each runs all four)")
    ap.add_argument("--only", default="throughput,memory,windows", help="comma-separated parts to run")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    if "throughput" in parts:
        bench_throughput(20_000 if args.quick else 100_000, args.rounds)
    if "memory" in parts:
        bench_memory(10_000, 50_000 if args.quick else 500_000)
    if "windows" in parts:
        bench_windows(2_000 if args.quick else 5_000, 200)


if __name__ == "__main__":
    main()
