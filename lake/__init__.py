"""The lake: the store as Hive-partitioned Parquet for engines beyond one machine (Spark, Trino)."""
