"""A Spark session for the lake jobs, and the lake's tables as Spark views.

pyspark is an optional extra (``pip install -e '.[spark]'``) and needs a Java 17+ runtime;
both are checked before a session starts, so a missing one is a clear usage error (exit 2),
not a Py4J trace. ``master`` is ``local[N]`` on one machine or a cluster URL (``spark://``,
``yarn``, ``k8s://``); the workers must have linkgraph installed, as the crosswalk runs its
readers there.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from linkgraph.errors import UsageError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[*]"


class SparkUnavailable(UsageError):
    """pyspark or Java is missing."""


def check_spark() -> None:
    """Raise ``SparkUnavailable`` naming what to install when pyspark or Java is missing."""
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailable(
            f"the lake's Spark jobs need {exc.name}: pip install -e '.[spark]' (and a Java 17+ runtime)"
        ) from exc
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and Path(java_home, "bin", "java").exists()) and shutil.which("java") is None:
        raise SparkUnavailable("Spark needs a Java 17+ runtime: install one (e.g. OpenJDK 17) and put "
                               "`java` on PATH or set JAVA_HOME")


@contextmanager
def spark_session(master: str = DEFAULT_MASTER, *, app: str = "linkgraph",
                  conf: dict[str, str] | None = None) -> Iterator[SparkSession]:
    """A session for one job, stopped at the end. Python workers run this interpreter (the one
    linkgraph is installed in); times are UTC as in the store; partition values stay strings.
    The commands pass ``spark.driver.memory`` for a local master (``linkgraph.cli.lake_cmds``):
    Spark's 1g default lost a broadcast of the 1M-work audit's working table."""
    check_spark()
    # pyspark 4.x warns on every Arrow call that pandas 3 is newer than it was tested with; the
    # lake jobs hand Arrow batches, not pandas frames
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master).appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # instants as Parquet TIMESTAMP_MICROS (UTC-adjusted), which DuckDB reads as TIMESTAMPTZ
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    )
    if master.startswith("local"):
        # a few shuffle partitions per core, not Spark's 200
        builder = builder.config("spark.sql.shuffle.partitions", str(max(4, 2 * (os.cpu_count() or 2))))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def read_table(spark: SparkSession, root: Path, table: str) -> DataFrame:
    """One lake table with its Hive partition columns (``registry``, ``month``) as strings."""
    path = Path(root) / table
    if not path.is_dir():
        if _exported_empty(root, table):  # a partitioned table without rows has no partition
            return spark.createDataFrame(_empty(table))
        raise UsageError(f"{root} holds no {table} table: run `linkgraph lake export` first")
    reader: Any = spark.read.option("basePath", str(path)).option("recursiveFileLookup", "false")
    return reader.parquet(str(path))


def _exported_empty(root: Path, table: str) -> bool:
    from linkgraph.lake.export import read_manifest

    manifest = read_manifest(Path(root)) or {}
    return manifest.get("rows", {}).get(table) == 0


def _empty(table: str) -> pa.Table:
    """The store's table without rows (the schema of an in-memory store), plus the partition
    column ``lake export`` gives it."""
    from linkgraph.lake.export import TABLES
    from linkgraph.store import Store

    with Store(":memory:") as store:
        empty = store.con.sql(f"SELECT * FROM {table} LIMIT 0").to_arrow_table()
    for column in TABLES[table][1]:
        empty = empty.append_column(column, pa.array([], pa.string()))
    return empty


def register_lake(spark: SparkSession, root: Path) -> None:
    """Each table ``lake export`` writes as a temporary view of its own name."""
    from linkgraph.lake.export import TABLES

    for table in TABLES:
        read_table(spark, root, table).createOrReplaceTempView(table)
