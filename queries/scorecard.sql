-- Linkage scorecard per prefix, member (publisher) and journal (container), in the spirit of
-- Crossref's Participation Reports but for links across registries (issue 7).
--
-- Needs the audits' working tables (queries/audit_prepare.sql: audit_works, audit_inverse,
-- audit_unknown; report/scorecard.py prepares them). Reads the two newest link snapshots kept by
-- the audits (audit_runs.links IS NOT NULL): "cur" is the latest audit run, "prev" the latest
-- one before it that ran every audit family (a partial `audit --kind ...` is never the trend
-- baseline; NULL columns when there is none). Work types, publishers and journals come from
-- the works held now, for both runs.
--
-- Definitions (all over DOI -> DOI links as stated by the subject's own record):
--   datasets_linked        datasets with at least one link, stated by either side, to or from a
--                          work held as an article
--   links_typed            links whose relation type is not Other / IsRelatedTo
--   links_checkable        typed links with an inverse, not a self-link, whose target is held
--                          (the audits can tell whether the target states the inverse back)
--   links_reciprocal       checkable links whose target states the inverse back
--   links_unverifiable     links with an inverse whose target is not held (and not a DOI that
--                          no agency knows: those count against targets_resolving instead)
--   targets_resolving      distinct (subject, target) pairs whose target is not a DOI that no
--                          agency knows (unknown_dois: prefix-unknown / not-found)
--   duplicate_dois         DOIs of the group in a duplicates finding of the latest audit
--                          (duplicate_url, identical_pair, same_content); no previous value
--   datasets_cited         datasets a held article or preprint cites: in its reference list or
--                          by a References / Cites relation, by DOI or CSTR (the relations held
--                          now: reference lists are not in the link snapshots; no previous value)
--   works_with_cstr        DOIs of the group whose record also gives a CSTR
-- pct_* = 100 * numerator / denominator, rounded to 0.1; NULL when the denominator is 0.
WITH picked AS (SELECT cur_run, prev_run FROM audit_trend_runs),  -- audit_prepare.sql
w AS (
    SELECT a.doi, a.prefix, a.registry, a.resource_type, a.container, wk.publisher
    FROM audit_works a
    LEFT JOIN works wk ON wk.source = a.source AND wk.record_id = a.record_id AND wk.work_key = a.work_key
    WHERE a.doi IS NOT NULL
),
members AS (
    SELECT 'prefix' AS level, prefix AS key, doi FROM w
    UNION ALL
    SELECT 'member', coalesce(nullif(trim(publisher), ''), '(no publisher)'), doi FROM w
    UNION ALL
    SELECT 'journal', trim(container), doi FROM w WHERE nullif(trim(container), '') IS NOT NULL
),
snap AS (
    SELECT DISTINCT CASE WHEN s.run_id = p.cur_run THEN 'cur' ELSE 'prev' END AS run,
           s.subject_doi, s.relation_type, s.target
    FROM link_snapshots s, picked p
    WHERE s.run_id IN (p.cur_run, p.prev_run)
),
link_facts AS (
    SELECT s.run, s.subject_doi, s.relation_type, s.target,
           s.relation_type NOT IN ('Other', 'IsRelatedTo') AS typed,
           i.inverse IS NOT NULL AND s.relation_type NOT IN ('Other', 'IsRelatedTo') AS has_inverse,
           s.target = s.subject_doi AS self_link,
           h.doi IS NOT NULL AS target_held,
           u.doi IS NOT NULL AS target_unknown,
           b.subject_doi IS NOT NULL AS reciprocal
    FROM snap s
    LEFT JOIN audit_inverse i ON i.relation_type = s.relation_type
    LEFT JOIN (SELECT DISTINCT doi FROM w) h ON h.doi = s.target
    LEFT JOIN (SELECT DISTINCT doi FROM audit_unknown) u ON u.doi = s.target
    LEFT JOIN snap b  -- snap rows are distinct: at most one match
           ON b.run = s.run AND b.subject_doi = s.target AND b.target = s.subject_doi
          AND b.relation_type = i.inverse
),
per_doi_links AS (
    SELECT run, subject_doi AS doi,
           count(*) AS links,
           count(*) FILTER (WHERE typed) AS links_typed,
           count(*) FILTER (WHERE has_inverse AND NOT self_link AND target_held) AS links_checkable,
           count(*) FILTER (WHERE has_inverse AND NOT self_link AND target_held AND reciprocal) AS links_reciprocal,
           count(*) FILTER (WHERE has_inverse AND NOT self_link AND NOT target_held AND NOT target_unknown)
               AS links_unverifiable
    FROM link_facts GROUP BY ALL
),
per_doi_targets AS (
    SELECT run, subject_doi AS doi, count(DISTINCT target) AS targets,
           count(DISTINCT target) FILTER (WHERE NOT target_unknown) AS targets_resolving
    FROM link_facts GROUP BY ALL
),
link_ends AS (  -- each link from both of its ends
    SELECT run, subject_doi AS doi, target AS other FROM snap
    UNION ALL
    SELECT run, target, subject_doi FROM snap
),
article_links AS (  -- datasets linked with an article, by either side
    SELECT DISTINCT e.run, e.doi
    FROM link_ends e
    JOIN w d ON d.doi = e.doi AND d.resource_type = 'dataset'
    JOIN w a ON a.doi = e.other AND a.resource_type = 'article'
    WHERE e.doi <> e.other
),
cited AS (
    SELECT DISTINCT l.target AS doi FROM audit_links l
    JOIN w a ON a.doi = l.subject_doi AND a.resource_type IN ('article', 'preprint')
    JOIN w d ON d.doi = l.target AND d.resource_type = 'dataset'
    WHERE l.relation_type IN ('References', 'Cites')
),
cstr AS (
    SELECT DISTINCT wk.doi FROM identifiers i JOIN works wk USING (source, record_id, work_seq)
    WHERE i.scheme = 'cstr' AND wk.doi IS NOT NULL
),
dup AS (
    SELECT DISTINCT doi FROM (
        SELECT subject_doi AS doi FROM findings WHERE family = 'duplicates'
        UNION ALL SELECT object_doi FROM findings WHERE family = 'duplicates'
    ) WHERE doi IS NOT NULL
),
per_run AS (
    SELECT m.level, m.key, r.run,
           coalesce(sum(l.links), 0) AS links,
           coalesce(sum(l.links_typed), 0) AS links_typed,
           coalesce(sum(l.links_checkable), 0) AS links_checkable,
           coalesce(sum(l.links_reciprocal), 0) AS links_reciprocal,
           coalesce(sum(l.links_unverifiable), 0) AS links_unverifiable,
           coalesce(sum(t.targets), 0) AS targets,
           coalesce(sum(t.targets_resolving), 0) AS targets_resolving,
           count(al.doi) AS datasets_linked
    FROM members m
    CROSS JOIN (SELECT 'cur' AS run UNION ALL SELECT 'prev' FROM picked WHERE prev_run IS NOT NULL) r
    LEFT JOIN per_doi_links l ON l.doi = m.doi AND l.run = r.run
    LEFT JOIN per_doi_targets t ON t.doi = m.doi AND t.run = r.run
    LEFT JOIN article_links al ON al.doi = m.doi AND al.run = r.run
    GROUP BY ALL
),
base AS (
    SELECT m.level, m.key,
           string_agg(DISTINCT w.prefix, ', ' ORDER BY w.prefix) AS prefixes,
           string_agg(DISTINCT w.registry, ', ' ORDER BY w.registry) AS registries,
           count(DISTINCT m.doi) AS works,
           count(DISTINCT m.doi) FILTER (WHERE w.resource_type = 'article') AS articles,
           count(DISTINCT m.doi) FILTER (WHERE w.resource_type = 'dataset') AS datasets,
           count(DISTINCT m.doi) FILTER (WHERE m.doi IN (SELECT doi FROM dup)) AS duplicate_dois,
           count(DISTINCT m.doi) FILTER (WHERE w.resource_type = 'dataset' AND m.doi IN (SELECT doi FROM cited))
               AS datasets_cited,
           count(DISTINCT m.doi) FILTER (WHERE m.doi IN (SELECT doi FROM cstr)) AS works_with_cstr
    FROM members m JOIN (SELECT DISTINCT doi, prefix, registry, resource_type FROM w) w ON w.doi = m.doi
    GROUP BY ALL
)
SELECT
    b.level, b.key, b.prefixes, b.registries,
    b.works, b.articles, b.datasets,
    c.datasets_linked,
    round(100.0 * c.datasets_linked / nullif(b.datasets, 0), 1) AS pct_datasets_linked,
    b.datasets_cited,
    round(100.0 * b.datasets_cited / nullif(b.datasets, 0), 1) AS pct_datasets_cited,
    c.links, c.links_typed,
    round(100.0 * c.links_typed / nullif(c.links, 0), 1) AS pct_links_typed,
    c.links_checkable, c.links_reciprocal, c.links_unverifiable,
    round(100.0 * c.links_reciprocal / nullif(c.links_checkable, 0), 1) AS pct_links_reciprocal,
    c.targets, c.targets_resolving,
    round(100.0 * c.targets_resolving / nullif(c.targets, 0), 1) AS pct_targets_resolving,
    b.duplicate_dois, b.works_with_cstr,
    (SELECT cur_run FROM picked) AS run_id,
    (SELECT prev_run FROM picked) AS prev_run_id,
    round(100.0 * p.datasets_linked / nullif(b.datasets, 0), 1) AS prev_pct_datasets_linked,
    CAST(NULL AS DOUBLE) AS prev_pct_datasets_cited,
    round(100.0 * p.links_typed / nullif(p.links, 0), 1) AS prev_pct_links_typed,
    round(100.0 * p.links_reciprocal / nullif(p.links_checkable, 0), 1) AS prev_pct_links_reciprocal,
    round(100.0 * p.targets_resolving / nullif(p.targets, 0), 1) AS prev_pct_targets_resolving
FROM base b
JOIN per_run c ON c.level = b.level AND c.key = b.key AND c.run = 'cur'
LEFT JOIN per_run p ON p.level = b.level AND p.key = b.key AND p.run = 'prev'
WHERE (SELECT cur_run FROM picked) IS NOT NULL
ORDER BY CASE b.level WHEN 'prefix' THEN 0 WHEN 'member' THEN 1 ELSE 2 END, b.works DESC, b.key;
