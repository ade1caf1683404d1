"""The operator's TOML configuration: where the store is, which sources to harvest, how often.

Read with :mod:`tomllib`; every error names the file, the line and the key
(``linkgraph.toml:12: sources.kyoto.kind: ...``). Edited by ``linkgraph sources add|remove``
*textually*: a new ``[sources.NAME]`` block is appended, a removed one is cut out, so the
operator's comments and layout survive (a tiny emitter writes the values).

Secrets (a Crossref Plus token, the Neo4j password) may be written literally or, better, named
by environment variable (``token_env = "CROSSREF_PLUS_TOKEN"``). Their values are collected in
:attr:`Config.secrets` so that logs and errors can redact them; no message built here ever
echoes a secret's value.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from linkgraph.errors import UsageError

ENV_CONFIG = "LINKGRAPH_CONFIG"
KINDS = ("oai", "crossref", "datacite", "jalc", "jstage-data")
#: other names of a kind: `linkgraph harvest figshare` harvests what kind "jstage-data" does
KIND_ALIASES = {"figshare": "jstage-data"}
SECRET_KEYS = frozenset({"token", "password"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# key -> (types, help); common to every source
_COMMON: dict[str, tuple[tuple[type, ...], str]] = {
    "kind": ((str,), "oai | crossref | datacite | jalc | jstage-data"),
    "base_url": ((str,), "endpoint base URL"),
    "contact": ((str,), "contact e-mail sent in the User-Agent"),
    "every": ((str,), "schedule hint: harvest when the last success is this old (30m, 6h, 1d, 1w)"),
    "rate": ((int, float), "at most this many requests per second"),
    "concurrency": ((int,), "requests in flight at once"),
    "timeout": ((int, float), "seconds to wait for a connection or a read"),
    "retries": ((int,), "further attempts after a failed request"),
    "enabled": ((bool,), "false: never due"),
    "note": ((str,), "free text"),
}
_PER_KIND: dict[str, dict[str, tuple[tuple[type, ...], str]]] = {
    "oai": {"metadata_format": ((str,), "metadataPrefix"), "set": ((str,), "setSpec"),
            "windows": ((int,), "date windows harvested concurrently")},
    "jstage-data": {"portal": ((int,), "figshare portal number (set portal_N)"), "set": ((str,), "setSpec"),
                    "metadata_format": ((str,), "metadataPrefix (default oai_datacite)")},
    "crossref": {"prefix": ((str,), "DOI prefix"), "member": ((str, int), "Crossref member id"),
                 "type": ((str,), "Crossref work type"), "mailto": ((str,), "polite-pool e-mail"),
                 "rows": ((int,), "works per page"), "token": ((str,), "Crossref Plus token (secret)"),
                 "token_env": ((str,), "environment variable holding the Crossref Plus token")},
    "datacite": {"client": ((str,), "DataCite repository id"), "provider": ((str,), "DataCite member id"),
                 "prefix": ((str,), "DOI prefix"), "page_size": ((int,), "DOIs per page")},
    "jalc": {"prefix": ((str,), "JaLC DOI prefix"), "rows": ((int,), "DOIs per list page")},
}
# exactly one of these per kind (None: no such rule)
_ONE_OF: dict[str, tuple[str, ...]] = {
    "oai": ("metadata_format",), "jstage-data": ("portal", "set"), "crossref": ("prefix", "member"),
    "datacite": ("client", "provider", "prefix"), "jalc": ("prefix",),
}
_DEFAULT_URLS = {
    "crossref": "https://api.crossref.org", "datacite": "https://api.datacite.org",
    "jalc": "https://api.japanlinkcenter.org", "jstage-data": "https://api.figshare.com/v2/oai",
}
_SECTIONS: dict[str, dict[str, tuple[tuple[type, ...], str]]] = {
    "linkgraph": {"db": ((str,), "DuckDB file"), "contact": ((str,), "default contact e-mail"),
                  "lock_wait": ((int, float), "seconds a run waits for another to finish"),
                  "snapshot": ((bool,), "publish a read snapshot after each stage"),
                  "audit": ((bool,), "run the audits after crosswalking"),
                  "memory_limit": ((str,), "DuckDB's starting memory budget (e.g. 512MB); default: from the machine")},
    "retention": {"keep_runs": ((int,), "harvest runs kept per source"),
                  "keep_days": ((int,), "days of run history kept")},
    "neo4j": {"uri": ((str,), "bolt URI"), "user": ((str,), "user name"),
              "password": ((str,), "password (secret)"),
              "password_env": ((str,), "environment variable holding the password")},
}


def default_config_path() -> Path:
    """``$LINKGRAPH_CONFIG``, else ``$XDG_CONFIG_HOME/linkgraph/linkgraph.toml``."""
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "linkgraph" / "linkgraph.toml"


class ConfigError(UsageError):
    """A configuration problem, located: ``file:line: key: message`` (exit status 2)."""

    def __init__(self, path: Path | str, line: int | None, key: str | None, message: str):
        self.path, self.line, self.key, self.detail = str(path), line, key, message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class ConfigProblems(ConfigError):
    """Several configuration problems at once (``config check`` lists them all)."""

    def __init__(self, problems: list[ConfigError]):
        self.problems = problems
        first = problems[0]
        UsageError.__init__(self, f"{len(problems)} problems in {first.path}:\n"
                            + "\n".join(f"  {p}" for p in problems))
        self.path, self.line, self.key, self.detail = first.path, first.line, first.key, first.detail


def parse_duration(text: str) -> timedelta:
    """``30m``, ``6h``, ``1d``, ``1w``, ``1d12h`` -> timedelta; ValueError otherwise."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 6h, 1d, 1w)")
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    if seconds > MAX_DURATION_DAYS * 86400:
        raise ValueError(f"duration too long: {text!r} (at most {MAX_DURATION_DAYS} days)")
    return timedelta(seconds=seconds)


