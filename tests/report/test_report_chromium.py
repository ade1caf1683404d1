"""The HTML report as a member opens it: rendered by headless Chromium, offline, with the
scorecard figures of the database, and without a single network request from the page."""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from linkgraph.graph.audit import _prepare as prepare_audit_tables
from linkgraph.queries import load_query
from lxml import html as lxml_html
from PIL import Image

from linkgraph.store import open_for_reading

from .chromium import CHROMIUM, Rendered, render
from .conftest import DemoDbs

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium); CI installs it")

WIDTH, HEIGHT = 1280, 2400


def query_rows(db: Path, name: str) -> list[dict[str, object]]:
    """``queries/<name>.sql`` run directly, as `linkgraph query` would, after the audits' preparation."""
    with open_for_reading(db) as store:
        cur = store.con.cursor()
        prepare_audit_tables(cur)
        res = cur.execute(load_query(name))
        cols = [d[0] for d in res.description]
        return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


def ink_and_colours(png: Path) -> tuple[float, int]:
    """(share of pixels darker than near-white, distinct colours) of a screenshot."""
    with Image.open(png) as im:
        rgb = im.convert("RGB")
        hist = rgb.convert("L").histogram()
        colours = rgb.getcolors(maxcolors=1 << 24) or []
        return sum(hist[:240]) / (rgb.width * rgb.height), len(colours)


