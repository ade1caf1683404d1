"""Protocol conformance as two independent third-party OAI-PMH clients see it.

If Sickle and pyoai (PyPI ``oaipmh``) both list exactly the corpus's records, format by format,
the server's envelopes, tokens and deleted headers are what real harvesters expect.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from oaipmh.client import Client
from oaipmh.metadata import MetadataReader, MetadataRegistry
from sickle import Sickle

from linkgraph.replay import Corpus, ReplayServer

PREFIXES = ["oai_dc", "oai_datacite", "datacite", "jpcoar_1.0", "jpcoar_2.0", "jpcoar_2.1"]


def expected(corpus: Corpus, prefix: str) -> list[str]:
    return [r.identifier for r in corpus if prefix in r.metadata]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_sickle_lists_every_demo_record(demo_server, prefix):
    records = list(Sickle(demo_server.url).ListRecords(metadataPrefix=prefix,
                                                       ignore_deleted=False))
    assert [r.header.identifier for r in records] == expected(Corpus.demo(), prefix)
    for r in records:
        assert r.deleted == (r.header.identifier == "hdl:1765/1160")
        if not r.deleted:
            assert len(r.xml.find("{http://www.openarchives.org/OAI/2.0/}metadata")) == 1


@pytest.mark.parametrize("prefix", PREFIXES)
def test_pyoai_lists_every_demo_record(demo_server, prefix):
    registry = MetadataRegistry()
    registry.registerReader(prefix, MetadataReader(fields={}))
    client = Client(demo_server.url, registry)
    assert client.identify().granularity() == "YYYY-MM-DDThh:mm:ssZ"
    records = list(client.listRecords(metadataPrefix=prefix))
    assert [h.identifier() for h, _, _ in records] == expected(Corpus.demo(), prefix)
    for header, metadata, _ in records:
        assert header.isDeleted() == (metadata is None)
    formats = [f[0] for f in client.listMetadataFormats()]
    assert sorted(formats) == sorted(PREFIXES)
    sets = [s[0] for s in client.listSets()]
    assert "DATACITE.DATACITE" in sets


def test_both_clients_agree_on_a_synthetic_corpus_with_deletions():
    corpus = Corpus.synthetic(1500, seed=3, deleted_ratio=0.1)
    with ReplayServer(corpus, page_size=100) as server:
        sickle_ids = [h.identifier for h in Sickle(server.url).ListIdentifiers(
            metadataPrefix="oai_dc", set="syn:2", ignore_deleted=False)]
        pyoai = Client(server.url)
        pyoai_ids = [h.identifier() for h in pyoai.listIdentifiers(
            metadataPrefix="oai_dc", set="syn:2",
            from_=datetime(2019, 1, 1, tzinfo=timezone.utc).replace(tzinfo=None))]
    want = [r.identifier for r in corpus if "oai_dc" in r.metadata and "syn:2" in r.sets]
    assert len(want) > 100  # really paged
    assert sickle_ids == pyoai_ids == want
