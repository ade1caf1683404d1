// Cypher twin of audit_duplicate_url.sql: several held DOIs on one landing URL, compared
// without scheme and "www."; subject = the smallest DOI of the URL, one finding per other DOI.
// Evidence lists the first 20 DOIs of the group and its size (as the SQL twin does).
MATCH (w:Work)
WHERE w.doi IS NOT NULL AND w.landing_url IS NOT NULL AND NOT w:External
WITH DISTINCT w.doi AS doi, w.landing_url AS url
WITH doi, url,
     CASE WHEN url STARTS WITH 'https://' THEN substring(url, 8)
          WHEN url STARTS WITH 'http://' THEN substring(url, 7)
          ELSE url END AS bare
WITH doi, url, CASE WHEN bare STARTS WITH 'www.' THEN substring(bare, 4) ELSE bare END AS ukey
ORDER BY doi
WITH ukey, collect({doi: doi, url: url}) AS rows, collect(DISTINCT doi) AS dois
WHERE size(dois) > 1
UNWIND rows AS row
WITH ukey, dois, dois[0] AS first_doi, row
WHERE row.doi <> first_doi
RETURN DISTINCT
    'duplicate_url' AS kind, 'error' AS severity,
    'doi:' + first_doi AS subject_key, first_doi AS subject_doi,
    row.doi AS object_doi, row.doi AS object_raw,
    null AS relation_type, null AS score,
    {landing_url: row.url, dois_on_url: size(dois), dois: dois[0..20],
     dois_listed: size(dois[0..20])} AS evidence
