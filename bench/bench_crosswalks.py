"""Crosswalk throughput per format, and the memory of a bulk pipeline run.

    python bench/bench_crosswalks.py                     # readers: records/s per format
    python bench/bench_crosswalks.py --pipeline 1000000  # + 1M raw records through DuckDB,
                                                         #   in process and with 2 workers
    python bench/bench_crosswalks.py --quick --only crossref-xml --only jpcoar
    python bench/bench_crosswalks.py --profile           # where each reader's time goes

The synthetic corpus is built from real shared fixtures (one record per format, the DOI made
unique per copy) as the pipeline hands them to the readers, in UTF-8 bytes: the ``<metadata>``
child for OAI formats, one JSON record for REST. junii2 and JaLC deposit XML have no shared fixture; their template follows the
junii2 schema and JaLC manual appendix 8. Target: >= 10k records/s per format on one core, and
< 1 GB peak RSS for 1M raw records.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from linkgraph.crosswalks.oai import split_records
from linkgraph.crosswalks.pipeline import TABLES, Batch, run_crosswalk
from linkgraph.crosswalks.registry import READERS
from linkgraph.store import RawRecord, Store

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"

JUNII2 = """<junii2 xmlns="http://irdb.nii.ac.jp/oai" version="3.1"><title xml:lang="ja">情報爆発時代の研究基盤構想</title>
<title xml:lang="en">Research Project on Cyber Infrastructure</title><creator>安達, 淳</creator><creator>Adachi, Jun</creator>
<publisher>Elsevier</publisher><NIItype>Journal Article</NIItype><jtitle>Journal of information studies</jtitle>
<issn>1880-697X</issn><NCID>AA12032633</NCID><volume>12</volume><spage>34</spage><epage>57</epage>
<dateofissued>2015-10-01</dateofissued><URI>https://repo.example.ac.jp/records/@ID@</URI>
<selfDOI ra="JaLC">10.99999/repo.@ID@</selfDOI><isVersionOf>https://doi.org/10.1371/journal.pone.0170224</isVersionOf>
<textversion>author</textversion></junii2>"""
JALC_XML = """<?xml version="1.0" encoding="UTF-8"?><root><head><content_classification>03</content_classification></head>
<body><site_id>SI/JST.JaLC</site_id><content sequence="001"><doi>10.11502/example.@ID@</doi>
<url>https://japanlinkcenter.org/example/@ID@.html</url><title_list><titles lang="ja"><title>コロナウイルス (COVID-19) のツイートデータセット</title>
<subtitle>日本国内のツイート</subtitle></titles><titles lang="en"><title>Coronavirus (COVID-19) tweet data set</title></titles></title_list>
<creator_list><creator sequence="1" type="person"><names lang="ja"><last_name>山田</last_name><first_name>太郎</first_name></names>
<names lang="en"><last_name>Yamada</last_name><first_name>Taro</first_name></names><affiliations><affiliation>
<affiliation_name lang="ja">科学技術振興機構</affiliation_name></affiliation></affiliations>
<researcher_id><id_code type="ORCID">0000-0002-1825-0097</id_code></researcher_id></creator></creator_list>
<publisher_list><publisher_name lang="ja">科学技術振興機構</publisher_name></publisher_list>
<publication_date><publication_year>2020</publication_year></publication_date><relation_list>
<related_content type="DOI" relation="IsSupplementTo">10.11502/article.@ID@</related_content>
<related_content type="URL" relation="IsDescribedBy">https://example.org/@ID@</related_content></relation_list>
</content></body></root>"""


def _oai_payload(path: str) -> str:
    records, problem = split_records((SHARED / path).read_bytes())
    assert problem is None and records[0].payload is not None
    return records[0].payload.decode("utf-8")


def _json_item(path: str, *keys: str) -> str:
    doc = json.loads((SHARED / path).read_text("utf-8"))
    for key in keys:
        doc = doc[key]
    return json.dumps(doc, ensure_ascii=False)


def _deposit_of(unixsd: str) -> str:
    """The work element of a UNIXSD response wrapped as a Crossref deposit (``<doi_batch>``)."""
    import re

    m = re.search(r"<(posted_content|journal|book|conference|database)[\s>].*</\1>", unixsd, re.S)
    assert m, "no work element in the UNIXSD fixture"
    return ('<doi_batch xmlns="http://www.crossref.org/schema/5.3.1" version="5.3.1"><head>'
            "<doi_batch_id>bench</doi_batch_id></head><body>" + m.group(0) + "</body></doi_batch>")


def templates() -> dict[str, tuple[str, str]]:
    """format -> (payload template, the DOI/id text replaced by ``@ID@`` per copy)."""
    lod = (SHARED / "jalc/lod_rdf_sample_1.xml").read_text("utf-8")
    lod_one = lod[: lod.index("</rdf:Description>") + len("</rdf:Description>")] + "</rdf:RDF>"
    return {
        "datacite-xml": ((SHARED / "datacite/kernel4_example_dataset.xml").read_text("utf-8"), "9184-DY35"),
        "datacite-json": (_json_item("datacite/rest_doi_zenodo.28518_IsSupplementTo_IsVersionOf.json", "data"), "zenodo.28518"),
        "crossref-json": (_json_item("crossref/work_10.7554_elife.01567.json", "message"), "elife.01567"),
        "crossref-xml": ((SHARED / "crossref/unixsd_10.1101_097196_isPreprintOf.xml").read_text("utf-8"), "097196"),
        # the same work as a deposit: its posted_content element in a <doi_batch>
        "crossref-deposit": (_deposit_of((SHARED / "crossref/unixsd_10.1101_097196_isPreprintOf.xml")
                                         .read_text("utf-8")), "097196"),
        "jalc-json": (_json_item("jalc/rest_doi_10.11473_fcn.2017e.1_ja.json", "data"), "fcn.2017e.1"),
        "jalc-xml": (JALC_XML, "@ID@"),
        "jalc-lod": (lod_one, "jjspm.36.898"),
        "jpcoar": ((SHARED / "jpcoar/sample_2.0_06_doctoral_thesis_published.xml").read_text("utf-8"), "64495"),
        "junii2": (JUNII2, "@ID@"),
        "oai_dc": (_oai_payload("datacite/oai_listrecords_dc.xml"), "not-a-real-doi"),
    }


def corpus(fmt: str, n: int) -> list[bytes]:
    """``n`` payloads as the pipeline hands them to the readers: UTF-8 bytes."""
    template, needle = templates()[fmt]
    return [template.replace(needle, f"x{i}").encode() for i in range(n)]


def bench_readers(n: int, only: list[str] | None = None, repeat: int = 1) -> dict[str, float]:
    """records/s per format: the best of ``repeat`` timed passes over the same corpus."""
    results = {}
    for fmt in only or READERS:
        payloads = corpus(fmt, n)
        reader = READERS[fmt]
        read_s = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            works = 0
            for p in payloads:
                works += len(reader(p))
            read_s = min(read_s, time.perf_counter() - t0)
        t0 = time.perf_counter()
        batch = Batch()
        for i, p in enumerate(payloads):
            batch.add_record("bench", str(i), False, fmt, p, i)
        batch.tables()
        full_s = time.perf_counter() - t0
        assert works == n, (fmt, works)
        results[fmt] = n / read_s
        ceiling = ""
        if payloads[0].lstrip().startswith(b"<"):  # libxml2's own tree build: the XML ceiling
            from lxml import etree

            t0 = time.perf_counter()
            for p in payloads:
                etree.fromstring(p)
            rate = n / (time.perf_counter() - t0)
            ceiling = f"   libxml2 tree {rate:9,.0f} rec/s ({100 * results[fmt] / rate:3.0f}%)"
        elif payloads[0].lstrip()[:1] in (b"{", b"["):  # the JSON decode the reader starts with
            import orjson

            t0 = time.perf_counter()
            for p in payloads:
                orjson.loads(p)
            rate = n / (time.perf_counter() - t0)
            ceiling = f"   orjson decode {rate:9,.0f} rec/s ({100 * results[fmt] / rate:3.0f}%)"
        print(f"{fmt:16s} read {n / read_s:9,.0f} rec/s   read+arrow {n / full_s:9,.0f} rec/s"
              f"   ({sum(len(p) for p in payloads) / n / 1024:.1f} KiB/record){ceiling}", flush=True)
    return results


def load_raw(n: int, db: Path) -> None:
    fmts = list(READERS)
    tmpl = templates()
    with Store(db) as store:
        t0 = time.perf_counter()
        for start in range(0, n, 20_000):
            recs = []
            for i in range(start, min(n, start + 20_000)):
                fmt = fmts[i % len(fmts)]
                template, needle = tmpl[fmt]
                recs.append(RawRecord(f"r{i}", None, False, fmt, template.replace(needle, f"x{i}")))
            # as a first harvest writes them (a plain INSERT: the rows lie in change_seq order;
            # DuckDB's ON CONFLICT path numbers a 20k batch out of order, and the crosswalk then
            # decompresses ten times the payload it reads)
            store.write(lambda cur, recs=recs: Store.upsert_raw(cur, "bench", None, recs, new_only=True))
        print(f"loaded {n:,} raw records in {time.perf_counter() - t0:.0f}s", flush=True)


def _children_peaks(peaks: dict[int, int], stop: threading.Event) -> None:
    """Record each child process's peak RSS (VmHWM, KiB) until ``stop`` (Linux /proc)."""
    me = str(os.getpid())
    while not stop.wait(0.5):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                if stat.rsplit(")", 1)[1].split()[1] != me:
                    continue
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        pid = int(entry.name)
                        peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
            except (OSError, IndexError, ValueError):
                continue