MAX_DURATION_DAYS = 3660  # ten years: beyond that a schedule is a typo


def _bounded(chk: Any, table: dict[str, Any], keys: tuple[str, ...], key: str, low: float, high: float,
             unit: str) -> float | None:
    """``table[key]`` as a finite float within [low, high], or a located config error."""
    if key not in table:
        return None
    value = float(table[key])
    if not (low <= value <= high):  # also false for nan; inf is above any high
        raise chk.fail((*keys, key), f"must be a number from {low:g} to {high:g} {unit}, not {table[key]!r}")
    return value


@dataclass(slots=True)
class SourceConfig:
    """One ``[sources.NAME]`` table, validated. ``options`` holds the kind-specific keys."""

    name: str
    kind: str
    base_url: str = field(repr=False)  # may carry user:password (the transport takes it out)
    options: dict[str, Any] = field(default_factory=dict)
    every: timedelta | None = None
    rate: float | None = None
    concurrency: int | None = None
    timeout: float = 60.0
    retries: int = 5
    contact: str | None = None
    enabled: bool = True
    secret: str | None = field(default=None, repr=False)  # resolved token, never printed
    url_secret: str | None = field(default=None, repr=False)  # a password in base_url, never printed

    def describe(self) -> dict[str, Any]:
        """What ``sources list`` shows: no secret values, only where they come from."""
        from linkgraph.harvest.http import strip_userinfo

        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "base_url": strip_userinfo(self.base_url)}
        for k, v in self.options.items():
            out[k] = "***" if k in SECRET_KEYS else v
        out["every"] = format_duration(self.every) if self.every else None
        out.update(rate=self.rate, concurrency=self.concurrency, enabled=self.enabled)
        return out


