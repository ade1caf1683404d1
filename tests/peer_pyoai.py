"""An independent OAI-PMH server for the tests: the PyPI package ``oaipmh`` 4.0 (pyoai fork),
with its own resumption tokens and error handling, served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from oaipmh import common, metadata, server


class _Repo:
    """The IOAI interface over an in-memory list of oai_dc records."""

    def __init__(self, count: int, start: datetime):
        self.items = []
        for i in range(count):
            stamp = (start + timedelta(hours=i)).replace(tzinfo=None)
            header = common.Header(None, f"oai:pyoai.test:{i}", stamp, ["even" if i % 2 == 0 else "odd"], False)
            meta = common.Metadata(None, {"title": [f"Record {i}"], "identifier": [f"https://doi.org/10.1234/pyoai.{i}"]})
            self.items.append((header, meta, None))

    def identify(self) -> common.Identify:
        return common.Identify(
            repositoryName="pyoai peer",
            baseURL="http://127.0.0.1/oai",
            protocolVersion="2.0",
            adminEmails=["admin@example.org"],
            earliestDatestamp=self.items[0][0].datestamp() if self.items else datetime(2000, 1, 1),
            deletedRecord="no",
            granularity="YYYY-MM-DDThh:mm:ssZ",
            compression=["identity"],
        )

    def listMetadataFormats(self, identifier=None):  # noqa: N802 - the package's interface
        return [("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/")]

    def listSets(self):  # noqa: N802
        return [("even", "Even", None), ("odd", "Odd", None)]

    def _select(self, metadataPrefix, set=None, from_=None, until=None):  # noqa: N803, A002
        for header, meta, about in self.items:
            stamp = header.datestamp()
            if from_ is not None and stamp < from_:
                continue
            if until is not None and stamp > until:
                continue
            if set is not None and set not in header.setSpec():
                continue
            yield header, meta, about

    def listRecords(self, metadataPrefix, set=None, from_=None, until=None):  # noqa: N802, N803, A002
        return list(self._select(metadataPrefix, set, from_, until))

    def listIdentifiers(self, metadataPrefix, set=None, from_=None, until=None):  # noqa: N802, N803, A002
        return [h for h, _, _ in self._select(metadataPrefix, set, from_, until)]

    def getRecord(self, metadataPrefix, identifier):  # noqa: N802, N803
        for item in self.items:
            if item[0].identifier() == identifier:
                return item
        from oaipmh import error

        raise error.IdDoesNotExistError(identifier)


@contextmanager
def pyoai_server(count: int = 95, batch: int = 10) -> Iterator[tuple[str, list[str]]]:
    """Serve ``count`` records; yields (base URL, identifiers)."""
    repo = _Repo(count, datetime(2021, 3, 1, tzinfo=timezone.utc))
    registry = metadata.MetadataRegistry()
    registry.registerWriter("oai_dc", server.oai_dc_writer)
    oai = server.Server(repo, registry, resumption_batch_size=batch)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            params = dict(parse_qsl(urlsplit(self.path).query))
            body = oai.handleRequest(params)
            if isinstance(body, str):
                body = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/oai", [h.identifier() for h, _, _ in repo.items]
    finally:
        httpd.shutdown()
        httpd.server_close()
