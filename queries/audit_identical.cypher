// Cypher twin of audit_identical.sql: declared IsIdenticalTo pairs, one finding per unordered
// pair of DOIs, with the DOIs whose records declare it.
MATCH (x:Work)-[r:IS_IDENTICAL_TO]->(y:Work)
WHERE r.asserted_by IN ['subject', 'both'] AND x.doi IS NOT NULL AND y.doi <> x.doi
WITH CASE WHEN x.doi < y.doi THEN x.doi ELSE y.doi END AS a,
     CASE WHEN x.doi < y.doi THEN y.doi ELSE x.doi END AS b,
     x.doi AS declared_by
ORDER BY declared_by
WITH a, b, collect(DISTINCT declared_by) AS declared
RETURN
    'identical_pair' AS kind, 'warning' AS severity,
    'doi:' + a AS subject_key, a AS subject_doi, b AS object_doi, b AS object_raw,
    'IsIdenticalTo' AS relation_type, null AS score,
    {declared_by: declared} AS evidence
