"""linkgraph.migrations."""
