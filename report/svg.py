"""Small inline SVG charts for the self-contained HTML report (no JavaScript, no fonts fetched).

Each function returns one ``<svg>`` element as text; every label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

# 18 colours that stay apart from each other and from the grey of "replaced" segments: every
# finding kind (there are 12) gets a colour of its own
PALETTE = ("#3366cc", "#dc8a00", "#2a9d5b", "#c0392b", "#7a5cc7", "#17a2b8", "#8c564b", "#e377c2",
           "#bcbd22", "#1f3d7a", "#ff9f40", "#6b8e23", "#b5446e", "#00796b", "#9e7b00", "#5d4037",
           "#aec7e8", "#f4a6a6")
FONT = "font-family=\"system-ui, 'Noto Sans CJK JP', 'Hiragino Sans', sans-serif\""


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "start", fill: str = "#222",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{escape(text)}</text>')


def grouped_hbars(groups: Sequence[tuple[str, Sequence[float | None]]], series: Sequence[str], *,
                  title: str, maximum: float = 100.0, unit: str = "%", width: int = 760) -> str:
    """Horizontal bars, one group per label, one bar per series (values 0..maximum; None: n/a)."""
    per_row = 2 if max((len(s) for s in series), default=0) <= 44 else 1
    bar_h, gap, label_w, legend_h = 11, 10, 170, 22 * ((len(series) + per_row - 1) // per_row) + 8
    plot_w = width - label_w - 60
    group_h = bar_h * len(series) + gap
    height = 34 + legend_h + group_h * max(1, len(groups)) + 24
    parts = _open(width, height, title)
    for i, name in enumerate(series):
        x, y = 8 + (i % per_row) * (width // per_row), 34 + (i // per_row) * 22
        parts.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(_text(x + 20, y + 12, _clip(name, (width // per_row - 30) // 7), size=12))
    top = 34 + legend_h
    for tick in range(0, 101, 25):
        x = label_w + plot_w * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + group_h * len(groups)}" '
                     f'stroke="#dddddd" stroke-width="1"/>')
        parts.append(_text(x, top + group_h * len(groups) + 16, f"{maximum * tick / 100:g}{unit}", size=10,
                           anchor="middle", fill="#666"))
    for g, (label, values) in enumerate(groups):
        y0 = top + g * group_h
        parts.append(_text(label_w - 8, y0 + group_h / 2, _clip(label, 26), size=12, anchor="end"))
        for s, value in enumerate(values):
            y = y0 + s * bar_h
            if value is None:
                parts.append(_text(label_w + 4, y + bar_h - 2, "n/a", size=9, fill="#999"))
                continue
            w = plot_w * max(0.0, min(float(value), maximum)) / maximum
            parts.append(f'<rect x="{label_w}" y="{y:.1f}" width="{w:.1f}" height="{bar_h - 2}" '
                         f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)}: {escape(series[s])} '
                         f'{value:g}{unit}</title></rect>')
            parts.append(_text(label_w + w + 4, y + bar_h - 2, f"{value:g}{unit}", size=9, fill="#444"))
    parts.append("</svg>")
    return "".join(parts)


def stacked_vbars(bars: Sequence[tuple[str, Sequence[tuple[str, int]]]], *, title: str,
                  colors: dict[str, str] | None = None, width: int = 760, height: int = 320) -> str:
    """Vertical stacked bars (e.g. findings by kind per audit run); segments are (name, count)."""
    names: list[str] = []
    for _, segs in bars:
        for name, _n in segs:
            if name not in names:
                names.append(name)
    colors = dict(colors or {})
    for i, name in enumerate(names):
        colors.setdefault(name, PALETTE[i % len(PALETTE)])
    legend_rows = (len(names) + 2) // 3
    legend_h = 20 * legend_rows + 6
    top, bottom, left = 30, 40, 44
    total_h = height + legend_h
    plot_h = height - top - bottom
    plot_w = width - left - 10
    peak = max([sum(n for _, n in segs) for _, segs in bars] + [1])
    parts = _open(width, total_h, title)
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        parts.append(_text(left - 6, y + 4, f"{value:.0f}", size=10, anchor="end", fill="#666"))
    slot = plot_w / max(1, len(bars))
    bar_w = min(70.0, slot * 0.6)
    for b, (label, segs) in enumerate(bars):
        x = left + slot * b + (slot - bar_w) / 2
        y = top + plot_h
        for name, n in segs:
            h = plot_h * n / peak
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colors[name]}">'
                         f"<title>{escape(label)}: {escape(name)} {n}</title></rect>")
        total = sum(n for _, n in segs)
        parts.append(_text(x + bar_w / 2, y - 4, str(total), size=10, anchor="middle"))
        parts.append(_text(x + bar_w / 2, top + plot_h + 16, _clip(label, 18), size=10, anchor="middle"))
    for i, name in enumerate(names):
        x, y = 8 + (i % 3) * (width // 3), height + (i // 3) * 20
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colors[name]}"/>')
        parts.append(_text(x + 18, y + 11, _clip(name, (width // 3 - 24) // 6), size=11))
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'viewBox="0 0 {width} {height}" role="img" {FONT}>'),
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        _text(8, 20, title, size=14, weight="bold"),
    ]


def _width(ch: str) -> int:
    """Display width in half-width units: CJK and other wide characters take two."""
    import unicodedata

    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _clip(text: str, n: int) -> str:
    """``text`` cut to ``n`` half-width units (a Japanese character counts two), with "…"."""
    if sum(_width(c) for c in text) <= n:
        return text
    out, used = [], 0
    for ch in text:
        if used + _width(ch) > n - 1:
            break
        out.append(ch)
        used += _width(ch)
    return "".join(out) + "…"