@pytest.fixture(scope="module")
def rendered(demo_dbs: DemoDbs, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Rendered]:
    out = tmp_path_factory.mktemp("report")
    page = out / "report.html"
    proc = subprocess.run([sys.executable, "-m", "linkgraph", "report", "--db", str(demo_dbs.two_runs),
                           "--out", str(page)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return page, render(page, out, size=(WIDTH, HEIGHT))


def test_screenshot_is_not_blank(rendered: tuple[Path, Rendered]) -> None:
    _page, result = rendered
    with Image.open(result.png) as im:
        assert im.size == (WIDTH, HEIGHT)
    ink, colours = ink_and_colours(result.png)
    assert ink > 0.03, f"only {ink:.1%} of the page is not white"
    assert colours > 40  # text, table borders, the chart palette


def test_page_makes_no_network_request(rendered: tuple[Path, Rendered]) -> None:
    page, result = rendered
    assert result.requests == [], result.requests
    text = page.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "<script" not in text.lower()
    fetched = re.findall(r"""(?:src|srcset|data|poster)\s*=\s*["'][^"']*""", text, re.IGNORECASE)
    assert fetched == []  # nothing embedded by reference
    hrefs = re.findall(r"""<(\w+)[^>]*\shref\s*=\s*["']([^"']*)""", text, re.IGNORECASE)
    assert hrefs and all(tag.lower() == "a" and url.startswith("https://doi.org/") for tag, url in hrefs)
    assert "@import" not in text and "url(" not in text


def test_scorecard_figures_match_the_scorecard_query(rendered: tuple[Path, Rendered], demo_dbs: DemoDbs) -> None:
    _page, result = rendered
    doc = lxml_html.fromstring(result.dom)
    shown = {(tr.get("data-level"), tr.get("data-key")): {td.get("data-metric"): td.get("data-value")
                                                        for td in tr.xpath("td[@data-metric]")}
             for tr in doc.xpath("//table[@class='scorecard']//tr[@data-level]")}
    rows = query_rows(demo_dbs.two_runs, "scorecard")
    assert len(shown) == len(rows) > 10
    for row in rows:
        cells = shown[(row["level"], row["key"])]
        for metric, value in cells.items():
            want = "" if row[metric] is None else f"{float(row[metric]):g}"
            assert value == want, (row["level"], row["key"], metric)
    prefix_row = doc.xpath("//tr[@data-level='prefix'][@data-key='10.80001']")[0]
    assert "J-STAGE" not in prefix_row.text_content()
    reciprocal = prefix_row.xpath("td[@data-metric='pct_links_reciprocal']")[0]
    assert float(reciprocal.xpath(".//span[@data-trend]")[0].get("data-trend")) > 0  # the deposited fix shows
    member = doc.xpath("//tr[@data-level='member'][@data-key='須原屋, 茂兵衞']")
    assert member, "Japanese member names survive into the rendered page"


def test_findings_tables_match_the_database(rendered: tuple[Path, Rendered], demo_dbs: DemoDbs) -> None:
    _page, result = rendered
    doc = lxml_html.fromstring(result.dom)
    with open_for_reading(demo_dbs.two_runs) as store:
        counts = Counter(dict(store.query("SELECT kind, count(*) FROM findings GROUP BY kind")))
        fix = store.query("SELECT finding_id, subject_doi, fix_fragment FROM findings WHERE kind = 'missing_reciprocal'"
                          " AND fix_fragment IS NOT NULL ORDER BY finding_id LIMIT 1")[0]
    shown = {s.get("data-kind"): int(s.get("data-count")) for s in doc.xpath("//span[@data-kind]")}
    assert shown == dict(counts)
    row = doc.xpath(f"//tr[@data-finding='{fix[0]}']")[0]
    assert row.xpath(f".//a[@href='https://doi.org/{fix[1]}']")
    assert fix[2] in [pre.text_content() for pre in row.xpath(".//pre")]
    labels = doc.text_content()
    assert "Missing reciprocal link" in labels and "相互リンクの欠落" in labels
    svgs = doc.xpath("//*[local-name()='svg']")
    assert len(svgs) == 2 and "Coverage by prefix" in svgs[0].text_content()


def test_net_log_check_sees_a_request_when_a_page_makes_one(tmp_path: Path) -> None:
    """Control: the same check does catch a page that fetches something (from 127.0.0.1)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page = tmp_path / "leaky.html"
        url = f"http://127.0.0.1:{server.server_address[1]}/chart.png"
        page.write_text(f'<!DOCTYPE html><html><body><p>leaky</p><img src="{url}"></body></html>', encoding="utf-8")
        result = render(page, tmp_path, size=(400, 300))
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/chart.png"]
    assert ink_and_colours(result.png)[0] < 0.03  # and the blank check does tell an (almost) empty page
    assert result.requests == [url]


MEASURE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>%s
<pre id="out"></pre><script>
const out = [];
document.querySelectorAll('svg').forEach((svg, i) => {
  const w = svg.viewBox.baseVal.width;
  const boxes = [...svg.querySelectorAll('text')].map(t => {
    const b = t.getBBox(); return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height};
  });
  out.push({svg: i, width: w, boxes: boxes});
});
document.getElementById('out').textContent = JSON.stringify(out);
</script></body></html>"""


def test_chart_labels_and_legends_fit_and_do_not_overlap(rendered: tuple[Path, Rendered],
                                                         tmp_path: Path) -> None:
    """Each chart's text measured by Chromium itself (getBBox): every label inside its chart,
    no two legend entries on top of each other, and one colour per finding kind."""
    import json

    page, _ = rendered
    svgs = re.findall(r"<svg.*?</svg>", page.read_text(encoding="utf-8"), re.S)
    assert len(svgs) == 2
    probe = tmp_path / "measure.html"
    probe.write_text(MEASURE % "".join(svgs), encoding="utf-8")
    result = render(probe, tmp_path, size=(1300, 2000))
    doc = lxml_html.fromstring(result.dom)
    charts = json.loads(doc.xpath("//pre[@id='out']")[0].text_content())
    for chart in charts:
        for b in chart["boxes"]:
            assert b["x"] >= 0 and b["x"] + b["w"] <= chart["width"] + 0.5, (chart["svg"], b)
        texts = [b for b in chart["boxes"] if b["w"] > 0]
        for i, a in enumerate(texts):  # text boxes on one line must not overlap
            for c in texts[i + 1:]:
                same_line = abs(a["y"] - c["y"]) < min(a["h"], c["h"]) * 0.5
                if same_line:
                    assert a["x"] + a["w"] <= c["x"] + 0.5 or c["x"] + c["w"] <= a["x"] + 0.5, (a, c)
    legend = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="12" height="12" fill="(#[0-9a-f]{6})"/>', svgs[1])
    assert len(legend) == len(set(legend)), "two finding kinds share a colour"


def test_trend_cells_say_up_down_or_unchanged_in_points(rendered: tuple[Path, Rendered]) -> None:
    _page, result = rendered
    doc = lxml_html.fromstring(result.dom)
    spans = doc.xpath("//span[@data-trend]")
    assert spans
    for s in spans:
        delta, text = float(s.get("data-trend")), s.text_content()
        assert text.endswith(" pt") and text[0] == ("▲" if delta > 0 else "▼" if delta < 0 else "→")
        assert "since the previous audit" in s.get("title")
    assert not re.search(r"\d+/\d+\s*= 0", doc.text_content())
