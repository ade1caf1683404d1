-- Dangling and mistyped targets (DESIGN "Audits" 4): malformed DOIs, DOIs no agency knows,
-- self-links, and a dataset IsSupplementTo something (held) that is not a publication.
SELECT 'malformed_target' AS kind, 'error' AS severity, r.work_key AS subject_key, r.subject_doi,
       CAST(NULL AS VARCHAR) AS object_doi, r.target_raw AS object_raw, r.relation_type,
       CAST(NULL AS DOUBLE) AS score,
       json_object('problems', r.problems, 'raw_type', r.raw_type)::VARCHAR AS evidence
FROM relations r
WHERE r.target_scheme = 'doi' AND r.target IS NULL AND r.target_raw <> ''
  AND r.asserted_by IN ('subject', 'both')
UNION ALL
SELECT DISTINCT 'unknown_doi', 'error', r.work_key, r.subject_doi, r.target, r.target, r.relation_type,
       CAST(NULL AS DOUBLE), json_object('reason', u.reason)::VARCHAR
FROM relations r JOIN audit_unknown u ON u.doi = r.target
WHERE r.target_scheme = 'doi' AND r.asserted_by IN ('subject', 'both')
UNION ALL
SELECT DISTINCT 'self_link', 'error', r.work_key, r.subject_doi, r.target, r.target, r.relation_type,
       CAST(NULL AS DOUBLE), json_object('raw_type', r.raw_type)::VARCHAR
FROM relations r
WHERE r.target_scheme = 'doi' AND r.target = r.subject_doi AND r.asserted_by IN ('subject', 'both')
UNION ALL
SELECT DISTINCT 'supplement_not_publication', 'warning', s.work_key, s.doi, t.doi, t.doi, 'IsSupplementTo',
       CAST(NULL AS DOUBLE),
       json_object('subject_type', s.resource_type, 'object_type', t.resource_type,
                   'object_title', t.title)::VARCHAR
FROM relations r
JOIN audit_works s ON s.work_key = r.work_key
JOIN audit_works t ON t.doi = r.target AND t.work_key = 'doi:' || r.target
WHERE r.relation_type = 'IsSupplementTo' AND r.target_scheme = 'doi' AND r.asserted_by IN ('subject', 'both')
  AND s.resource_type = 'dataset' AND r.target <> r.subject_doi
  AND coalesce(t.resource_type, 'other') NOT IN ('article', 'book', 'preprint', 'thesis', 'report');
