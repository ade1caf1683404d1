"""Which agency registered a DOI, and its record from that agency.

* ``https://doi.org/ra/{prefix,prefix,...}`` answers ``[{"DOI": p, "RA": "JaLC"}, ...]`` (or
  ``{"DOI": p, "status": "DOI does not exist"}``). A prefix belongs to one agency, so answers
  are cached per prefix in ``ra_cache`` and asked in batches.
* Single-record endpoints: JaLC ``/dois/{doi}``, Crossref ``/works/{doi}``, DataCite
  ``/dois/{doi}``. Records are stored verbatim in ``raw_records`` under the sources
  ``jalc-targets``, ``crossref-targets`` and ``datacite-targets`` (formats ``jalc-json``, ...),
  so crosswalks read them like harvested ones.
* *Link targets*: every DOI a stored relation points at that no harvest holds; a DOI no agency
  knows (unknown prefix, or a 404 from its agency) goes to ``unknown_dois``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, unquote

import pyarrow as pa

from linkgraph import arrowbuild
from linkgraph.errors import TransportError
from linkgraph.harvest.checkpoint import Checkpoints, Window
from linkgraph.harvest.crossref import BASE_URL as CROSSREF_URL
from linkgraph.harvest.crossref import crossref_record, read_json
from linkgraph.harvest.datacite import BASE_URL as DATACITE_URL
from linkgraph.harvest.datacite import datacite_record
from linkgraph.harvest.http import HttpPolicy, Transport
from linkgraph.harvest.jalc import BASE_URL as JALC_URL
from linkgraph.harvest.jalc import JalcClient, jalc_record
from linkgraph.harvest.ratelimit import ServerLimits
from linkgraph.store import RawRecord, Store, utcnow

RA_URL = "https://doi.org/ra"
RA_BATCH = 20
SUPPORTED = {"jalc": "jalc", "crossref": "crossref", "datacite": "datacite"}
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_RESOLVER = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:|info:doi/)", re.IGNORECASE)
_STAMP = pa.timestamp("us", tz="UTC")
_RA_SCHEMA = pa.schema([("prefix", pa.string()), ("agency", pa.string()), ("status", pa.string()),
                        ("detail", pa.string()), ("checked_at", _STAMP)])
_UNKNOWN_SCHEMA = pa.schema([("doi", pa.string()), ("prefix", pa.string()), ("agency", pa.string()),
                             ("reason", pa.string()), ("checked_at", _STAMP)])
REGISTRY_FORMATS = ("crossref-json", "datacite-json", "jalc-json")


def clean_doi(text: str) -> str | None:
    """A DOI as typed or linked (``https://doi.org/...``, ``doi:...``) lower-cased; None if not one."""
    value = unquote(_RESOLVER.sub("", text.strip())).strip().lower()
    return value if _DOI.match(value) else None


def doi_prefix(doi: str) -> str:
    return doi.split("/", 1)[0].lower()


@dataclass(frozen=True, slots=True)
class RaAnswer:
    prefix: str
    agency: str | None
    status: str  # ok | unknown | invalid
    detail: str | None = None

    @property
    def kind(self) -> str | None:
        """jalc | crossref | datacite when linkgraph can fetch from the agency, else None."""
        return SUPPORTED.get((self.agency or "").lower())


class AgencyCache:
    """doi.org/ra lookups, cached per prefix in ``ra_cache``."""

    def __init__(self, store: Store, transport: Transport, *, base_url: str = RA_URL, batch: int = RA_BATCH):
        self.store = store
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.batch = max(1, batch)
        self.asked = 0  # prefixes sent to doi.org (cache misses)

    def lookup(self, prefixes: Iterable[str], *, refresh: bool = False) -> dict[str, RaAnswer]:
        wanted = sorted({p.lower() for p in prefixes})
        found: dict[str, RaAnswer] = {}
        if wanted and not refresh:
            rows = self.store.query(
                "SELECT prefix, agency, status, detail FROM ra_cache"
                " WHERE prefix IN (SELECT unnest(?::VARCHAR[]))",
                [wanted],
            )
            found = {r[0]: RaAnswer(*r) for r in rows}
        missing = [p for p in wanted if p not in found]
        for i in range(0, len(missing), self.batch):
            answers = self._ask(missing[i : i + self.batch])
            self._save(answers)
            found.update({a.prefix: a for a in answers})
        return found

    def _ask(self, prefixes: Sequence[str]) -> list[RaAnswer]:
        self.asked += len(prefixes)
        url = f"{self.base_url}/{','.join(quote(p, safe='') for p in prefixes)}"
        doc = self.transport.fetch(url, read_json)
        by_prefix: dict[str, RaAnswer] = {}
        for item in doc if isinstance(doc, list) else []:
            key = str(item.get("DOI") or "").lower()
            if not key:
                continue
            if item.get("RA"):
                by_prefix[key] = RaAnswer(key, str(item["RA"]), "ok")
            else:
                detail = str(item.get("status") or "no agency named")
                low = detail.lower()
                status = ("invalid" if "invalid" in low
                          else "unverifiable" if "unverifiable" in low else "unknown")
                by_prefix[key] = RaAnswer(key, None, status, detail)
        return [by_prefix.get(p) or RaAnswer(p, None, "unknown", "doi.org gave no answer") for p in prefixes]

    def _save(self, answers: Sequence[RaAnswer]) -> None:
        # "cannot tell" is not an answer to keep: the next lookup asks again
        answers = [a for a in answers if a.status != "unverifiable"]
        if not answers:
            return
        now = utcnow()
        table = arrowbuild.table(
            {
                "prefix": [a.prefix for a in answers],
                "agency": [a.agency for a in answers],
                "status": [a.status for a in answers],
                "detail": [a.detail for a in answers],
                "checked_at": [now] * len(answers),
            },
            _RA_SCHEMA,
        )
        with self.store.transaction() as cur:
            cur.execute("DELETE FROM ra_cache WHERE prefix IN (SELECT unnest(?::VARCHAR[]))",
                        [[a.prefix for a in answers]])
            Store.insert_arrow(cur, "ra_cache", table)


@dataclass(slots=True)
class AgencyEndpoints:
    jalc: str = JALC_URL
    crossref: str = CROSSREF_URL
    datacite: str = DATACITE_URL


class RecordFetcher:
    """One DOI's record from its agency's single-record endpoint (one transport per agency,
    so that Crossref's advertised limits pace only Crossref requests)."""

    def __init__(self, policy: HttpPolicy, endpoints: AgencyEndpoints | None = None, *,
                 mailto: str | None = None, concurrency: int = 4):
        self.endpoints = endpoints or AgencyEndpoints()
        self.mailto = mailto
        self.transports = {k: Transport(replace(policy, concurrency=max(1, concurrency)))
                           for k in ("jalc", "crossref", "datacite")}
        self.jalc = JalcClient(self.transports["jalc"], base_url=self.endpoints.jalc)
        # Crossref advertises its limits in headers; follow them (single-DOI pool limits).
        self.crossref_limits = ServerLimits(self.transports["crossref"], max_concurrency=concurrency,
                                            initial_rate=10.0 if mailto else 5.0)

    @property
    def requests(self) -> int:
        return sum(t.requests for t in self.transports.values())

    def close(self) -> None:
        for t in self.transports.values():
            t.close()

    def __enter__(self) -> RecordFetcher:  # noqa: PYI034 - final class
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, kind: str, doi: str) -> RawRecord | None:
        if kind == "jalc":
            data = self.jalc.doi(doi)
            return jalc_record(data) if data is not None else None
        if kind == "crossref":
            params = {"mailto": self.mailto} if self.mailto else None
            url = f"{self.endpoints.crossref.rstrip('/')}/works/{quote(doi, safe='/')}"
            with self.crossref_limits.gate.slot():
                doc = self._get("crossref", url, params)
            msg = doc.get("message") if isinstance(doc, dict) else None
            return crossref_record(msg) if isinstance(msg, dict) else None
        if kind == "datacite":
            url = f"{self.endpoints.datacite.rstrip('/')}/dois/{quote(doi, safe='/')}"
            doc = self._get("datacite", url, None)
            data = doc.get("data") if isinstance(doc, dict) else None
            return datacite_record(data) if isinstance(data, dict) else None
        raise ValueError(f"no fetcher for agency kind {kind!r}")

    def _get(self, kind: str, url: str, params: dict[str, str] | None) -> Any:
        try:
            return self.transports[kind].fetch(url, read_json, params=params)
        except TransportError as exc:
            if exc.status in (400, 404, 410):
                return None
            raise


