// Cypher twin of audit_same_content.sql: the same content under two DOIs, scored. Candidates
// share a title key (blocks of 2 to $max_block DOIs), the same coarse type and the same side of
// the author-version line; score = 0.47 + 0.35 creator overlap (shared family names over the
// smaller list) + 0.15 same year (0.075 one year apart) + 0.03 same container, reported from
// $threshold. Pairs linked either way by any relation and siblings (parts or versions of one
// parent DOI) are kept apart.
MATCH (w:Work) WHERE w.title_keys IS NOT NULL AND w.doi IS NOT NULL
UNWIND w.title_keys AS tkey
WITH tkey, collect(w) AS block
WHERE size(block) >= 2 AND size(block) <= $max_block
UNWIND block AS x
UNWIND block AS y
WITH DISTINCT x, y
WHERE x.doi < y.doi
  AND (x.type = y.type OR (x.type IS NULL AND y.type IS NULL))
  AND coalesce(x.version IN ['AO', 'SMUR', 'AM'], false)
      = coalesce(y.version IN ['AO', 'SMUR', 'AM'], false)
WITH x, y, coalesce(x.families, []) AS fx, coalesce(y.families, []) AS fy
WITH x, y, [f IN fx WHERE f IN fy] AS shared,
     CASE WHEN size(fx) < size(fy) THEN size(fx) ELSE size(fy) END AS fewer
WITH x, y, shared,
     CASE WHEN fewer = 0 THEN 0.0 ELSE toFloat(size(shared)) / fewer END AS overlap,
     coalesce(toLower(x.container) = toLower(y.container), false) AS same_container
WITH x, y, shared, overlap, same_container,
     0.47 + 0.35 * overlap
     + CASE WHEN x.year = y.year THEN 0.15 WHEN abs(x.year - y.year) = 1 THEN 0.075 ELSE 0.0 END
     + CASE WHEN same_container THEN 0.03 ELSE 0.0 END AS score
WHERE score >= $threshold
  AND NOT EXISTS { (x)-[]-(y) }
  AND NOT EXISTS {
      MATCH (x)-[:IS_PART_OF|IS_VERSION_OF]->(p:Work)
      WHERE p.doi IS NOT NULL AND (EXISTS { (y)-[:IS_PART_OF|IS_VERSION_OF]->(p) }
                                   OR EXISTS { (p)-[:HAS_PART|HAS_VERSION]->(y) })
  }
  AND NOT EXISTS {
      MATCH (x)<-[:HAS_PART|HAS_VERSION]-(p:Work)
      WHERE p.doi IS NOT NULL AND (EXISTS { (y)-[:IS_PART_OF|IS_VERSION_OF]->(p) }
                                   OR EXISTS { (p)-[:HAS_PART|HAS_VERSION]->(y) })
  }
RETURN
    'same_content' AS kind, CASE WHEN score >= 0.95 THEN 'error' ELSE 'warning' END AS severity,
    'doi:' + x.doi AS subject_key, x.doi AS subject_doi, y.doi AS object_doi,
    y.doi AS object_raw, null AS relation_type, round(score, 3) AS score,
    {title: x.title, object_title: y.title, shared_creators: shared,
     creator_overlap: round(overlap, 3), years: [x.year, y.year], type: x.type,
     same_container: same_container} AS evidence
