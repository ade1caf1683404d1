-- Declared IsIdenticalTo pairs: two DOIs for one thing. One finding per unordered pair.
SELECT
    'identical_pair' AS kind, 'warning' AS severity,
    'doi:' || a AS subject_key, a AS subject_doi, b AS object_doi, b AS object_raw,
    'IsIdenticalTo' AS relation_type, CAST(NULL AS DOUBLE) AS score,
    json_object('declared_by', list(DISTINCT declared_by ORDER BY declared_by))::VARCHAR AS evidence
FROM (
    SELECT least(subject_doi, target) AS a, greatest(subject_doi, target) AS b, subject_doi AS declared_by
    FROM audit_links
    WHERE relation_type = 'IsIdenticalTo' AND stated AND target <> subject_doi
)
GROUP BY a, b;