def crosswalk_only(db: Path, memory_limit: str | None, workers: int) -> None:
    peaks: dict[int, int] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_children_peaks, args=(peaks, stop), daemon=True)
    watcher.start()
    with Store(db) as store:
        if memory_limit:
            store.con.execute(f"SET memory_limit = '{memory_limit}'")
        with store.transaction() as cur:  # as --rebuild does, but before the clock starts
            for table in TABLES:
                cur.execute(f"DELETE FROM {table}")
            cur.execute("DELETE FROM crosswalk_state")
        t0 = time.perf_counter()
        stats = run_crosswalk(store, workers=workers)  # the CLI's batch size
        secs = time.perf_counter() - t0
    stop.set()
    watcher.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"crosswalk: {stats.raw_records:,} raw records -> {stats.works:,} works, "
          f"{stats.relations:,} relations, {stats.problems:,} problems in {secs:.0f}s = "
          f"{stats.raw_records / secs:,.0f} rec/s end to end (mixed formats, {stats.workers} "
          f"reader process(es)); peak RSS of the crosswalk process {peak:,.0f} MiB (DuckDB "
          f"memory_limit {memory_limit or 'default'})", flush=True)
    if peaks:
        each = ", ".join(f"{kib / 1024:,.0f}" for kib in sorted(peaks.values(), reverse=True))
        print(f"  child processes' peak RSS (MiB): {each}; with this process "
              f"{peak + sum(peaks.values()) / 1024:,.0f} MiB at most in all", flush=True)


