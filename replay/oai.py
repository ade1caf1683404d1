"""OAI-PMH 2.0 data provider over a ``Corpus``, as a replay-server app.

Why hand-rolled bytes instead of an XML library: a list page is a few hundred kilobytes
assembled from pre-serialized payloads; joining bytes keeps the server far faster than any
harvester it is benchmarked against. Payloads come from real recorded XML and the few values
interpolated here are escaped (with characters illegal in XML 1.0 replaced), so the output is
well-formed unless a ``badchar`` fault asks otherwise.

Resumption tokens are the server's own and opaque: base64url of a JSON list holding the list
arguments, the (datestamp, identifier) key of the last record served, the cursor, the
completeListSize computed on the first page, the issue time and a random id of this app
instance. A token from another instance, a tampered one, one for another verb, or (with
``token_ttl``) an expired one gets ``badResumptionToken``. Keying on the last record rather
than an offset keeps paging exact when the corpus changes between pages.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from .corpus import DAYS, SECONDS, UTC, Corpus, Query, Row
from .faults import Fault
from .gzipparts import Part
from .server import Request, Response

OAI_TAIL = b"</OAI-PMH>\n"
OAI_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    b'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ '
    b'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
)
LIST_VERBS = ("ListRecords", "ListIdentifiers")
#: verb -> (required arguments, optional arguments, accepts an exclusive resumptionToken)
VERBS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "Identify": ((), (), False),
    "ListMetadataFormats": ((), ("identifier",), False),
    "ListSets": ((), (), True),
    "GetRecord": (("identifier", "metadataPrefix"), (), False),
    "ListIdentifiers": (("metadataPrefix",), ("from", "until", "set"), True),
    "ListRecords": (("metadataPrefix",), ("from", "until", "set"), True),
}
BAD_CHAR = "\x0b"  # U+000B: not allowed anywhere in an XML 1.0 document
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_TEXT_START = re.compile(rb">[^<\s]")


class OAIError(Exception):
    """An OAI-PMH error to answer with ``<error code=...>``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _text(value: str) -> str:
    return escape(_ILLEGAL_XML.sub("\ufffd", value))


