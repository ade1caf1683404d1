"""Run logs for people (text) and for machines (JSON lines), with secrets redacted.

Every event is ``(time, level, source, event, fields)``. ``--log-format json`` writes one JSON
object per line: ``{"time": ..., "level": ..., "source": ..., "event": ..., <counts>}``.
Every line, in either format, passes through :class:`Redactor`, which replaces each known
secret value (Crossref Plus token, Neo4j password, ...) with ``***``; the same redactor cleans
error texts before they are stored in the database. Events are also kept in memory so the
runner can store them in ``job_log`` (the run's log, visible later and pruned by retention).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from linkgraph.store import utcnow

FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warning", "error")


class Redactor:
    """Replaces known secret values (and their URL-encoded forms) with ``***`` and removes the
    userinfo (``user:password@``) of every URL."""

    def __init__(self, secrets: Iterable[str] = ()):
        from urllib.parse import quote

        found: set[str] = set()
        for s in secrets:
            if s and len(s) >= 4:  # a 1-3 character "secret" would redact half the log
                found.update({s, quote(s, safe=""), json.dumps(s)[1:-1]})
        self.secrets = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        from linkgraph.harvest.http import strip_userinfo

        text = strip_userinfo(text)  # a URL's user:password, known in advance or not
        for s in self.secrets:
            if s in text:
                text = text.replace(s, "***")
        return text

    def value(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self(obj)
        if isinstance(obj, dict):
            return {k: self.value(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.value(v) for v in obj]
        return obj


@dataclass(frozen=True, slots=True)
class LogEvent:
    time: datetime
    level: str
    source: str | None
    event: str
    fields: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "level": self.level,
                "source": self.source, "event": self.event, **self.fields}


class RunLog:
    """Writes events to ``stream`` (stderr) in ``fmt`` and keeps them for ``job_log``."""

    def __init__(self, fmt: str = "text", *, stream: TextIO | None = None, redact: Redactor | None = None,
                 quiet: bool = False, verbose: bool = False):
        if fmt not in FORMATS:
            from linkgraph.errors import UsageError

            raise UsageError(f"--log-format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        self.fmt = fmt
        self.stream = stream
        self.redact = redact or Redactor()
        self.quiet = quiet
        self.verbose = verbose
        self.events: list[LogEvent] = []
        self._lock = threading.Lock()

    def emit(self, level: str, event: str, source: str | None = None, **fields: Any) -> LogEvent:
        ev = LogEvent(utcnow(), level, source, event, self.redact.value(fields))
        with self._lock:
            self.events.append(ev)
            if (level != "debug" or self.verbose) and (not self.quiet or level in ("warning", "error")):
                self._write(ev)
        return ev

    def info(self, event: str, source: str | None = None, **fields: Any) -> LogEvent:
        return self.emit("info", event, source, **fields)

    def warning(self, event: str, source: str | None = None, **fields: Any) -> LogEvent:
        return self.emit("warning", event, source, **fields)

    def error(self, event: str, source: str | None = None, **fields: Any) -> LogEvent:
        return self.emit("error", event, source, **fields)

    def _write(self, ev: LogEvent) -> None:
        stream = self.stream or sys.stderr
        if self.fmt == "json":
            line = json.dumps(ev.as_dict(), ensure_ascii=False, default=str)
        else:
            parts = [f"{k}={_text(v)}" for k, v in ev.fields.items() if v is not None]
            where = f" [{ev.source}]" if ev.source else ""
            line = f"{ev.time:%Y-%m-%d %H:%M:%S} {ev.level.upper():7}{where} {ev.event}" + (
                " " + " ".join(parts) if parts else "")
        stream.write(self.redact(line) + "\n")
        stream.flush()

    def drain(self) -> list[LogEvent]:
        """Events not handed out yet (the runner stores them after each stage)."""
        with self._lock:
            out, self.events = self.events, []
        return out


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return json.dumps(text, ensure_ascii=False) if (" " in text or not text) else text
