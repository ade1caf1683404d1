"""``python -m linkgraph.replay``: how benchmarks start a server in a subprocess."""

from __future__ import annotations

import subprocess
import sys

import httpx
from replay_helpers import harvest


def test_module_prints_ready_and_serves_until_terminated():
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkgraph.replay", "--corpus", "synthetic:250:9",
         "--port", "0", "--page-size", "50", "--faults", "503@2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:") and line.endswith("/oai"), line
        url = line.split()[1]
        with httpx.Client(timeout=10) as client:
            first = client.get(url, params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
            assert first.status_code == 200
            r = client.get(url, params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
            assert r.status_code == 503  # the fault spec reached the server
            h = harvest(client, url, "ListIdentifiers", metadataPrefix="oai_dc")
        assert h.tokens[0].get("completeListSize") == str(len(h.identifiers))
        assert h.pages > 1
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_module_rejects_a_bad_corpus_spec():
    proc = subprocess.run([sys.executable, "-m", "linkgraph.replay", "--corpus", "nope"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "corpus spec" in proc.stderr and "READY" not in proc.stdout