@dataclass(slots=True)
class Config:
    path: Path | None
    sources: dict[str, SourceConfig]
    db: Path | None = None
    contact: str | None = None
    lock_wait: float = 0.0
    snapshot: bool = True
    audit: bool = True
    memory_limit: str | None = None
    keep_runs: int | None = None
    keep_days: int | None = None
    neo4j: dict[str, Any] = field(default_factory=dict)
    neo4j_password: str | None = field(default=None, repr=False)
    secrets: list[str] = field(default_factory=list, repr=False)


def format_duration(value: timedelta) -> str:
    s = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


# -- locating keys ----------------------------------------------------------------------


def _split_dotted(text: str) -> tuple[str, ...]:
    parts, cur, quote = [], "", ""
    for ch in text.strip():
        if quote:
            if ch == quote:
                quote = ""
            else:
                cur += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return tuple(parts)


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEYLINE = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


def locate_keys(text: str) -> dict[tuple[str, ...], int]:
    """``(table..., key)`` -> 1-based line, for tables and ``key = value`` lines."""
    where: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for no, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            table = _split_dotted(m.group(1))
            where.setdefault(table, no)
            continue
        k = _KEYLINE.match(line)
        if k:
            where.setdefault((*table, k.group(1).strip("\"'")), no)
    return where


class _Checker:
    def __init__(self, path: Path | str, text: str):
        self.path = path
        self.lines = locate_keys(text)

    def fail(self, keys: tuple[str, ...], message: str) -> ConfigError:
        line = None
        for n in range(len(keys), 0, -1):  # the key's line, else its table's
            line = self.lines.get(keys[:n])
            if line:
                break
        return ConfigError(self.path, line, ".".join(keys), message)

    def typed(self, table: dict[str, Any], keys: tuple[str, ...],
              spec: dict[str, tuple[tuple[type, ...], str]]) -> None:
        for key, value in table.items():
            if key not in spec:
                allowed = ", ".join(sorted(spec))
                raise self.fail((*keys, key), f"unknown key (allowed here: {allowed})")
            types = spec[key][0]
            if isinstance(value, bool) and bool not in types or not isinstance(value, types):
                shown = "a secret value" if key in SECRET_KEYS else f"{type(value).__name__}"
                names = " or ".join("integer" if t is int else "number" if t is float else
                                    "string" if t is str else "boolean" for t in types)
                raise self.fail((*keys, key), f"expected {names}, got {shown}")


def _settings(chk: _Checker, doc: dict[str, Any], cfg: Config, environ: Any) -> None:
    """The [linkgraph], [retention] and [neo4j] tables into ``cfg``."""
    general = doc.get("linkgraph", {})
    cfg.db = Path(general["db"]).expanduser() if "db" in general else None
    cfg.contact = general.get("contact")
    lock_wait = _bounded(chk, general, ("linkgraph",), "lock_wait", 0.0, 7 * 86400.0, "seconds")
    cfg.lock_wait = lock_wait or 0.0
    cfg.snapshot = bool(general.get("snapshot", True))
    if "memory_limit" in general:
        from linkgraph.memory import parse_size

        size = parse_size(general["memory_limit"])
        if size is None or not 16 << 20 <= size <= 1 << 50:
            raise chk.fail(("linkgraph", "memory_limit"),
                           f"not a memory size from 16MB up: {general['memory_limit']!r} (e.g. 512MB, 2GB)")
        cfg.memory_limit = f"{size}B"
    cfg.audit = bool(general.get("audit", True))
    retention = doc.get("retention", {})
    for key in ("keep_runs", "keep_days"):
        if key in retention and retention[key] < 1:
            raise chk.fail(("retention", key), "must be at least 1")
    cfg.keep_runs, cfg.keep_days = retention.get("keep_runs"), retention.get("keep_days")
    neo = dict(doc.get("neo4j", {}))
    password = _secret(chk, neo, ("neo4j",), "password", environ)
    if password:
        cfg.secrets.append(password)
    cfg.neo4j_password = password
    neo.pop("password", None)
    cfg.neo4j = neo


