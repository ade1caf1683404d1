"""OAI-PMH 2.0 client: a strict, streaming parse of each response.

Each page is parsed strictly (no ``recover``), so a truncated or malformed page is an error
that is retried, never a silently short harvest. A response up to :data:`BUFFER_MAX` is read
whole and parsed in one call (the connection is then free for the next page, see
:mod:`~linkgraph.harvest.lookahead`); a larger one goes through lxml's pull parser as it
arrives, each record freed as soon as it is read, so memory never grows with the page.
Entities are never resolved and a response that declares a DTD is refused outright: OAI-PMH
needs neither, and both are how XXE and billion-laughs payloads arrive.

A page whose only fault is invalid XML 1.0 characters (a real-world server bug) is parsed
again with those characters removed, and the page carries a warning so the caller can record
the problem; the records are not lost.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import httpx
from lxml import etree

from linkgraph.errors import (
    NoRecordsMatch,
    NoSetHierarchy,
    ProtocolError,
    UnsafeXMLError,
    oai_error,
)
from linkgraph.harvest.http import RetryableError, Transport, body_chunks
from linkgraph.harvest.lookahead import Lookahead, token_hint

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_T = "{" + OAI_NS + "}"
DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"
BUFFER_MAX = 4 * 2**20  # a response up to this size is read whole, then parsed in one call

_INVALID_XML_CHARS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_INVALID_CHAR_REFS = re.compile(rb"&#(?:x0*(?:[0-8bcBCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));")


# -- data --------------------------------------------------------------------------------


@dataclass(slots=True)
class Identify:
    repository_name: str
    base_url: str
    protocol_version: str
    earliest_datestamp: str
    deleted_record: str
    granularity: str
    admin_emails: list[str] = field(default_factory=list)
    compression: list[str] = field(default_factory=list)
    response_date: str = ""


@dataclass(slots=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str


@dataclass(slots=True)
class OAISet:
    spec: str
    name: str


@dataclass(slots=True)
class OAIRecord:
    identifier: str
    datestamp: str
    deleted: bool
    sets: list[str]
    metadata: str | None  # the child element of <metadata>, serialised with its namespaces


@dataclass(slots=True)
class Page:
    url: str
    response_date: str
    records: list[OAIRecord]
    token: str | None  # None or "" on the last page
    complete_list_size: int | None
    cursor: int | None
    warnings: list[str] = field(default_factory=list)


# -- dates -------------------------------------------------------------------------------


def parse_datestamp(value: str) -> datetime:
    """An OAI datestamp (either granularity) as an aware UTC datetime."""
    value = value.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), timezone.utc)
        if value.endswith("Z"):
            value = value[:-1] + "+00:00"
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not an OAI-PMH datestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_datestamp(value: datetime, granularity: str) -> str:
    # Formatted by hand: datetime.strftime imports the time module through Python-level
    # import code on every call, and in a threaded harvest that hands the GIL away (about
    # 0.1 ms a call measured mid-harvest, against 2 us alone). Zero-padded years, as ISO 8601.
    v = value.astimezone(timezone.utc)
    day = f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    if granularity == DAY:
        return day
    return f"{day}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def granularity_step(granularity: str) -> timedelta:
    return timedelta(days=1) if granularity == DAY else timedelta(seconds=1)


# -- parsing -----------------------------------------------------------------------------


_KEEP = {_T + v for v in ("Identify", "ListSets", "ListMetadataFormats", "ListIdentifiers", "GetRecord")}
_EVENT_TAGS = sorted(
    {_T + v for v in ("record", "resumptionToken", "responseDate", "error", "OAI-PMH")} | _KEEP
)
_INNER_TAGS = frozenset({_T + "record", _T + "resumptionToken"})


def _make_whole_parser() -> etree.XMLParser:
    # one per call: an lxml parser must not be shared between threads
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False
    )


def _make_parser() -> etree.XMLPullParser:
    # Only end events of the elements the builder reads: a record's inner elements are read
    # from its subtree, never visited one event at a time.
    return etree.XMLPullParser(
        events=("end",),
        tag=_EVENT_TAGS,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def _check_no_dtd(root: etree._Element, url: str) -> None:
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise UnsafeXMLError("response declares a DTD; refused (entities are never expanded)", url=url)


class _PageBuilder:
    """Collects a page from pull-parser events, freeing each record as soon as it is read."""

    def __init__(self, url: str):
        self.url = url
        self.root_seen = False
        self.records: list[OAIRecord] = []
        self.response_date = ""
        self.token: str | None = None
        self.complete: int | None = None
        self.cursor: int | None = None
        self.error: tuple[str, str] | None = None
        self.other: list[etree._Element] = []  # non-record payloads: Identify, sets, formats
        self.ended = False

    def events(self, parser: etree.XMLPullParser) -> None:
        for _event, elem in parser.read_events():
            if not self.root_seen:
                self.root_seen = True
                self.check_root(elem.getroottree().getroot())
            if _in_place(elem):
                self.element(elem, free=True)

    def tree(self, root: etree._Element) -> None:
        """Read a page parsed whole, visiting what :meth:`events` reads, in the order of its end
        events (nothing freed early)."""
        self.root_seen = True
        self.check_root(root)
        # Records and the resumption token sit one level below the verb's element: walking two
        # levels, not the whole tree, skips every element inside the records' metadata.
        for child in root:
            for elem in child:
                if elem.tag in _INNER_TAGS:
                    self.element(elem, free=False)
            if child.tag in _EVENT_TAGS:
                self.element(child, free=False)
        self.element(root, free=False)

    def element(self, elem: etree._Element, *, free: bool) -> None:
        tag = elem.tag
        if tag == _RECORD:
            self.records.append(_read_record(elem))
            if free:
                parent = elem.getparent()
                elem.clear()
                if parent is not None:
                    parent.remove(elem)
        elif tag == _T + "resumptionToken":
            self.token = (elem.text or "").strip()
            self.complete = _int_or_none(elem.get("completeListSize"))
            self.cursor = _int_or_none(elem.get("cursor"))
        elif tag == _T + "responseDate":
            self.response_date = (elem.text or "").strip()
        elif tag == _T + "error":
            if self.error is None:
                self.error = (elem.get("code", ""), (elem.text or "").strip())
        elif tag == _T + "OAI-PMH":
            self.ended = True
        elif tag in _KEEP and elem.getparent() is not None and elem.getparent().tag == _T + "OAI-PMH":
            self.other.append(elem)

    def check_root(self, root: etree._Element) -> None:
        _check_no_dtd(root, self.url)
        if root.tag != _T + "OAI-PMH":
            raise ProtocolError(f"not an OAI-PMH response (root element {root.tag})", url=self.url)


def _in_place(elem: etree._Element) -> bool:
    """Whether an element is where the protocol puts it: the root, a child of the root, or a
    record or resumption token inside the verb's element. An element of the OAI namespace deeper
    down sits inside some record's metadata and is that record's content, not the page's."""
    parent = elem.getparent()
    if parent is None:
        return True
    grand = parent.getparent()
    return grand is None or (elem.tag in _INNER_TAGS and grand.getparent() is None)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _read_record(elem: etree._Element) -> OAIRecord:
    header = metadata = None
    for child in elem:  # one pass over the record's children, not a find() per name
        tag = child.tag
        if tag == _HEADER:
            header = child
        elif tag == _METADATA:
            metadata = child
    if header is None:
        raise ProtocolError("record without header")
    return _from_header(header, metadata)


