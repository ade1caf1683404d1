"""Links stated only in text: DOIs, CSTRs and J-STAGE Data / figshare landing URLs found in
descriptions, abstracts, notes and data availability statements.

A data availability statement ("The data are available at https://doi.org/10.57400/...",
「データは https://doi.org/10.57400/... で公開」, "DOI/CSTR: ...") often carries the link the
structured relations leave out. Each identifier found becomes a :class:`Relation` with
``asserted_by = 'text'``, type ``IsRelatedTo`` (text does not say which relation it is: the
audit proposes one from both works' types) and the sentence it stood in as ``evidence``. Such
relations never count as stated links (``queries/audit_prepare.sql`` leaves them out); the
``text_only_link`` audit lists those with no structured relation either way.

Pure functions over strings; NFKC first, so full-width digits, slashes and colons
(``ｈｔｔｐｓ：／／ｄｏｉ．ｏｒｇ／１０．…``) read like their ASCII forms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from linkgraph.crosswalks.model import Relation, Work
from linkgraph.crosswalks.normalize import normalize_cstr, normalize_doi, normalize_url

#: relation type text links get (the audit proposes the precise one)
TEXT_RELATION = "IsRelatedTo"
MAX_EVIDENCE = 400  # characters of the sentence kept as evidence
MAX_LINKS_PER_TEXT = 200  # a reference list pasted into an abstract is not a data statement

# DOI suffixes are read as printable ASCII: Japanese text often runs straight on after a DOI
# ("…/data.1で公開"), and real DOI suffixes in metadata are ASCII. %2F: a URL-encoded slash.
# A comma or semicolon followed by a space or another identifier ends it ("doi:10.1/a,doi:10.1/b").
_DOI = re.compile(r"10\.\d{4,9}(?:/|%2[Ff])(?:(?![,;](?:\s|doi|https?:|10\.\d))[!-~])+", re.IGNORECASE)
_CSTR = re.compile(r"(?:\bCSTR\s*:\s*|\bcstr\.cn/)(\w{5}\.\d{2}\.[!-~]+)", re.IGNORECASE)
_LANDING = re.compile(
    r"https?://(?:jstagedata\.jst\.go\.jp|(?:[\w-]+\.)*figshare\.com)/articles/[!-~]+", re.IGNORECASE
)
# what may end a sentence: ASCII or CJK stops; ASCII ones only before a space (DOIs hold dots)
_SENTENCE_END = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+|\n\s*\n")
_TRAILING = ".,;:'\"!?>»”’"
_PAIRS = {")": "(", "]": "[", "}": "{"}
# an element tag (a SICI DOI's "<693::aid-asi4>" starts with a digit: not one)
_TAGS = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]{0,200})?/?>")


@dataclass(frozen=True, slots=True)
class TextLink:
    scheme: str  # doi | cstr | url
    target: str  # normalised
    raw: str  # as found (after NFKC)
    sentence: str  # the sentence it stood in


def _trim(raw: str) -> str:
    """Drop punctuation a sentence put after an identifier: a full stop, a comma, a closing
    bracket that does not close one the identifier opened (``10.1002/(sici)…`` keeps its own)."""
    while raw:
        last = raw[-1]
        if last in _TRAILING or last in _PAIRS and raw.count(_PAIRS[last]) < raw.count(last):
            raw = raw[:-1]
        else:
            break
    return raw


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _sentence_at(text: str, spans: list[tuple[int, int]], pos: int) -> str:
    for a, b in spans:
        if a <= pos < b:
            sentence = text[a:b].strip()
            break
    else:
        sentence = text.strip()
    if len(sentence) > MAX_EVIDENCE:
        sentence = sentence[: MAX_EVIDENCE - 1] + "…"
    return sentence


def plain(text: str) -> str:
    """Markup (JATS ``<jats:p>``, HTML) removed, NFKC, whitespace collapsed."""
    if "<" in text:
        text = _TAGS.sub(" ", text)
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[ \t\r\f\v]+", " ", text)


# What any link the miner reads must contain, as plain substrings: the start of a DOI or a CSTR
# (ASCII or full-width, the usual cases) or the host of a landing page.
_NEEDLES = ("10.", "１０", "CSTR", "cstr", "ＣＳＴＲ", "igshare", "tagedata")


def _may_hold_links(text: str) -> bool:
    """Substring tests before any normalisation or regex: most descriptions name no identifier,
    and NFKC, lower() or a case-blind regex over 2 KB of Japanese text cost 3 to 60 us each."""
    return any(needle in text for needle in _NEEDLES)


def find_links(text: str) -> list[TextLink]:
    """Every DOI, CSTR and J-STAGE Data / figshare landing URL in ``text``, in order, each once."""
    if not text or not _may_hold_links(text):
        return []
    text = plain(text)
    spans = _sentences(text)
    found: list[tuple[int, TextLink]] = []
    seen: set[tuple[str, str]] = set()
    taken: list[tuple[int, int]] = []  # spans already read (a DOI inside a landing URL is not a second link)

    def add(pos: int, end: int, scheme: str, target: str | None, raw: str) -> None:
        if target is None or (scheme, target) in seen:
            return
        if any(a <= pos < b for a, b in taken):
            return
        seen.add((scheme, target))
        taken.append((pos, end))
        found.append((pos, TextLink(scheme, target, raw, _sentence_at(text, spans, pos))))

    for m in _CSTR.finditer(text):
        raw = _trim(m.group(0))
        cstr, _ = normalize_cstr(raw if not raw.lower().startswith("cstr.cn") else "CSTR:" + _trim(m.group(1)))
        add(m.start(), m.start() + len(raw), "cstr", cstr, raw)
    for m in _LANDING.finditer(text):
        raw = _trim(m.group(0))
        url, _ = normalize_url(raw)
        add(m.start(), m.start() + len(raw), "url", url, raw)
    for m in _DOI.finditer(text):
        raw = _trim(m.group(0))
        doi, _ = normalize_doi(raw)
        add(m.start(), m.start() + len(raw), "doi", doi, raw)
    found.sort(key=lambda item: item[0])
    return [link for _, link in found[:MAX_LINKS_PER_TEXT]]


def add_text_links(work: Work, texts: Iterable[str | None]) -> None:
    """Append a ``asserted_by='text'`` relation for every identifier ``texts`` name, except the
    work's own DOI and identifiers (a dataset citing itself: "please cite as ...")."""
    own = {(i.scheme, i.value) for i in work.identifiers}
    if work.doi:
        own.add(("doi", work.doi))
    seen: set[tuple[str, str]] = set()
    for text in texts:
        for link in find_links(text or ""):
            key = (link.scheme, link.target)
            if key in own or key in seen:
                continue
            seen.add(key)
            work.relations.append(Relation(
                relation_type=TEXT_RELATION, raw_type="text", target_scheme=link.scheme,
                target=link.target, target_raw=link.raw, asserted_by="text", evidence=link.sentence,
            ))