@dataclass(slots=True)
class TargetsResult:
    candidates: int = 0
    fetched: dict[str, int] = field(default_factory=dict)  # agency kind -> records stored
    unknown: int = 0
    unverifiable: int = 0  # the lookup service could not tell (an offline replay of doi.org)
    unsupported: dict[str, int] = field(default_factory=dict)  # agency -> DOIs not fetchable
    prefixes_asked: int = 0


def candidate_target_dois(store: Store, *, limit: int | None = None) -> list[str]:
    """DOIs that stored relations point at and that no harvest holds nor was found unknown.

    Reads the crosswalk's ``relations`` and ``works`` tables (migration 0002); returns an empty
    list on a database the crosswalk has not filled yet.
    """
    tables = {r[0] for r in store.query("SELECT table_name FROM information_schema.tables")}
    if "relations" not in tables:
        return []
    held_works = "AND NOT EXISTS (SELECT 1 FROM works w WHERE w.doi = r.target)" if "works" in tables else ""
    sql = (
        "SELECT DISTINCT r.target FROM relations r"
        " WHERE r.target_scheme = 'doi' AND r.target IS NOT NULL "
        + held_works
        + " AND NOT EXISTS (SELECT 1 FROM raw_records x WHERE x.record_id = r.target"
        "   AND x.metadata_format IN ('crossref-json', 'datacite-json', 'jalc-json'))"
        " AND NOT EXISTS (SELECT 1 FROM unknown_dois u WHERE u.doi = r.target)"
        " ORDER BY 1"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [r[0] for r in store.query(sql)]


def record_unknown(store: Store, rows: Sequence[tuple[str, str | None, str | None, str]]) -> None:
    """Add (doi, prefix, agency, reason) rows to ``unknown_dois`` (replacing older verdicts)."""
    if not rows:
        return
    now = utcnow()
    table = arrowbuild.table(
        {
            "doi": [r[0] for r in rows],
            "prefix": [r[1] for r in rows],
            "agency": [r[2] for r in rows],
            "reason": [r[3] for r in rows],
            "checked_at": [now] * len(rows),
        },
        _UNKNOWN_SCHEMA,
    )
    with store.transaction() as cur:
        cur.execute("DELETE FROM unknown_dois WHERE doi IN (SELECT unnest(?::VARCHAR[]))", [[r[0] for r in rows]])
        Store.insert_arrow(cur, "unknown_dois", table)


def fetch_targets(
    store: Store,
    dois: Sequence[str],
    cache: AgencyCache,
    fetcher: RecordFetcher,
    *,
    concurrency: int = 4,
    batch: int = 200,
    progress: Callable[[int, int | None], None] | None = None,
) -> TargetsResult:
    """Fetch each DOI from its agency, store the records, record the DOIs nobody knows."""
    from concurrent.futures import ThreadPoolExecutor

    result = TargetsResult(candidates=len(dois))
    answers = cache.lookup({doi_prefix(d) for d in dois})
    result.prefixes_asked = cache.asked
    unknown: list[tuple[str, str | None, str | None, str]] = []
    by_kind: dict[str, list[str]] = {}
    for doi in dois:
        ans = answers[doi_prefix(doi)]
        if ans.agency is None and ans.status == "unverifiable":
            result.unverifiable += 1  # nothing recorded: neither known nor unknown
        elif ans.agency is None:
            unknown.append((doi, ans.prefix, None, "prefix-unknown"))
        elif ans.kind is None:
            unknown.append((doi, ans.prefix, ans.agency, "agency-unsupported"))
            result.unsupported[ans.agency] = result.unsupported.get(ans.agency, 0) + 1
        else:
            by_kind.setdefault(ans.kind, []).append(doi)
    record_unknown(store, unknown)
    result.unknown = sum(1 for u in unknown if u[3] != "agency-unsupported")
    base = {"jalc": fetcher.endpoints.jalc, "crossref": fetcher.endpoints.crossref, "datacite": fetcher.endpoints.datacite}
    for kind, todo in by_kind.items():
        cp = Checkpoints(store, f"{kind}-targets")
        cp.register_source(kind, base[kind], {"targets": True})
        cp.start_run(None, None, 1)
        window = Window("targets", None, None)
        cp.plan_windows([window])
        stored = 0
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix=f"{kind}-targets") as pool:
            for i in range(0, len(todo), batch):
                chunk = todo[i : i + batch]
                records: list[RawRecord] = []
                missing: list[tuple[str, str | None, str | None, str]] = []
                for doi, rec in zip(chunk, pool.map(lambda d, k=kind: fetcher.fetch(k, d), chunk)):
                    if rec is None or not rec.record_id:
                        missing.append((doi, doi_prefix(doi), kind, "not-found"))
                    else:
                        records.append(rec)
                window.pages += 1
                window.records += len(records)
                cp.commit_page(window, records)
                record_unknown(store, missing)
                result.unknown += len(missing)
                stored += len(records)
                if progress is not None:
                    progress(len(chunk), len(dois))
        cp.finish_window(window)
        cp.finish_run("ok", high_water=None)
        result.fetched[kind] = stored
    return result
