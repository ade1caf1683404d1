// Cypher twin of audit_reciprocal.sql (same columns, same findings): A -r-> B stated by A's
// record, r has an inverse, and B's record states no inverse(r) towards A; B not held
// (:External) is unverifiable. Self-links and DOIs no agency knows are left to audit_targets.
// $inverse: DataCite relation type -> its inverse (passed by linkgraph query).
MATCH (a:Work)-[r]->(b:Work)
WHERE r.target_scheme = 'doi' AND a.doi IS NOT NULL
  AND r.asserted_by IN ['subject', 'both'] AND r.relation_type <> 'Other'
  AND b.doi <> a.doi AND b.unknown IS NULL
  AND $inverse[r.relation_type] IS NOT NULL
WITH DISTINCT a, b, r.relation_type AS rel, $inverse[r.relation_type] AS inv
WHERE NOT EXISTS {
    MATCH (b)-[back]->(a) WHERE back.relation_type = inv AND back.target_scheme = 'doi'
      AND back.asserted_by <> 'text'
}
RETURN
    CASE WHEN b:External THEN 'unverifiable_reciprocal'
         WHEN rel IN ['IsVersionOf', 'HasVersion', 'IsNewVersionOf', 'IsPreviousVersionOf']
              THEN 'version_one_way'
         ELSE 'missing_reciprocal' END AS kind,
    CASE WHEN b:External THEN 'info' ELSE 'warning' END AS severity,
    'doi:' + a.doi AS subject_key,
    a.doi AS subject_doi,
    b.doi AS object_doi,
    b.doi AS object_raw,
    rel AS relation_type,
    null AS score,
    {stated: a.doi + ' ' + rel + ' ' + b.doi,
     expected_back: b.doi + ' ' + inv + ' ' + a.doi,
     target_held: NOT b:External} AS evidence
