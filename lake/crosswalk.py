"""The crosswalk on Spark: the readers of ``crosswalks/`` run unchanged inside ``mapInArrow``
over the lake's raw records, and their tables replace the lake's ``works``, ``identifiers``,
``relations`` (partitioned by registry, as ``lake export`` lays them out) and ``problems``.

One pass over the payloads: each Arrow batch of raw rows goes through
``crosswalks.pipeline.build_batch`` (what ``linkgraph crosswalk`` runs in its workers) and comes
back as one wide batch per output table - a ``_table`` column naming the table and every
table's columns prefixed with its name, nulls where another table's. The wide rows are kept on
the executors once, and each table is selected from them and written.

The manifest then names Spark as these tables' writer and drops their partitions'
fingerprints, so the next ``lake export`` rewrites them from the store.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from linkgraph.crosswalks.pipeline import (
    IDENTIFIERS_SCHEMA,
    PROBLEMS_SCHEMA,
    RELATIONS_SCHEMA,
    TABLES,
    WORKS_SCHEMA,
    build_batch,
)
from linkgraph.lake.export import REGISTRY_SQL, MANIFEST, read_manifest
from linkgraph.lake.spark import read_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SCHEMAS: dict[str, pa.Schema] = {
    "works": WORKS_SCHEMA, "identifiers": IDENTIFIERS_SCHEMA,
    "relations": RELATIONS_SCHEMA, "problems": PROBLEMS_SCHEMA,
}
_RAW_COLUMNS = ("source", "record_id", "deleted", "metadata_format", "payload", "change_seq")


def wide_schema() -> pa.Schema:
    fields = [pa.field("_table", pa.string())]
    for table in TABLES:
        fields.extend(pa.field(f"{table}__{f.name}", f.type) for f in SCHEMAS[table])
    return pa.schema(fields)


def widen(tables: dict[str, pa.Table], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Each output table as batches of the wide schema."""
    for table in TABLES:
        t = tables[table]
        if t.num_rows == 0:
            continue
        n = t.num_rows
        columns = []
        for f in schema:
            if f.name == "_table":
                columns.append(pa.array([table] * n, pa.string()))
            elif f.name.startswith(f"{table}__"):
                columns.append(t.column(f.name[len(table) + 2:]).cast(f.type).combine_chunks())
            else:
                columns.append(pa.nulls(n, f.type))
        yield pa.RecordBatch.from_arrays(columns, schema=schema)


def crosswalk_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The ``mapInArrow`` function: raw rows in, wide output rows out (runs on the executors)."""
    schema = wide_schema()
    for batch in batches:
        rows = pa.Table.from_batches([batch]).select(list(_RAW_COLUMNS))
        yield from widen(build_batch(rows).tables, schema)


@dataclass(slots=True)
class SparkCrosswalkResult:
    directory: Path
    rows: dict[str, int] = field(default_factory=dict)
    raw_records: int = 0
    seconds: float = 0.0


def _spark_schema(schema: pa.Schema) -> object:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def run_spark_crosswalk(
    spark: SparkSession, lake: Path, *, progress: Callable[[str], None] | None = None,
) -> SparkCrosswalkResult:
    """Crosswalk every raw record of the lake at ``lake`` and replace its crosswalk tables."""
    t0 = time.perf_counter()
    root = Path(lake)
    result = SparkCrosswalkResult(root)
    raw = read_table(spark, root, "raw_records").selectExpr(
        "source", "record_id", "deleted", "metadata_format", "CAST(payload AS BINARY) AS payload", "change_seq")
    result.raw_records = raw.count()
    wide = raw.mapInArrow(crosswalk_partition, _spark_schema(wide_schema())).localCheckpoint(eager=True)
    frames: dict[str, DataFrame] = {}
    for table in TABLES:
        cols = [f"`{table}__{f.name}` AS `{f.name}`" for f in SCHEMAS[table]]
        frames[table] = wide.where(f"_table = '{table}'").selectExpr(*cols)
    frames["works"].createOrReplaceTempView("spark_works")
    out: dict[str, tuple[DataFrame, tuple[str, ...]]] = {
        "works": (spark.sql(f"SELECT w.*, {REGISTRY_SQL} AS registry FROM spark_works w"), ("registry",)),
        "problems": (frames["problems"], ()),
    }
    for table in ("identifiers", "relations"):
        frames[table].createOrReplaceTempView(f"spark_{table}")
        out[table] = (spark.sql(
            f"SELECT t.*, {REGISTRY_SQL} AS registry FROM spark_{table} t"
            " JOIN spark_works w USING (source, record_id, work_seq)"), ("registry",))
    staged: dict[str, Path] = {}
    try:
        for table, (df, parts) in out.items():
            staging = root / f".{table}.{os.getpid()}.tmp"
            if staging.exists():
                shutil.rmtree(staging)
            writer = df.write.option("compression", "zstd")
            (writer.partitionBy(*parts) if parts else writer).parquet(str(staging))
            staged[table] = staging
            result.rows[table] = df.count()
            if progress is not None:
                progress(table)
        for table, staging in staged.items():
            _swap(root / table, staging)
    finally:
        for staging in staged.values():
            if staging.exists():
                shutil.rmtree(staging)
    _mark_manifest(root, result)
    result.seconds = time.perf_counter() - t0
    return result


def _swap(directory: Path, staging: Path) -> None:
    old = directory.with_name(f".{directory.name}.{os.getpid()}.old")
    if directory.exists():
        os.replace(directory, old)
    os.replace(staging, directory)
    if old.exists():
        shutil.rmtree(old)


def _mark_manifest(root: Path, result: SparkCrosswalkResult) -> None:
    """These tables are now Spark's: their partitions leave the manifest (the next export
    rewrites them from the store) and the manifest says who wrote them."""
    manifest = read_manifest(root) or {}
    manifest["partitions"] = [p for p in manifest.get("partitions", []) if p.get("table") not in TABLES]
    manifest.setdefault("rows", {}).update(result.rows)
    manifest["crosswalk"] = {"engine": "spark", "raw_records": result.raw_records, "rows": result.rows}
    tmp = root / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), "utf-8")
    os.replace(tmp, root / MANIFEST)
