-- Repository author versions (COAR AO/SMUR/AM) whose title matches a version of record with a
-- DOI, and no version link either way (DESIGN "Audits" 2). Titles match on a key (letters and
-- digits only, lower case, at least 12 characters); creators must share a family name, or
-- either side names no creator and the years are within one. A title key shared by more than
-- $max_block works is a generic title ("Annual report 2019", "Table of contents") and is not
-- matched: pairing every author version with every version of record under such a key grows
-- with the square of the block (1M synthetic records: ~10^9 pairs, 79 GB of spill).
-- Only the title keys an author version has are looked at (their blocks sized among themselves):
-- sizing every block of every title took 2 s of 10 at 4M works.
WITH am_blocks AS MATERIALIZED (
    SELECT work_key, tkey FROM audit_tkeys
    WHERE tkey IN (SELECT t.tkey FROM audit_tkeys t JOIN audit_works w ON w.work_key = t.work_key
                   WHERE w.version IN ('AO', 'SMUR', 'AM'))
),
tkeys AS MATERIALIZED (
    SELECT work_key, tkey FROM am_blocks
    WHERE tkey IN (SELECT tkey FROM am_blocks GROUP BY tkey HAVING count(*) <= $max_block)
),
fam AS (SELECT work_key, families FROM audit_works),
am AS (
    SELECT w.* FROM audit_works w WHERE w.version IN ('AO', 'SMUR', 'AM')
),
vor AS (
    SELECT w.* FROM audit_works w
    WHERE w.doi IS NOT NULL AND w.resource_type IN ('article', 'book', 'report', 'thesis', 'preprint')
      AND coalesce(w.version, 'VoR') IN ('VoR', 'CVoR', 'EVoR', 'P', 'NA')
),
pairs AS (
    SELECT DISTINCT a.work_key AS am_key, v.work_key AS vor_key, ta.tkey
    FROM am a
    JOIN tkeys ta ON ta.work_key = a.work_key
    JOIN tkeys tv ON tv.tkey = ta.tkey
    JOIN vor v ON v.work_key = tv.work_key AND v.work_key <> a.work_key
),
scored AS (
    SELECT p.am_key, p.vor_key, any_value(p.tkey) AS tkey,
           any_value(list_sort(list_intersect(fa.families, fv.families))) AS shared,
           any_value(array_length(fa.families)) AS n_am, any_value(array_length(fv.families)) AS n_vor
    FROM pairs p
    JOIN fam fa ON fa.work_key = p.am_key
    JOIN fam fv ON fv.work_key = p.vor_key
    GROUP BY p.am_key, p.vor_key
),
linked AS (  -- links either way between the candidates only
    SELECT r.work_key, r.target FROM relations r
    WHERE r.target_scheme = 'doi' AND r.target IS NOT NULL
      AND r.work_key IN (SELECT am_key FROM scored UNION ALL SELECT vor_key FROM scored)
)
SELECT
    'version_missing' AS kind, 'warning' AS severity,
    a.work_key AS subject_key, a.doi AS subject_doi, v.doi AS object_doi, v.doi AS object_raw,
    'IsVersionOf' AS relation_type,
    CAST(NULL AS DOUBLE) AS score,
    json_object('subject_version', a.version, 'title', a.title, 'object_title', v.title,
                'shared_creators', s.shared, 'subject_year', a.year, 'object_year', v.year)::VARCHAR
        AS evidence
FROM scored s
JOIN am a ON a.work_key = s.am_key
JOIN vor v ON v.work_key = s.vor_key
WHERE (array_length(s.shared) > 0 OR ((s.n_am = 0 OR s.n_vor = 0) AND abs(coalesce(a.year, 0) - coalesce(v.year, 0)) <= 1))
  AND NOT EXISTS (SELECT 1 FROM linked l WHERE l.work_key = a.work_key AND l.target = v.doi)
  AND NOT EXISTS (SELECT 1 FROM linked l WHERE a.doi IS NOT NULL AND l.work_key = v.work_key AND l.target = a.doi)
QUALIFY row_number() OVER (PARTITION BY a.work_key ORDER BY array_length(s.shared) DESC, v.doi) = 1;
