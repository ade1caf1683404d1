-- Working tables every audit reads (TEMP: gone when the connection closes). graph/audit.py
-- registers audit_inverse(relation_type, inverse) from the crosswalk's relation vocabulary
-- (crosswalks/data/relation_types.tsv) and audit_fix_vocab (graph/fixes.py) first.

-- One row per work_key: for a DOI held by several sources the registry's own record wins
-- (JaLC/Crossref/DataCite REST), then DataCite XML (figshare), then repository records.
-- registry: the agency doi.org named for the prefix (ra_cache) before the reader's guess, so
-- J-STAGE Data DOIs read from figshare's oai_datacite count as JaLC's.
CREATE OR REPLACE TEMP TABLE audit_works AS
-- Most keys have one record: only the keys with several are ordered (a window over every work
-- took 4 s at 4M works), over narrow rows (the keys and what orders them); the wide columns
-- (titles, creators) are read once, for the chosen rows only.
WITH dup AS (SELECT work_key FROM works GROUP BY work_key HAVING count(*) > 1),
picked AS (
    SELECT w.source, w.record_id, w.work_seq
    FROM works w
    SEMI JOIN dup d ON d.work_key = w.work_key
    LEFT JOIN raw_records r ON r.source = w.source AND r.record_id = w.record_id
    QUALIFY row_number() OVER (
        PARTITION BY w.work_key
        ORDER BY CASE WHEN w.source_format IN ('jalc-json', 'crossref-json', 'datacite-json') THEN 0
                      WHEN w.source_format = 'datacite-xml' THEN 1 ELSE 2 END,
                 r.datestamp DESC NULLS LAST, w.source, w.record_id, w.work_seq
    ) = 1
),
chosen AS (
    SELECT w.* FROM works w ANTI JOIN dup d ON d.work_key = w.work_key
    UNION ALL
    SELECT w.* FROM works w
    SEMI JOIN picked p ON p.source = w.source AND p.record_id = w.record_id AND p.work_seq = w.work_seq
)
SELECT
    w.work_key, w.doi, w.source, w.record_id, w.source_format, w.resource_type, w.version,
    w.year, w.title, w.titles, w.container, w.landing_url,
    split_part(w.doi, '/', 1) AS prefix,
    CASE WHEN w.doi IS NULL THEN 'repository'
         ELSE lower(coalesce(ra.agency, w.registration_agency, 'unknown')) END AS registry,
    CASE WHEN w.source_format IN ('jpcoar', 'junii2') THEN 'jpcoar-xml'
         WHEN lower(coalesce(ra.agency, w.registration_agency)) = 'jalc' THEN 'jalc-xml'
         WHEN lower(coalesce(ra.agency, w.registration_agency)) = 'datacite' THEN 'datacite-json'
         WHEN lower(coalesce(ra.agency, w.registration_agency)) = 'crossref' THEN 'crossref-xml'
    END AS deposit_format,
    r.datestamp AS record_date,
    -- [] when the record names no creator (NULL would make "names no creator" unknown)
    coalesce(list_distinct(list_filter(list_transform(w.creators,
        lambda c: lower(trim(coalesce(c.family, split_part(c.name, ',', 1))))), lambda f: f <> '')), [])
        AS families
FROM chosen w
LEFT JOIN raw_records r ON r.source = w.source AND r.record_id = w.record_id
LEFT JOIN ra_cache ra ON ra.prefix = split_part(w.doi, '/', 1) AND ra.status = 'ok';

-- Title keys (letters and digits, lower case) of every title of 12+ characters; distinct per
-- work (audit_works has a row per work_key), so no distinct over the whole table.
CREATE OR REPLACE TEMP TABLE audit_tkeys AS
SELECT work_key, doi, tkey FROM (
    SELECT work_key, doi, unnest(list_distinct(list_transform(titles,
        lambda t: regexp_replace(lower(t.text), '[^\p{L}\p{N}]+', '', 'g')))) AS tkey
    FROM audit_works
) WHERE length(tkey) >= 12;
ALTER TABLE audit_works DROP COLUMN titles;

