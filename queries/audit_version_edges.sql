-- The version graph, every edge pointing from the later/derived version to the earlier/parent
-- one: A IsVersionOf B and A IsNewVersionOf B give A->B; HasVersion / IsPreviousVersionOf are
-- turned around. graph/versions.py prunes nodes that cannot be on a cycle, then finds cycles.
CREATE OR REPLACE TEMP TABLE audit_version_edges AS
SELECT DISTINCT
    CASE WHEN relation_type IN ('IsVersionOf', 'IsNewVersionOf') THEN subject_doi ELSE target END AS src,
    CASE WHEN relation_type IN ('IsVersionOf', 'IsNewVersionOf') THEN target ELSE subject_doi END AS dst
FROM audit_links
WHERE relation_type IN ('IsVersionOf', 'HasVersion', 'IsNewVersionOf', 'IsPreviousVersionOf')
  AND target <> subject_doi;
