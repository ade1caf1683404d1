"""``linkgraph run``: every due source harvested incrementally, then crosswalk, audits, snapshot.

Guarantees an operator can build a schedule on:

* **one run at a time** per database (:class:`~linkgraph.lock.RunLock`, an ``flock`` the kernel
  drops when the process dies, SIGKILL included); a second run refuses (exit 75) or waits;
* **per-source isolation**: a source that fails is logged and recorded, the others go on;
* **crash safety** comes from the stages themselves (a page / a crosswalk batch / the audit
  transaction is the unit of progress), so a rerun after a kill resumes and ends where a
  clean run would; rows a dead run left ``running`` are closed as such at the next start;
* **readers are never blocked**: a read snapshot is published after each stage (see
  :mod:`linkgraph.jobs.snapshot`);
* **history**: ``job_runs`` (one row per run, per-source outcome) and ``job_log`` (its log),
  shown by ``linkgraph status`` and pruned by ``linkgraph retention``;
* exit status: 0 all good, 1 a source (or the crosswalk / audits) failed, 2 bad config or
  usage, 3 no failure but a server delivered fewer records than it announced, 75 another run
  holds the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from linkgraph import arrowbuild
from linkgraph.config import Config, SourceConfig, format_duration
from linkgraph.errors import LinkgraphError, StoreError, UsageError
from linkgraph.jobs.connectors import SourceOutcome, harvest_source
from linkgraph.jobs.snapshot import publish_snapshot
from linkgraph.lock import RunLock
from linkgraph.logs import LogEvent, RunLog
from linkgraph.store import Store, utcnow

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
OPEN_WAIT = 60.0  # seconds the run retries opening the file a short-lived reader holds

_LOG_SCHEMA = pa.schema([("job_id", pa.int64()), ("time", pa.timestamp("us", tz="UTC")),
                         ("level", pa.string()), ("source", pa.string()), ("event", pa.string()),
                         ("fields", pa.string())])


@dataclass(slots=True)
class RunOptions:
    db: Path
    only: list[str] = field(default_factory=list)  # --source NAME...; empty: all
    force: bool = False  # ignore the schedule hints
    full: bool = False  # ignore high-water marks
    wait: float = 0.0  # seconds to wait for another run's lock
    audit: bool = True
    snapshot: bool = True
    memory_limit: str | None = None  # None: linkgraph.memory.default_budget()


@dataclass(slots=True)
class RunReport:
    job_id: int
    status: str  # ok | partial | failed
    exit_code: int
    sources: dict[str, SourceOutcome]
    crosswalk: dict[str, Any] | None = None
    audit: dict[str, Any] | None = None
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "status": self.status, "exit_code": self.exit_code,
                "sources": {k: v.as_dict() for k, v in self.sources.items()},
                "crosswalk": self.crosswalk, "audit": self.audit, "error": self.error,
                "seconds": round(self.seconds, 3)}


def select_sources(config: Config, only: list[str]) -> list[SourceConfig]:
    unknown = [n for n in only if n not in config.sources]
    if unknown:
        known = ", ".join(config.sources) or "none"
        raise UsageError(f"no source named {', '.join(map(repr, unknown))} in the config (configured: {known})")
    if not config.sources:
        raise UsageError("the config names no sources: add one with `linkgraph sources add`")
    return [config.sources[n] for n in (only or list(config.sources))]


def due(store: Store, src: SourceConfig, now: datetime, *, force: bool, named: bool) -> str | None:
    """None when ``src`` should be harvested now, else why not."""
    if not src.enabled and not named:
        return "disabled"
    if force or src.every is None:
        return None
    if store.query("SELECT 1 FROM harvest_state WHERE source = ? AND status = 'open' LIMIT 1", [src.name]):
        return None  # an interrupted harvest: resume it now
    row = store.query("SELECT max(finished_at) FROM harvest_runs WHERE source = ? AND status IN ('ok', 'partial')",
                      [src.name])
    last = row[0][0] if row else None
    if last is None or now - last >= src.every:
        return None
    return f"not due: last success {last:%Y-%m-%d %H:%M}Z, every {format_duration(src.every)}"


def open_writer(db: Path, *, wait: float = OPEN_WAIT, memory_limit: str | None = None) -> Store:
    """The write connection; retries while a short-lived reader holds the file read-only."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return Store(db, memory_limit=memory_limit)
        except StoreError as exc:
            text = str(exc).lower()
            if ("lock" not in text and "conflicting" not in text) or time.monotonic() >= deadline:
                raise
            time.sleep(0.25)


class RunStopped(StoreError):
    """The store failed under a run; its ``run-done status=failed`` event is already logged."""


