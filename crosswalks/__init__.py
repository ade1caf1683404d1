"""linkgraph.crosswalks."""
