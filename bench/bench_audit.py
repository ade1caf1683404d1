"""Audit benchmark: every audit over a generated world of 2M works and 10M relations.

    python bench/bench_audit.py                       # 2,000,000 works, ~10M relations
    python bench/bench_audit.py --works 200000        # a smaller world
    python bench/bench_audit.py --db /tmp/w.duckdb --keep   # reuse / keep the generated file
    python bench/bench_audit.py --sizes 1000000,4000000,10000000 --memory-limit default
                                                      # scaling: seconds per million works and
                                                      #   peak RSS at each size, product defaults

The world is generated straight into the crosswalk's tables (``works``, ``relations``,
``raw_records``, ``ra_cache``, ``unknown_dois``) by set-based DuckDB SQL over ``range()`` - in
bulk, not through HTTP and not row by row. Its shape: JaLC and Crossref articles, DataCite and
J-STAGE Data datasets, repository manuscripts (half with a DOI); about 2.35 citations per work
with 95% reciprocated, datasets supplementing articles, manuscripts as versions of articles,
links to an agency linkgraph cannot fetch; and planted defects of every audited kind.

The audit then runs in a fresh process (so its peak RSS is the audit's, not the generator's)
with DuckDB limited to ``--threads`` (2) and ``--memory-limit`` (3GB); it prints each audit's
time and the process's peak RSS. Target: the whole audit under 60 s on 2 cores, under 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENERATE = """
CREATE OR REPLACE MACRO cls(i) AS i % 10;  -- 0-2 JaLC, 3-5 Crossref, 6-7 DataCite, 8 J-STAGE Data, 9 repository
CREATE OR REPLACE MACRO doi_of(i) AS CASE
    WHEN cls(i) <= 2 THEN '10.11501/w' || i WHEN cls(i) <= 5 THEN '10.5555/w' || i
    WHEN cls(i) <= 7 THEN '10.80001/w' || i WHEN cls(i) = 8 THEN '10.57400/w' || i
    WHEN i % 20 = 9 THEN NULL ELSE '10.24517/w' || i END;
CREATE OR REPLACE MACRO src_of(i) AS CASE
    WHEN cls(i) <= 2 THEN 'jalc' WHEN cls(i) <= 5 THEN 'crossref' WHEN cls(i) <= 7 THEN 'datacite'
    WHEN cls(i) = 8 THEN 'figshare' ELSE 'repository' END;
CREATE OR REPLACE MACRO rid_of(i) AS coalesce(doi_of(i), 'oai:repo:' || i);
CREATE OR REPLACE MACRO key_of(i) AS CASE WHEN doi_of(i) IS NULL THEN 'rec:repository:oai:repo:' || i
                                          ELSE 'doi:' || doi_of(i) END;
CREATE OR REPLACE MACRO vor_of(i) AS i - 6;  -- a repository item's version of record (Crossref)
-- planted same content: i % 2000 = 1001 repeats the work 1000 before it (title, creators, year)
CREATE OR REPLACE MACRO twin(i) AS CASE WHEN i % 2000 = 1001 THEN i - 1000
                                        WHEN cls(i) = 9 THEN vor_of(i) ELSE i END;
CREATE OR REPLACE MACRO title_of(j) AS
    ['Long-term monitoring of', 'A field survey of', 'Modelling', 'Isotopic analysis of'][j % 4 + 1]
    || ' ' || ['soil microbes', 'coastal erosion', 'rice yield', 'glacier retreat', 'typhoon tracks'][j % 5 + 1]
    || ' in region ' || j;
CREATE OR REPLACE MACRO fam(k) AS ['Tanaka', 'Suzuki', 'Sato', 'Takahashi', 'Watanabe', 'Ito', 'Yamamoto',
    'Nakamura', 'Kobayashi', 'Kato', 'Yoshida', 'Yamada', 'Sasaki', 'Matsumoto', 'Inoue', 'Kimura', 'Hayashi',
    'Shimizu', 'Mori', 'Ikeda'][k % 20 + 1];