-- CSTR -> the DOI of the held work that carries it (ScienceDB issues both; journals ask authors
-- to cite data by DOI or CSTR): a link to a CSTR is a link to that DOI (audit_links,
-- audit_text_links).
CREATE OR REPLACE TEMP TABLE audit_cstr AS
SELECT i.value AS cstr, min(w.doi) AS doi FROM identifiers i
JOIN works w USING (source, record_id, work_seq)
WHERE i.scheme = 'cstr' AND w.doi IS NOT NULL GROUP BY i.value;

-- DOI -> DOI links, one row per (subject, type, target). stated: the subject's own record says
-- so (Crossref shows links other records assert as asserted-by "object"). h hashes the link,
-- hb the reciprocal it calls for: anti-joins on one BIGINT instead of three strings (a 64-bit
-- collision could hide one missing reciprocal; at 10M links the odds are about 1 in 10^5).
-- The largest working table (a row per link, held by every audit after it): relation_type and
-- source are stored as ENUMs audit_rel / audit_source (graph/audit.py creates them, sorted, so
-- ORDER BY and min() read as on text), one byte instead of 16: 19M links at 4M works took
-- 2.3 GB and made every later step spill at the default budget. The inverse is looked up in
-- audit_inverse where needed.
-- rel is read three times, not held: scanning relations again is cheaper than 19M rows in memory.
CREATE OR REPLACE TEMP TABLE audit_links AS
WITH rel AS NOT MATERIALIZED (
    SELECT subject_doi, relation_type, target, asserted_by IN ('subject', 'both') AS stated, source,
           hash(subject_doi, relation_type, target) AS h
    FROM (
        SELECT subject_doi, relation_type, target, asserted_by, source FROM relations
        WHERE target_scheme = 'doi' AND target IS NOT NULL AND subject_doi IS NOT NULL
          AND asserted_by <> 'text'  -- found in a description: never a stated link (audit_text_links)
        UNION ALL
        -- a link to a CSTR is a link to the DOI of the held work that carries that CSTR
        SELECT r.subject_doi, r.relation_type, c.doi, r.asserted_by, r.source
        FROM relations r
        JOIN audit_cstr c ON c.cstr = r.target
        WHERE r.target_scheme = 'cstr' AND r.subject_doi IS NOT NULL AND r.asserted_by <> 'text'
          AND c.doi <> r.subject_doi  -- a record's own CSTR (IsIdenticalTo, crosswalks/registry.py)
    )
),
-- one row per link: a link whose hash is unique is stated once and passes as it is; only the
-- few others are grouped on their text (grouping 19M links on three strings took 12 s at 4M works)
repeated AS (SELECT h FROM rel GROUP BY h HAVING count(*) > 1),
l AS (
    SELECT subject_doi, relation_type, target, stated, source, h FROM rel
    ANTI JOIN repeated x ON x.h = rel.h
    UNION ALL
    SELECT subject_doi, relation_type, target, bool_or(stated), min(source), any_value(h) FROM rel
    SEMI JOIN repeated x ON x.h = rel.h
    GROUP BY subject_doi, relation_type, target
)
SELECT l.subject_doi, l.relation_type::audit_rel AS relation_type, l.target, l.stated,
       l.source::audit_source AS source, l.h,
       CASE WHEN i.inverse IS NOT NULL THEN hash(l.target, i.inverse, l.subject_doi) END AS hb
FROM l
LEFT JOIN audit_inverse i ON i.relation_type = l.relation_type;

-- The audit runs a trend compares (the scorecard, and the snapshots pruning keeps): the latest
-- run with a link snapshot, and the latest before it that ran every audit family - a partial
-- `audit --kind ...` is never the baseline. A view: read when asked, so a run just recorded
-- counts. (The families are graph/audit.py FAMILIES.)
CREATE OR REPLACE TEMP VIEW audit_trend_runs AS
SELECT max(run_id) AS cur_run,
       max(run_id) FILTER (WHERE run_id < (SELECT max(run_id) FROM audit_runs WHERE links IS NOT NULL)
                           AND list_has_all(kinds, ['reciprocal', 'versions', 'duplicates', 'targets']))
           AS prev_run
FROM audit_runs WHERE links IS NOT NULL;

-- DOIs that no agency knows (filled by `linkgraph harvest targets`).
CREATE OR REPLACE TEMP TABLE audit_unknown AS
SELECT doi, reason FROM unknown_dois WHERE reason IN ('prefix-unknown', 'not-found');
