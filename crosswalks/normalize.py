"""Normalisation of DOIs, URLs, ORCIDs, years and free text (DESIGN.md "Common model").

Every function is pure and returns the problems it met instead of raising.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import unquote, urlsplit, urlunsplit

# Zero-width and other invisible characters seen around identifiers in real metadata.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_DOI_PREFIXES = re.compile(
    r"^(?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|doi:\s*|info:doi/|urn:doi:)", re.IGNORECASE
)
_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
# the ASCII output form of normalize_doi: no whitespace, no %-escape, no upper case
_DOI_NORMAL = re.compile(r"10\.[0-9]{4,9}/[^\sA-Z%]+")
_DOI_IN_URL = re.compile(r"^(?:https?://)?(?:dx\.|www\.)?doi\.org/", re.IGNORECASE)
_ORCID_RE = re.compile(r"(\d{4}-?\d{4}-?\d{4}-?\d{3}[\dX])", re.IGNORECASE)
# hyphenated ID alone or after an orcid.org URL prefix (no digits before it, nothing after)
_ORCID_PLAIN = re.compile(r"(?:https?://(?:www\.)?orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dXx])\Z")
_YEAR_RE = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2}|2100)(?!\d)")
_WS = re.compile(r"\s+")
_HANDLE_URL = re.compile(r"^(?:https?://)?hdl\.handle\.net/|^hdl:", re.IGNORECASE)


def clean_text(value: str | None) -> str | None:
    """NFC-preserving whitespace collapse; ``None`` for empty strings."""
    if value is None:
        return None
    # the invisible characters are all non-ASCII: ASCII text skips the translate
    text = _WS.sub(" ", value if value.isascii() else value.translate(_INVISIBLE)).strip()
    return text or None


def normalize_doi(value: str | None) -> tuple[str | None, list[str]]:
    """``(doi, problems)``: strip resolver prefixes, URL-decode, NFKC, trim, lower-case.

    A trailing ``/`` or ``.`` is removed *and* recorded; anything that is not
    ``10.NNNN+/suffix`` afterwards gives ``None`` and a problem.
    """
    if value is None:
        return None, ["DOI missing"]
    if value.isascii() and value[-1:] not in "/." and _DOI_NORMAL.fullmatch(value):
        return value, []  # already normalised: every step below is the identity on it
    # NFKC and the invisible-character table are the identity on ASCII: skip them there
    if value.isascii():
        text = value.strip()
    else:
        text = unicodedata.normalize("NFKC", value).translate(_INVISIBLE).strip()
    for _ in range(3 if not text.startswith("10.") else 0):  # doi:https://doi.org/10... occurs
        stripped = _DOI_PREFIXES.sub("", text, count=1).strip()
        if stripped == text:
            break
        text = stripped
        if text.startswith("10."):  # every prefix pattern starts with a letter: none can match
            break
    if "%" in text:
        text = unicodedata.normalize("NFKC", unquote(text)).strip()
    text = (text if text.isascii() else text.translate(_INVISIBLE)).strip().lower()
    problems: list[str] = []
    while text and text[-1] in "/.":
        problems.append(f"trailing {text[-1]!r} removed from DOI {value.strip()!r}")
        text = text[:-1]
    if not _DOI_RE.match(text):
        problems.append(f"malformed DOI {value.strip()!r}")
        return None, problems
    return text, problems


def is_doi_url(value: str) -> bool:
    """True for ``https://doi.org/...``-style links (treated as DOIs, not URLs)."""
    return bool(_DOI_IN_URL.match(value.strip()))


def normalize_url(value: str | None) -> tuple[str | None, list[str]]:
    """Scheme and host lower-cased, default port and fragment dropped, trailing slash removed
    (the root path is ``/``). Non-http(s) or host-less values give ``None`` and a problem."""
    if value is None:
        return None, []
    text = (value if value.isascii() else value.translate(_INVISIBLE)).strip()
    if not text:
        return None, []
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None, [f"malformed URL {text!r}"]
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None, [f"malformed URL {text!r}"]
    netloc = host
    if port is not None and not (
        (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    ):
        netloc = f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, parts.query, "")), []


