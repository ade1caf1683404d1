-- Missing reciprocal links (DESIGN "Audits" 1, and the one-way version links of 2).
-- A -r-> B stated by A's record, r has an inverse, and B's record states no inverse(r) towards
-- A (any record holding B counts, so does a link Crossref shows on B as asserted by A).
-- B not held: unverifiable (its agency may still state the inverse). Targets no agency knows
-- are left to the dangling-target audit; self-links likewise; 'Other' has no meaning to invert.
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
        'expected_back', s.target || ' ' || i.inverse || ' ' || s.subject_doi,
        'target_held', (h.doi IS NOT NULL)
    )::VARCHAR AS evidence
FROM audit_links s
ANTI JOIN audit_links b ON b.h = s.hb
JOIN audit_inverse i ON i.relation_type = s.relation_type
LEFT JOIN (SELECT DISTINCT doi FROM audit_works WHERE doi IS NOT NULL) h ON h.doi = s.target
WHERE s.stated AND s.hb IS NOT NULL AND s.relation_type <> 'Other' AND s.target <> s.subject_doi
  AND s.target NOT IN (SELECT doi FROM audit_unknown);
