-- Several DOIs on one landing URL (JaLC: DOI and URL are one-to-one). URLs are compared
-- without scheme and "www." (works.landing_url is already normalised by the crosswalk).
-- One finding per extra DOI: subject = the smallest DOI of the URL, object = each other one.
-- Evidence names the group's size and its first 20 DOIs only: a URL shared by thousands of
-- DOIs must not copy the whole list into each of its thousands of findings (memory would grow
-- with the square of the group); the whole group is the findings with this subject.
-- (audit_works has one row per DOI: its work_key is 'doi:' || doi)
WITH u AS (
    SELECT doi, regexp_replace(landing_url, '^https?://(www\.)?', '') AS ukey, landing_url
    FROM audit_works WHERE doi IS NOT NULL AND landing_url IS NOT NULL
),
-- URLs with more than one DOI first (min <> max: no per-group distinct set), then their lists:
-- a distinct count and a sorted list for each of 3.8M URLs took 3 s of 6 at 4M works
shared AS (SELECT ukey FROM u GROUP BY ukey HAVING min(doi) <> max(doi)),
g AS (
    SELECT ukey, min(doi) AS first_doi, count(DISTINCT doi) AS n, list_slice(list(DISTINCT doi ORDER BY doi), 1, 20) AS dois
    FROM u SEMI JOIN shared USING (ukey) GROUP BY ukey
)
SELECT DISTINCT
    'duplicate_url' AS kind, 'error' AS severity,
    'doi:' || g.first_doi AS subject_key, g.first_doi AS subject_doi,
    u.doi AS object_doi, u.doi AS object_raw,
    CAST(NULL AS VARCHAR) AS relation_type, CAST(NULL AS DOUBLE) AS score,
    json_object('landing_url', u.landing_url, 'dois_on_url', g.n, 'dois', g.dois,
                'dois_listed', array_length(g.dois))::VARCHAR AS evidence
FROM g JOIN u ON u.ukey = g.ukey AND u.doi <> g.first_doi;
