"""The project's exceptions: one base, turned into a non-zero exit at the CLI boundary.

Transport failures are exceptions carrying the URL and HTTP status; record-level problems are
data (rows in ``harvest_problems`` / ``problems``), never exceptions.
"""

from __future__ import annotations


class LinkgraphError(Exception):
    """Base of every error linkgraph raises on purpose."""

    exit_code: int = 1


class UsageError(LinkgraphError):
    """Bad options, bad configuration: the caller must change something."""

    exit_code = 2


class StoreError(LinkgraphError):
    """The DuckDB file cannot be opened, migrated or written."""


class CrosswalkError(LinkgraphError):
    """The crosswalk could not go on (a worker process died); the batches written are kept."""


class HarvestError(LinkgraphError):
    """A harvest could not go on. Carries the URL (and HTTP status where there was one)."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        self.url = url
        self.status = status
        parts = [message]
        if status is not None:
            parts.append(f"HTTP {status}")
        if url:
            parts.append(f"at {url}")
        super().__init__(" - ".join(parts))
        self.message = message


class TransportError(HarvestError):
    """Connection, timeout, HTTP error status; raised after the retries ran out."""


class ProtocolError(HarvestError):
    """The server answered, but not with a usable response (malformed or truncated XML,
    a resumption token that never changes, a run of empty pages, ...)."""


class UnsafeXMLError(ProtocolError):
    """The response declares a DTD or entities: refused, never expanded (XXE, billion laughs)."""


# -- OAI-PMH error codes ---------------------------------------------------------------


class OAIError(HarvestError):
    """An ``<error code="...">`` answered by an OAI-PMH server."""

    code: str = ""

    def __init__(self, message: str = "", *, url: str | None = None, status: int | None = None):
        super().__init__(f"OAI-PMH {self.code}: {message or self.code}", url=url, status=status)
        self.detail = message


class BadArgument(OAIError):
    code = "badArgument"


class BadResumptionToken(OAIError):
    code = "badResumptionToken"


class BadVerb(OAIError):
    code = "badVerb"


class CannotDisseminateFormat(OAIError):
    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIError):
    code = "idDoesNotExist"


class NoRecordsMatch(OAIError):
    """Raised only by low-level calls; list harvests treat it as an empty result."""

    code = "noRecordsMatch"


class NoMetadataFormats(OAIError):
    code = "noMetadataFormats"


class NoSetHierarchy(OAIError):
    code = "noSetHierarchy"


OAI_ERRORS: dict[str, type[OAIError]] = {
    cls.code: cls
    for cls in (
        BadArgument,
        BadResumptionToken,
        BadVerb,
        CannotDisseminateFormat,
        IdDoesNotExist,
        NoRecordsMatch,
        NoMetadataFormats,
        NoSetHierarchy,
    )
}


def oai_error(code: str, message: str, *, url: str | None = None) -> OAIError:
    """The typed exception for an OAI error code (an unknown code gets the base class)."""
    cls = OAI_ERRORS.get(code)
    if cls is None:
        err = OAIError(message, url=url)
        err.code = code
        return err
    return cls(message, url=url)
