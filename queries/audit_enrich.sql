-- audit_found (kind, severity, subject_key, subject_doi, object_doi, object_raw, relation_type,
-- score, evidence) -> findings rows with both sides' registry, prefix, source and record date,
-- and the corrective fragment the owner could deposit (validated afterwards, graph/fixes.py):
--   missing_reciprocal, version_one_way: the object's owner states inverse(type) -> subject;
--   version_missing: the author version's owner states IsVersionOf -> the version of record;
--   same_content: the subject's owner states IsIdenticalTo -> the other DOI (or asks its
--   agency to retire one of them);
--   text_only_link: the subject's owner states, as metadata, the link its text names.
-- audit_fix_vocab: DataCite type -> Crossref relationship-type + element and JPCOAR 2.0
-- relationType, read from the bundled XSDs (NULL: that vocabulary has no such type).
-- Into audit_staged (a TEMP copy of findings' columns): graph/audit.py moves a run's staged rows
-- into findings in its last step, so an audit is stored whole or not at all.
INSERT INTO audit_staged BY NAME
-- One row per finding (kind, subject, object, relation), deduplicated on audit_found's narrow
-- rows before the joins (each join below matches at most one row): deduplicating the enriched
-- rows held every fragment in the aggregate and took 11.5 s of 780k findings at 4M works.
WITH found AS (
    SELECT * FROM audit_found
    QUALIFY row_number() OVER (PARTITION BY kind, subject_key, coalesce(object_doi, object_raw, ''),
                                            coalesce(relation_type, '') ORDER BY evidence) = 1
),
f0 AS (
    SELECT f.*, s.registry AS s_registry, s.prefix AS s_prefix, s.source AS s_source, s.record_date AS s_date,
           o.registry AS o_registry, o.source AS o_source, o.record_date AS o_date,
           lower(ra.agency) AS o_agency, u.doi AS o_unknown,
           CASE WHEN f.kind IN ('missing_reciprocal', 'version_one_way') THEN 'object'
                WHEN f.kind IN ('version_missing', 'same_content', 'text_only_link') THEN 'subject' END AS owner,
           CASE WHEN f.kind IN ('missing_reciprocal', 'version_one_way') THEN i.inverse
                WHEN f.kind = 'version_missing' THEN 'IsVersionOf'
                WHEN f.kind = 'same_content' THEN 'IsIdenticalTo'
                WHEN f.kind = 'text_only_link' THEN f.relation_type END AS rel,
           CASE WHEN f.kind IN ('missing_reciprocal', 'version_one_way') THEN f.subject_doi
                ELSE f.object_doi END AS fix_target,
           CASE WHEN f.kind IN ('missing_reciprocal', 'version_one_way') THEN o.deposit_format
                ELSE s.deposit_format END AS fmt
    FROM found f
    LEFT JOIN audit_works s ON s.work_key = f.subject_key
    LEFT JOIN audit_works o ON o.work_key = 'doi:' || f.object_doi
    LEFT JOIN ra_cache ra ON ra.prefix = split_part(f.object_doi, '/', 1) AND ra.status = 'ok'
    LEFT JOIN audit_unknown u ON u.doi = f.object_doi
    LEFT JOIN audit_inverse i ON i.relation_type = f.relation_type
),
f1 AS (
    SELECT f0.*, v.crossref_name, v.crossref_element, v.jpcoar_name,
           replace(replace(replace(f0.fix_target, '&', '&amp;'), '<', '&lt;'), '>', '&gt;') AS esc,
           f0.owner IS NOT NULL AND f0.rel IS NOT NULL AND f0.fix_target IS NOT NULL AS fixable
    FROM f0 LEFT JOIN audit_fix_vocab v ON v.relation_type = f0.rel
)
SELECT
    $run_id AS run_id,
    md5(kind || '|' || subject_key || '|' || coalesce(object_doi, object_raw, '') || '|'
        || coalesce(relation_type, '')) AS finding_id,
    $family AS family, kind, severity, subject_key, subject_doi, object_doi, object_raw, relation_type,
    s_registry AS subject_registry,
    CASE WHEN object_doi IS NULL THEN NULL
         ELSE coalesce(o_registry, o_agency, CASE WHEN o_unknown IS NOT NULL THEN 'none' END) END AS object_registry,
    coalesce(s_prefix, split_part(subject_doi, '/', 1)) AS subject_prefix,
    split_part(object_doi, '/', 1) AS object_prefix,
    s_source AS subject_source, o_source AS object_source, s_date AS subject_date, o_date AS object_date,
    score, CAST(NULL AS VARCHAR) AS cluster_id, evidence::JSON AS evidence,
    CASE WHEN fixable THEN owner END AS fix_owner,
    CASE WHEN NOT fixable OR (fmt = 'crossref-xml' AND crossref_name IS NULL)
              OR (fmt = 'jpcoar-xml' AND jpcoar_name IS NULL) THEN NULL ELSE fmt END AS fix_format,
    CASE WHEN fixable THEN CASE fmt
        WHEN 'jalc-xml' THEN
            '<relation_list><related_content type="DOI" relation="' || rel || '">' || esc
            || '</related_content></relation_list>'
        WHEN 'datacite-json' THEN
            json_object('relatedIdentifiers', [json_object('relatedIdentifier', fix_target,
                        'relatedIdentifierType', 'DOI', 'relationType', rel)])::VARCHAR
        WHEN 'crossref-xml' THEN
            '<rel:program xmlns:rel="http://www.crossref.org/relations.xsd" name="relations">'
            || '<rel:related_item><rel:' || crossref_element || ' relationship-type="' || crossref_name
            || '" identifier-type="doi">' || esc || '</rel:' || crossref_element
            || '></rel:related_item></rel:program>'
        WHEN 'jpcoar-xml' THEN
            '<jpcoar:relation xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/" relationType="'
            || jpcoar_name || '"><jpcoar:relatedIdentifier identifierType="DOI">https://doi.org/' || esc
            || '</jpcoar:relatedIdentifier></jpcoar:relation>'
    END END AS fix_fragment,
    CAST(NULL AS BOOLEAN) AS fix_valid,
    CASE WHEN NOT fixable THEN NULL
         WHEN fmt IS NULL THEN 'owner''s registry unknown: no deposit format'
         WHEN fmt = 'crossref-xml' AND crossref_name IS NULL THEN 'Crossref relations have no ' || rel
         WHEN fmt = 'jpcoar-xml' AND jpcoar_name IS NULL THEN 'JPCOAR 2.0 relationType has no ' || rel
    END AS fix_schema
FROM f1;
