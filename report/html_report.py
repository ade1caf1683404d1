"""``linkgraph report``: one self-contained HTML file for an agency or a member.

The page holds the linkage scorecard (``queries/scorecard.sql``), two inline SVG charts (coverage
by prefix, findings by kind per audit run) and the findings with doi.org links and their fix
fragments, labelled in English and Japanese; titles are shown in both languages where the record
carries both. Nothing is fetched when the page is opened: no script, no external stylesheet, font
or image, and a Content-Security-Policy of ``default-src 'none'`` forbids any (the doi.org links
are plain anchors, followed only when clicked).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from linkgraph.report import svg
from linkgraph.report.scorecard import (
    LEVEL_LABELS,
    LEVELS,
    METRIC_PARTS,
    METRICS,
    Scorecard,
    scorecard,
    trend,
)

from linkgraph.report.export import findings_table
from linkgraph.store import Store, utcnow

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

KIND_LABELS: dict[str, tuple[str, str]] = {
    "missing_reciprocal": ("Missing reciprocal link", "相互リンクの欠落"),
    "version_one_way": ("Version link stated one way", "片方向のバージョンリンク"),
    "unverifiable_reciprocal": ("Reciprocal not verifiable (target not held)", "相互リンク未確認(リンク先未取得)"),
    "text_only_link": ("Link stated only in text", "本文中のみに記載されたリンク"),
    "version_missing": ("Missing version link", "バージョンリンクの欠落"),
    "version_cycle": ("Cycle in a version chain", "バージョン関係の循環"),
    "duplicate_url": ("Several DOIs on one landing URL", "同一URLに複数のDOI"),
    "identical_pair": ("DOIs stated identical", "同一と記述されたDOI"),
    "same_content": ("Same content under two DOIs", "同一内容に複数のDOI"),
    "malformed_target": ("Malformed DOI target", "不正な形式のDOI"),
    "unknown_doi": ("DOI unknown to every agency", "どの登録機関にも存在しないDOI"),
    "self_link": ("Self-link", "自己リンク"),
    "supplement_not_publication": ("Supplement to something not a publication", "出版物以外へのIsSupplementTo"),
}
SEVERITY_LABELS = {"error": ("error", "エラー"), "warning": ("warning", "警告"), "info": ("info", "情報")}
COUNT_COLUMNS: dict[str, tuple[str, str]] = {
    "works": ("Works", "件数"), "articles": ("Articles", "論文"), "datasets": ("Datasets", "データセット"),
    "duplicate_dois": ("Duplicate DOIs", "重複DOI"),
}
REPLACED = "replaced by a later run / 後の監査で置換"


def bi(en: str, ja: str) -> str:
    """An English label with its Japanese twin."""
    return f'{escape(en)} <span class="ja" lang="ja">{escape(ja)}</span>'


@dataclass(slots=True)
class ReportData:
    db: str
    generated_at: datetime
    prefix: str | None
    card: Scorecard
    findings: list[dict[str, Any]]
    runs: list[tuple[int, datetime | None, int]]  # run_id, finished_at, findings at the time
    kept_by_run: dict[int, Counter[str]]  # run_id -> kind -> findings still stored
    titles: dict[str, tuple[str | None, str | None]]  # doi -> (Japanese, English)
    max_findings: int
    counts: dict[str, int] = field(default_factory=dict)  # kind -> findings (all, not only shown)


def collect(store: Store, *, prefix: str | None = None, max_findings: int = 200) -> ReportData:
    """Everything the page shows, read from the store (read-only is enough)."""
    card = scorecard(store, prefix=prefix)
    findings = findings_table(store, prefix=prefix).to_pylist()
    runs = [(int(r), f, int(n or 0)) for r, f, n in store.query(
        "SELECT run_id, finished_at, findings FROM audit_runs ORDER BY run_id DESC LIMIT 12")][::-1]
    kept: dict[int, Counter[str]] = {}
    for f in findings:
        kept.setdefault(int(f["run_id"]), Counter())[f["kind"]] += 1
    dois = sorted({f["subject_doi"] for f in findings if f["subject_doi"]}
                  | {f["object_doi"] for f in findings if f["object_doi"]})
    return ReportData(
        db=str(store.path), generated_at=utcnow(), prefix=prefix, card=card, findings=findings, runs=runs,
        kept_by_run=kept, titles=_titles(store, dois), max_findings=max_findings,
        counts=dict(Counter(f["kind"] for f in findings)),
    )


def _titles(store: Store, dois: list[str]) -> dict[str, tuple[str | None, str | None]]:
    if not dois:
        return {}
    rows = store.query(
        "SELECT doi, titles, title FROM works WHERE doi IN (SELECT unnest(?::VARCHAR[])) ORDER BY source, record_id",
        [dois])
    out: dict[str, tuple[str | None, str | None]] = {}
    for doi, titles, title in rows:
        ja = en = None
        for t in titles or []:
            lang = (t.get("lang") or "").lower()
            if ja is None and (lang == "ja" or lang == "jpn"):
                ja = t.get("text")
            elif en is None and lang.startswith("en"):
                en = t.get("text")
        prev = out.get(doi, (None, None))
        if ja is None and en is None and title:
            en = title
        out[doi] = (prev[0] or ja, prev[1] or en)
    return out


# -- rendering ---------------------------------------------------------------------------------------
def _doi_link(doi: str | None, raw: str | None = None) -> str:
    if not doi:
        return f"<code>{escape(raw or '')}</code>" if raw else "&ndash;"
    return f'<a href="https://doi.org/{escape(quote(doi, safe="/:;()._-<>[]"))}">{escape(doi)}</a>'


def _pct_cell(row: dict[str, Any], metric: str) -> str:
    value = row.get(metric)
    num, den = METRIC_PARTS[metric]
    if value is None:
        return f'<td class="num na" data-metric="{metric}" data-value="">n/a <small>0/0</small></td>'
    delta = trend(row, metric)
    arrow = ""
    if delta is not None:
        cls = "up" if delta > 0 else "down" if delta < 0 else "flat"
        shown = f"▲ +{delta:g} pt" if delta > 0 else f"▼ {delta:g} pt" if delta < 0 else "→ ±0 pt"
        what = "no change" if delta == 0 else f"{delta:+g} percentage points"
        arrow = (f' <span class="trend {cls}" data-trend="{delta:g}" title="{what} since the previous '
                 f'audit / 前回からの差">{shown}</span>')
    return (f'<td class="num" data-metric="{metric}" data-value="{float(value):g}">{float(value):g}% '
            f"<small>{int(row[num])}/{int(row[den])}</small>{arrow}</td>")


def _group_note(level: str, row: dict[str, Any]) -> str:
    registries = escape(row["registries"] or "")
    return registries if level == "prefix" else f'{escape(row["prefixes"] or "")} · {registries}'


def _types_text(types: dict[str, int]) -> str:
    return ", ".join(f"{escape(t)} {n}" for t, n in sorted(types.items(), key=lambda kv: (-kv[1], kv[0])))


def _scorecard_html(data: ReportData) -> str:
    types = data.card.types_by_group()
    parts: list[str] = []
    for level in LEVELS:
        rows = data.card.level(level)
        if not rows:
            continue
        head = "".join(f"<th>{bi(*COUNT_COLUMNS[c])}</th>" for c in ("works", "articles", "datasets"))
        head += f"<th>{bi('Works by type', '種類別')}</th>"
        head += "".join(f"<th>{bi(*METRICS[m])}</th>" for m in METRICS)
        head += f"<th>{bi(*COUNT_COLUMNS['duplicate_dois'])}</th>"
        body = []
        for r in rows:
            counts = "".join(f'<td class="num" data-metric="{c}" data-value="{int(r[c])}">{int(r[c])}</td>'
                             for c in ("works", "articles", "datasets"))
            cells = "".join(_pct_cell(r, m) for m in METRICS)
            body.append(
                f'<tr data-level="{escape(level)}" data-key="{escape(r["key"])}">'
                f'<th scope="row">{escape(r["key"])}<br><small>{_group_note(level, r)}</small></th>{counts}'
                f'<td class="types">{_types_text(types.get((level, r["key"]), {}))}</td>{cells}'
                f'<td class="num" data-metric="duplicate_dois" data-value="{int(r["duplicate_dois"])}">'
                f'{int(r["duplicate_dois"])}</td></tr>')
        parts.append(f'<h3>{bi(*LEVEL_LABELS[level])}</h3><div class="scroll"><table class="scorecard" '
                     f'data-level="{level}"><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(body)}'
                     f"</tbody></table></div>")
    if not parts:
        return (f'<p class="empty">{bi("No audit has run yet: run `linkgraph audit` first.", "監査が未実行です。")}'
                "</p>")
    return "".join(parts)


def _charts_html(data: ReportData) -> str:
    prefixes = data.card.level("prefix")[:30]
    series = [f"{en} / {ja}" for en, ja in METRICS.values()]
    coverage = svg.grouped_hbars(
        [(r["key"], [r[m] for m in METRICS]) for r in prefixes], series,
        title="Coverage by prefix / プレフィックス別カバー率") if prefixes else ""
    bars: list[tuple[str, list[tuple[str, int]]]] = []
    for run_id, finished, total in data.runs:
        kept = data.kept_by_run.get(run_id, Counter())
        segs = [(f"{KIND_LABELS.get(k, (k, k))[0]} / {KIND_LABELS.get(k, (k, k))[1]}", n)
                for k, n in sorted(kept.items())]
        if data.prefix is None and total > sum(kept.values()):
            segs.append((REPLACED, total - sum(kept.values())))
        day = finished.strftime("%Y-%m-%d") if finished else "?"
        bars.append((f"#{run_id} {day}", segs))
    colors = {f"{en} / {ja}": svg.PALETTE[i % len(svg.PALETTE)]
              for i, (en, ja) in enumerate(KIND_LABELS.values())}  # one colour per kind, every report
    colors[REPLACED] = "#c8c8c8"
    over_time = svg.stacked_vbars(bars, title="Findings by kind per audit run / 監査ごとの検出件数",
                                  colors=colors) if bars else ""
    return f'<div class="chart">{coverage}</div><div class="chart">{over_time}</div>'


def _findings_html(data: ReportData) -> str:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for f in data.findings:
        by_kind.setdefault(f["kind"], []).append(f)
    if not by_kind:
        return f'<p class="empty">{bi("No findings.", "検出事項はありません。")}</p>'
    parts = []
    order = {k: i for i, k in enumerate(KIND_LABELS)}
    for kind in sorted(by_kind, key=lambda k: (order.get(k, 99), k)):
        rows = by_kind[kind]
        en, ja = KIND_LABELS.get(kind, (kind, kind))
        shown = rows[: data.max_findings] if data.max_findings else rows
        body = "".join(_finding_row(data, f) for f in shown)
        more = ""
        if len(shown) < len(rows):
            more = (f'<p class="more">{len(rows) - len(shown)} more: '
                    f"<code>linkgraph export</code> writes them all / 残りは export で出力</p>")
        parts.append(
            f'<section class="kind" id="kind-{escape(kind)}"><h3>{bi(en, ja)} <span class="count" '
            f'data-kind="{escape(kind)}" data-count="{len(rows)}">{len(rows)}</span></h3>'
            f'<div class="scroll"><table class="findings"><thead><tr><th>{bi("Severity", "重要度")}</th>'
            f'<th>{bi("Subject", "対象")}</th><th>{bi("Relation", "関係")}</th><th>{bi("Object", "関連先")}</th>'
            f'<th>{bi("Registries", "登録機関")}</th><th>{bi("Fix", "修正案")}</th></tr></thead>'
            f"<tbody>{body}</tbody></table></div>{more}</section>")
    return "".join(parts)


def _title_lines(data: ReportData, doi: str | None) -> str:
    if not doi or doi not in data.titles:
        return ""
    ja, en = data.titles[doi]
    lines = []
    if ja:
        lines.append(f'<span class="title" lang="ja">{escape(ja)}</span>')
    if en:
        lines.append(f'<span class="title" lang="en">{escape(en)}</span>')
    return "<br>".join(lines)


def _finding_row(data: ReportData, f: dict[str, Any]) -> str:
    sev_en, sev_ja = SEVERITY_LABELS.get(f["severity"], (f["severity"], f["severity"]))
    subject = _doi_link(f["subject_doi"], f["subject_key"])
    obj = _doi_link(f["object_doi"], f["object_raw"])
    registries = " → ".join(escape(x or "?") for x in (f["subject_registry"], f["object_registry"]) if x)
    fix = "&ndash;"
    if f.get("fix_fragment"):
        valid = {True: "✓ valid / 検証済", False: "✗ invalid / 不正", None: "not validated / 未検証"}[f["fix_valid"]]
        owner = "subject / 対象" if f["fix_owner"] == "subject" else "object / 関連先"
        fix = (f'<details><summary>{escape(f["fix_format"] or "")} · {owner} · {valid}</summary>'
               f'<pre>{escape(f["fix_fragment"])}</pre></details>')
    evidence = f["evidence"]
    if evidence and not isinstance(evidence, str):
        evidence = json.dumps(evidence, ensure_ascii=False)
    score = f' <small>score {f["score"]:.2f}</small>' if f.get("score") is not None else ""
    return (f'<tr class="sev-{escape(f["severity"])}" data-finding="{escape(f["finding_id"])}">'
            f'<td>{escape(sev_en)}<br><span class="ja" lang="ja">{escape(sev_ja)}</span></td>'
            f'<td>{subject}<br>{_title_lines(data, f["subject_doi"])}</td>'
            f'<td>{escape(f["relation_type"] or "")}{score}</td>'
            f'<td>{obj}<br>{_title_lines(data, f["object_doi"])}</td><td>{registries}</td>'
            f'<td>{fix}<details><summary>evidence / 根拠</summary><pre>{escape(evidence or "")}</pre></details>'
            "</td></tr>")


STYLE = """
body{font-family:system-ui,'Noto Sans CJK JP','Hiragino Sans',sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;border-bottom:2px solid #3366cc;padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin:18px 0 6px} .ja{color:#555;font-size:.9em} .meta{color:#555;font-size:13px}
table{border-collapse:collapse;font-size:12px} th,td{border:1px solid #ddd;padding:4px 6px;vertical-align:top}
thead th{background:#eef2fa;text-align:left} .num{text-align:right;white-space:nowrap}
.scroll{overflow-x:auto} small{color:#666} .trend.up{color:#1a7f37} .trend.down{color:#c0392b} .trend.flat{color:#888}
.na{color:#999} .types{font-size:11px;color:#444} pre{white-space:pre-wrap;font-size:11px;max-width:520px;margin:4px 0}
.sev-error td:first-child{border-left:4px solid #c0392b} .sev-warning td:first-child{border-left:4px solid #dc8a00}
.sev-info td:first-child{border-left:4px solid #3366cc} .count{background:#3366cc;color:#fff;border-radius:9px;
padding:1px 8px;font-size:12px} .chart{margin:12px 0} .title{font-size:11px;color:#333} .empty{color:#666}
ul.kinds{margin:4px 0 0;padding-left:20px;font-size:13px;color:#333;columns:2}
@media print{details>*{display:block!important} details::details-content{display:contents;content-visibility:visible}
details>summary{list-style:none} .scroll{overflow:visible}}
"""


def render(data: ReportData) -> str:
    card = data.card
    run_text = f"audit run {card.run_id}" if card.run_id else "no audit run"
    if card.prev_run_id:
        run_text += f", trend against run {card.prev_run_id} / 前回 {card.prev_run_id} との差"
    scope = f"prefix {data.prefix}" if data.prefix else "all prefixes / 全プレフィックス"
    order = {k: i for i, k in enumerate(KIND_LABELS)}
    summary = "".join(
        f"<li>{escape(KIND_LABELS.get(k, (k, k))[0])} / {escape(KIND_LABELS.get(k, (k, k))[1])}: {n}</li>"
        for k, n in sorted(data.counts.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>linkgraph linkage report / リンク監査レポート</title><style>{STYLE}</style></head>
<body>
<h1>{bi("Linkage report", "リンク監査レポート")}</h1>
<p class="meta">{escape(scope)} · {escape(run_text)} · generated {escape(data.generated_at.strftime("%Y-%m-%d %H:%M UTC"))}
· <code>{escape(data.db)}</code></p>
<div class="meta" id="summary" data-findings="{len(data.findings)}">{len(data.findings)} findings / 検出事項{":" if summary else ": none"}
<ul class="kinds">{summary}</ul></div>
<h2>{bi("Scorecard", "スコアカード")}</h2>
<p class="meta">Percentages over DOI links stated by each group's own records, as of the latest audit; ▲▼ change in
percentage points since the previous audit. / 最新の監査時点で各グループの記録が記述するDOIリンクに対する割合。▲▼は前回監査からの差(ポイント)。</p>
{_scorecard_html(data)}
<h2>{bi("Charts", "グラフ")}</h2>
{_charts_html(data)}
<h2>{bi("Findings and fixes", "検出事項と修正案")}</h2>
{_findings_html(data)}
</body></html>
"""


def write_report(store: Store, out: Path, *, prefix: str | None = None, max_findings: int = 200) -> ReportData:
    """Render the report of ``store`` into ``out`` (written atomically); returns what it shows."""
    data = collect(store, prefix=prefix, max_findings=max_findings)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_text(render(data), encoding="utf-8")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)  # a failed write (disk full) leaves no half file behind
    return data
