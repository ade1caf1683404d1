"""linkgraph.harvest."""
