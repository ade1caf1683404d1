"""The corpus: demo contents, synthetic generation, selection and mutation."""

from __future__ import annotations

import hashlib
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from linkgraph.replay import Corpus, CorpusRecord, Query
from linkgraph.replay.demo import DATA_DIR

UTC = timezone.utc
SHARED = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


def test_demo_has_the_recorded_records_in_their_own_formats():
    corpus = Corpus.demo()
    by_id = {r.identifier: r for r in corpus}
    assert len(corpus) == len(by_id) == 31
    assert sum(1 for i in by_id if i.startswith("hdl:1765/")) == 17  # 16 + the deleted one
    assert by_id["hdl:1765/1160"].deleted
    assert set(by_id["doi:10.5072/not-a-real-doi"].metadata) == {"oai_dc", "oai_datacite"}
    assert set(by_id["oai:repository.dl.itc.u-tokyo.ac.jp:00049042"].metadata) == {"jpcoar_1.0"}
    sample = by_id["oai:demo.linkgraph:jpcoar/sample_2.1_14_common_metadata_elements_cao"]
    assert set(sample.metadata) == {"jpcoar_2.1"} and sample.sets == ("jpcoar",)
    kernel = by_id["oai:demo.linkgraph:datacite/kernel4_example_full"]
    assert set(kernel.metadata) == {"datacite"}
    for rec in corpus:  # every payload is a standalone, namespace-complete element
        for payload in rec.metadata.values():
            if payload:
                assert not payload.startswith(b"<?xml")
                etree.fromstring(payload)
    keys = [(r.datestamp, r.identifier) for r in corpus]
    assert keys == sorted(keys)


def test_demo_files_are_verbatim_copies_with_provenance():
    files = sorted(p for p in DATA_DIR.rglob("*.xml"))
    provenance = (DATA_DIR / "PROVENANCE.md").read_text()
    for path in files:
        rel = path.relative_to(DATA_DIR).as_posix()
        assert f"| {rel} |" in provenance
        if SHARED.is_dir():
            assert hashlib.sha256(path.read_bytes()).digest() == \
                hashlib.sha256((SHARED / rel).read_bytes()).digest(), rel


def test_japanese_text_survives_as_utf8():
    rec = Corpus.demo().get("oai:demo.linkgraph:jpcoar/sample_2.0_03_journal_article_oa")
    assert "情報爆発時代の研究基盤構想".encode() in rec.metadata["jpcoar_2.0"]


def test_synthetic_is_deterministic_per_seed_and_payloads_differ():
    a, b, c = (Corpus.synthetic(300, seed=s) for s in (7, 7, 8))
    da = [r.datestamp for r in a]
    assert da == [r.datestamp for r in b] != [r.datestamp for r in c]
    assert all(x < y for x, y in zip(da, da[1:]))  # strictly increasing, index order
    assert da[0] >= datetime(2020, 1, 1, tzinfo=UTC)
    assert da[-1] < datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=365)
    payloads = [p for r in a for p in r.metadata.values()]
    assert len(set(payloads)) == len(payloads)  # identifiers/DOIs rewritten per record
    for p in payloads[:60]:
        etree.fromstring(p)
    rec = a.get("oai:synthetic.linkgraph:42")
    assert rec is not None and rec.identifier == "oai:synthetic.linkgraph:42"
    assert a.get("oai:synthetic.linkgraph:300") is None
    assert a.get("oai:synthetic.linkgraph:042") is None


def test_synthetic_rewrites_the_records_own_doi():
    corpus = Corpus.synthetic(200)
    texts = [r.metadata.get("datacite", b"") for r in corpus]
    dois = {etree.fromstring(t).findtext("{http://datacite.org/schema/kernel-4}identifier")
            for t in texts if t}
    assert len(dois) == sum(1 for t in texts if t)
    assert all("/syn." in d for d in dois)


def test_synthetic_500k_builds_fast():
    t = time.perf_counter()
    corpus = Corpus.synthetic(500_000, deleted_ratio=0.05)
    assert time.perf_counter() - t < 6
    assert len(corpus) == 500_000
    q = Query("oai_dc", set_spec="syn:1")
    t = time.perf_counter()
    total = corpus.count(q)
    assert time.perf_counter() - t < 0.1  # counted arithmetically, not by scanning
    assert 0 < total < 500_000 / 4


def test_count_agrees_with_paging_for_random_queries():
    corpus = Corpus.synthetic(3000, seed=1, deleted_ratio=0.2, span_days=30)
    corpus.update("oai:synthetic.linkgraph:5", datetime(2020, 1, 20, tzinfo=UTC))
    corpus.delete("oai:synthetic.linkgraph:6", datetime(2020, 1, 21, tzinfo=UTC))
    rng = random.Random(0)
    t0 = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
    for _ in range(25):
        lo = t0 + rng.randrange(30 * 86400)
        q = Query(rng.choice(["oai_dc", "datacite", "jpcoar_2.0"]), lo,
                  lo + rng.randrange(10 * 86400), rng.choice([None, "syn", "syn:0", "syn:3"]))
        seen, after = [], None
        while page := corpus.page(q, after, 37):
            seen.extend(page)
            after = (page[-1].epoch, page[-1].identifier)
        assert len(seen) == corpus.count(q)
        assert len({r.identifier for r in seen}) == len(seen)


def test_mutation_moves_records_and_keeps_order():
    corpus = Corpus.synthetic(50, seed=2)
    late = datetime(2021, 6, 1, tzinfo=UTC)
    corpus.update("oai:synthetic.linkgraph:0", late)
    corpus.delete("oai:synthetic.linkgraph:1", late + timedelta(seconds=1))
    corpus.add(CorpusRecord("oai:new:1", late, ("syn:0",), False,
                            {"oai_dc": b"<x xmlns='urn:x'/>"}))
    ids = [r.identifier for r in corpus]
    assert len(corpus) == len(ids) == 51
    assert ids[-3:] == ["oai:new:1", "oai:synthetic.linkgraph:0", "oai:synthetic.linkgraph:1"]
    assert corpus.get("oai:synthetic.linkgraph:1").deleted
    with pytest.raises(KeyError):
        corpus.delete("oai:nope", late)


@pytest.mark.parametrize("spec, n", [("demo", 31), ("synthetic:10", 10), ("synthetic:10:4", 10)])
def test_from_spec(spec, n):
    assert len(Corpus.from_spec(spec)) == n


@pytest.mark.parametrize("spec", ["", "demo:1", "synthetic", "synthetic:x", "synthetic:-1", "foo"])
def test_from_spec_rejects_bad_specs(spec):
    with pytest.raises(ValueError, match="corpus spec"):
        Corpus.from_spec(spec)
