-- The same content under two DOIs, scored (DESIGN "Audits" 3). Candidates share a title key
-- (letters and digits, lower case, >= 12 characters; blocks of more than $max_block works are
-- skipped as generic titles). Score = 0.40 title + 0.30 creator overlap (Jaccard of family
-- names) + 0.15 same year (0.07 one year apart) + 0.10 same coarse type + 0.05 same container.
-- Kept apart, never scored: pairs that state a version, part, translation, variant or identity
-- relation either way, and an author version (AO/SMUR/AM) beside a version of record.
WITH tkeys AS (
    SELECT DISTINCT doi, regexp_replace(lower(t.text), '[^\p{L}\p{N}]+', '', 'g') AS tkey
    FROM (SELECT doi, unnest(titles) AS t FROM audit_works WHERE doi IS NOT NULL)
),
blocks AS (
    SELECT tkey FROM tkeys WHERE length(tkey) >= 12
    GROUP BY tkey HAVING count(*) BETWEEN 2 AND $max_block
),
cand AS (
    SELECT DISTINCT a.doi AS a, b.doi AS b
    FROM tkeys a JOIN blocks k ON k.tkey = a.tkey
    JOIN tkeys b ON b.tkey = a.tkey AND b.doi > a.doi
),
info AS (
    SELECT doi, year, resource_type, version, lower(container) AS container, title,
           list_distinct(list_filter(list_transform(creators,
               lambda c: lower(trim(coalesce(c.family, split_part(c.name, ',', 1))))), lambda f: f <> '')) AS families
    FROM audit_works WHERE doi IS NOT NULL
),
related AS (
    SELECT least(subject_doi, target) AS a, greatest(subject_doi, target) AS b
    FROM audit_links
    WHERE relation_type IN ('IsVersionOf', 'HasVersion', 'IsNewVersionOf', 'IsPreviousVersionOf',
                            'IsPartOf', 'HasPart', 'IsTranslationOf', 'HasTranslation',
                            'IsVariantFormOf', 'IsOriginalFormOf', 'IsIdenticalTo',
                            'IsDerivedFrom', 'IsSourceOf', 'Obsoletes', 'IsObsoletedBy')
),
scored AS (
    SELECT c.a, c.b, x.title AS title_a, y.title AS title_b, x.year AS year_a, y.year AS year_b,
           x.resource_type AS type_a, y.resource_type AS type_b,
           list_intersect(x.families, y.families) AS shared,
           CASE WHEN len(list_distinct(list_concat(x.families, y.families))) = 0 THEN 0.0
                ELSE len(list_intersect(x.families, y.families))::DOUBLE
                     / len(list_distinct(list_concat(x.families, y.families))) END AS creator_overlap,
           0.40
           + 0.30 * (CASE WHEN len(list_distinct(list_concat(x.families, y.families))) = 0 THEN 0.0
                          ELSE len(list_intersect(x.families, y.families))::DOUBLE
                               / len(list_distinct(list_concat(x.families, y.families))) END)
           + CASE WHEN x.year = y.year THEN 0.15 WHEN abs(x.year - y.year) = 1 THEN 0.07 ELSE 0.0 END
           + CASE WHEN x.resource_type = y.resource_type THEN 0.10 ELSE 0.0 END
           + CASE WHEN x.container = y.container THEN 0.05 ELSE 0.0 END AS score
    FROM cand c
    JOIN info x ON x.doi = c.a
    JOIN info y ON y.doi = c.b
    WHERE coalesce(x.version IN ('AO', 'SMUR', 'AM'), false) = coalesce(y.version IN ('AO', 'SMUR', 'AM'), false)
)
SELECT
    'same_content' AS kind, CASE WHEN s.score >= 0.9 THEN 'error' ELSE 'warning' END AS severity,
    'doi:' || s.a AS subject_key, s.a AS subject_doi, s.b AS object_doi, s.b AS object_raw,
    CAST(NULL AS VARCHAR) AS relation_type, round(s.score, 3) AS score,
    json_object('title', s.title_a, 'object_title', s.title_b, 'shared_creators', s.shared,
                'creator_overlap', round(s.creator_overlap, 3), 'years', [s.year_a, s.year_b],
                'types', [s.type_a, s.type_b])::VARCHAR AS evidence
FROM scored s
WHERE s.score >= $threshold
  AND NOT EXISTS (SELECT 1 FROM related r WHERE r.a = s.a AND r.b = s.b);