class Runner:
    """One ``linkgraph run``: call :meth:`run` once."""

    def __init__(self, config: Config, options: RunOptions, log: RunLog):
        self.config = config
        self.opts = options
        self.log = log
        self.redact = log.redact
        self.store: Store | None = None
        self.job_id = 0

    def run(self) -> RunReport:
        sources = select_sources(self.config, self.opts.only)
        t0 = time.perf_counter()
        with RunLock(self.opts.db, wait=self.opts.wait):
            self.store = open_writer(self.opts.db, memory_limit=self.opts.memory_limit)
            try:
                report = self._run(sources)
            except (StoreError, OSError, duckdb.Error) as exc:
                # The store failed under the run (disk full, I/O error): whatever committed is
                # kept (DuckDB replays its WAL on the next open); say so and end as failed.
                text = self.redact(f"{type(exc).__name__}: {exc}")
                self.log.emit("error", "run-done", status="failed", exit_code=EXIT_FAILED, error=text)
                raise RunStopped(f"the run stopped: {text}. What was committed before is kept; run again "
                                 "once the cause (disk space?) is fixed") from exc
            finally:
                with contextlib.suppress(Exception):  # an invalidated database may refuse even this
                    self.store.close()
        report.seconds = time.perf_counter() - t0
        return report

    # -- stages -----------------------------------------------------------------------
    def _run(self, sources: list[SourceConfig]) -> RunReport:
        store = self._s
        self._close_dead_runs()
        self.job_id = self._start_job()
        self.log.info("run-start", job_id=self.job_id, db=str(self.opts.db), sources=len(sources))
        report = RunReport(self.job_id, "ok", EXIT_OK, {})
        now = utcnow()
        named = set(self.opts.only)
        for src in sources:
            why = due(store, src, now, force=self.opts.force, named=src.name in named)
            if why is not None:
                report.sources[src.name] = SourceOutcome("skipped", reason=why)
                self.log.emit("info", "source-skipped", src.name, reason=why)
            else:
                report.sources[src.name] = self._harvest(src)
            self._save(report)
            self._publish()
        self._crosswalk(report)
        if self.opts.audit and self.config.audit and report.crosswalk is not None:
            self._audit(report)
        statuses = {o.status for o in report.sources.values()}
        if "failed" in statuses or report.error:
            report.status, report.exit_code = "failed", EXIT_FAILED
        elif "partial" in statuses:
            report.status, report.exit_code = "partial", EXIT_PARTIAL
        self.log.emit("error" if report.exit_code == EXIT_FAILED else "info", "run-done", status=report.status,
                      ok=_count(report, "ok"), partial=_count(report, "partial"), failed=_count(report, "failed"),
                      skipped=_count(report, "skipped"), exit_code=report.exit_code)
        self._save(report, finished=True)
        self._publish()
        return report

    @property
    def _s(self) -> Store:
        assert self.store is not None
        return self.store

    def _harvest(self, src: SourceConfig) -> SourceOutcome:
        self.log.emit("info", "source-start", src.name, kind=src.kind, url=src.base_url)
        t0 = time.perf_counter()
        try:
            outcome = harvest_source(self._s, src, full=self.opts.full)
        except LinkgraphError as exc:
            outcome = SourceOutcome("failed", error=self.redact(str(exc)))
        except Exception as exc:  # noqa: BLE001 - isolation: one source's bug must not stop the others
            where = traceback.extract_tb(exc.__traceback__)[-1]
            text = f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
            outcome = SourceOutcome("failed", error=self.redact(text))
        self._scrub(src.name)
        seconds = round(time.perf_counter() - t0, 3)
        if outcome.status == "failed":
            self.log.emit("error", "source-failed", src.name, error=outcome.error, seconds=seconds)
        else:
            level = "warning" if outcome.status == "partial" else "info"
            self.log.emit(level, "source-done", src.name, status=outcome.status, records=outcome.records,
                          pages=outcome.pages, warnings=outcome.warnings, resumed=outcome.resumed,
                          high_water=outcome.high_water, seconds=seconds)
        return outcome

    def _crosswalk(self, report: RunReport) -> None:
        from linkgraph.crosswalks.pipeline import run_crosswalk

        t0 = time.perf_counter()
        try:
            stats = run_crosswalk(self._s, workers=0)  # worker processes for a big backlog
        except Exception as exc:  # noqa: BLE001 - recorded; the run reports failure
            report.error = self.redact(f"crosswalk failed: {type(exc).__name__}: {exc}")
            self.log.error("crosswalk-failed", error=report.error)
            return
        report.crosswalk = {"raw_records": stats.raw_records, "works": stats.works, "relations": stats.relations,
                            "problems": stats.problems, "deleted": stats.deleted, "workers": stats.workers}
        self.log.info("crosswalk-done", **report.crosswalk, seconds=round(time.perf_counter() - t0, 3))
        self._save(report)
        self._publish()

    def _audit(self, report: RunReport) -> None:
        from linkgraph.graph.audit import run_audit

        seq = self._crosswalk_seq()
        last = self._s.query("SELECT audited_seq FROM job_runs WHERE audited_seq IS NOT NULL"
                             " ORDER BY job_id DESC LIMIT 1")
        audited = self._s.query("SELECT count(*) FROM audit_runs")[0][0]
        if last and last[0][0] == seq and audited and not self.opts.force:
            self.log.info("audit-skipped", reason="nothing crosswalked since the last audit")
            return
        t0 = time.perf_counter()
        try:
            result = run_audit(self._s)
        except Exception as exc:  # noqa: BLE001 - recorded; the run reports failure
            report.error = self.redact(f"audit failed: {type(exc).__name__}: {exc}")
            self.log.error("audit-failed", error=report.error)
            return
        report.audit = {"audit_run": result.run_id, "findings": result.findings, "links": result.links}
        self.log.info("audit-done", **report.audit, seconds=round(time.perf_counter() - t0, 3))
        with self._s.transaction() as cur:
            cur.execute("UPDATE job_runs SET audited_seq = ? WHERE job_id = ?", [seq, self.job_id])
        self._publish()

    # -- bookkeeping --------------------------------------------------------------------
    def _crosswalk_seq(self) -> int:
        row = self._s.query("SELECT high_water FROM crosswalk_state WHERE id = 1")
        return int(row[0][0]) if row else 0

    def _close_dead_runs(self) -> None:
        """We hold the run lock and the only write connection: anything 'running' is dead."""
        now = utcnow()
        with self._s.transaction() as cur:
            n = cur.execute("UPDATE job_runs SET status = 'killed', finished_at = ? WHERE status = 'running'"
                            " RETURNING job_id", [now]).fetchall()
            h = cur.execute("UPDATE harvest_runs SET status = 'failed', finished_at = ?, error = coalesce(error,"
                            " 'the process died during this run (closed by linkgraph run)') WHERE status = 'running'"
                            " RETURNING run_id", [now]).fetchall()
        if n or h:
            self.log.warning("dead-runs-closed", jobs=len(n), harvest_runs=len(h))

    def _start_job(self) -> int:
        with self._s.transaction() as cur:
            job_id = int(cur.execute("SELECT nextval('job_run_seq')").fetchall()[0][0])
            cur.execute("INSERT INTO job_runs (job_id, started_at, status, pid, config) VALUES (?, ?, 'running', ?, ?)",
                        [job_id, utcnow(), os.getpid(), str(self.config.path) if self.config.path else None])
        return job_id

    def _save(self, report: RunReport, *, finished: bool = False) -> None:
        outcome = json.dumps({k: v.as_dict() for k, v in report.sources.items()}, ensure_ascii=False, default=str)
        events = self.log.drain()
        with self._s.transaction() as cur:
            cur.execute(
                "UPDATE job_runs SET outcome = ?, sources_ok = ?, sources_failed = ?, sources_skipped = ?, error = ?"
                + (", status = ?, finished_at = ?" if finished else "") + " WHERE job_id = ?",
                [self.redact(outcome), _count(report, "ok") + _count(report, "partial"), _count(report, "failed"),
                 _count(report, "skipped"), report.error]
                + ([report.status, utcnow()] if finished else []) + [self.job_id],
            )
            Store.insert_arrow(cur, "job_log", self._log_table(events))

    def _log_table(self, events: list[LogEvent]) -> pa.Table:
        return arrowbuild.table({
            "job_id": [self.job_id] * len(events), "time": [e.time for e in events],
            "level": [e.level for e in events], "source": [e.source for e in events],
            "event": [e.event for e in events],
            "fields": [self.redact(json.dumps(e.fields, ensure_ascii=False, default=str)) for e in events],
        }, _LOG_SCHEMA)

    def _scrub(self, source: str) -> None:
        """Error texts may quote a server's answer; a secret never stays in the store."""
        secrets = self.redact.secrets
        if not secrets:
            return
        with self._s.transaction() as cur:
            for s in secrets:
                cur.execute("UPDATE harvest_runs SET error = replace(error, ?, '***') WHERE source = ?"
                            " AND contains(error, ?)", [s, source, s])
                cur.execute("UPDATE harvest_problems SET detail = replace(detail, ?, '***'),"
                            " url = replace(url, ?, '***') WHERE source = ? AND (contains(detail, ?)"
                            " OR contains(url, ?))", [s, s, source, s, s])

    def _publish(self) -> None:
        if not (self.opts.snapshot and self.config.snapshot):
            return
        t0 = time.perf_counter()
        try:
            path = publish_snapshot(self._s)
        except (OSError, duckdb.Error, LinkgraphError) as exc:
            # a full disk must not fail the harvest: readers keep the old snapshot. A fatal DuckDB
            # error invalidates the connection; the next write says so and ends the run.
            self.log.warning("snapshot-failed", error=self.redact(str(exc)))
            if isinstance(exc, duckdb.FatalException):
                raise StoreError(f"publishing the read snapshot failed: {exc}") from exc
            return
        self.log.emit("debug", "snapshot-published", path=str(path), seconds=round(time.perf_counter() - t0, 3))


def _count(report: RunReport, status: str) -> int:
    return sum(1 for o in report.sources.values() if o.status == status)
