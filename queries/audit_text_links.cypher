// Cypher twin of audit_text_links.sql: a work's text names a DOI (or a CSTR or landing page of
// a held work: its `aliases`), and no relation other than text joins the two either way.
// Targets no agency knows are left out; a target not held (:External) is info.
MATCH (a:Work)-[r]->(t)
WHERE r.asserted_by = 'text'
CALL {
    WITH t
    OPTIONAL MATCH (h:Work) WHERE t.doi IS NULL AND h.doi IS NOT NULL AND t.key IN h.aliases
    RETURN min(h.doi) AS via
}
WITH a, r, coalesce(t.doi, via) AS target
WHERE target IS NOT NULL AND target <> coalesce(a.doi, '')
WITH a, target, min(r.evidence) AS sentence, min(r.target_raw) AS found_as
MATCH (b:Work {doi: target})
WHERE b.unknown IS NULL
  AND NOT EXISTS { MATCH (a)-[s]-(b) WHERE s.asserted_by <> 'text' AND s.target_scheme = 'doi' }
  AND NOT EXISTS { MATCH (a)-[s]->(c) WHERE s.asserted_by <> 'text' AND c.doi IS NULL AND c.key IN b.aliases }
  AND NOT EXISTS { MATCH (b)-[s]->(c) WHERE s.asserted_by <> 'text' AND c.doi IS NULL AND c.key IN a.aliases }
WITH a, b, sentence, found_as,
     CASE WHEN b:External THEN null ELSE b.type END AS ttype,
     CASE WHEN b:External THEN null ELSE b.version END AS tversion
RETURN
    'text_only_link' AS kind,
    CASE WHEN b:External THEN 'info' ELSE 'warning' END AS severity,
    a.key AS subject_key,
    a.doi AS subject_doi,
    b.doi AS object_doi,
    found_as AS object_raw,
    CASE WHEN a.type = 'dataset' AND ttype IN ['article', 'preprint', 'book', 'thesis', 'report']
              THEN 'IsSupplementTo'
         WHEN a.type IN ['article', 'preprint', 'book', 'thesis', 'report']
              AND ttype IN ['dataset', 'software'] THEN 'IsSupplementedBy'
         WHEN a.version IN ['AO', 'SMUR', 'AM', 'P'] AND ttype IN ['article', 'preprint', 'book']
              AND NOT coalesce(tversion, 'VoR') IN ['AO', 'SMUR', 'AM', 'P'] THEN 'IsVersionOf'
         WHEN a.type IN ['article', 'preprint', 'book', 'thesis', 'report']
              AND coalesce(ttype, 'article') IN ['article', 'preprint', 'book', 'thesis', 'report']
              THEN 'References'
         ELSE 'IsRelatedTo' END AS relation_type,
    null AS score,
    {sentence: sentence, found_as: found_as, target_held: NOT b:External,
     subject_type: a.type, target_type: ttype} AS evidence
