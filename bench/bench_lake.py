"""Lake benchmark: the same audits on DuckDB and on Spark local[N], over one generated world.

    python bench/bench_lake.py                   # 1,000,000 works (~5M relations), Spark local[2]
    python bench/bench_lake.py --works 200000    # the 200k world the scale-out issue names
    python bench/bench_lake.py --master local[4] --conf spark.driver.memory=6g
    python bench/bench_lake.py --crosswalk 200000  # the crosswalk instead: 200k raw records of
                                                   #   every format, DuckDB (2 workers) vs Spark

Steps, each timed: the world generated straight into a store (``bench_audit.py``'s generator),
the DuckDB audit in a fresh process at the product's defaults, ``lake export`` (seconds and
the lake's size on disk), the Spark audit over the lake, and the findings of both engines
compared row for row (as sets: kind, subject, object, relation, registries, evidence parsed
as JSON, fix fragments, clusters). Prints the Spark/DuckDB time ratio and the rates per core
that ``docs/lake.md`` extrapolates from.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_audit  # noqa: E402  (the generator and the audit subprocess)

COLUMNS = ("family", "kind", "severity", "subject_key", "subject_doi", "object_doi", "object_raw",
           "relation_type", "subject_registry", "object_registry", "score", "evidence", "finding_id",
           "cluster_id", "fix_owner", "fix_format", "fix_fragment", "fix_valid")


def _canon(rows: list[tuple]) -> set[tuple]:
    at = COLUMNS.index("evidence")
    out = set()
    for row in rows:
        values = list(row)
        values[at] = json.dumps(json.loads(values[at]), sort_keys=True, ensure_ascii=False)
        out.add(tuple(v.astimezone(UTC) if isinstance(v, datetime) else v for v in values))
    return out


def _size(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=1_000_000, help="works to generate (default 1,000,000)")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--conf", action="append", default=[], help="Spark setting KEY=VALUE (repeat)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads for its audit (default 2)")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one, removed)")
    parser.add_argument("--crosswalk", type=int, default=0, metavar="N",
                        help="bench the crosswalk instead: N raw records (bench_crosswalks' templates, every "
                        "format) through `linkgraph crosswalk` (2 workers) and `lake crosswalk`")
    args = parser.parse_args()
    if args.crosswalk:
        crosswalk(args)
        return

    import duckdb

    from linkgraph.cli.lake_cmds import spark_conf
    from linkgraph.lake.audit import run_spark_audit
    from linkgraph.lake.export import export_lake
    from linkgraph.lake.spark import spark_session
    from linkgraph.store import Store

    with tempfile.TemporaryDirectory(prefix="bench_lake_") as tmp:
        work = args.dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        db, lake = work / "world.duckdb", work / "lake"
        gen = bench_audit.generate(db, args.works)
        print(f"world: {gen['works']:,} works, {gen['relations']:,} relations (generated in {gen['seconds']:.1f} s)")
        duck = bench_audit._audit_process(db, args.threads, "default")
        print(f"DuckDB audit ({args.threads} threads, default budget): {duck['total']:.1f} s, "
              f"peak RSS {duck['peak_rss_mb']:,.0f} MB")
        t0 = time.perf_counter()
        with Store(db, read_only=True) as store:
            exported = export_lake(store, lake)
        export_s = time.perf_counter() - t0
        print(f"lake export: {export_s:.1f} s, {exported.partitions} partitions, "
              f"{_size(lake) / 1e6:,.1f} MB on disk")
        conf = spark_conf(args.conf, args.master)  # what `linkgraph lake audit` would use
        conf.setdefault("spark.ui.showConsoleProgress", "false")
        t0 = time.perf_counter()
        with spark_session(args.master, app="bench_lake", conf=conf) as spark:
            start_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            result = run_spark_audit(spark, lake)
            spark_s = time.perf_counter() - t1
        slow = ", ".join(f"{k} {v:.1f}" for k, v in sorted(result.timings.items(), key=lambda kv: -kv[1])[:4])
        print(f"Spark audit ({args.master}): {spark_s:.1f} s (+ {start_s:.1f} s session start); slowest: {slow}")
        print(f"ratio Spark / DuckDB: {spark_s / duck['total']:.2f}x")
        cols = ", ".join("evidence::VARCHAR" if c == "evidence" else c for c in COLUMNS)
        with Store(db, read_only=True) as store:
            want = _canon(store.query(f"SELECT {cols} FROM findings"))
        files = str(lake / "findings" / "*" / "*.parquet")
        got = _canon(duckdb.sql(f"SELECT {', '.join(COLUMNS)} FROM read_parquet('{files}', hive_partitioning = true)")
                     .fetchall())
        same = "equal" if got == want else f"DIFFER: {len(want - got)} only DuckDB, {len(got - want)} only Spark"
        print(f"findings: DuckDB {len(want):,}, Spark {len(got):,}: {same}")
        cores = int(args.master[6:-1]) if args.master.startswith("local[") and args.master[6:-1].isdigit() else None
        if cores:
            per_core = gen["relations"] / spark_s / cores
            print(f"Spark audit rate: {gen['relations'] / spark_s:,.0f} relations/s on {cores} cores, "
                  f"{per_core:,.0f} relations/s per core")
        if got != want:
            sys.exit(1)


def crosswalk(args: argparse.Namespace) -> None:
    import duckdb

    import bench_crosswalks
    from linkgraph.cli.lake_cmds import spark_conf
    from linkgraph.crosswalks.pipeline import TABLES, run_crosswalk
    from linkgraph.lake.crosswalk import run_spark_crosswalk
    from linkgraph.lake.export import export_lake
    from linkgraph.lake.spark import spark_session
    from linkgraph.store import Store

    with tempfile.TemporaryDirectory(prefix="bench_lake_") as tmp:
        work = args.dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        db, lake = work / "raw.duckdb", work / "lake"
        bench_crosswalks.load_raw(args.crosswalk, db)
        with Store(db) as store:
            t0 = time.perf_counter()
            stats = run_crosswalk(store, workers=2)
            duck_s = time.perf_counter() - t0
        print(f"DuckDB crosswalk (2 workers): {duck_s:.1f} s, {stats.raw_records / duck_s:,.0f} rec/s; "
              f"{stats.works:,} works, {stats.relations:,} relations, {stats.problems:,} problems")
        with Store(db, read_only=True) as store:
            t0 = time.perf_counter()
            export_lake(store, lake)
            print(f"lake export: {time.perf_counter() - t0:.1f} s, {_size(lake) / 1e6:,.1f} MB on disk")
        conf = spark_conf(args.conf, args.master)
        conf.setdefault("spark.ui.showConsoleProgress", "false")
        with spark_session(args.master, app="bench_lake crosswalk", conf=conf) as spark:
            t0 = time.perf_counter()
            result = run_spark_crosswalk(spark, lake)
            spark_s = time.perf_counter() - t0
        print(f"Spark crosswalk ({args.master}): {spark_s:.1f} s, {result.raw_records / spark_s:,.0f} rec/s; "
              f"ratio Spark / DuckDB {spark_s / duck_s:.2f}x")
        con = duckdb.connect()
        con.execute(f"ATTACH '{db}' AS store (READ_ONLY)")
        differ = []
        for table in TABLES:
            cols = ", ".join(c[0] for c in con.execute(f"SELECT * FROM store.{table} LIMIT 0").description)
            lake_rows = (f"SELECT {cols} FROM read_parquet('{lake}/{table}/**/*.parquet', hive_partitioning = true,"
                         " union_by_name = true)")
            n = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM store.{table} EXCEPT ALL {lake_rows})"
                            f" UNION ALL SELECT count(*) FROM ({lake_rows} EXCEPT ALL SELECT {cols} FROM store.{table})"
                            ).fetchall()
            if any(r[0] for r in n):
                differ.append(table)
        print("tables: " + ("equal" if not differ else f"DIFFER in {', '.join(differ)}"))
        cores = int(args.master[6:-1]) if args.master.startswith("local[") and args.master[6:-1].isdigit() else None
        if cores:
            print(f"Spark crosswalk rate per core: {result.raw_records / spark_s / cores:,.0f} rec/s")
        if differ:
            sys.exit(1)


if __name__ == "__main__":
    main()
