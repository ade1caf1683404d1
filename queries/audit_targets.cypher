// Cypher twin of audit_targets.sql: malformed DOI targets (:Target:Unresolved), DOIs no agency
// knows (the `unknown` property), self-links, and a dataset IsSupplementTo a held work that is
// not a publication.
MATCH (a:Work)-[r]->(t:Target:Unresolved)
WHERE r.target_scheme = 'doi' AND r.asserted_by IN ['subject', 'both']
RETURN 'malformed_target' AS kind, 'error' AS severity, a.key AS subject_key,
       a.doi AS subject_doi, null AS object_doi, r.target_raw AS object_raw,
       r.relation_type AS relation_type, null AS score,
       {problems: coalesce(r.problems, []), raw_type: r.raw_type} AS evidence
UNION ALL
MATCH (a:Work)-[r]->(b:Work)
WHERE r.target_scheme = 'doi' AND b.unknown IS NOT NULL AND r.asserted_by IN ['subject', 'both']
RETURN DISTINCT 'unknown_doi' AS kind, 'error' AS severity, a.key AS subject_key,
       a.doi AS subject_doi, b.doi AS object_doi, b.doi AS object_raw,
       r.relation_type AS relation_type, null AS score, {reason: b.unknown} AS evidence
UNION ALL
MATCH (a:Work)-[r]->(a)
WHERE r.target_scheme = 'doi' AND r.asserted_by IN ['subject', 'both']
RETURN DISTINCT 'self_link' AS kind, 'error' AS severity, a.key AS subject_key,
       a.doi AS subject_doi, a.doi AS object_doi, a.doi AS object_raw,
       r.relation_type AS relation_type, null AS score, {raw_type: r.raw_type} AS evidence
UNION ALL
MATCH (s:Work)-[r:IS_SUPPLEMENT_TO]->(t:Work)
WHERE r.target_scheme = 'doi' AND r.asserted_by IN ['subject', 'both'] AND NOT t:External
  AND s.type = 'dataset' AND t.doi <> s.doi
  AND NOT coalesce(t.type, 'other') IN ['article', 'book', 'preprint', 'thesis', 'report']
RETURN DISTINCT 'supplement_not_publication' AS kind, 'warning' AS severity,
       s.key AS subject_key, s.doi AS subject_doi, t.doi AS object_doi, t.doi AS object_raw,
       'IsSupplementTo' AS relation_type, null AS score,
       {subject_type: s.type, object_type: t.type, object_title: t.title} AS evidence