def _from_header(header: etree._Element, metadata: etree._Element | None) -> OAIRecord:
    ident = stamp = None  # the first of each counts, as with findtext()
    sets: list[str] = []
    for child in header:
        tag = child.tag
        if tag == _SET_SPEC:
            sets.append((child.text or "").strip())
        elif tag == _IDENTIFIER and ident is None:
            ident = (child.text or "").strip()
        elif tag == _DATESTAMP and stamp is None:
            stamp = (child.text or "").strip()
    deleted = header.get("status") == "deleted"
    payload: str | None = None
    if metadata is not None and not deleted:
        for child in metadata:
            if isinstance(child.tag, str):  # skip comments and processing instructions
                payload = etree.tostring(child, encoding="unicode", with_tail=False)
                break
    return OAIRecord(ident or "", stamp or "", deleted, sets, payload)


_HEADER, _METADATA, _RECORD = _T + "header", _T + "metadata", _T + "record"
_IDENTIFIER, _DATESTAMP, _SET_SPEC = _T + "identifier", _T + "datestamp", _T + "setSpec"


_ROOT_START = re.compile(rb"<[A-Za-z_]")
MAX_PROLOG = 1 << 20  # bytes before the root element: an XML declaration and comments fit easily


def _guard_prolog(chunks: Iterator[bytes] | list[bytes], url: str) -> Iterator[bytes]:
    """Pass chunks through, refusing a document whose prolog declares a DTD.

    The check runs on the raw bytes before the parser sees them: libxml2 processes entity
    declarations while reading the DTD, before any element event could be inspected."""
    head = b""
    it = iter(chunks)
    for chunk in it:
        head += chunk
        root = _ROOT_START.search(head)
        if root is None and len(head) > MAX_PROLOG:  # zeros, a binary, an endless preamble
            raise ProtocolError(f"not an XML document: no element in the first {MAX_PROLOG >> 10} KiB", url=url)
        prolog = head if root is None else head[: root.start()]
        if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
            raise UnsafeXMLError("response declares a DTD; refused (entities are never expanded)", url=url)
        if root is not None:
            yield head
            break
    else:
        if head:
            yield head
        return
    yield from it


