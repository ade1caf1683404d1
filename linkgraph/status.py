"""What the store holds, per source: the data behind ``linkgraph status``."""

from __future__ import annotations

from typing import Any

from linkgraph.store import Store

_STATUS_SQL = """
WITH counts AS (
    SELECT source, count(*) FILTER (WHERE NOT deleted) AS records,
           count(*) FILTER (WHERE deleted) AS deleted,
           max(datestamp) AS newest
    FROM raw_records GROUP BY source
), last_run AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY source ORDER BY run_id DESC) AS rn
        FROM harvest_runs) WHERE rn = 1
), mark AS (
    SELECT source, arg_max(high_water, run_id) AS high_water FROM harvest_runs
    WHERE status IN ('ok', 'partial') AND high_water IS NOT NULL GROUP BY source
), probs AS (
    SELECT source, count(*) AS problems FROM harvest_problems GROUP BY source
), open_windows AS (
    SELECT source, count(*) AS open_windows FROM harvest_state WHERE status = 'open' GROUP BY source
)
SELECT s.name, s.kind, s.base_url, coalesce(c.records, 0), coalesce(c.deleted, 0), c.newest,
       r.run_id, r.status, r.started_at, r.finished_at, r.error, m.high_water,
       coalesce(p.problems, 0), coalesce(o.open_windows, 0),
       (SELECT count(*) FROM harvest_runs h WHERE h.source = s.name) AS runs
FROM sources s
LEFT JOIN counts c ON c.source = s.name
LEFT JOIN last_run r ON r.source = s.name
LEFT JOIN mark m ON m.source = s.name
LEFT JOIN probs p ON p.source = s.name
LEFT JOIN open_windows o ON o.source = s.name
ORDER BY s.name
"""

_KEYS = (
    "source", "kind", "base_url", "records", "deleted", "newest_datestamp", "last_run_id",
    "last_status", "last_run_started", "last_run_finished", "last_error", "high_water",
    "problems", "open_windows", "runs",
)


def source_status(store: Store) -> list[dict[str, Any]]:
    return [dict(zip(_KEYS, row, strict=True)) for row in store.query(_STATUS_SQL)]


def job_history(store: Store, limit: int = 5) -> list[dict[str, Any]]:
    """The newest ``linkgraph run`` runs (empty when the store predates them)."""
    if not store.query("SELECT 1 FROM duckdb_tables() WHERE table_name = 'job_runs'"):
        return []
    rows = store.query(
        "SELECT job_id, started_at, finished_at, status, sources_ok, sources_failed, sources_skipped, error, outcome"
        " FROM job_runs ORDER BY job_id DESC LIMIT ?", [limit])
    keys = ("job_id", "started", "finished", "status", "sources_ok", "sources_failed", "sources_skipped", "error",
            "outcome")
    return [dict(zip(keys, row, strict=True)) for row in rows]