def normalize_orcid(value: str | None) -> str | None:
    """Bare ``0000-0002-1825-0097`` from a URL or bare form (``None`` if none found)."""
    if not value:
        return None
    m = _ORCID_PLAIN.match(value)
    if m:  # the usual bare / orcid.org URL form: the regex search below would find this match
        return m.group(1).upper()
    m = _ORCID_RE.search(value.replace(" ", ""))
    if not m:
        return None
    digits = m.group(1).replace("-", "").upper()
    return f"{digits[0:4]}-{digits[4:8]}-{digits[8:12]}-{digits[12:16]}"


def parse_year(value: str | int | None) -> int | None:
    """First plausible 4-digit year in a date-ish string (NFKC first: full-width digits)."""
    if value is None:
        return None
    if isinstance(value, int):
        return value if 1000 <= value <= 2100 else None
    m = _YEAR_RE.search(value if value.isascii() else unicodedata.normalize("NFKC", value))
    return int(m.group(1)) if m else None


_SCHEME_ALIASES = {
    "hdl": "handle",
    "uri": "url",
    "pissn": "issn",
    "eissn": "issn",
    "lissn": "issn",
    "naid": "naid",
    "crid": "crid",
}


@lru_cache(maxsize=1024)  # a few dozen distinct scheme spellings occur; str -> str is immutable
def canonical_scheme(value: str | None) -> str:
    """Lower-cased identifier scheme with a few aliases folded (HDL->handle, URI->url)."""
    if not value:
        return "unknown"
    key = value.strip().lower().replace(" ", "-")
    return _SCHEME_ALIASES.get(key, key)


# CSTR (China Science and Technology Resource identifier, GB/T 32843): "CSTR:" + a 5-character
# registration agency code + "." + a 2-digit resource type + "." + the local part, e.g.
# CSTR:31253.11.sciencedb.01234; resolved at https://cstr.cn/<id without "CSTR:">
_CSTR_HINT = re.compile(r"^\s*(?:cstr\s*:|(?:https?://)?(?:www\.)?cstr\.cn/|"
                        r"(?:https?://)?identifiers\.org/cstr:)", re.IGNORECASE)
_CSTR_BODY = re.compile(r"^\w{5}\.\d{2}\.\S+$")


def normalize_cstr(value: str) -> tuple[str | None, list[str]]:
    """``CSTR:<agency>.<type>.<local>`` from a CSTR in any common spelling: ``cstr:``,
    full-width characters (ＣＳＴＲ：３１２５３．１１．…), the cstr.cn or identifiers.org
    resolver URLs; the local part keeps its case. ``(None, [problem])`` when it is not one."""
    text = unicodedata.normalize("NFKC", value).strip()
    m = _CSTR_HINT.match(text)
    body = text[m.end():] if m else text
    body = re.sub(r"\s+", "", body).rstrip(".,;)]")
    if not _CSTR_BODY.match(body):
        return None, [f"malformed CSTR: {value.strip()!r}"]
    return f"CSTR:{body}", []


def normalize_target(scheme: str | None, value: str) -> tuple[str, str | None, list[str]]:
    """``(scheme, normalised value, problems)`` for a related identifier.

    DOIs given as resolver URLs or ``info:doi/`` become ``doi``; a value typed DOI that is
    really another kind of link keeps its scheme and gets a problem.
    """
    sch = canonical_scheme(scheme)
    raw = value.strip()
    # typed DOI (every reference) first: nothing below need run for it
    if sch == "doi" or is_doi_url(raw) or raw.lower().startswith(("info:doi/", "doi:")):
        doi, problems = normalize_doi(raw)
        return "doi", doi, problems
    low = raw.lower()
    if sch == "cstr" or (sch in ("unknown", "url", "uri", "other", "local")
                         and _CSTR_HINT.match(unicodedata.normalize("NFKC", raw))):
        cstr, problems = normalize_cstr(raw)
        return "cstr", cstr, problems
    if sch in ("url", "purl") or (sch == "unknown" and low.startswith(("http://", "https://"))):
        url, problems = normalize_url(raw)
        return ("url" if sch == "unknown" else sch), url, problems
    cleaned = clean_text(raw if raw.isascii() else unicodedata.normalize("NFKC", raw))
    if cleaned is None:
        return sch, None, ["empty related identifier"]
    if sch == "handle":
        cleaned = _HANDLE_URL.sub("", cleaned)
    if sch in ("handle", "urn", "ark"):
        cleaned = cleaned.lower()
    elif sch in ("issn", "isbn"):
        cleaned = cleaned.upper()
    return sch, cleaned, []
