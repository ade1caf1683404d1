-- One pruning pass: keep only edges whose source has an incoming edge and whose target has an
-- outgoing one (a node without both cannot lie on a cycle).
CREATE OR REPLACE TEMP TABLE audit_version_edges AS
SELECT e.src, e.dst FROM audit_version_edges e
WHERE e.src IN (SELECT dst FROM audit_version_edges)
  AND e.dst IN (SELECT src FROM audit_version_edges);
