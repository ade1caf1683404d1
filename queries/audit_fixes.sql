-- Fix fragments for this run's findings (graph/fixes.py registers audit_fix_vocab: DataCite type
-- -> Crossref relationship-type + element, JPCOAR 2.0 relationType, read from the bundled XSDs).
-- Who fixes what:
--   missing_reciprocal, version_one_way: the object's owner states inverse(type) -> subject;
--   version_missing: the author version's owner states IsVersionOf -> the version of record;
--   same_content: the subject's owner states IsIdenticalTo -> the other DOI (or asks its agency
--   to retire one of them; see evidence).
WITH plan AS (
    SELECT f.finding_id,
           CASE WHEN f.kind IN ('missing_reciprocal', 'version_one_way') THEN 'object' ELSE 'subject' END AS owner,
           CASE WHEN f.kind IN ('missing_reciprocal', 'version_one_way') THEN i.inverse
                WHEN f.kind = 'version_missing' THEN 'IsVersionOf'
                ELSE 'IsIdenticalTo' END AS rel,
           CASE WHEN f.kind IN ('missing_reciprocal', 'version_one_way') THEN f.subject_doi
                ELSE f.object_doi END AS target,
           CASE WHEN f.kind IN ('missing_reciprocal', 'version_one_way') THEN o.deposit_format
                ELSE s.deposit_format END AS fmt
    FROM findings f
    LEFT JOIN audit_inverse i ON i.relation_type = f.relation_type
    LEFT JOIN audit_works s ON s.work_key = f.subject_key
    LEFT JOIN audit_works o ON o.work_key = 'doi:' || f.object_doi
    WHERE f.run_id = $run_id
      AND f.kind IN ('missing_reciprocal', 'version_one_way', 'version_missing', 'same_content')
),
made AS (
    SELECT p.finding_id, p.owner, p.fmt, p.rel, v.crossref_name, v.jpcoar_name,
           replace(replace(replace(p.target, '&', '&amp;'), '<', '&lt;'), '>', '&gt;') AS esc,
           p.target, v.crossref_element
    FROM plan p LEFT JOIN audit_fix_vocab v ON v.relation_type = p.rel
    WHERE p.target IS NOT NULL AND p.rel IS NOT NULL
)
UPDATE findings SET
    fix_owner = m.owner,
    fix_format = CASE WHEN m.fmt = 'crossref-xml' AND m.crossref_name IS NULL THEN NULL
                      WHEN m.fmt = 'jpcoar-xml' AND m.jpcoar_name IS NULL THEN NULL
                      ELSE m.fmt END,
    fix_fragment = CASE m.fmt
        WHEN 'jalc-xml' THEN
            '<relation_list><related_content type="DOI" relation="' || m.rel || '">' || m.esc
            || '</related_content></relation_list>'
        WHEN 'datacite-json' THEN
            json_object('relatedIdentifiers', [json_object('relatedIdentifier', m.target,
                        'relatedIdentifierType', 'DOI', 'relationType', m.rel)])::VARCHAR
        WHEN 'crossref-xml' THEN
            '<rel:program xmlns:rel="http://www.crossref.org/relations.xsd" name="relations">'
            || '<rel:related_item><rel:' || m.crossref_element || ' relationship-type="' || m.crossref_name
            || '" identifier-type="doi">' || m.esc || '</rel:' || m.crossref_element
            || '></rel:related_item></rel:program>'
        WHEN 'jpcoar-xml' THEN
            '<jpcoar:relation xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/" relationType="'
            || m.jpcoar_name || '"><jpcoar:relatedIdentifier identifierType="DOI">https://doi.org/' || m.esc
            || '</jpcoar:relatedIdentifier></jpcoar:relation>'
    END,
    fix_schema = CASE
        WHEN m.fmt IS NULL THEN 'owner''s registry unknown: no deposit format'
        WHEN m.fmt = 'crossref-xml' AND m.crossref_name IS NULL THEN 'Crossref relations have no ' || m.rel
        WHEN m.fmt = 'jpcoar-xml' AND m.jpcoar_name IS NULL THEN 'JPCOAR 2.0 relationType has no ' || m.rel
    END
FROM made m
WHERE findings.finding_id = m.finding_id AND findings.run_id = $run_id;
