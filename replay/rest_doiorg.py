"""doi.org registration-agency replay: ``/ra/{doi-or-prefix[,...]}``.

Answers as doi.org does (recorded in ``fixtures/jalc/doi_org_ra_10.11367.json`` and
``other/doi_org_ra_not_found.json``): a JSON list with ``{"DOI": x, "RA": "JaLC"}`` per known
item and ``{"DOI": x, "status": "DOI does not exist"}`` (or ``"Invalid DOI"``) otherwise.
The agency of a prefix comes from the mapping given (build it from the other apps' corpora).
"""

from __future__ import annotations

from collections.abc import Mapping

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
    def __init__(self, agencies: Mapping[str, str], *, latency_ms: float = 0.0):
        super().__init__(latency_ms=latency_ms)
        self.agencies = {k.lower(): v for k, v in agencies.items()}

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
            ra = self.agencies.get(item.split("/", 1)[0].lower())
            out.append({"DOI": item, "RA": ra} if ra else {"DOI": item, "status": "DOI does not exist"})
        return json_response(out, records=len(out))
