-- Several DOIs on one landing URL (JaLC: DOI and URL are one-to-one). URLs are compared
-- without scheme and "www." (works.landing_url is already normalised by the crosswalk).
-- One finding per extra DOI: subject = the smallest DOI of the URL, object = each other one.
WITH u AS (
    SELECT DISTINCT doi, regexp_replace(landing_url, '^https?://(www\.)?', '') AS ukey, landing_url
    FROM audit_works WHERE doi IS NOT NULL AND landing_url IS NOT NULL
),
g AS (
    SELECT ukey, min(doi) AS first_doi, count(DISTINCT doi) AS n, list(DISTINCT doi ORDER BY doi) AS dois
    FROM u GROUP BY ukey HAVING count(DISTINCT doi) > 1
)
SELECT DISTINCT
    'duplicate_url' AS kind, 'error' AS severity,
    'doi:' || g.first_doi AS subject_key, g.first_doi AS subject_doi,
    u.doi AS object_doi, u.doi AS object_raw,
    CAST(NULL AS VARCHAR) AS relation_type, CAST(NULL AS DOUBLE) AS score,
    json_object('landing_url', u.landing_url, 'dois_on_url', g.n, 'dois', g.dois)::VARCHAR AS evidence
FROM g JOIN u ON u.ukey = g.ukey AND u.doi <> g.first_doi;
