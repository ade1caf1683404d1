"""The librarians' notebooks run top to bottom against the demo database, and are stored clean."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import DemoDbs

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = {  # what a reader sees in each notebook's output
    "01_getting_started.ipynb": ("crossref", "datacite", "jalc", "dataset", "title_ja", "title_en"),
    "02_linkage_audit_explorer.ipynb": ("10.80001", "one-way links", "Journal of Japanese Field Science",
                                        "no Neo4j configured (NEO4J_URI is unset)"),
    "03_duplicate_review.ipynb": ("same_content", "duplicate_url", "identical_pair"),
    "04_harvest_health.ipynb": ("world-crossref", "records_per_s", "ok"),
}


def test_every_notebook_is_covered_and_stored_without_outputs() -> None:
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == sorted(EXPECTED)
    for name in names:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name} has stored outputs"


def _text(outputs: list[dict[str, object]]) -> str:
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(str(out.get("text", "")))
        data = out.get("data") or {}
        if isinstance(data, dict):
            parts.append(str(data.get("text/plain", "")) + str(data.get("text/html", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_against_the_demo_database(name: str, demo_dbs: DemoDbs, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKGRAPH_DB", str(demo_dbs.demo))
    monkeypatch.delenv("NEO4J_URI", raising=False)  # tests/neo4j runs the Neo4j section
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=dict(os.environ))
    shown = "\n".join(_text(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
    for text in EXPECTED[name]:
        assert text in shown, f"{name}: {text!r} not in the output"
    if name == "01_getting_started.ipynb":
        assert any("\u3040" <= ch <= "\u9fff" for ch in shown), "Japanese titles are shown"
    images = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 if "image/png" in (o.get("data") or {}))
    assert images >= (0 if name == "03_duplicate_review.ipynb" else 1), f"{name}: no plot drawn"
