"""linkgraph.report: what the audits found, for people and other tools.

The per-prefix scorecard (``scorecard``), the self-contained HTML report and its SVG charts
(``html_report``, ``svg``), findings exports and link-change summaries (``findings``) and
table exports as CSV / Parquet / JSON (``export``).
"""
