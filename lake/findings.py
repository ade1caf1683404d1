"""Findings a Spark audit wrote into a lake, read where the store's findings are read.

``use_lake_findings`` shadows the store's ``findings`` table, for one connection, with a TEMP
view over ``DIR/findings`` (DuckDB resolves a name to the temp schema first): ``linkgraph
report --findings-from DIR`` and ``linkgraph export`` then show the lake's findings beside the
store's scorecard. Notebooks read the same files directly::

    duckdb.sql("SELECT * FROM read_parquet('DIR/findings/*/*.parquet', hive_partitioning = true)")
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from linkgraph.errors import UsageError

FINDINGS_GLOB = "findings/*/*.parquet"


def lake_findings_sql(directory: Path) -> str:
    """A SELECT of the lake's findings (``family`` from the partition path)."""
    files = sorted(Path(directory).glob(FINDINGS_GLOB))
    if not files:
        raise UsageError(f"{directory} holds no findings: run `linkgraph lake audit {directory}` first")
    pattern = str(Path(directory) / FINDINGS_GLOB).replace("'", "''")
    return f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = true, union_by_name = true)"


def use_lake_findings(con: duckdb.DuckDBPyConnection, directory: Path) -> int:
    """Shadow ``findings`` on ``con`` with the lake's, in the store table's columns and types;
    returns how many findings the lake holds."""
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND table_name = 'findings' ORDER BY column_index").fetchall()
    select = ", ".join(f'CAST("{name}" AS {dtype}) AS "{name}"' for name, dtype in columns)
    con.execute(f"CREATE OR REPLACE TEMP VIEW findings AS SELECT {select} FROM ({lake_findings_sql(directory)})")
    return int(con.execute("SELECT count(*) FROM findings").fetchone()[0])