def parse_response(chunks: Iterator[bytes] | list[bytes], url: str) -> tuple[_PageBuilder, list[str]]:
    """Parse one OAI-PMH response from byte chunks. Raises :class:`RetryableError` when the
    document is truncated or malformed, :class:`UnsafeXMLError` when it declares a DTD.

    A list of chunks is a response already read whole: it is parsed in one call (libxml2's
    in-memory parse is about twice as fast as feeding its push parser); an iterator is
    parsed as it arrives, each record freed once read."""
    kept: list[bytes] = []
    builder = _PageBuilder(url)
    source = _guard_prolog(chunks, url)
    try:
        if isinstance(chunks, list):
            kept = list(source)
            root = etree.fromstring(b"".join(kept), _make_whole_parser())
            builder.tree(root)
        else:
            parser = _make_parser()
            for chunk in source:
                kept.append(chunk)
                parser.feed(chunk)
                builder.events(parser)
            root = parser.close()
            builder.events(parser)
            builder.check_root(root)
    except etree.XMLSyntaxError as exc:
        kept.extend(source)  # read the rest: is the document whole, with only bad characters?
        body = b"".join(kept)
        if _looks_complete(body) and _has_invalid_chars(body):
            cleaned = _INVALID_CHAR_REFS.sub(b"", _INVALID_XML_CHARS.sub(b"", body))
            builder, _ = parse_response([cleaned], url)
            return builder, [f"removed invalid XML characters from the response ({exc})"]
        raise RetryableError(f"malformed or truncated XML: {exc}", url=url) from exc
    if not builder.ended:
        raise RetryableError("response ended before </OAI-PMH>", url=url)
    return builder, []


def _looks_complete(body: bytes) -> bool:
    return body.rstrip().endswith(b"OAI-PMH>")


def _has_invalid_chars(body: bytes) -> bool:
    return bool(_INVALID_XML_CHARS.search(body) or _INVALID_CHAR_REFS.search(body))


# -- client ------------------------------------------------------------------------------


Parsed = tuple[_PageBuilder, list[str], str]  # a page read, its warnings, the URL asked
_Body = tuple[list[bytes] | tuple[_PageBuilder, list[str]], str]  # read whole, or parsed as it came


def _consume(resp: httpx.Response) -> _Body:
    """Read a response whole, or parse it as it streams in once it passes BUFFER_MAX."""
    url = str(resp.request.url)
    chunks: list[bytes] = []
    size = 0
    stream = body_chunks(resp)
    try:
        for chunk in stream:
            chunks.append(chunk)
            size += len(chunk)
            if size > BUFFER_MAX:
                return parse_response(itertools.chain(chunks, stream), url), url
    except httpx.TransportError as exc:  # connection dropped mid-body
        raise RetryableError(f"body interrupted: {exc}", url=url) from exc
    return chunks, url