def bench_pipeline(n: int, db: Path, memory_limit: str | None, workers: int) -> None:
    """Load in one process, crosswalk in a fresh one, so the peak RSS is the crosswalk's own."""
    import subprocess

    me = [sys.executable, __file__, "--db", str(db)]
    subprocess.run([*me, "--load-only", str(n)], check=True)
    rates: dict[int, float] = {}
    for count in sorted({1, workers}):
        limit = ["--memory-limit", memory_limit] if memory_limit else []
        done = subprocess.run([*me, "--crosswalk-only", "--workers", str(count), *limit], check=True,
                              stdout=subprocess.PIPE, text=True)
        print(done.stdout, end="", flush=True)
        rate = re.search(r"= ([\d,]+) rec/s", done.stdout)
        if rate:
            rates[count] = float(rate.group(1).replace(",", ""))
    if workers > 1 and len(rates) == 2:
        print(f"pipeline: {workers} workers at {rates[workers] / rates[1]:.2f}x one process "
              "(target >= 1.8x with 2)", flush=True)


def profile_readers(n: int, only: list[str] | None = None) -> None:
    """Where each reader's time goes (cProfile's own time, grouped by module): the measured
    reason a reader stays below its parse ceiling. cProfile slows Python calls, not C ones, so
    the decode's share is a lower bound."""
    import collections
    import cProfile
    import pstats

    for fmt in only or READERS:
        payloads, reader = corpus(fmt, n), READERS[fmt]
        prof = cProfile.Profile()
        prof.enable()
        for p in payloads:
            reader(p)
        prof.disable()
        stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
        total = sum(v[2] for v in stats.values())
        groups: collections.Counter[str] = collections.Counter()
        for (file, _line, fn), (_cc, _nc, own, _cum, _callers) in stats.items():
            if file == "~":
                key = fn[:40]  # a builtin or C function (orjson.loads, lxml's calls)
            elif "linkgraph" in file:
                key = file[file.index("linkgraph"):]
            else:
                key = Path(file).name
            groups[key] += own
        shares = ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in groups.most_common(6))
        print(f"{fmt:16s} {1e6 * total / n:6.0f} us/record profiled: {shares}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20_000, help="records per format for the reader bench")
    ap.add_argument("--only", action="append", choices=list(READERS), metavar="FORMAT",
                    help="bench only this reader (repeatable; default: all)")
    ap.add_argument("--quick", action="store_true", help="2,000 records per format (overrides -n)")
    ap.add_argument("--repeat", type=int, default=1, help="timed passes per format; the best counts")
    ap.add_argument("--pipeline", type=int, default=0, help="raw records for the DuckDB pipeline run")
    ap.add_argument("--db", type=Path, default=None, help="DuckDB file (default: a temp file)")
    ap.add_argument("--memory-limit", default="512MB", help="DuckDB memory_limit for the crosswalk")
    ap.add_argument("--workers", type=int, default=2,
                    help="reader processes for a second pipeline run (1: one run, in process)")
    ap.add_argument("--profile", action="store_true",
                    help="print where each reader's time goes (cProfile by module) instead of rates")
    ap.add_argument("--load-only", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--crosswalk-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load_only:
        load_raw(args.load_only, args.db)
        return 0
    if args.crosswalk_only:
        crosswalk_only(args.db, args.memory_limit, args.workers)
        return 0
    if args.profile:
        profile_readers(2_000 if args.quick else min(args.n, 5_000), args.only)
        return 0
    results = bench_readers(2_000 if args.quick else args.n, args.only, max(1, args.repeat))
    print(f"{len(results)} readers; the percentage beside each ceiling is the reader's share of it "
          "(target >= 70%)")
    if args.pipeline:
        with tempfile.TemporaryDirectory() as tmp:
            bench_pipeline(args.pipeline, args.db or Path(tmp) / "bench.duckdb", args.memory_limit,
                           args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
