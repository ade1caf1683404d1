-- Working tables every audit reads (TEMP: gone when the connection closes).
-- Needs audit_inverse(relation_type, inverse) registered by graph/audit.py from the crosswalk's
-- relation vocabulary (crosswalks/data/relation_types.tsv).

-- One row per work_key: for a DOI held by several sources the registry's own record wins
-- (JaLC/Crossref/DataCite REST), then DataCite XML (figshare), then repository records.
CREATE OR REPLACE TEMP TABLE audit_works AS
SELECT * EXCLUDE (rn) FROM (
    SELECT
        w.work_key, w.doi, w.source, w.record_id, w.source_format, w.resource_type, w.version,
        w.year, w.title, w.titles, w.creators, w.container, w.landing_url,
        split_part(w.doi, '/', 1) AS prefix,
        CASE WHEN w.doi IS NULL THEN 'repository'
             ELSE lower(coalesce(ra.agency, w.registration_agency, 'unknown')) END AS registry,
        CASE WHEN w.source_format IN ('jpcoar', 'junii2') THEN 'jpcoar-xml'
             WHEN lower(coalesce(ra.agency, w.registration_agency)) = 'jalc' THEN 'jalc-xml'
             WHEN lower(coalesce(ra.agency, w.registration_agency)) = 'datacite' THEN 'datacite-json'
             WHEN lower(coalesce(ra.agency, w.registration_agency)) = 'crossref' THEN 'crossref-xml'
        END AS deposit_format,
        r.datestamp AS record_date,
        row_number() OVER (
            PARTITION BY w.work_key
            ORDER BY CASE WHEN w.source_format IN ('jalc-json', 'crossref-json', 'datacite-json') THEN 0
                          WHEN w.source_format = 'datacite-xml' THEN 1 ELSE 2 END,
                     r.datestamp DESC NULLS LAST, w.source, w.record_id, w.work_seq
        ) AS rn
    FROM works w
    LEFT JOIN raw_records r ON r.source = w.source AND r.record_id = w.record_id
    LEFT JOIN ra_cache ra ON ra.prefix = split_part(w.doi, '/', 1) AND ra.status = 'ok'
) WHERE rn = 1;

-- DOI -> DOI links as stated (one row per distinct link and asserting side).
CREATE OR REPLACE TEMP TABLE audit_links AS
SELECT DISTINCT subject_doi, relation_type, target, asserted_by
FROM relations
WHERE target_scheme = 'doi' AND target IS NOT NULL AND subject_doi IS NOT NULL;

-- DOIs that no agency knows (filled by `linkgraph harvest targets`).
CREATE OR REPLACE TEMP TABLE audit_unknown AS
SELECT doi, reason FROM unknown_dois WHERE reason IN ('prefix-unknown', 'not-found');
