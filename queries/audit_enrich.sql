-- audit_found (kind, severity, subject_key, subject_doi, object_doi, object_raw, relation_type,
-- score, evidence) -> findings rows with both sides' registry, prefix, source and record date.
INSERT INTO findings (run_id, finding_id, family, kind, severity, subject_key, subject_doi, object_doi,
                      object_raw, relation_type, subject_registry, object_registry, subject_prefix,
                      object_prefix, subject_source, object_source, subject_date, object_date, score,
                      evidence)
SELECT
    $run_id, md5(f.kind || '|' || f.subject_key || '|' || coalesce(f.object_doi, f.object_raw, '') || '|'
                 || coalesce(f.relation_type, '')),
    $family, f.kind, f.severity, f.subject_key, f.subject_doi, f.object_doi, f.object_raw, f.relation_type,
    s.registry,
    CASE WHEN f.object_doi IS NULL THEN NULL
         ELSE coalesce(o.registry, lower(ra.agency), CASE WHEN u.doi IS NOT NULL THEN 'none' END) END,
    coalesce(s.prefix, split_part(f.subject_doi, '/', 1)),
    split_part(f.object_doi, '/', 1),
    s.source, o.source, s.record_date, o.record_date, f.score, f.evidence::JSON
FROM audit_found f
LEFT JOIN audit_works s ON s.work_key = f.subject_key
LEFT JOIN audit_works o ON o.work_key = 'doi:' || f.object_doi
LEFT JOIN ra_cache ra ON ra.prefix = split_part(f.object_doi, '/', 1) AND ra.status = 'ok'
LEFT JOIN audit_unknown u ON u.doi = f.object_doi
QUALIFY row_number() OVER (PARTITION BY f.kind, f.subject_key, coalesce(f.object_doi, f.object_raw, ''),
                                   coalesce(f.relation_type, '') ORDER BY f.evidence) = 1;
