"""Retention: how much run history the store keeps.

Policy (``linkgraph retention --keep-runs N --keep-days D``, or ``[retention]`` in the config):

* ``harvest_runs``: per source, the newest N runs are kept, and any run younger than D days;
  the run that holds a source's incremental high-water mark and runs still ``running`` are
  never removed (removing them would restart that source's harvest from the beginning).
  ``harvest_problems`` rows of removed runs go with them.
* ``job_runs`` / ``job_log`` (``linkgraph run`` history and logs): the newest N runs, and any
  run younger than D days. The newest run that recorded an audited crosswalk position is kept.
* ``crosswalk_runs`` (statistics only): entries older than D days beyond the newest N.
* raw payloads: ``raw_records`` keeps exactly one version per record (a newer datestamp or a
  changed payload replaces the row), so there are no superseded payload versions to prune;
  a crosswalk fix re-runs from the versions held. Tombstones are kept: they are what removes
  a deleted record's works on the next crosswalk and what stops a re-harvest from reviving it.
* audit findings and link snapshots are managed by the audits (``--keep-snapshots``).

Each table is pruned in its own short transaction, so a reader's snapshot or a kill mid-way
leaves a consistent store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from linkgraph.errors import UsageError
from linkgraph.store import Store, utcnow

DEFAULT_KEEP_RUNS = 30
DEFAULT_KEEP_DAYS = 90


@dataclass(slots=True)
class RetentionResult:
    keep_runs: int
    keep_days: int
    deleted: dict[str, int] = field(default_factory=dict)


def prune(store: Store, *, keep_runs: int = DEFAULT_KEEP_RUNS, keep_days: int = DEFAULT_KEEP_DAYS,
          dry_run: bool = False) -> RetentionResult:
    """Delete history beyond the policy; returns rows deleted (or that would be) per table."""
    if keep_runs < 1 or keep_days < 0:
        raise UsageError("--keep-runs must be at least 1 and --keep-days at least 0")
    cutoff = utcnow() - timedelta(days=keep_days)
    result = RetentionResult(keep_runs, keep_days)
    doomed_runs = """
        SELECT run_id FROM (
            SELECT run_id, started_at, status,
                   row_number() OVER (PARTITION BY source ORDER BY run_id DESC) AS rn
            FROM harvest_runs) r
        WHERE rn > $keep AND started_at < $cutoff AND status <> 'running'
          AND run_id NOT IN (SELECT arg_max(run_id, run_id) FROM harvest_runs
                             WHERE status IN ('ok', 'partial') AND high_water IS NOT NULL GROUP BY source)
    """
    doomed_jobs = """
        SELECT job_id FROM (
            SELECT job_id, started_at, status, row_number() OVER (ORDER BY job_id DESC) AS rn FROM job_runs) j
        WHERE rn > $keep AND started_at < $cutoff AND status <> 'running'
          AND job_id IS DISTINCT FROM (SELECT max(job_id) FROM job_runs WHERE audited_seq IS NOT NULL)
    """
    steps = [
        ("harvest_problems", f"DELETE FROM harvest_problems WHERE run_id IN ({doomed_runs})"),
        ("harvest_runs", f"DELETE FROM harvest_runs WHERE run_id IN ({doomed_runs})"),
        ("job_log", f"DELETE FROM job_log WHERE job_id IN ({doomed_jobs})"),
        ("job_runs", f"DELETE FROM job_runs WHERE job_id IN ({doomed_jobs})"),
        ("crosswalk_runs", """DELETE FROM crosswalk_runs WHERE started_at < $cutoff AND started_at NOT IN (
            SELECT started_at FROM crosswalk_runs ORDER BY started_at DESC LIMIT $keep)"""),
    ]
    params = {"keep": keep_runs, "cutoff": cutoff}
    for table, sql in steps:
        with store.transaction() as cur:
            if dry_run:
                count_sql = sql.replace("DELETE FROM", "SELECT count(*) FROM", 1)
                n = cur.execute(count_sql, params).fetchall()[0][0]
            else:
                n = len(cur.execute(sql + " RETURNING 1", params).fetchall())
        result.deleted[table] = int(n)
    return result