def parse_config(text: str, path: Path | str = "<config>", *, env: dict[str, str] | None = None) -> Config:
    """Validate ``text``; raises :class:`ConfigError` for a problem, :class:`ConfigProblems`
    (one message, a line each) when there are several."""
    environ = os.environ if env is None else env
    try:
        doc = tomllib.loads(text)
    except RecursionError:
        raise ConfigError(path, None, None, "not valid TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(m.group(1)) if m else None
        raise ConfigError(path, line, None, f"not valid TOML: {exc}") from None
    chk = _Checker(path, text)
    problems: list[ConfigError] = []  # every problem found, not only the first
    for top, value in list(doc.items()):
        try:
            if top != "sources" and top not in _SECTIONS:
                raise chk.fail((top,), f"unknown section (expected sources, {', '.join(_SECTIONS)})")
            if not isinstance(value, dict):
                raise chk.fail((top,), "expected a table")
            if top in _SECTIONS:
                chk.typed(value, (top,), _SECTIONS[top])
        except ConfigError as exc:
            problems.append(exc)
            doc.pop(top)
    cfg = Config(path=Path(path) if path != "<config>" else None, sources={})
    try:
        _settings(chk, doc, cfg, environ)
    except ConfigError as exc:
        problems.append(exc)
    for name, table in doc.get("sources", {}).items():
        try:
            src = _source(chk, name, table, environ, cfg.contact)
        except ConfigError as exc:
            problems.append(exc)
            continue
        cfg.sources[name] = src
        cfg.secrets.extend(s for s in (src.secret, src.url_secret) if s)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigProblems(problems)
    # env secrets the tools read themselves are never printed either
    for var in ("NEO4J_PASSWORD", "CROSSREF_PLUS_TOKEN", "LINKGRAPH_CROSSREF_TOKEN"):
        if environ.get(var):
            cfg.secrets.append(environ[var])
    return cfg


def _secret(chk: _Checker, table: dict[str, Any], keys: tuple[str, ...], name: str,
            environ: Any) -> str | None:
    literal, var = table.get(name), table.get(f"{name}_env")
    if literal is not None and var is not None:
        raise chk.fail((*keys, f"{name}_env"), f"give {name} or {name}_env, not both")
    if var is not None:
        value = environ.get(var)
        if not value:
            raise chk.fail((*keys, f"{name}_env"), f"environment variable {var} is not set")
        return str(value)
    return str(literal) if literal else None


def _source(chk: _Checker, name: str, table: Any, environ: Any, contact: str | None) -> SourceConfig:
    keys = ("sources", name)
    if not _NAME.match(name):
        raise chk.fail(keys, "source names are letters, digits and . _ : - (at most 100)")
    if not isinstance(table, dict):
        raise chk.fail(keys, "expected a table")
    kind = table.get("kind")
    kind = KIND_ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if kind is None:
        raise chk.fail(keys, f"missing key 'kind' ({' | '.join(KINDS)})")
    if kind not in KINDS:
        raise chk.fail((*keys, "kind"), f"unknown kind {kind!r} (expected {' | '.join(KINDS)})")
    chk.typed(table, keys, {**_COMMON, **_PER_KIND[kind]})
    base_url = table.get("base_url") or _DEFAULT_URLS.get(kind)
    if not base_url:
        raise chk.fail(keys, "missing key 'base_url'")
    from linkgraph.harvest.http import split_credentials, strip_userinfo

    if not re.match(r"^https?://[^\s/]+", base_url):
        raise chk.fail((*keys, "base_url"), f"not an http(s) URL: {strip_userinfo(base_url)!r}")
    try:
        _, url_credentials = split_credentials(base_url)
    except ValueError as exc:  # a port that is not a number, a bad IPv6 address
        raise chk.fail((*keys, "base_url"), f"not a valid URL: {strip_userinfo(base_url)!r} ({exc})") from None
    given = [k for k in _ONE_OF[kind] if k in table]
    if len(given) != 1:
        want = " or ".join(_ONE_OF[kind])
        what = "missing" if not given else "give only one of"
        raise chk.fail(keys if not given else (*keys, given[1]), f"{what} {want} for kind {kind}")
    prefix = table.get("prefix") if kind in ("crossref", "datacite", "jalc") else None
    if prefix is not None and not re.match(r"^10\.\d{4,9}$", prefix):
        raise chk.fail((*keys, "prefix"), f"not a DOI prefix: {prefix!r} (expected 10.NNNN)")
    every = None
    if "every" in table:
        try:
            every = parse_duration(table["every"])
        except (ValueError, OverflowError) as exc:
            raise chk.fail((*keys, "every"), str(exc)) from None
    rate = _bounded(chk, table, keys, "rate", 0.001, 1000.0, "requests/s")
    timeout = _bounded(chk, table, keys, "timeout", 0.1, 3600.0, "seconds")
    for key, low in (("concurrency", 1), ("retries", 0), ("windows", 1), ("rows", 1), ("page_size", 1)):
        if key in table and not low <= table[key] <= 1000:
            raise chk.fail((*keys, key), f"must be between {low} and 1000")
    secret = _secret(chk, table, keys, "token", environ) if kind == "crossref" else None
    url_secret = url_credentials[1] if url_credentials and url_credentials[1] else None
    skip = set(_COMMON) | {"token", "token_env"}
    options = {k: v for k, v in table.items() if k not in skip}
    if "token_env" in table:
        options["token_env"] = table["token_env"]
    elif "token" in table:
        options["token"] = "***"
    return SourceConfig(
        name=name, kind=kind, base_url=base_url.rstrip("/"), options=options, every=every,
        rate=rate, concurrency=table.get("concurrency"),
        timeout=60.0 if timeout is None else timeout, retries=int(table.get("retries", 5)),
        contact=table.get("contact") or contact, enabled=bool(table.get("enabled", True)), secret=secret,
        url_secret=url_secret,
    )


def load_config(path: Path | None = None, *, env: dict[str, str] | None = None) -> Config:
    """Read and validate the config file (``path`` or the default location)."""
    target = path or default_config_path()
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise ConfigError(target, None, None, "no such file (create it with `linkgraph sources add`, "
                          "or pass --config / set $LINKGRAPH_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(target, None, None, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(target, line, None, "not UTF-8 text (TOML files must be UTF-8)") from None
    return parse_config(text, target, env=env)


# -- editing ------------------------------------------------------------------------------


def toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_-]+$", key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """A TOML literal for str, bool, int, float or a list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"cannot write {value!r} to TOML")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON escapes are valid TOML basic strings
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise UsageError(f"cannot write a {type(value).__name__} to TOML")


def source_block(name: str, values: dict[str, Any]) -> str:
    lines = [f"[sources.{toml_key(name)}]"]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in values.items() if v is not None]
    return "\n".join(lines) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def add_source(path: Path, name: str, values: dict[str, Any]) -> Config:
    """Append ``[sources.NAME]``; the whole file is validated before it is written."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text and name in parse_config(text, path).sources:
        raise UsageError(f"source {name!r} is already in {path} (remove it first)")
    sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    new = text + sep + source_block(name, values)
    cfg = parse_config(new, path)
    _write_atomic(path, new)
    return cfg


def remove_source(path: Path, name: str) -> Config:
    """Cut ``[sources.NAME]`` (and its sub-tables) out of the file, keeping everything else."""
    text = path.read_text(encoding="utf-8")
    if name not in parse_config(text, path).sources:
        raise UsageError(f"no source {name!r} in {path}")
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        m = _HEADER.match(line)
        if m:
            table = _split_dotted(m.group(1))
            skipping = table[:2] == ("sources", name)
        if not skipping:
            out.append(line)
    new = "".join(out)
    cfg = parse_config(new, path)
    _write_atomic(path, new)
    return cfg