def _hint(got: _Body, on_token: Callable[[str], None] | None) -> _Body:
    """Tell ``on_token`` the next resumption token, read from the raw tail of a whole body."""
    body = got[0]
    if on_token is not None and isinstance(body, list):
        hint = token_hint(body)
        if hint:
            on_token(hint)
    return got


def _parse_body(got: _Body) -> Parsed:
    body, url = got
    builder, warnings = parse_response(body, url) if isinstance(body, list) else body
    return builder, warnings, url


MAX_TOKEN = 64 << 10  # characters of a resumption token; the next URL must stay a URL
MAX_LIST_SIZE = 1 << 62  # a completeListSize beyond this (or below 0) is not believed


def _checked(parsed: Parsed) -> Parsed:
    """The page, or the typed exception of the OAI error it carries. A resumption token too
    long to send back is an error; a completeListSize out of range is a recorded problem."""
    builder, warnings, url = parsed
    if builder.error is not None:
        code, message = builder.error
        raise oai_error(code, message, url=url)
    if builder.token is not None and len(builder.token) > MAX_TOKEN:
        raise ProtocolError(f"resumption token of {len(builder.token):,} characters (at most {MAX_TOKEN:,}"
                            " are sent back)", url=url)
    for name in ("complete", "cursor"):
        value = getattr(builder, name)
        if value is not None and not 0 <= value < MAX_LIST_SIZE:
            attr = "completeListSize" if name == "complete" else "cursor"
            warnings.append(f"{attr}={str(value)[:40]} ignored: out of range")
            setattr(builder, name, None)
    return parsed


