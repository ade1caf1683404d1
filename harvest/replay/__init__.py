"""linkgraph.harvest.replay."""
