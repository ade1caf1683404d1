// Cypher twin of audit_version_missing.sql: a repository author version (COAR AO/SMUR/AM) whose
// title key matches a version of record with a DOI, with no link either way. Title keys and
// creators' family names are node properties (title_keys, families) computed by the load from
// the same working tables the DuckDB audit reads; a key shared by more than $max_block works is
// a generic title and is not matched. One finding per author version: the candidate sharing
// most creators, then the smallest DOI.
MATCH (w:Work) WHERE w.title_keys IS NOT NULL
UNWIND w.title_keys AS tkey
WITH tkey, collect(w) AS block
WHERE size(block) <= $max_block
UNWIND block AS a
WITH tkey, block, a WHERE a.version IN ['AO', 'SMUR', 'AM']
UNWIND block AS v
WITH DISTINCT a, v
WHERE v <> a AND v.doi IS NOT NULL
  AND v.type IN ['article', 'book', 'report', 'thesis', 'preprint']
  AND coalesce(v.version, 'VoR') IN ['VoR', 'CVoR', 'EVoR', 'P', 'NA']
WITH a, v, coalesce(a.families, []) AS fa, coalesce(v.families, []) AS fv
WITH a, v, [f IN fa WHERE f IN fv] AS shared, size(fa) AS n_am, size(fv) AS n_vor
WHERE (size(shared) > 0
       OR ((n_am = 0 OR n_vor = 0) AND abs(coalesce(a.year, 0) - coalesce(v.year, 0)) <= 1))
  AND NOT EXISTS { (a)-[r]->(v) WHERE r.target_scheme = 'doi' }
  AND NOT (a.doi IS NOT NULL AND EXISTS { (v)-[r]->(a) WHERE r.target_scheme = 'doi' })
WITH a, v, shared ORDER BY size(shared) DESC, v.doi
WITH a, collect({v: v, shared: shared})[0] AS best
WITH a, best.v AS v, best.shared AS shared
RETURN
    'version_missing' AS kind, 'warning' AS severity,
    a.key AS subject_key, a.doi AS subject_doi, v.doi AS object_doi, v.doi AS object_raw,
    'IsVersionOf' AS relation_type, null AS score,
    {subject_version: a.version, title: a.title, object_title: v.title,
     shared_creators: shared, subject_year: a.year, object_year: v.year} AS evidence
