"""Soak: `linkgraph run` at default settings (no --memory-limit) on a synthetic multi-format
corpus served by the replay server, at 100k and 1M records (six OAI sources, one per metadata
format, as tests/ops/test_scale.py at 100k). Prints, per size: exit code, wall time, records/s
through the whole run (harvest + crosswalk + audit), and the peak RSS of the run's process tree
(the run plus its crosswalk workers, summed, sampled every 0.2 s) besides the largest single
process. Goal (issue #17): exit 0 at every size; peak under 1 GB and flat from 100k to 1M.

    .venv/bin/python bench/bench_soak.py                 # 100k and 1M
    .venv/bin/python bench/bench_soak.py --sizes 100000  # one size
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FORMATS = ("oai_dc", "oai_datacite", "datacite", "jpcoar_1.0", "jpcoar_2.0", "jpcoar_2.1")


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                todo.extend(int(k) for k in kids)
        except OSError:
            continue
    return pids


class PeakSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.tree_peak, self.single_peak = pid, 0, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.2):
            sizes = [_rss(p) for p in _tree(self.pid)]
            self.tree_peak = max(self.tree_peak, sum(sizes))
            self.single_peak = max(self.single_peak, max(sizes, default=0))

    def stop(self) -> None:
        self._done.set()
        self.join()


def serve(n: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkgraph.replay", "--corpus", f"synthetic:{n}:7", "--port", "0",
         "--page-size", "500"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    return proc, line.split()[-1]


def soak(n: int, workdir: Path) -> None:
    server, url = serve(n)
    try:
        cfg, db = workdir / f"soak{n}.toml", workdir / f"soak{n}.duckdb"
        lines = ['[linkgraph]', 'contact = "bench@example.org"', '']
        for fmt in FORMATS:
            lines += [f'[sources.s-{fmt.replace(".", "")}]', 'kind = "oai"', f'base_url = "{url}"',
                      f'metadata_format = "{fmt}"', '']
        cfg.write_text("\n".join(lines))
        env = {k: v for k, v in os.environ.items() if k != "LINKGRAPH_MEMORY_LIMIT"}
        t0 = time.perf_counter()
        run = subprocess.Popen([sys.executable, "-m", "linkgraph", "run", "--config", str(cfg), "--db",
                                str(db), "--log-format", "json", "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        sampler = PeakSampler(run.pid)
        sampler.start()
        _, err = run.communicate()
        seconds = time.perf_counter() - t0
        sampler.stop()
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        raw = con.execute("SELECT count(*) FROM raw_records").fetchone()[0]
        findings = con.execute("SELECT count(*) FROM findings").fetchone()[0]
        con.close()
        print(f"corpus {n:>9,}: exit {run.returncode}, {raw:,} raw records, {findings:,} findings, "
              f"{seconds:.0f} s, {raw / seconds:,.0f} rec/s; peak RSS tree {sampler.tree_peak / 2**20:,.0f} MiB,"
              f" largest process {sampler.single_peak / 2**20:,.0f} MiB", flush=True)
        if run.returncode != 0:
            print(err[-2000:])
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated corpus sizes")
    ap.add_argument("--dir", type=Path, default=None, help="work directory (default: a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            soak(n, Path(tmp))


if __name__ == "__main__":
    main()
