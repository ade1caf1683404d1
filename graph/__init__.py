"""linkgraph.graph."""
