"""Neo4j benchmark, in one run against a live Neo4j: the two ways to fill it, and a reload.

    python bench/bench_neo4j.py                   # 200k works (~0.5M relations), own server
    python bench/bench_neo4j.py --works 1000000   # larger
    NEO4J_URI=bolt://... NEO4J_PASSWORD=... python bench/bench_neo4j.py   # a server of yours

The world is bench_audit.py's generator (the demo world's shape: JaLC and Crossref articles,
DataCite and J-STAGE Data datasets, repository manuscripts, citations, supplements, versions
and planted defects) scaled to ``--works``, audited so the nodes carry their findings.
It prints:

1. **Bolt load**: ``linkgraph graph neo4j load`` into an empty database - seconds and rows/s
   (nodes + relationships written per second);
2. **incremental reload** after 1% of the links change (a third removed, a third retyped, a
   third added) - seconds, and what it wrote;
3. **CSV export + neo4j-admin import** of the same graph into a fresh database of a second,
   stopped DBMS (needs the test server's jars, so Java 17 and Maven) - seconds for each;
4. the ratio of the two full-load paths (Bolt seconds / export+import seconds).

Without NEO4J_URI the bench starts its own Neo4j Community server from Maven Central's jars
(tests/neo4j/server/harness.py) with ``--heap`` of heap. A server of yours is wiped of
linkgraph's labels first: point it at a scratch database.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "neo4j" / "server"))

import harness  # noqa: E402
from bench_audit import generate  # noqa: E402
from linkgraph.graph.audit import run_audit  # noqa: E402
from linkgraph.graph.neo4j_export import export_csv  # noqa: E402
from linkgraph.graph.neo4j_load import Neo4jTarget, connect, load  # noqa: E402

from linkgraph.store import Store  # noqa: E402


def wipe(target: Neo4jTarget) -> None:
    driver = connect(target)
    with driver.session(database=target.database) as session:
        while session.run(
            "MATCH (n) WHERE n:Work OR n:Target OR n:LinkgraphMeta "
            "WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n"
        ).single(strict=True)["n"]:
            pass
    driver.close()


def change_links(store: Store, fraction: float) -> dict[str, int]:
    """Change ``fraction`` of the relations as a re-harvest would: remove, retype, add."""
    con = store.con
    n = int(con.execute("SELECT count(*) FROM relations").fetchall()[0][0])
    step = max(3, int(round(1 / fraction)))  # a fraction of the rows, each changed once
    con.execute("CREATE TEMP TABLE pick AS SELECT rowid AS rid, row_number() OVER () AS k "
                f"FROM relations WHERE hash(rowid) % {step} = 0")
    removed = con.execute("DELETE FROM relations WHERE rowid IN "
                          "(SELECT rid FROM pick WHERE k % 3 = 0)").fetchall()[0][0]
    retyped = con.execute(
        "UPDATE relations SET relation_type = CASE relation_type WHEN 'References' "
        "THEN 'IsDocumentedBy' ELSE 'References' END, raw_type = 'changed' "
        "WHERE rowid IN (SELECT rid FROM pick WHERE k % 3 = 1)").fetchall()[0][0]
    added = con.execute(
        "INSERT INTO relations SELECT * REPLACE ('IsReferencedBy' AS relation_type, "
        "'added' AS raw_type, target || '.new' AS target, target_raw || '.new' AS target_raw) "
        "FROM relations WHERE rowid IN (SELECT rid FROM pick WHERE k % 3 = 2) "
        "AND target IS NOT NULL").fetchall()[0][0]
    con.execute("DROP TABLE pick")
    return {"relations": n, "removed": int(removed), "retyped": int(retyped),
            "added": int(added)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--works", type=int, default=200_000, help="works in the generated world")
    ap.add_argument("--batch", type=int, default=5000, help="Bolt load rows per transaction")
    ap.add_argument("--change", type=float, default=0.01, help="fraction of links changed")
    ap.add_argument("--heap", default="2g", help="heap of the server this bench starts")
    ap.add_argument("--pagecache", default="1g", help="page cache of the servers it starts")
    ap.add_argument("--dir", type=Path, default=None, help="working directory (default: temp)")
    args = ap.parse_args(argv)
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_neo4j_"))
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {"cpus": os.cpu_count()}

    db = work / "world.duckdb"
    db.unlink(missing_ok=True)
    gen = generate(db, args.works)
    with Store(db) as store:
        run_audit(store)
    report["world"] = {"works": gen["works"], "relations": gen["relations"]}
    print(f"world: {gen['works']:,} works, {gen['relations']:,} relations "
          f"(generated in {gen['seconds']:.1f} s, audited)", file=sys.stderr)

    own = None
    lib = None
    if os.environ.get("NEO4J_URI"):
        target = Neo4jTarget(os.environ["NEO4J_URI"], os.environ.get("NEO4J_USER", "neo4j"),
                             os.environ.get("NEO4J_PASSWORD", ""),
                             os.environ.get("NEO4J_DATABASE", "neo4j"))
        wipe(target)
    else:
        lib = harness.build()
        own = harness.make_home(work / "server", heap=args.heap, pagecache=args.pagecache,
                                lib=lib)
        harness.start(own, die_with_parent=True, lib=lib)
        target = Neo4jTarget(own.uri, harness.USER, own.password, "neo4j")
    report["server"] = target.uri
    try:
        with Store(db) as store:
            full = load(store, target, batch_size=args.batch)
        rows = full.nodes_written + full.relationships_written
        report["bolt_load"] = {
            "seconds": round(full.seconds, 1), "nodes": full.nodes_written,
            "relationships": full.relationships_written,
            "rows_per_s": round(rows / full.seconds) if full.seconds else None,
            "batch": args.batch,
        }
        print(f"bolt load: {report['bolt_load']}", file=sys.stderr)
        with Store(db) as store:
            changed = change_links(store, args.change)
            t0 = time.perf_counter()
            inc = load(store, target, batch_size=args.batch)
            inc_seconds = time.perf_counter() - t0
        report["incremental"] = {
            "changed": changed, "seconds": round(inc_seconds, 1),
            "relationships_written": inc.relationships_written,
            "relationships_deleted": inc.relationships_deleted,
            "nodes_written": inc.nodes_written, "nodes_deleted": inc.nodes_deleted,
            "fraction_of_full_load_time": round(inc_seconds / full.seconds, 3),
        }
        print(f"incremental: {report['incremental']}", file=sys.stderr)
    finally:
        if own is not None:
            harness.stop(own)

    # the same (changed) graph the other way: CSV files, then neo4j-admin into a fresh DBMS
    with Store(db, read_only=True) as store:
        cur = store.con.cursor()
        exported = export_csv(cur, work / "csv")
        cur.close()
    report["csv_export"] = {"seconds": round(exported.seconds, 1), "nodes": exported.nodes,
                            "relationships": exported.relationships,
                            "megabytes": round(sum(f.stat().st_size for f in exported.files)
                                               / 1e6, 1)}
    if not harness.missing_tools():
        lib = lib or harness.build()
        fresh = harness.make_home(work / "import", heap=args.heap, pagecache=args.pagecache,
                                  lib=lib)
        env = fresh.env() | {"PATH": f"{fresh.bin}{os.pathsep}{os.environ.get('PATH', '')}"}
        t0 = time.perf_counter()
        done = subprocess.run(exported.command, shell=True, env=env, capture_output=True, cwd=work,
                              text=True)
        seconds = time.perf_counter() - t0
        if done.returncode != 0:
            sys.exit(f"neo4j-admin import failed:\n{done.stdout}{done.stderr}")
        total = exported.seconds + seconds
        report["admin_import"] = {"seconds": round(seconds, 1),
                                  "export_plus_import_seconds": round(total, 1),
                                  "rows_per_s": round((exported.nodes + exported.relationships)
                                                      / total)}
        report["bolt_over_import_ratio"] = round(full.seconds / total, 2)
        shutil.rmtree(fresh.path, ignore_errors=True)
    else:
        report["admin_import"] = "skipped: " + ", ".join(harness.missing_tools()) + " missing"
    if own is not None:
        shutil.rmtree(own.path, ignore_errors=True)
    print(json.dumps(report, indent=2))
    if isinstance(report["admin_import"], dict):
        print(f"full load: Bolt {full.seconds:.1f} s vs CSV export + neo4j-admin import "
              f"{report['admin_import']['export_plus_import_seconds']} s "
              f"(Bolt takes {report['bolt_over_import_ratio']}x as long); incremental reload "
              f"after {args.change:.0%} of links changed: {inc_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
