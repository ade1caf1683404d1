"""linkgraph.graph: the link graph over the normalised store.

Audits in DuckDB SQL (``audit``), networkx analyses (``networks``), corrective metadata for
each finding (``fixes``), named queries (``named_query``) and the Neo4j sink and bulk export
(``neo4j_*``). Reads the store the crosswalks wrote; never imports the report or the
simulation room (``linkgraph.replay``).
"""