CREATE OR REPLACE MACRO person(f, n) AS {'name': f || ', Taro', 'given': 'Taro', 'family': f, 'orcid': NULL,
    'affiliations': []::VARCHAR[], 'lang': 'en', 'seq': n};

INSERT INTO works
SELECT src_of(i), rid_of(i), 0, key_of(i), doi_of(i),
       CASE WHEN cls(i) <= 2 OR cls(i) >= 8 THEN 'jalc' WHEN cls(i) <= 5 THEN 'crossref' ELSE 'datacite' END,
       CASE WHEN cls(i) <= 2 THEN 'jalc-json' WHEN cls(i) <= 5 THEN 'crossref-json' WHEN cls(i) <= 7 THEN 'datacite-json'
            WHEN cls(i) = 8 THEN 'datacite-xml' ELSE 'jpcoar' END,
       'bench',
       CASE WHEN cls(i) BETWEEN 6 AND 8 THEN 'dataset' ELSE 'article' END, NULL,
       title_of(twin(i)), [{'text': title_of(twin(i)), 'lang': 'en', 'kind': NULL}],
       [person(fam(twin(i)), 1), person(fam(twin(i) // 20 + 3), 2)],
       'Publisher', CASE WHEN cls(i) <= 5 THEN 'Journal ' || (i % 300) END, 2000 + twin(i) % 24,
       CASE WHEN i % 2000 = 1500 THEN 'http://landing.example.org/w' || (i - 3)  -- several DOIs, one URL
            ELSE 'https://landing.example.org/w' || i END,
       CASE WHEN cls(i) = 9 THEN 'AM' END, i
FROM range($n) t(i);

INSERT INTO raw_records
SELECT src_of(i), rid_of(i), TIMESTAMPTZ '2024-01-01' + to_seconds(i % 31536000), false, 'bench', NULL, NULL,
       [], TIMESTAMPTZ '2024-06-01', NULL, i
FROM range($n) t(i);

CREATE OR REPLACE TEMP TABLE links (s BIGINT, t BIGINT, rel VARCHAR, inv VARCHAR, back BOOLEAN);
-- citations: two per work (three for 7 in 20), 95% reciprocated
INSERT INTO links SELECT i, (i * 7919 + 1) % $n, 'References', 'IsReferencedBy', i % 20 <> 0 FROM range($n) t(i);
INSERT INTO links SELECT i, (i * 104729 + 3) % $n, 'Cites', 'IsCitedBy', i % 20 <> 1 FROM range($n) t(i);
INSERT INTO links SELECT i, (i * 15485863 + 5) % $n, 'References', 'IsReferencedBy', true
    FROM range($n) t(i) WHERE i % 20 < 7;
-- datasets supplement the article three before them; manuscripts are versions of their VoR
INSERT INTO links SELECT i, i - 3, 'IsSupplementTo', 'IsSupplementedBy', i % 20 <> 6
    FROM range(10, $n) t(i) WHERE cls(i) BETWEEN 6 AND 8;
INSERT INTO links SELECT i, vor_of(i), 'IsVersionOf', 'HasVersion', doi_of(i) IS NOT NULL AND i % 40 <> 19
    FROM range(10, $n) t(i) WHERE cls(i) = 9 AND i % 2000 <> 1009;  -- 1009: planted missing version link
-- planted: identical pairs, version cycles (three datasets), a dataset supplementing a dataset
INSERT INTO links SELECT i, i - 10, 'IsIdenticalTo', 'IsIdenticalTo', true FROM range(10, $n) t(i) WHERE i % 4000 = 2506;
INSERT INTO links SELECT i + 10 * k, i + 10 * ((k + 1) % 3), 'IsNewVersionOf', 'IsPreviousVersionOf', true
    FROM range(0, $n - 40) t(i), range(3) r(k) WHERE i % 20000 = 16;
INSERT INTO links SELECT i, i + 1, 'IsSupplementTo', 'IsSupplementedBy', true FROM range($n - 2) t(i) WHERE i % 2000 = 36;

INSERT INTO relations (source, record_id, work_seq, work_key, subject_doi, source_format, relation_type, raw_type, target_scheme, target, target_raw, asserted_by, problems)
SELECT src_of(s), rid_of(s), 0, key_of(s), doi_of(s), 'bench', rel, rel, 'doi', doi_of(t), doi_of(t), 'subject', []
FROM links WHERE doi_of(t) IS NOT NULL
UNION ALL
SELECT src_of(t), rid_of(t), 0, key_of(t), doi_of(t), 'bench', inv, inv, 'doi', doi_of(s), doi_of(s), 'subject', []
FROM links WHERE back AND doi_of(s) IS NOT NULL AND doi_of(t) IS NOT NULL;
-- links to an agency linkgraph cannot fetch (unverifiable), to nowhere, malformed, and self-links
INSERT INTO relations (source, record_id, work_seq, work_key, subject_doi, source_format, relation_type, raw_type, target_scheme, target, target_raw, asserted_by, problems)
SELECT src_of(i), rid_of(i), 0, key_of(i), doi_of(i), 'bench', 'References', 'References', 'doi',
       CASE WHEN i % 2000 = 27 THEN '10.99990/gone' || i WHEN i % 2000 = 7 THEN doi_of(i) ELSE '10.3280/m' || i END,
       CASE WHEN i % 2000 = 27 THEN '10.99990/gone' || i WHEN i % 2000 = 7 THEN doi_of(i) ELSE '10.3280/m' || i END,
       'subject', []
FROM range($n) t(i) WHERE doi_of(i) IS NOT NULL AND (i % 50 = 3 OR i % 2000 IN (7, 27));
INSERT INTO relations (source, record_id, work_seq, work_key, subject_doi, source_format, relation_type, raw_type, target_scheme, target, target_raw, asserted_by, problems)
SELECT src_of(i), rid_of(i), 0, key_of(i), doi_of(i), 'bench', 'IsSupplementTo', 'IsSupplementTo', 'doi', NULL,
       '10.1234 bad' || i, 'subject', ['malformed DOI']
FROM range($n) t(i) WHERE i % 2000 = 17 AND doi_of(i) IS NOT NULL;
INSERT INTO unknown_dois SELECT '10.99990/gone' || i, '10.99990', NULL, 'prefix-unknown', now()
FROM range($n) t(i) WHERE i % 2000 = 27 AND doi_of(i) IS NOT NULL;
INSERT INTO ra_cache VALUES ('10.11501', 'JaLC', 'ok', NULL, now()), ('10.57400', 'JaLC', 'ok', NULL, now()),
    ('10.24517', 'JaLC', 'ok', NULL, now()), ('10.5555', 'Crossref', 'ok', NULL, now()),
    ('10.80001', 'DataCite', 'ok', NULL, now()), ('10.3280', 'mEDRA', 'ok', NULL, now());
"""


def generate(db: Path, n: int) -> dict[str, float]:
    from linkgraph.store import Store

    t0 = time.perf_counter()
    with Store(db, memory_limit="8GB") as store:  # the generator's budget: not what is measured
        with store.transaction() as cur:
            cur.execute(GENERATE.replace("$n", str(int(n))))
        counts = store.query("SELECT (SELECT count(*) FROM works), (SELECT count(*) FROM relations)")[0]
    return {"works": counts[0], "relations": counts[1], "seconds": time.perf_counter() - t0}


def _vm_hwm_kib() -> int:
    """This process's peak RSS. Not ``ru_maxrss``: Linux carries the parent's high-water mark
    into a child across exec (``--sizes`` generates each world in the parent, so the audit
    reported the generator's 5.0 GB at 10M works instead of its own)."""
    m = re.search(r"^VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(m.group(1)) if m else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def audit(db: Path, threads: int, memory_limit: str) -> None:
    """Run every audit (this process) and print one JSON line of timings and peak RSS."""
    from linkgraph.graph.audit import run_audit

    from linkgraph.store import Store

    # default: the product's own budget (the audit's batch budget) and out-of-memory retry;
    # otherwise the limit as --memory-limit gives it (the audit keeps a budget the user chose)
    with Store(db, memory_limit=None if memory_limit == "default" else memory_limit) as store:
        store.con.execute(f"SET threads = {int(threads)}")
        t0 = time.perf_counter()
        result = run_audit(store)
        total = time.perf_counter() - t0
    peak_kib = _vm_hwm_kib()
    print(json.dumps({"total": total, "timings": result.timings, "counts": result.counts,
                      "links": result.links, "clusters": result.clusters, "graph": result.graph_stats,
                      "peak_rss_mb": peak_kib / 1024}))


def _audit_process(db: Path, threads: int, memory_limit: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--audit-only", "--db", str(db), "--threads", str(threads),
                           "--memory-limit", memory_limit], capture_output=True, text=True, check=False,
                          env={**os.environ})
    if proc.returncode != 0:
        sys.exit(f"audit failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scaling(sizes: list[int], threads: int, memory_limit: str) -> None:
    """Audit seconds per million works and peak RSS at each size, each world in a fresh file."""
    print(f"audit scaling on {threads} threads, memory limit {memory_limit}")
    print(f"{'works':>12} {'relations':>12} {'seconds':>9} {'s / 1M works':>13} {'peak RSS MB':>12}  slowest steps")
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="bench_audit_") as tmp:
            db = Path(tmp) / "world.duckdb"
            gen = generate(db, n)
            res = _audit_process(db, threads, memory_limit)
        top = sorted(res["timings"].items(), key=lambda kv: -kv[1])[:3]
        steps = ", ".join(f"{k} {v:.1f}" for k, v in top)
        print(f"{gen['works']:>12,} {gen['relations']:>12,} {res['total']:>9.1f} "
              f"{res['total'] / (gen['works'] / 1e6):>13.1f} {res['peak_rss_mb']:>12,.0f}  {steps}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=2_000_000, help="works to generate")
    parser.add_argument("--db", type=Path, help="DuckDB file (default: a temporary file)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads for the audit")
    parser.add_argument("--memory-limit", default="3GB",
                        help="DuckDB memory limit for the audit; 'default': linkgraph's own budget")
    parser.add_argument("--sizes", help="comma-separated world sizes: one line of seconds per million "
                                        "works and peak RSS per size (each world generated, audited, deleted)")
    parser.add_argument("--audit-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.audit_only:
        audit(args.db, args.threads, args.memory_limit)
        return
    if args.sizes:
        scaling([int(x) for x in args.sizes.split(",")], args.threads, args.memory_limit)
        return
    tmp = None
    db = args.db
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_audit_")
        db = Path(tmp.name) / "world.duckdb"
    if not db.exists():
        gen = generate(db, args.works)
        print(f"generated {gen['works']:,} works and {gen['relations']:,} relations in {gen['seconds']:.1f} s")
    proc = subprocess.run([sys.executable, __file__, "--audit-only", "--db", str(db), "--threads", str(args.threads),
                           "--memory-limit", args.memory_limit], capture_output=True, text=True, check=False,
                          env={**os.environ})
    if proc.returncode != 0:
        sys.exit(f"audit failed:\n{proc.stderr}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"audit on {args.threads} threads, memory limit {args.memory_limit}:")
    for name, seconds in res["timings"].items():
        print(f"  {name:<24} {seconds:8.2f} s")
    print(f"  {'total':<24} {res['total']:8.2f} s   (target < 60 s)")
    print(f"peak RSS of the audit process: {res['peak_rss_mb']:,.0f} MB   (target < 4096 MB)")
    print(f"links snapshotted: {res['links']:,}; duplicate clusters: {res['clusters']:,}; version graph: {res['graph']}")
    print("findings: " + ", ".join(f"{k} {v:,}" for k, v in sorted(res["counts"].items())))
    if tmp is not None and not args.keep:
        tmp.cleanup()
    elif args.keep or args.db:
        print(f"database: {db}")


if __name__ == "__main__":
    main()
