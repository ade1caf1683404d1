-- Works by coarse type per prefix, member (publisher) and journal (container): the "works by
-- type" part of the linkage scorecard (queries/scorecard.sql; same groups, same audit_works).
WITH w AS (
    SELECT a.doi, a.prefix, coalesce(a.resource_type, 'other') AS resource_type, a.container, wk.publisher
    FROM audit_works a
    LEFT JOIN works wk ON wk.source = a.source AND wk.record_id = a.record_id AND wk.work_key = a.work_key
    WHERE a.doi IS NOT NULL
),
members AS (
    SELECT 'prefix' AS level, prefix AS key, doi, resource_type FROM w
    UNION ALL
    SELECT 'member', coalesce(nullif(trim(publisher), ''), '(no publisher)'), doi, resource_type FROM w
    UNION ALL
    SELECT 'journal', trim(container), doi, resource_type FROM w WHERE nullif(trim(container), '') IS NOT NULL
)
SELECT level, key, resource_type, count(DISTINCT doi) AS works
FROM members
GROUP BY level, key, resource_type
ORDER BY CASE level WHEN 'prefix' THEN 0 WHEN 'member' THEN 1 ELSE 2 END, key, works DESC, resource_type;
