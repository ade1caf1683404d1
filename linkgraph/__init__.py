"""linkgraph: harvest scholarly metadata into DuckDB and audit cross-registry links."""

__version__ = "0.1.0"
