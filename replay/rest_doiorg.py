"""doi.org registration-agency replay: ``/ra/{doi-or-prefix[,...]}``.

Answers as doi.org does (recorded in ``fixtures/jalc/doi_org_ra_10.11367.json`` and
``other/doi_org_ra_not_found.json``): a JSON list with ``{"DOI": x, "RA": "JaLC"}`` per known
item and ``{"DOI": x, "status": "DOI does not exist"}`` (or ``"Invalid DOI"``) otherwise.
The agency of a prefix comes from the mapping given (build it from the other apps' corpora).

Offline (``offline=True``, as the demo serves it) the replay knows only the served world: for a
prefix outside the mapping and outside ``absent`` (the prefixes the world declares unknown to
every agency) it cannot tell, and says ``{"DOI": x, "status": "unverifiable (offline replay of
doi.org)"}`` - real DOIs such as 10.1016/... cited by the recorded records are not reported as
unknown to every agency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .rest_common import RestApp, RestCorpus, json_response, subpath, unquote_fully
from .server import Request, Response


def agencies_of(**corpora: RestCorpus) -> dict[str, str]:
    """prefix -> RA name from corpora given as ``JaLC=..., Crossref=..., DataCite=...``."""
    out: dict[str, str] = {}
    for ra, corpus in corpora.items():
        for rec in corpus.select():
            out.setdefault(rec.prefix, ra)
    return out


class DoiOrgApp(RestApp):
    def __init__(self, agencies: Mapping[str, str], *, latency_ms: float = 0.0,
                 offline: bool = False, absent: Iterable[str] = ()):
        super().__init__(latency_ms=latency_ms)
        self.agencies = {k.lower(): v for k, v in agencies.items()}
        self.offline = offline
        self.absent = {p.lower() for p in absent}

    def route(self, request: Request) -> Response:
        path = subpath(request)
        if not path.startswith("/ra/"):
            return Response(404, b"Not found", "text/plain")
        out = []
        for item in unquote_fully(path[len("/ra/"):]).split(","):
            item = item.strip()
            if not item.startswith("10."):
                out.append({"DOI": item, "status": "Invalid DOI"})
                continue
            prefix = item.split("/", 1)[0].lower()
            ra = self.agencies.get(prefix)
            if ra:
                out.append({"DOI": item, "RA": ra})
            elif self.offline and prefix not in self.absent:
                out.append({"DOI": item, "status": "unverifiable (offline replay of doi.org)"})
            else:
                out.append({"DOI": item, "status": "DOI does not exist"})
        return json_response(out, records=len(out))
