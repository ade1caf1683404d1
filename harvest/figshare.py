"""figshare portals (J-STAGE Data and institutional figshare sites) over OAI-PMH.

A preset over the generic OAI harvester (:mod:`linkgraph.harvest.oai_harvest`):

* one endpoint for every figshare site, ``https://api.figshare.com/v2/oai``; a portal is the
  set ``portal_N`` (J-STAGE Data's N is not published in the documentation we hold: look it up
  with ``linkgraph oai sets https://api.figshare.com/v2/oai``);
* ``oai_datacite`` by default, because it keeps ``relatedIdentifiers`` (``IsSupplementTo``);
* about one request per second, one request in flight (figshare's guidance);
* resumption tokens expire after one hour: a run resumed later than that (or a slow run) gets
  ``badResumptionToken`` and the OAI harvester restarts the list from the newest datestamp it
  committed (from the window start when records did not come in datestamp order), so an
  expired token costs one request and some overlap, never a gap.
"""

from __future__ import annotations

from linkgraph.harvest.http import HttpPolicy
from linkgraph.harvest.oai_harvest import OAIHarvestOptions

from linkgraph.errors import UsageError

BASE_URL = "https://api.figshare.com/v2/oai"
DELAY = 1.0  # seconds between requests
TOKEN_LIFETIME = 3600.0  # seconds (figshare documentation)


def options(*, portal: int | None, set_: str | None, prefix: str = "oai_datacite", from_: str | None = None,
            until: str | None = None, full: bool = False) -> OAIHarvestOptions:
    if (portal is None) == (set_ is None):
        raise UsageError("give exactly one of --portal N or --set SPEC")
    spec = f"portal_{portal}" if portal is not None else set_
    return OAIHarvestOptions(prefix=prefix, set_=spec, from_=from_, until=until, full=full)


def source_name(opts: OAIHarvestOptions) -> str:
    return f"figshare:{opts.set_}:{opts.prefix}"


def policy(contact: str, timeout: float, retries: int, delay: float = DELAY) -> HttpPolicy:
    return HttpPolicy(timeout=timeout, retries=retries, delay=delay, contact=contact, concurrency=1)
