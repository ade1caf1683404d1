"""The replay server's kept compressed pages: valid gzip, reused, never stale."""

from __future__ import annotations

import gzip
import random
from datetime import datetime, timezone

import httpx

from linkgraph.replay import Corpus, ReplayServer
from linkgraph.replay.gzipparts import GzipParts

PARAMS = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}


def test_spliced_parts_decompress_to_their_concatenation() -> None:
    rnd = random.Random(7)
    gz = GzipParts(max_bytes=4096)  # small: keys are dropped and compressed again
    for _ in range(150):
        parts = []
        for _ in range(rnd.randrange(0, 10)):
            key = rnd.choice([None, rnd.randrange(15)])
            # a key always names the same bytes, as a page of corpus rows does
            data = (b"<k%d/>" % key) * 97 if key is not None else rnd.randbytes(rnd.randrange(2000))
            parts.append((data, key))
        assert gzip.decompress(gz.compress(parts)) == b"".join(p for p, _ in parts)
    assert gz.hits > 0 and gz.misses > 0
    assert gz._size <= gz.max_bytes


def _records(client: httpx.Client, url: str) -> bytes:
    body = client.get(url, params=PARAMS).content  # httpx un-gzips; a bad stream raises
    return body[body.index(b"<ListRecords>"):body.index(b"<resumptionToken")]


def test_a_page_served_again_comes_from_the_kept_form_and_is_the_same() -> None:
    with ReplayServer(Corpus.synthetic(300), page_size=50) as srv, httpx.Client() as client:
        first = _records(client, srv.url)
        hits = srv.gzip.hits
        again = _records(client, srv.url)
        assert srv.gzip.hits == hits + 1
        assert again == first


def test_an_updated_record_is_never_served_from_a_kept_page() -> None:
    with ReplayServer(Corpus.synthetic(300), page_size=50) as srv, httpx.Client() as client:
        first = _records(client, srv.url)
        ident = first.split(b"<identifier>", 1)[1].split(b"</identifier>", 1)[0].decode()
        new = b'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"/>'
        srv.apps["/oai"].corpus.update(  # type: ignore[attr-defined]
            ident, datetime(2020, 1, 1, tzinfo=timezone.utc), {"oai_dc": new})
        after = _records(client, srv.url)
        assert new in after and after != first
