-- The same content under two DOIs, scored (DESIGN "Audits" 3). Candidates share a title key
-- (letters and digits, lower case, >= 12 characters; blocks of more than $max_block works are
-- skipped as generic titles) and the same coarse type (a dataset is never "the same content"
-- as its article). Score = 0.47 title + 0.35 creator overlap (shared family names over the
-- smaller list: name variants in two scripts do not dilute it) + 0.15 same year (0.075 one
-- year apart) + 0.03 same container; reported from $threshold.
-- Kept apart, never scored: pairs linked either way by any relation (a version, part,
-- translation, supplement ... is a different thing by declaration; IsIdenticalTo pairs have
-- their own finding), siblings (parts or versions of one parent), and an author version
-- (AO/SMUR/AM) beside a version of record.
-- The block filter is applied to each side before the self-join (a materialised CTE): joined
-- first, a title shared by 33k synthetic works made 10^9 pairs before the filter (spill ran
-- the disk full at 1M records).
WITH tkeys AS (SELECT DISTINCT doi, tkey FROM audit_tkeys WHERE doi IS NOT NULL),
small AS MATERIALIZED (
    SELECT doi, tkey FROM tkeys
    WHERE tkey IN (SELECT tkey FROM tkeys GROUP BY tkey HAVING count(*) BETWEEN 2 AND $max_block)
),
cand AS (
    SELECT DISTINCT a.doi AS a, b.doi AS b
    FROM small a JOIN small b ON b.tkey = a.tkey AND b.doi > a.doi
),
info AS (
    SELECT doi, year, resource_type, version, lower(container) AS container, title, families
    FROM audit_works WHERE doi IS NOT NULL
),
parent_of AS (
    SELECT DISTINCT
        CASE WHEN relation_type IN ('IsPartOf', 'IsVersionOf') THEN subject_doi ELSE target END AS child,
        CASE WHEN relation_type IN ('IsPartOf', 'IsVersionOf') THEN target ELSE subject_doi END AS parent
    FROM audit_links WHERE relation_type IN ('IsPartOf', 'HasPart', 'IsVersionOf', 'HasVersion')
),
-- each candidate with its first side, materialised: left to the join-order optimiser, the
-- type condition between the two sides made info x info (6668^2 rows at 60k synthetic records,
-- out of memory at the default budget) before the few candidate pairs were met
cand_x AS MATERIALIZED (
    SELECT c.a, c.b, x.year, x.resource_type, x.version, x.container, x.title, x.families FROM cand c JOIN info x ON x.doi = c.a
),
pairs AS (
    SELECT x.a, x.b, x.title AS title_a, y.title AS title_b, x.year AS year_a, y.year AS year_b,
           x.resource_type AS rtype, list_sort(list_intersect(x.families, y.families)) AS shared,
           CASE WHEN least(array_length(x.families), array_length(y.families)) = 0 THEN 0.0
                ELSE array_length(list_intersect(x.families, y.families))::DOUBLE
                     / least(array_length(x.families), array_length(y.families)) END AS creator_overlap,
           x.year = y.year AS same_year, abs(x.year - y.year) = 1 AS near_year,
           x.container = y.container AS same_container
    FROM cand_x x
    JOIN info y ON y.doi = x.b
    WHERE x.resource_type IS NOT DISTINCT FROM y.resource_type
      AND coalesce(x.version IN ('AO', 'SMUR', 'AM'), false) = coalesce(y.version IN ('AO', 'SMUR', 'AM'), false)
),
scored AS (
    SELECT *, 0.47 + 0.35 * creator_overlap
              + CASE WHEN same_year THEN 0.15 WHEN near_year THEN 0.075 ELSE 0.0 END
              + CASE WHEN same_container THEN 0.03 ELSE 0.0 END AS score
    FROM pairs
),
above AS MATERIALIZED (SELECT * FROM scored WHERE score >= $threshold),
-- pairs linked either way, looked up from the links of the candidates' DOIs only: the distinct
-- pairs of every link (10M at 4M works) took 9 s of a 12 s audit
linked AS (
    SELECT DISTINCT least(subject_doi, target) AS a, greatest(subject_doi, target) AS b
    FROM audit_links
    WHERE subject_doi <> target
      AND subject_doi IN (SELECT a FROM above UNION ALL SELECT b FROM above)
),
kept AS MATERIALIZED (  -- candidates above the threshold that are neither linked nor siblings (anti-joins)
    SELECT s.* FROM above s
    LEFT JOIN linked l ON l.a = s.a AND l.b = s.b
    WHERE l.a IS NULL
),
-- Siblings start from the kept pairs (materialised): joining parent_of with itself on the
-- parent first made 2*10^8 rows for 20k children of one parent at 300k records.
kept_parent AS MATERIALIZED (
    SELECT k.a, k.b, p.parent FROM kept k JOIN parent_of p ON p.child = k.a
),
siblings AS (
    SELECT DISTINCT kp.a, kp.b FROM kept_parent kp
    JOIN parent_of q ON q.child = kp.b AND q.parent = kp.parent
)
SELECT
    'same_content' AS kind, CASE WHEN s.score >= 0.95 THEN 'error' ELSE 'warning' END AS severity,
    'doi:' || s.a AS subject_key, s.a AS subject_doi, s.b AS object_doi, s.b AS object_raw,
    CAST(NULL AS VARCHAR) AS relation_type, round(s.score, 3) AS score,
    json_object('title', s.title_a, 'object_title', s.title_b, 'shared_creators', s.shared,
                'creator_overlap', round(s.creator_overlap, 3), 'years', [s.year_a, s.year_b],
                'type', s.rtype, 'same_container', coalesce(s.same_container, false))::VARCHAR AS evidence
FROM kept s
LEFT JOIN siblings x ON x.a = s.a AND x.b = s.b
WHERE x.a IS NULL;
