"""linkgraph.queries."""
