"""Neo4j benchmark: CSV export throughput for a large world, and (when NEO4J_URI is set) load
throughput in relationships/s at two batch sizes.

    python bench/bench_neo4j.py                      # 2M works, ~10M relations, export only
    python bench/bench_neo4j.py --works 200000       # smaller
    NEO4J_URI=bolt://... NEO4J_PASSWORD=... python bench/bench_neo4j.py --load-works 100000

The world is generated straight into the DuckDB tables the crosswalk fills (works, relations)
with set-based SQL - no Python rows: 90% of the works carry a DOI, each work states
``--rels-per-work`` relations (on average) to other held works (80%), to DOIs nobody harvested
(10%) or to URLs (10%), with Japanese and Latin titles holding commas, quotes and, now and then,
a line break. The load benchmark wipes linkgraph's labels in the target database first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from linkgraph.crosswalks.vocab import relation_types
from linkgraph.graph.neo4j_export import export_csv

from linkgraph.store import Store

TYPES = ["article", "dataset", "preprint", "thesis", "book", "report", "software", "other"]


def generate(store: Store, works: int, rels_per_work: int) -> tuple[int, int]:
    """Fill works and relations with a synthetic world; returns their row counts."""
    rtypes = sorted(relation_types())
    con = store.con
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"""
        INSERT INTO works
        SELECT
            CASE WHEN i % 10 = 9 THEN 'repo' || (i % 7) ELSE ['jalc', 'crossref', 'datacite'][1 + i % 3] END,
            'rec-' || i, 0,
            CASE WHEN i % 10 = 9 THEN 'rec:repo' || (i % 7) || ':rec-' || i
                 ELSE 'doi:10.' || (5000 + i % 400) || '/w' || i END,
            CASE WHEN i % 10 = 9 THEN NULL ELSE '10.' || (5000 + i % 400) || '/w' || i END,
            CASE WHEN i % 10 = 9 THEN NULL ELSE ['jalc', 'crossref', 'datacite'][1 + i % 3] END,
            'bench', 'bench',
            {TYPES!r}[1 + (i * 7) % 8], 'raw type',
            CASE WHEN i % 3 = 0 THEN '研究データ基盤の構築, 第' || i || '報 "試行"'
                 WHEN i % 1000 = 1 THEN 'Two-line title ' || i || chr(10) || 'second line'
                 ELSE 'On links, "quotes" and things number ' || i END,
            NULL, NULL, NULL, NULL, 1990 + i % 35,
            'https://example.org/landing/' || i,
            CASE WHEN i % 10 = 9 THEN 'AM' ELSE 'VoR' END,
            i
        FROM range({works}) t(i)
        """
    )
    con.execute(
        f"""
        INSERT INTO relations
        WITH r AS (
            SELECT i, k, hash(i * 31 + k) AS h
            FROM range({works}) t(i), range({rels_per_work}) u(k)
        )
        SELECT
            CASE WHEN i % 10 = 9 THEN 'repo' || (i % 7) ELSE ['jalc', 'crossref', 'datacite'][1 + i % 3] END,
            'rec-' || i, 0,
            CASE WHEN i % 10 = 9 THEN 'rec:repo' || (i % 7) || ':rec-' || i
                 ELSE 'doi:10.' || (5000 + i % 400) || '/w' || i END,
            CASE WHEN i % 10 = 9 THEN NULL ELSE '10.' || (5000 + i % 400) || '/w' || i END,
            'bench',
            {rtypes!r}[1 + (h % {len(rtypes)})::BIGINT], 'raw',
            CASE WHEN h % 10 = 0 THEN 'url' ELSE 'doi' END,
            CASE WHEN h % 10 = 0 THEN 'https://example.org/file/' || (h % 1000003)
                 WHEN h % 10 = 1 THEN '10.9999/external.' || (h % 500009)
                 ELSE '10.' || (5000 + (h % {works}) % 400) || '/w' || (h % {works}) END,
            'verbatim target',
            CASE WHEN h % 20 = 3 THEN 'object' ELSE 'subject' END,
            CASE WHEN h % 50 = 7 THEN ['odd; problem, with "quotes"'] ELSE [] END
        FROM r
        WHERE (h % 11) <> 0 OR k = 0
        """
    )
    n_works = con.execute("SELECT count(*) FROM works").fetchall()[0][0]
    n_rels = con.execute("SELECT count(*) FROM relations").fetchall()[0][0]
    return int(n_works), int(n_rels)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_export(db: Path, out: Path) -> dict[str, object]:
    with Store(db, read_only=True) as store:
        cur = store.con.cursor()
        result = export_csv(cur, out)
    size = sum(f.stat().st_size for f in result.files)
    return {
        "nodes": result.nodes, "relationships": result.relationships,
        "seconds": round(result.seconds, 2), "rows_per_s": round(result.rows_per_second),
        "megabytes": round(size / 1e6, 1), "multiline": result.multiline,
    }


def bench_load(db: Path, batch_sizes: list[int]) -> list[dict[str, object]]:
    from linkgraph.graph.neo4j_load import Neo4jTarget, connect, load

    target = Neo4jTarget(os.environ["NEO4J_URI"], os.environ.get("NEO4J_USER", "neo4j"),
                         os.environ.get("NEO4J_PASSWORD", ""),
                         os.environ.get("NEO4J_DATABASE", "neo4j"))
    results = []
    for batch in batch_sizes:
        driver = connect(target)
        with driver.session(database=target.database) as session:
            while session.run(
                "MATCH (n) WHERE n:Work OR n:Target OR n:LinkgraphMeta "
                "WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n"
            ).single(strict=True)["n"]:
                pass
        driver.close()
        with Store(db) as store:
            stats = load(store, target, batch_size=batch)
        results.append({
            "batch": batch, "seconds": round(stats.seconds, 1),
            "nodes": stats.nodes_written, "relationships": stats.relationships_written,
            "relationships_per_s": round(stats.relationships_per_second),
        })
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--works", type=int, default=2_000_000, help="works in the export world")
    ap.add_argument("--rels-per-work", type=int, default=5, help="relations per work (about)")
    ap.add_argument("--load-works", type=int, default=100_000,
                    help="works in the (smaller) load world, when NEO4J_URI is set")
    ap.add_argument("--batches", default="1000,10000", help="load batch sizes, comma-separated")
    ap.add_argument("--dir", type=Path, default=None, help="working directory (default: temp)")
    args = ap.parse_args(argv)
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_neo4j_"))
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {"cpus": os.cpu_count()}

    db = work / "export.duckdb"
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    with Store(db) as store:
        n_works, n_rels = generate(store, args.works, args.rels_per_work)
    report["world"] = {"works": n_works, "relations": n_rels,
                       "generate_seconds": round(time.perf_counter() - t0, 1)}
    print(f"world: {n_works:,} works, {n_rels:,} relations", file=sys.stderr)
    report["export"] = bench_export(db, work / "csv")
    report["export"]["peak_rss_mb"] = round(rss_mb())  # type: ignore[index]
    print(f"export: {report['export']}", file=sys.stderr)

    if os.environ.get("NEO4J_URI"):
        ldb = work / "load.duckdb"
        ldb.unlink(missing_ok=True)
        with Store(ldb) as store:
            generate(store, args.load_works, args.rels_per_work)
        report["load"] = bench_load(ldb, [int(b) for b in args.batches.split(",")])
    else:
        report["load"] = "skipped: NEO4J_URI is not set"
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
