-- Missing reciprocal links (DESIGN "Audits" 1, and the one-way version links of 2).
-- A -r-> B stated by A (asserted by A's record), r has an inverse, and B's record states no
-- inverse(r) towards A. B not held: unverifiable (its agency may still state the inverse).
-- Targets no agency knows are left to the dangling-target audit; self-links likewise.
WITH stated AS (
    SELECT DISTINCT l.subject_doi, l.relation_type, l.target, i.inverse
    FROM audit_links l
    JOIN audit_inverse i ON i.relation_type = l.relation_type
    WHERE l.asserted_by IN ('subject', 'both')
      AND l.relation_type <> 'Other'
      AND l.target <> l.subject_doi
      AND l.target NOT IN (SELECT doi FROM audit_unknown)
),
back AS (SELECT DISTINCT subject_doi, relation_type, target FROM audit_links)
SELECT
    CASE WHEN h.doi IS NULL THEN 'unverifiable_reciprocal'
         WHEN s.relation_type IN ('IsVersionOf', 'HasVersion', 'IsNewVersionOf', 'IsPreviousVersionOf')
              THEN 'version_one_way'
         ELSE 'missing_reciprocal' END AS kind,
    CASE WHEN h.doi IS NULL THEN 'info' ELSE 'warning' END AS severity,
    'doi:' || s.subject_doi AS subject_key,
    s.subject_doi,
    s.target AS object_doi,
    s.target AS object_raw,
    s.relation_type,
    CAST(NULL AS DOUBLE) AS score,
    json_object(
        'stated', s.subject_doi || ' ' || s.relation_type || ' ' || s.target,
        'expected_back', s.target || ' ' || s.inverse || ' ' || s.subject_doi,
        'target_held', h.doi IS NOT NULL
    )::VARCHAR AS evidence
FROM stated s
LEFT JOIN back b
       ON b.subject_doi = s.target AND b.target = s.subject_doi AND b.relation_type = s.inverse
LEFT JOIN (SELECT DISTINCT doi FROM audit_works WHERE doi IS NOT NULL) h ON h.doi = s.target
WHERE b.subject_doi IS NULL;