class OAIClient:
    """The six verbs over one base URL, raising typed errors for OAI error codes."""

    def __init__(self, base_url: str, transport: Transport | None = None):
        self.transport = transport or Transport()
        self.base_url = self.transport.adopt(base_url)  # credentials go to the transport only

    def request(
        self, params: Mapping[str, str], *, on_token: Callable[[str], None] | None = None
    ) -> Parsed:
        """One request, parsed strictly. A response up to :data:`BUFFER_MAX` bytes is read
        whole first, which frees the connection for the next request while this one is
        parsed and lets ``on_token`` hear the next resumption token early (see
        :mod:`~linkgraph.harvest.lookahead`); a larger one is parsed as it streams in."""

        def finish(got: _Body) -> Parsed:
            return _parse_body(_hint(got, on_token))

        return _checked(self.transport.fetch(self.base_url, _consume, params=dict(params), finish=finish))

    def prefetch(self, params: Mapping[str, str], *, on_token: Callable[[str], None] | None = None
                 ) -> Callable[[], Parsed]:
        """The request of :meth:`request` without the parse: returns the function that parses
        (and raises what :meth:`request` would), to be called on the thread that wants the
        page. A lookahead worker so only fetches, and the next request never waits behind
        a parse (with the parse on the worker, a page took twice as long to come)."""

        def finish(got: _Body) -> _Body:
            return _hint(got, on_token)

        got = self.transport.fetch(self.base_url, _consume, params=dict(params), finish=finish)
        return lambda: _checked(_parse_body(got))

    def lookahead(self, verb: str = "ListRecords", *, depth: int = 1) -> Lookahead[Callable[[], Parsed]]:
        """A :class:`Lookahead` for one list; pass it to every :meth:`list_page` of that list.
        Its threads only fetch; the page is parsed by the thread that takes it. (Parsing on
        the fetch threads, or on threads of their own, was 5-10% slower: the GIL.)"""

        def fetch(token: str, offer: Callable[[str], None]) -> Callable[[], Parsed]:
            return self.prefetch({"verb": verb, "resumptionToken": token}, on_token=offer)

        return Lookahead(fetch, depth=depth)

    def identify(self) -> Identify:
        builder, _, url = self.request({"verb": "Identify"})
        node = next((e for e in builder.other if e.tag == _T + "Identify"), None)
        if node is None:
            raise ProtocolError("Identify response has no <Identify>", url=url)

        def text(name: str) -> str:
            return (node.findtext(_T + name) or "").strip()

        granularity = text("granularity") or DAY
        if granularity not in (DAY, SECONDS):
            raise ProtocolError(f"unknown granularity {granularity!r}", url=url)
        return Identify(
            repository_name=text("repositoryName"),
            base_url=text("baseURL"),
            protocol_version=text("protocolVersion"),
            earliest_datestamp=text("earliestDatestamp"),
            deleted_record=text("deletedRecord"),
            granularity=granularity,
            admin_emails=[(e.text or "").strip() for e in node.findall(_T + "adminEmail")],
            compression=[(e.text or "").strip() for e in node.findall(_T + "compression")],
            response_date=builder.response_date,
        )

    def list_metadata_formats(self, identifier: str | None = None) -> list[MetadataFormat]:
        params = {"verb": "ListMetadataFormats"}
        if identifier:
            params["identifier"] = identifier
        builder, _, _ = self.request(params)
        out: list[MetadataFormat] = []
        for node in builder.other:
            for fmt in node.iter(_T + "metadataFormat"):
                out.append(
                    MetadataFormat(
                        (fmt.findtext(_T + "metadataPrefix") or "").strip(),
                        (fmt.findtext(_T + "schema") or "").strip(),
                        (fmt.findtext(_T + "metadataNamespace") or "").strip(),
                    )
                )
        return out

    def list_sets(self) -> list[OAISet]:
        out: list[OAISet] = []
        params: dict[str, str] = {"verb": "ListSets"}
        seen: set[str] = set()
        while True:
            try:
                builder, _, url = self.request(params)
            except NoSetHierarchy:
                return out
            for node in builder.other:
                for item in node.iter(_T + "set"):
                    out.append(
                        OAISet(
                            (item.findtext(_T + "setSpec") or "").strip(),
                            (item.findtext(_T + "setName") or "").strip(),
                        )
                    )
            token = builder.token
            if not token:
                return out
            if token in seen:
                raise ProtocolError(f"resumption token repeats: {token!r}", url=url)
            seen.add(token)
            params = {"verb": "ListSets", "resumptionToken": token}

    def get_record(self, identifier: str, prefix: str) -> OAIRecord:
        builder, _, url = self.request(
            {"verb": "GetRecord", "identifier": identifier, "metadataPrefix": prefix}
        )
        if not builder.records:
            raise ProtocolError("GetRecord response has no <record>", url=url)
        return builder.records[0]

    def list_page(
        self,
        *,
        prefix: str | None = None,
        token: str | None = None,
        from_: str | None = None,
        until: str | None = None,
        set_: str | None = None,
        verb: str = "ListRecords",
        lookahead: Lookahead[Callable[[], Parsed]] | None = None,
    ) -> Page:
        """One page of ListRecords (or ListIdentifiers). ``noRecordsMatch`` is an empty page.

        With a ``lookahead`` (from :meth:`lookahead`, one per list) the next page is
        requested while this one is parsed, and taken from there on the next call."""
        if token:
            params = {"verb": verb, "resumptionToken": token}
        else:
            if not prefix:
                raise ValueError("metadataPrefix is required without a resumption token")
            params = {"verb": verb, "metadataPrefix": prefix}
            if from_:
                params["from"] = from_
            if until:
                params["until"] = until
            if set_:
                params["set"] = set_
        try:
            future = lookahead.take(token) if lookahead is not None else None
            if future is not None:
                try:
                    builder, warnings, url = future.result()()
                except RetryableError:  # the prefetched body was bad: ask again, retries and all
                    assert lookahead is not None
                    builder, warnings, url = self.request(params, on_token=lookahead.offer_for(token))
            else:
                offer = lookahead.offer_for(token) if lookahead is not None else None
                builder, warnings, url = self.request(params, on_token=offer)
        except NoRecordsMatch as exc:
            return Page(exc.url or self.base_url, "", [], None, 0, None)
        if verb == "ListIdentifiers":
            for node in builder.other:
                for header in node.iter(_T + "header"):
                    builder.records.append(_from_header(header, None))
        return Page(
            url,
            builder.response_date,
            builder.records,
            builder.token or None,
            builder.complete,
            builder.cursor,
            warnings,
        )
