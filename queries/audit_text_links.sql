-- Links stated only in text (issue 19): a description, abstract or data availability statement
-- names a DOI (or a CSTR, or a J-STAGE Data / figshare landing page, read as the DOI of the held
-- work that carries it), and no structured relation joins the two works either way - the link
-- exists, the metadata does not carry it. Text links are never stated links: audit_prepare.sql
-- leaves them out of audit_links, so they neither make nor answer a reciprocal.
-- relation_type: the relation the subject's owner would state, from both works' types
-- (dataset -> article IsSupplementTo, article -> dataset IsSupplementedBy, author version ->
-- version of record IsVersionOf, article -> article References; IsRelatedTo otherwise).
WITH wanted AS (SELECT DISTINCT target FROM relations WHERE asserted_by = 'text' AND target_scheme = 'url'),
held_by_url AS (  -- a landing page, or a URL the record gives as its identifier (DataCite XML)
    SELECT url, min(doi) AS doi FROM (
        SELECT landing_url AS url, doi FROM audit_works WHERE landing_url IS NOT NULL AND doi IS NOT NULL
        UNION ALL
        SELECT i.value, w.doi FROM identifiers i JOIN works w USING (source, record_id, work_seq)
        WHERE i.scheme = 'url' AND w.doi IS NOT NULL)
    WHERE url IN (SELECT target FROM wanted)
    GROUP BY url
),
mined AS (
    SELECT r.work_key, r.subject_doi,
           CASE r.target_scheme WHEN 'doi' THEN r.target WHEN 'cstr' THEN c.doi ELSE u.doi END AS target,
           r.target_raw, r.evidence
    FROM relations r
    LEFT JOIN audit_cstr c ON r.target_scheme = 'cstr' AND c.cstr = r.target  -- audit_prepare.sql
    LEFT JOIN held_by_url u ON r.target_scheme = 'url' AND u.url = r.target
    WHERE r.asserted_by = 'text' AND r.target IS NOT NULL
),
pairs AS (  -- one row per (subject, target): the first sentence that names it
    SELECT work_key, any_value(subject_doi) AS subject_doi, target,
           min(evidence) AS sentence, min(target_raw) AS found_as
    FROM mined
    WHERE target IS NOT NULL AND target IS DISTINCT FROM subject_doi
      AND target NOT IN (SELECT doi FROM audit_unknown)
    GROUP BY work_key, target
),
structured AS (  -- pairs some record joins by a relation it states or cites, either way
    SELECT p.work_key, p.target FROM pairs p
    JOIN relations r ON r.work_key = p.work_key AND r.target = p.target
    WHERE r.asserted_by <> 'text' AND r.target_scheme = 'doi'
    UNION
    SELECT p.work_key, p.target FROM pairs p  -- audit_links: CSTR targets read as DOIs
    JOIN audit_links l ON l.subject_doi = p.subject_doi AND l.target = p.target
    UNION
    SELECT p.work_key, p.target FROM pairs p
    JOIN audit_links l ON l.subject_doi = p.target AND l.target = p.subject_doi
)
SELECT
    'text_only_link' AS kind,
    CASE WHEN t.doi IS NULL THEN 'info' ELSE 'warning' END AS severity,
    p.work_key AS subject_key,
    p.subject_doi,
    p.target AS object_doi,
    p.found_as AS object_raw,
    CASE WHEN s.resource_type = 'dataset' AND t.resource_type IN ('article', 'preprint', 'book', 'thesis', 'report')
              THEN 'IsSupplementTo'
         WHEN s.resource_type IN ('article', 'preprint', 'book', 'thesis', 'report')
              AND t.resource_type IN ('dataset', 'software') THEN 'IsSupplementedBy'
         WHEN s.version IN ('AO', 'SMUR', 'AM', 'P') AND t.resource_type IN ('article', 'preprint', 'book')
              AND coalesce(t.version, 'VoR') NOT IN ('AO', 'SMUR', 'AM', 'P') THEN 'IsVersionOf'
         WHEN s.resource_type IN ('article', 'preprint', 'book', 'thesis', 'report')
              AND coalesce(t.resource_type, 'article') IN ('article', 'preprint', 'book', 'thesis', 'report')
              THEN 'References'
         ELSE 'IsRelatedTo' END AS relation_type,
    CAST(NULL AS DOUBLE) AS score,
    json_object('sentence', p.sentence, 'found_as', p.found_as, 'target_held', (t.doi IS NOT NULL),
                'subject_type', s.resource_type, 'target_type', t.resource_type)::VARCHAR AS evidence
FROM pairs p
LEFT JOIN audit_works s ON s.work_key = p.work_key
LEFT JOIN audit_works t ON t.work_key = 'doi:' || p.target
ANTI JOIN structured x ON x.work_key = p.work_key AND x.target = p.target;