def _attr(value: str) -> str:
    return quoteattr(_ILLEGAL_XML.sub("\ufffd", value))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OAIApp:
    """Serves the six OAI-PMH verbs over a corpus (GET and form-encoded POST)."""

    def __init__(self, corpus: Corpus, *, page_size: int = 100,
                 token_ttl: float | None = None) -> None:
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        self.corpus = corpus
        self.page_size = page_size
        self.token_ttl = token_ttl
        self.instance = secrets.token_hex(6)

    # -- App interface ------------------------------------------------------------------

    def is_page(self, request: Request) -> bool:
        return request.param("verb") in LIST_VERBS

    def has_token(self, request: Request) -> bool:
        return bool(request.params.get("resumptionToken"))

    def handle(self, request: Request) -> Response:
        args: dict[str, str] = {}
        try:
            args = self._check_args(request)
            verb = args["verb"]
            body, records = getattr(self, "_" + verb)(request, args)
        except OAIError as err:
            echo = {} if err.code in ("badVerb", "badArgument") else args
            body = (f"<error code={_attr(err.code)}>{_text(err.message)}</error>").encode()
            return Response(200, self._envelope(request, echo, body))
        if isinstance(body, bytes):
            return Response(200, self._envelope(request, args, body), records=records)
        # a list page: its records are parts the server may compress once and reuse
        parts: list[Part] = [(self._envelope(request, args, b"", close=False), None), *body,
                             (OAI_TAIL, None)]
        return Response.from_parts(parts, status=200, records=records)

    # -- request checks -----------------------------------------------------------------

    def _check_args(self, request: Request) -> dict[str, str]:
        verbs = request.params.get("verb", [])
        if len(verbs) != 1 or verbs[0] not in VERBS:
            what = "missing" if not verbs else "repeated" if len(verbs) > 1 else "illegal"
            raise OAIError("badVerb", f"verb argument is {what}")
        verb = verbs[0]
        required, optional, token_ok = VERBS[verb]
        for name, values in request.params.items():
            if len(values) > 1:
                raise OAIError("badArgument", f"argument {name} is repeated")
        args = {k: v[0] for k, v in request.params.items()}
        names = set(args) - {"verb"}
        if "resumptionToken" in names and token_ok:
            if names != {"resumptionToken"}:
                raise OAIError("badArgument", "resumptionToken is an exclusive argument")
            return args
        allowed = set(required) | set(optional)
        unknown = sorted(names - allowed)
        if unknown:
            raise OAIError("badArgument", f"illegal argument(s) for {verb}: {', '.join(unknown)}")
        missing = [n for n in required if n not in args]
        if missing:
            raise OAIError("badArgument", f"missing argument(s) for {verb}: {', '.join(missing)}")
        return args

    def _dates(self, args: dict[str, str]) -> tuple[int | None, int | None]:
        """from/until as inclusive epoch bounds in the corpus granularity."""
        bounds: list[int | None] = []
        kinds = set()
        for name in ("from", "until"):
            value = args.get(name)
            if value is None:
                bounds.append(None)
                continue
            if _DAY_RE.match(value):
                kind, fmt = DAYS, "%Y-%m-%d"
            elif _SECOND_RE.match(value) and self.corpus.granularity == SECONDS:
                kind, fmt = SECONDS, "%Y-%m-%dT%H:%M:%SZ"
            else:
                raise OAIError("badArgument", f"{name}={value!r} is not a date in the "
                               f"repository's granularity {self.corpus.granularity}")
            try:
                epoch = int(datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp())
            except ValueError as exc:
                raise OAIError("badArgument", f"{name}={value!r}: {exc}") from None
            if kind == DAYS and name == "until":
                epoch += 86399  # a day-granularity until covers the whole day
            kinds.add(kind)
            bounds.append(epoch)
        if len(kinds) > 1:
            raise OAIError("badArgument", "from and until have different granularities")
        return bounds[0], bounds[1]

    def _prefix(self, prefix: str) -> None:
        if prefix not in self.corpus.formats:
            raise OAIError("cannotDisseminateFormat", f"metadataPrefix {prefix!r} is not supported")

    # -- verbs (each returns the verb element's bytes and a record count) -----------------

    def _Identify(self, request: Request, args: dict[str, str]) -> tuple[bytes, int]:
        c = self.corpus
        earliest = c.format_datestamp(int(c.earliest_datestamp().timestamp()))
        return (
            f"<Identify><repositoryName>{_text(c.repository_name)}</repositoryName>"
            f"<baseURL>{_text(request.base_url)}</baseURL><protocolVersion>2.0</protocolVersion>"
            f"<adminEmail>{_text(c.admin_email)}</adminEmail>"
            f"<earliestDatestamp>{earliest}</earliestDatestamp>"
            f"<deletedRecord>{c.deleted_record}</deletedRecord>"
            f"<granularity>{c.granularity}</granularity>"
            f"<compression>gzip</compression></Identify>"
        ).encode(), 0

    def _ListMetadataFormats(self, request: Request, args: dict[str, str]) -> tuple[bytes, int]:
        formats = self.corpus.formats
        if "identifier" in args:
            row = self.corpus.row(args["identifier"])
            if row is None:
                raise OAIError("idDoesNotExist", f"no record {args['identifier']!r}")
            own = self.corpus.row_formats(row)
            formats = {p: formats[p] for p in (own or formats)}
        if not formats:
            raise OAIError("noMetadataFormats", "no metadata formats available")
        items = "".join(
            f"<metadataFormat><metadataPrefix>{_text(p)}</metadataPrefix><schema>{_text(s)}"
            f"</schema><metadataNamespace>{_text(ns)}</metadataNamespace></metadataFormat>"
            for p, (s, ns) in formats.items())
        return f"<ListMetadataFormats>{items}</ListMetadataFormats>".encode(), 0

    def _ListSets(self, request: Request, args: dict[str, str]) -> tuple[bytes, int]:
        if "resumptionToken" in args:
            raise OAIError("badResumptionToken", "ListSets is never paged by this server")
        sets = self.corpus.sets
        if not sets:
            raise OAIError("noSetHierarchy", "this repository does not support sets")
        items = "".join(f"<set><setSpec>{_text(s)}</setSpec><setName>{_text(n)}</setName></set>"
                        for s, n in sets.items())
        return f"<ListSets>{items}</ListSets>".encode(), 0

    def _GetRecord(self, request: Request, args: dict[str, str]) -> tuple[bytes, int]:
        prefix = args["metadataPrefix"]
        self._prefix(prefix)
        row = self.corpus.row(args["identifier"])
        if row is None:
            raise OAIError("idDoesNotExist", f"no record {args['identifier']!r}")
        formats = self.corpus.row_formats(row)
        if prefix not in formats and not (row.deleted and not formats):
            raise OAIError("cannotDisseminateFormat",
                           f"record {row.identifier!r} is not available as {prefix!r}")
        parts = [b"<GetRecord>", *self._record(row, prefix, request.fault), b"</GetRecord>"]
        return b"".join(parts), 1

    def _ListIdentifiers(self, request: Request, args: dict[str, str]) -> tuple[list[Part], int]:
        return self._list(request, args, "ListIdentifiers")

    def _ListRecords(self, request: Request, args: dict[str, str]) -> tuple[list[Part], int]:
        return self._list(request, args, "ListRecords")

    # -- lists ----------------------------------------------------------------------------

    def _list(self, request: Request, args: dict[str, str], verb: str) -> tuple[list[Part], int]:
        fault = request.fault
        token_in = args.get("resumptionToken")
        if token_in is not None:
            if fault is not None and fault.kind == "expired":
                raise OAIError("badResumptionToken", "resumptionToken expired (replay fault)")
            q, after, cursor, total = self._decode(token_in, verb)
        else:
            prefix = args["metadataPrefix"]
            self._prefix(prefix)
            lo, hi = self._dates(args)
            spec = args.get("set")
            if spec is not None and not self.corpus.sets:
                raise OAIError("noSetHierarchy", "this repository does not support sets")
            q, after, cursor = Query(prefix, lo, hi, spec), None, 0
            total = self.corpus.count(q)
        rows = self.corpus.page(q, after, self.page_size + 1)
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if not rows:
            raise OAIError("noRecordsMatch", "no records match the request")
        tag = verb.encode()
        if verb == "ListRecords":
            items = [b"".join(self._record(row, q.prefix, fault if k == 0 else None))
                     for k, row in enumerate(rows)]
        else:
            items = [self._header(row, fault if k == 0 else None) for k, row in enumerate(rows)]
        # The records of a page of base rows (int refs: never changed at run time) are the
        # same bytes each time that page is served: a key made of the rows lets the server
        # keep their compressed form. Records added or updated at run time are not kept.
        key = None
        if (verb == "ListRecords" and not (fault is not None and fault.kind == "badchar")
                and all(isinstance(row.ref, int) for row in rows)):
            key = (self.instance, q.prefix, tuple(row.ref for row in rows))
        parts: list[Part] = [(b"<" + tag + b">" + b"".join(items), key)]
        if fault is not None and fault.kind == "repeat":
            token = token_in if token_in is not None else self._encode(verb, q, None, 0, total)
        elif more:
            last = rows[-1]
            token = self._encode(verb, q, (last.epoch, last.identifier), cursor + len(rows), total)
        else:
            token = None
        if token is not None or token_in is not None:
            expiry = ""
            if token is not None and self.token_ttl is not None:
                when = datetime.fromtimestamp(time.time() + self.token_ttl, UTC)
                expiry = f' expirationDate="{when.strftime("%Y-%m-%dT%H:%M:%SZ")}"'
            parts.append((
                f'<resumptionToken{expiry} completeListSize="{total}" cursor="{cursor}">'
                f"{_text(token or '')}</resumptionToken>".encode(), None))
        parts.append((b"</" + tag + b">", None))
        return parts, len(rows)

    def _header(self, row: Row, fault: Fault | None = None) -> bytes:
        ident = _text(row.identifier)
        if fault is not None and fault.kind == "badchar":
            ident += BAD_CHAR
        sets = "".join(f"<setSpec>{_text(s)}</setSpec>" for s in row.sets)
        status = ' status="deleted"' if row.deleted else ""
        return (f"<header{status}><identifier>{ident}</identifier><datestamp>"
                f"{self.corpus.format_datestamp(row.epoch)}</datestamp>{sets}</header>").encode()

    def _record(self, row: Row, prefix: str, fault: Fault | None = None) -> list[bytes]:
        """``<record>`` as pieces; a ``badchar`` fault puts U+000B in the first metadata text."""
        if row.deleted:
            return [b"<record>", self._header(row, fault), b"</record>"]
        payload = self.corpus.payload(row, prefix)
        header = self._header(row)
        if fault is not None and fault.kind == "badchar":
            m = _TEXT_START.search(payload)
            if m is None:
                header = self._header(row, fault)
            else:
                payload = payload[: m.start() + 1] + BAD_CHAR.encode() + payload[m.start() + 1:]
        return [b"<record>", header, b"<metadata>", payload, b"</metadata></record>"]

    # -- tokens ---------------------------------------------------------------------------

    def _encode(self, verb: str, q: Query, after: tuple[int, str] | None, cursor: int,
                total: int) -> str:
        state = [1, self.instance, int(time.time()), verb, q.prefix, q.from_epoch,
                 q.until_epoch, q.set_spec, list(after) if after else None, cursor, total]
        raw = json.dumps(state, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode(self, token: str, verb: str) -> tuple[Query, tuple[int, str] | None, int, int]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            (version, instance, issued, tverb, prefix, lo, hi, spec, after, cursor,
             total) = json.loads(raw)
            assert version == 1 and isinstance(prefix, str) and isinstance(cursor, int)
            key = (int(after[0]), str(after[1])) if after else None
        except Exception:
            raise OAIError("badResumptionToken", "resumptionToken is not valid") from None
        if instance != self.instance:
            raise OAIError("badResumptionToken",
                           "resumptionToken was issued by another server instance")
        if tverb != verb:
            raise OAIError("badResumptionToken", f"resumptionToken was issued for {tverb}")
        if self.token_ttl is not None and time.time() - issued > self.token_ttl:
            raise OAIError("badResumptionToken", "resumptionToken has expired")
        return Query(prefix, lo, hi, spec), key, cursor, int(total)

    # -- envelope -------------------------------------------------------------------------

    def _envelope(self, request: Request, args: dict[str, str], body: bytes, *,
                  close: bool = True) -> bytes:
        attrs = "".join(f" {k}={_attr(v)}" for k, v in args.items())
        return b"".join((
            OAI_HEAD,
            f"<responseDate>{_now()}</responseDate>"
            f"<request{attrs}>{_text(request.base_url)}</request>".encode(),
            body,
            OAI_TAIL if close else b"",
        ))
