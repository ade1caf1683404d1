"""The property graph that linkgraph puts into Neo4j, computed once in DuckDB.

Both ways into Neo4j - the incremental driver load (:mod:`neo4j_load`) and the CSV export for
``neo4j-admin database import`` (:mod:`neo4j_export`) - read the two temp tables built here, so
both give the same graph:

Nodes (one row per ``key``; ``key`` is the node's unique, deterministic id):

* ``:Work:<CoarseType>`` - a work held in the store, keyed by ``works.work_key``:
  ``doi:<normalised doi>`` or ``rec:<source>:<record id>`` (repository items without DOI).
  When several records hold the same DOI, one row is chosen deterministically (a record with a
  registration agency, then one with a title, then by source and record id) and ``sources``
  lists every source that holds it.
* ``:Work:External`` - a DOI that relations point at but that no harvest covered
  (``doi:<doi>``; only ``doi`` and ``prefix`` are known). Harvesting it later turns the same
  node into a held work.
* ``:Target`` - a non-DOI relation target (URL, ISSN, handle, ...), keyed ``<scheme>:<value>``;
  ``:Target:Unresolved`` when the crosswalk could not normalise it (malformed DOI, ...), keyed
  ``raw:<scheme>:<verbatim value>``.

Relationships: one per (asserting record, relation type, target), typed by the DataCite
relation type in upper snake case (``IsSupplementTo`` -> ``IS_SUPPLEMENT_TO``), always from the
asserting work to the target, with ``key`` (md5 of the asserting record, type and target),
``relation_type`` (DataCite name), ``source`` and ``record_id`` (the record that states it),
``registry`` (that record's registration agency), ``asserted_by`` (subject | object | both, as
Crossref reports it), ``raw_type``, ``target_scheme``, ``target_raw`` and ``problems``.
Relations without any target value are left out (there is nothing to point at).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
from linkgraph.crosswalks.vocab import COARSE_TYPES, relation_types
from linkgraph.graph.audit import _prepare as prepare_audit_tables

NODES_TABLE = "lg_neo4j_nodes"
RELS_TABLE = "lg_neo4j_rels"

WORK = "Work"
EXTERNAL = "External"
TARGET = "Target"
UNRESOLVED = "Unresolved"


def type_label(coarse: str) -> str:
    """``dataset`` -> ``Dataset``: the label a work gets for its coarse type."""
    return coarse[:1].upper() + coarse[1:]


TYPE_LABELS: tuple[str, ...] = tuple(sorted(type_label(t) for t in COARSE_TYPES))
# Labels a work node may carry besides :Work; a load removes the stale ones.
WORK_EXTRA_LABELS: tuple[str, ...] = (*TYPE_LABELS, EXTERNAL)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_REL_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_LABEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def rel_type(relation_type: str) -> str:
    """DataCite ``IsSupplementTo`` -> Neo4j relationship type ``IS_SUPPLEMENT_TO``."""
    return _CAMEL.sub("_", relation_type).upper()


def relation_type_of(rel: str) -> str:
    """Neo4j ``IS_SUPPLEMENT_TO`` -> DataCite ``IsSupplementTo`` (the 39 known types)."""
    return {rel_type(t): t for t in relation_types()}[rel]


def safe_rel_type(name: str) -> str:
    """A relationship type that may go into Cypher text (types cannot be parameters)."""
    if not _REL_TYPE.match(name):
        raise ValueError(f"not a relationship type linkgraph writes: {name!r}")
    return name


def safe_label(name: str) -> str:
    if not _LABEL.match(name):
        raise ValueError(f"not a label linkgraph writes: {name!r}")
    return name


@dataclass(frozen=True, slots=True)
class Prop:
    """One property column: its name, its neo4j-admin header type and its SQL type."""

    name: str
    kind: str  # string | int | boolean | string[]


NODE_PROPS: tuple[Prop, ...] = (
    Prop("doi", "string"),
    Prop("registry", "string"),
    Prop("prefix", "string"),
    Prop("type", "string"),
    Prop("title", "string"),
    Prop("year", "int"),
    Prop("landing_url", "string"),
    Prop("version", "string"),
    Prop("source", "string"),
    Prop("record_id", "string"),
    Prop("sources", "string[]"),
    Prop("unknown", "string"),
    Prop("scheme", "string"),
    Prop("value", "string"),
    Prop("findings", "string[]"),
    Prop("finding_count", "int"),
    # what the Cypher twins of the title-matching audits (version_missing, same_content) read:
    Prop("container", "string"),
    Prop("families", "string[]"),  # creators' family names, lower case, sorted
    Prop("title_keys", "string[]"),  # audit_tkeys: letters and digits of each 12+ char title
    # the target keys (as Target nodes spell them) of the work's CSTR and URL identifiers and
    # landing page: a text link to one of them is a link to this work (audit_text_links)
    Prop("aliases", "string[]"),
)

REL_PROPS: tuple[Prop, ...] = (
    Prop("relation_type", "string"),
    Prop("source", "string"),
    Prop("record_id", "string"),
    Prop("registry", "string"),
    Prop("asserted_by", "string"),
    Prop("raw_type", "string"),
    Prop("target_scheme", "string"),
    Prop("target_raw", "string"),
    Prop("problems", "string[]"),
    Prop("findings", "string[]"),
    Prop("evidence", "string"),  # asserted_by 'text': the sentence that names the target
)

# Neo4j cannot store an empty list through neo4j-admin (documented: "CSV-based import does not
# import empty arrays"), so an empty list is NULL on both paths; empty elements are dropped.
_CLEAN_LIST = "CASE WHEN len(list_filter({e}, lambda x: x IS NOT NULL AND x <> '')) = 0 THEN NULL " \
    "ELSE list_filter({e}, lambda x: x IS NOT NULL AND x <> '') END"


def clean_list(expr: str) -> str:
    return _CLEAN_LIST.format(e=expr)


def _rel_type_sql(col: str) -> str:
    return f"upper(regexp_replace({col}, '([a-z0-9])([A-Z])', '\\1_\\2', 'g'))"


def _scheme_key_sql(scheme: str, value: str) -> str:
    """The node key of a non-DOI identifier: ``scheme:value``, unless the value already starts
    with its scheme (``CSTR:...``)."""
    return (f"CASE WHEN starts_with(lower({value}), lower({scheme}) || ':') THEN {value} "
            f"ELSE {scheme} || ':' || {value} END")


def _target_key_sql(r: str = "r") -> str:
    return (
        f"CASE WHEN {r}.target IS NULL THEN 'raw:' || {r}.target_scheme || ':' || {r}.target_raw "
        f"WHEN {r}.target_scheme = 'doi' THEN 'doi:' || {r}.target "
        f"ELSE {_scheme_key_sql(f'{r}.target_scheme', f'{r}.target')} END"
    )


def build_graph_tables(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(Re)build the node and relationship temp tables from the store; returns their counts.

    Held works come from the audits' own working table (``audit_works`` of
    ``queries/audit_prepare.sql``: one record per work, the registry's own record first), so a
    node's ``registry``, ``type`` and ``landing_url`` are the ones the audits judged, and the
    Cypher twins of the audits find what the DuckDB audits find."""
    prepare_audit_tables(con)
    con.execute(f"DROP TABLE IF EXISTS {RELS_TABLE}")
    con.execute(f"DROP TABLE IF EXISTS {NODES_TABLE}")
    con.execute(
        f"""
        CREATE TEMP TABLE {NODES_TABLE} AS
        WITH srcs AS (
            SELECT work_key, list_sort(list_distinct(list(source))) AS sources
            FROM works GROUP BY work_key
        ), nf AS (
            SELECT subject_key AS key, list_sort(list_distinct(list(kind))) AS findings,
                   count(*)::INTEGER AS finding_count
            FROM findings GROUP BY subject_key
        ), unknown AS (
            SELECT doi, min(reason) AS reason FROM audit_unknown GROUP BY doi
        ), tk AS (
            SELECT work_key, list_sort(list_distinct(list(tkey))) AS title_keys
            FROM audit_tkeys GROUP BY work_key
        ), al AS (
            SELECT work_key, list_sort(list_distinct(list(alias))) AS aliases FROM (
                SELECT w.work_key, {_scheme_key_sql('i.scheme', 'i.value')} AS alias
                FROM identifiers i JOIN works w USING (source, record_id, work_seq)
                WHERE i.scheme IN ('cstr', 'url')
                UNION ALL
                SELECT work_key, 'url:' || landing_url FROM audit_works WHERE landing_url IS NOT NULL
            ) GROUP BY work_key
        ), held AS (
            SELECT w.work_key AS key,
                   CASE WHEN w.resource_type IS NULL THEN ['{WORK}']
                        ELSE ['{WORK}', upper(w.resource_type[1]) || w.resource_type[2:]] END
                       AS labels,
                   w.doi, w.registry, CASE WHEN w.doi IS NOT NULL THEN w.prefix END AS prefix,
                   w.resource_type AS type, w.title, w.year::INTEGER AS year, w.landing_url,
                   w.version, w.source, w.record_id, {clean_list('s.sources')} AS sources,
                   u.reason AS unknown, NULL::VARCHAR AS scheme, NULL::VARCHAR AS value,
                   {clean_list('nf.findings')} AS findings, nf.finding_count,
                   w.container, {clean_list('list_sort(w.families)')} AS families,
                   {clean_list('tk.title_keys')} AS title_keys, {clean_list('al.aliases')} AS aliases
            FROM audit_works w
            JOIN srcs s USING (work_key)
            LEFT JOIN tk USING (work_key)
            LEFT JOIN al USING (work_key)
            LEFT JOIN nf ON nf.key = w.work_key
            LEFT JOIN unknown u ON u.doi = w.doi
        ), targets AS (
            SELECT DISTINCT {_target_key_sql()} AS key, r.target_scheme, r.target,
                   coalesce(r.target, r.target_raw) AS value
            FROM relations r
            WHERE coalesce(r.target, r.target_raw) <> ''
        )
        SELECT * FROM held
        UNION ALL
        SELECT t.key,
               CASE WHEN t.target_scheme = 'doi' AND t.target IS NOT NULL
                        THEN ['{WORK}', '{EXTERNAL}']
                    WHEN t.target IS NULL THEN ['{TARGET}', '{UNRESOLVED}']
                    ELSE ['{TARGET}'] END,
               CASE WHEN t.target_scheme = 'doi' THEN t.target END,
               CASE WHEN t.target_scheme = 'doi' AND t.target IS NOT NULL THEN
                   coalesce(lower(ra.agency), CASE WHEN u.doi IS NOT NULL THEN 'none' END) END,
               CASE WHEN t.target_scheme = 'doi' THEN split_part(t.target, '/', 1) END,
               NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               CASE WHEN t.target_scheme = 'doi' THEN u.reason END,
               CASE WHEN t.target_scheme = 'doi' AND t.target IS NOT NULL THEN NULL
                    ELSE t.target_scheme END,
               CASE WHEN t.target_scheme = 'doi' AND t.target IS NOT NULL THEN NULL
                    ELSE t.value END,
               nf.findings, nf.finding_count, NULL, NULL, NULL, NULL
        FROM targets t
        LEFT JOIN ra_cache ra
               ON t.target_scheme = 'doi' AND ra.prefix = split_part(t.target, '/', 1)
              AND ra.status = 'ok'
        LEFT JOIN unknown u ON t.target_scheme = 'doi' AND u.doi = t.target
        LEFT JOIN nf ON nf.key = t.key
        WHERE t.key NOT IN (SELECT key FROM held)
        """
    )
    con.execute(
        f"""
        CREATE TEMP TABLE {RELS_TABLE} AS
        WITH base AS (
            SELECT md5(concat_ws('|', r.source, r.record_id, r.work_seq::VARCHAR,
                                 r.relation_type, {_target_key_sql()},
                                 -- a text link beside a stated one of the same type stays apart
                                 -- (NULL otherwise: concat_ws skips it, older keys unchanged)
                                 CASE WHEN r.asserted_by = 'text' THEN 'text' END)) AS key,
                   r.work_key AS start_key, {_target_key_sql()} AS end_key,
                   {_rel_type_sql('r.relation_type')} AS type,
                   r.relation_type, r.source, r.record_id, w.registration_agency AS registry,
                   r.asserted_by, r.raw_type, r.target_scheme, r.target_raw,
                   {clean_list('r.problems')} AS problems, r.evidence,
                   coalesce(r.target, r.target_raw) AS object
            FROM relations r
            LEFT JOIN works w USING (source, record_id, work_seq)
            WHERE coalesce(r.target, r.target_raw) <> ''
        ), dedup AS (
            SELECT * FROM base
            QUALIFY row_number() OVER (
                PARTITION BY key ORDER BY raw_type NULLS LAST, asserted_by, target_raw) = 1
        ), rf AS (
            SELECT subject_key, relation_type, coalesce(object_doi, object_raw) AS object,
                   list_sort(list_distinct(list(kind))) AS findings
            FROM findings WHERE relation_type IS NOT NULL
            GROUP BY ALL
        )
        SELECT d.* EXCLUDE (object), {clean_list('rf.findings')} AS findings
        FROM dedup d
        LEFT JOIN rf ON rf.subject_key = d.start_key AND rf.relation_type = d.relation_type
                    AND rf.object = d.object
        """
    )
    nodes = con.execute(f"SELECT count(*) FROM {NODES_TABLE}").fetchall()[0]
    rels = con.execute(f"SELECT count(*) FROM {RELS_TABLE}").fetchall()[0]
    return int(nodes[0]) if nodes else 0, int(rels[0]) if rels else 0
