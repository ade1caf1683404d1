"""All registry replay apps at once: Crossref, DataCite, JaLC and doi.org on one server.

    apps = registry_apps()                      # the real recorded records
    apps = registry_apps(synthetic=10_000)      # 10k records per registry, templated from them
    with ReplayServer(apps=apps) as server:
        server.url_for("/jalc")                 # base URL for `linkgraph harvest jalc --base-url`
"""

from __future__ import annotations

from .rest_common import Limits
from .rest_crossref import CrossrefApp, crossref_corpus
from .rest_datacite import DataCiteApp, datacite_corpus
from .rest_doiorg import DoiOrgApp, agencies_of
from .rest_jalc import JalcApp, jalc_corpus
from .server import App

MOUNTS = {"crossref": "/crossref", "datacite": "/datacite", "jalc": "/jalc", "doiorg": "/doiorg"}


def registry_apps(*, synthetic: int = 0, seed: int = 0, latency_ms: float = 0.0,
                  crossref_limits: Limits | None = None) -> dict[str, App]:
    """Mount point -> app for the four registry APIs (``/crossref``, ``/datacite``, ...)."""
    cr = crossref_corpus(synthetic, seed=seed)
    dc = datacite_corpus(synthetic, seed=seed)
    jl = jalc_corpus(synthetic, seed=seed)
    ra = agencies_of(JaLC=jl, Crossref=cr, DataCite=dc)
    ra.setdefault("10.11367", "JaLC")  # recorded doi.org answer (fixtures/jalc/doi_org_ra_10.11367.json)
    limits = crossref_limits if crossref_limits is not None else Limits(limit=50, interval=1.0, concurrency=5)
    return {
        MOUNTS["crossref"]: CrossrefApp(cr, limits=limits, latency_ms=latency_ms),
        MOUNTS["datacite"]: DataCiteApp(dc, latency_ms=latency_ms),
        MOUNTS["jalc"]: JalcApp(jl, latency_ms=latency_ms),
        MOUNTS["doiorg"]: DoiOrgApp(ra, latency_ms=latency_ms),
    }
