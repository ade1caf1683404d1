"""The audits on Spark: the DuckDB queries of ``queries/``, read through ``lake/sparksql.py``,
over a lake's tables; findings written into the lake as Parquet.

The steps are the DuckDB audit's (``graph/audit.py``): the working tables of
``audit_prepare.sql`` (each materialised once, as DuckDB's TEMP tables), every audit query of
the chosen families, the version graph pruned in SQL and its cycles found by networkx on the
driver, ``audit_enrich.sql``'s registries, prefixes, dates and fix fragments, the fragments'
schema verdicts (one fragment of each shape validated on the driver, as ``validate_fixes``) and
the duplicate clusters (connected components of the duplicate pairs, networkx on the driver).
The link snapshot for ``audit diff`` stays with the store.

::

    DIR/findings/family=<family>/part-*.parquet
    DIR/findings/_run.json        (run id, families, findings per kind, step seconds)
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from linkgraph.graph.audit import FAMILIES, MAX_BLOCK, SAME_CONTENT_THRESHOLD, inverse_table, resolve_families
from linkgraph.graph.fixes import fix_vocab_table, validate_fragment
from linkgraph.graph.networks import (
    DUPLICATE_KINDS,
    cluster_ids,
    cycle_findings,
    found_schema,
    prune_version_graph,
)
from linkgraph.lake.spark import register_lake
from linkgraph.lake.sparksql import translate
from linkgraph.queries import load_query

from linkgraph.store import utcnow

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FINDINGS = "findings"
RUN_FILE = "_run.json"
_PARAMS: dict[str, object] = {"threshold": SAME_CONTENT_THRESHOLD, "max_block": MAX_BLOCK}
#: views of audit_prepare.sql over store-only tables (the audit runs' history)
_STORE_ONLY = {"audit_trend_runs"}


@dataclass(slots=True)
class SparkAuditResult:
    run_id: int
    families: list[str]
    directory: Path
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def findings(self) -> int:
        return sum(self.counts.values())


class _Scratch:
    """Working tables computed once (as DuckDB's TEMP TABLEs) and kept as Parquet in a scratch
    directory beside the findings: later queries, and a table defined over itself (the version
    graph's pruning), read rows, not a growing plan; the rows spill to disk, not to the
    driver; and on a cluster the directory is on the storage the lake is on. (Spark's
    ``localCheckpoint`` would do in memory, but a union over checkpointed plans fails in Spark
    4.x with ``key not found`` on a column.)"""

    def __init__(self, spark: SparkSession, directory: Path) -> None:
        self.spark = spark
        self.directory = directory
        self.count = 0
        shutil.rmtree(directory, ignore_errors=True)

    def keep(self, df: DataFrame) -> DataFrame:
        self.count += 1
        path = str(self.directory / f"t{self.count}")
        df.write.parquet(path)
        return self.spark.read.parquet(path)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _materialise(work: _Scratch, name: str, sql: str) -> DataFrame:
    df = work.keep(work.spark.sql(sql))
    df.createOrReplaceTempView(name)
    return df


def _run_file(work: _Scratch, name: str, params: dict[str, object]) -> DataFrame | None:
    """Run one query file's statements; the last SELECT's rows (None when it has none)."""
    spark = work.spark
    last: DataFrame | None = None
    for st in translate(load_query(name), params):
        if st.name in _STORE_ONLY:
            continue
        if st.action == "table":
            _materialise(work, st.name or "", st.sql)
        elif st.action == "view":
            spark.sql(st.sql).createOrReplaceTempView(st.name or "")
        else:
            last = spark.sql(st.sql)
    return last


def _version_cycles(work: _Scratch) -> DataFrame:
    spark = work.spark
    _run_file(work, "audit_version_edges", {})
    prune_version_graph(lambda: _run_file(work, "audit_version_prune", {}),
                        lambda: spark.table("audit_version_edges").count())
    pairs = [(r[0], r[1]) for r in spark.table("audit_version_edges").collect()]
    return spark.createDataFrame(cycle_findings(pairs), schema=_found_ddl())


def _found_ddl() -> str:
    kinds = {"string": "STRING", "double": "DOUBLE"}
    return ", ".join(f"{f.name} {kinds[str(f.type)]}" for f in found_schema())


def _next_run_id(out: Path) -> int:
    try:
        return int(json.loads((out / FINDINGS / RUN_FILE).read_text("utf-8"))["run_id"]) + 1
    except (OSError, ValueError, KeyError, TypeError):
        return 1


def run_spark_audit(
    spark: SparkSession,
    lake: Path,
    kinds: Sequence[str] | None = None,
    *,
    out: Path | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> SparkAuditResult:
    """Audit the lake at ``lake``; findings go to ``out`` (default: the lake) ``/findings``,
    replacing the previous run's."""
    families = resolve_families(kinds)
    root = Path(lake)
    target = Path(out) if out is not None else root
    result = SparkAuditResult(_next_run_id(target), families, target / FINDINGS)

    def timed(step: str, t0: float) -> None:
        result.timings[step] = round(time.perf_counter() - t0, 3)
        if progress is not None:
            progress(step, result.timings[step])

    work = _Scratch(spark, target / f".audit-work.{os.getpid()}")
    try:
        t0 = time.perf_counter()
        register_lake(spark, root)
        spark.createDataFrame(inverse_table()).createOrReplaceTempView("audit_inverse")
        spark.createDataFrame(fix_vocab_table()).createOrReplaceTempView("audit_fix_vocab")
        _run_file(work, "audit_prepare", {})
        timed("prepare", t0)
        parts: list[DataFrame] = []
        for family in families:
            found: DataFrame | None = None
            for name in FAMILIES[family]:
                t0 = time.perf_counter()
                rows = _version_cycles(work) if name == "version_cycles" else _run_file(work, name, _PARAMS)
                assert rows is not None, name
                rows = work.keep(rows)  # run here, so the step's time is its own
                found = rows if found is None else found.unionByName(rows)
                timed(name, t0)
            assert found is not None
            t0 = time.perf_counter()
            found.createOrReplaceTempView("audit_found")
            enriched = _run_file(work, "audit_enrich", {"run_id": result.run_id, "family": family})
            assert enriched is not None
            parts.append(work.keep(enriched))
            timed(f"enrich_{family}", t0)
        t0 = time.perf_counter()
        findings = parts[0]
        for part in parts[1:]:
            findings = findings.unionByName(part)
        findings = _with_clusters(work, _with_verdicts(work, findings))
        timed("fix_fragments_and_clusters", t0)
        t0 = time.perf_counter()
        findings.createOrReplaceTempView("spark_findings")
        for kind, n in spark.sql("SELECT kind, count(*) FROM spark_findings GROUP BY kind").collect():
            result.counts[str(kind)] = int(n)
        _write(findings, target / FINDINGS, result)
        timed("write", t0)
    finally:
        work.close()
    return result


def _with_verdicts(work: _Scratch, findings: DataFrame) -> DataFrame:
    """``fix_valid`` / ``fix_schema`` as ``graph.fixes.validate_fixes`` sets them: fragments of
    one shape (format, kind, relation type) differ only in the escaped DOI, so one is validated."""
    spark = work.spark
    findings.createOrReplaceTempView("spark_found")
    shapes = spark.sql(
        "SELECT fix_format, kind, relation_type, min(fix_fragment) FROM spark_found"
        " WHERE fix_fragment IS NOT NULL GROUP BY fix_format, kind, relation_type").collect()
    rows = []
    for fmt, kind, rel, sample in shapes:
        verdict = validate_fragment(fmt, sample)
        rows.append((f"{fmt}|{kind}|{rel or ''}", verdict.valid, verdict.schema))
    spark.createDataFrame(rows, "v_shape STRING, v_valid BOOLEAN, v_schema STRING") \
        .createOrReplaceTempView("spark_verdicts")
    shape = "CASE WHEN f.fix_fragment IS NOT NULL THEN concat_ws('|', f.fix_format, f.kind, coalesce(f.relation_type, '')) END"
    return work.keep(spark.sql(
        "SELECT f.* EXCEPT (fix_valid, fix_schema),"
        " CASE WHEN v.v_shape IS NULL THEN f.fix_valid ELSE v.v_valid END AS fix_valid,"
        " CASE WHEN v.v_shape IS NULL THEN f.fix_schema ELSE v.v_schema END AS fix_schema"
        f" FROM spark_found f LEFT JOIN spark_verdicts v ON v.v_shape = {shape}"
    ))


def _with_clusters(work: _Scratch, findings: DataFrame) -> DataFrame:
    """``cluster_id`` of the duplicate findings as ``graph.networks.duplicate_clusters`` sets it
    (the smallest DOI of each connected component of the duplicate pairs)."""
    spark = work.spark
    findings.createOrReplaceTempView("spark_found_c")
    pairs = spark.sql(
        "SELECT DISTINCT subject_doi, object_doi FROM spark_found_c WHERE kind IN"
        f" ({', '.join(repr(k) for k in DUPLICATE_KINDS)}) AND object_doi IS NOT NULL").collect()
    cluster_of = cluster_ids((a, b) for a, b in pairs)
    spark.createDataFrame(list(cluster_of.items()), "c_doi STRING, c_id STRING") \
        .createOrReplaceTempView("spark_clusters")
    return work.keep(spark.sql(
        "SELECT f.* EXCEPT (cluster_id), c.c_id AS cluster_id FROM spark_found_c f"
        " LEFT JOIN spark_clusters c ON c.c_doi = f.subject_doi AND f.object_doi IS NOT NULL"
        f" AND f.kind IN ({', '.join(repr(k) for k in DUPLICATE_KINDS)})"
    ))


def _write(findings: DataFrame, directory: Path, result: SparkAuditResult) -> None:
    """Replace the findings of the families this run audited (those of the others stay, as in
    the store): each family is written beside its place and swapped in, so a killed job
    leaves the previous findings readable."""
    directory.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f".{directory.name}.{os.getpid()}.tmp")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        findings.write.partitionBy("family").parquet(str(staging))
        for family in result.families:
            new, place = staging / f"family={family}", directory / f"family={family}"
            old = directory / f".family={family}.old"
            if place.exists():
                os.replace(place, old)
            if new.exists():
                os.replace(new, place)
            if old.exists():
                shutil.rmtree(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    run = {"run_id": result.run_id, "engine": "spark", "finished_at": utcnow().isoformat(),
           "families": result.families, "counts": result.counts, "seconds": result.timings}
    tmp = directory / f".{RUN_FILE}.tmp"
    tmp.write_text(json.dumps(run, indent=1), "utf-8")
    os.replace(tmp, directory / RUN_FILE)


def summary(result: SparkAuditResult) -> dict[str, object]:
    data = asdict(result)
    data["directory"] = str(result.directory)
    data["findings"] = result.findings
    return data
