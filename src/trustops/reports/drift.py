"""Render drift reports and profiles for people: Rich tables, Markdown, JSON, and an HTML page.

The HTML page is self-contained (inline CSS and SVG, no scripts, no
network): the drift table, then for every drifted column a reference-vs-
current histogram (numeric columns on the reference's decile bins plus the
out-of-range bins; categorical columns by category).

Example:
    >>> import pyarrow as pa, trustops
    >>> ref = trustops.profile(pa.table({"x": [float(i) for i in range(2000)]}))
    >>> moved = pa.table({"x": [float(i) + 900 for i in range(2000)]})
    >>> cur = trustops.profile(moved, reference=ref)
    >>> r = trustops.detect_drift(ref, cur)
    >>> "<svg" in to_html(r, ref, cur), "| x |" in to_markdown(r)
    (True, True)
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np
from rich.markup import escape
from rich.table import Table

from trustops.core.drift.profiles import coarse_groups
from trustops.core.drift.report import ColumnDrift, DriftReport
from trustops.core.profiles import CategoricalProfile, DatasetProfile, NumericProfile

__all__ = [
    "multivariate_line",
    "out_of_range_line",
    "profile_table",
    "rich_table",
    "to_html",
    "to_json",
    "to_markdown",
]


def _fmt(x: Any, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e6):
            return f"{x:.3e}"
        return f"{x:.{digits}f}"
    return str(x)


def _verdict(c: ColumnDrift) -> str:
    if c.drift_detected is None:
        return "not compared"
    return "DRIFT" if c.drift_detected else "ok"


def _value_column(c: ColumnDrift) -> tuple[str, str]:
    """The number the verdict rests on, and how it compares with the threshold."""
    if c.p_value is not None:
        return _fmt(c.p_value), f"p < {_fmt(c.threshold)}"
    return _fmt(c.statistic), f"≥ {_fmt(c.threshold)}"


def multivariate_line(report: DriftReport) -> str | None:
    """One sentence on the domain classifier, if it ran."""
    m = report.details.get("multivariate")
    if not m:
        return None
    top = ", ".join(f["column"] for f in m.get("top_features", [])[:3])
    verdict = "DRIFT" if m["drift_detected"] else "no drift"
    return (
        f"Multivariate (domain classifier): ROC AUC {m['auc']:.3f} vs threshold "
        f"{m['threshold']} → {verdict}; most telling columns: {top or '—'}"
    )


def out_of_range_line(report: DriftReport) -> str | None:
    """Numeric columns with too many values outside the reference's range, or ``None``."""
    o = report.details.get("out_of_range")
    if not o or not o.get("flagged"):
        return None
    rates = {c["column"]: c["rate"] for c in o["columns"]}
    listed = ", ".join(f"{name} ({rates[name]:.1%})" for name in o["flagged"])
    return f"Outside the reference's range (> {o['max_rate']:.0%} of values): {listed}"


def _notes(report: DriftReport) -> list[str]:
    return [line for line in (multivariate_line(report), out_of_range_line(report)) if line]


def rich_table(report: DriftReport) -> Table:
    """One row per column: method, statistic, p-value, threshold, verdict."""
    title = (
        f"Drift ({report.mode} mode): {sum(1 for c in report.features if c.drift_detected)} of "
        f"{len(report.features)} features drifted (share {report.share_drifted:.2f}; "
        f"dataset drift {'YES' if report.dataset_drift else 'no'} at ≥ {report.drift_share})"
    )
    t = Table(title=escape(title), caption=escape("\n".join(_notes(report))))
    for name in ("column", "kind", "role", "method", "statistic", "p-value", "threshold", "drift"):
        t.add_column(
            name, justify="right" if name in ("statistic", "p-value", "threshold") else "left"
        )
    for c in report.columns:
        verdict = _verdict(c)
        style = "red" if verdict == "DRIFT" else ("dim" if c.drift_detected is None else "green")
        t.add_row(
            escape(c.column),
            c.kind,
            c.role,
            c.method,
            _fmt(c.statistic),
            _fmt(c.p_value),
            _fmt(c.threshold),
            f"[{style}]{verdict}[/]" + (f" [dim]({escape(c.note)})[/]" if c.note else ""),
        )
    return t


def to_json(report: DriftReport) -> str:
    """``report.to_dict()`` as JSON text (it is JSON-safe: infinities are the strings ``"inf"``)."""
    return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(report: DriftReport) -> str:
    """A Markdown summary and table."""
    lines = [
        f"# Drift report ({report.mode} mode)",
        "",
        f"- reference rows: {report.reference_rows}; current rows: {report.current_rows}",
        f"- drifted features: {report.share_drifted:.2f} of those compared "
        f"(dataset drift: {'yes' if report.dataset_drift else 'no'}, at ≥ {report.drift_share})",
        *(f"- {line}" for line in _notes(report)),
        "",
        "| column | kind | role | method | statistic | p-value | threshold | drift |",
        "|---|---|---|---|---:|---:|---:|---|",
    ]
    for c in report.columns:
        lines.append(
            f"| {_md(c.column)} | {c.kind} | {c.role} | {c.method} | {_fmt(c.statistic)} | "
            f"{_fmt(c.p_value)} | {_fmt(c.threshold)} | {_verdict(c)} |"
        )
    return "\n".join(lines) + "\n"


def _bars(labels: list[str], ref: np.ndarray, cur: np.ndarray, title: str, width: int = 640) -> str:
    """Side-by-side bars of two share vectors, as inline SVG."""
    rs = ref / ref.sum() if ref.sum() else ref
    cs = cur / cur.sum() if cur.sum() else cur
    n = len(labels)
    top = float(max(rs.max(initial=0), cs.max(initial=0))) or 1.0
    height, pad, base = 220, 40, 180
    slot = (width - 2 * pad) / max(n, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="{pad}" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>',
        f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#333"/>',
    ]
    for i, label in enumerate(labels):
        x = pad + i * slot
        for j, (share, colour) in enumerate(((rs[i], "#4c78a8"), (cs[i], "#e45756"))):
            h = (base - 30) * float(share) / top
            parts.append(
                f'<rect x="{x + 2 + j * (slot - 4) / 2:.1f}" y="{base - h:.1f}" '
                f'width="{max((slot - 4) / 2, 1):.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{html.escape(label)}: {'reference' if j == 0 else 'current'} "
                f"{float(share):.3f}</title></rect>"
            )
        if n <= 24:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{base + 14}" font-size="9" '
                f'text-anchor="middle">{html.escape(label[:10])}</text>'
            )
    parts.append(
        f'<rect x="{width - 190}" y="24" width="10" height="10" fill="#4c78a8"/>'
        f'<text x="{width - 176}" y="33" font-size="11">reference</text>'
        f'<rect x="{width - 110}" y="24" width="10" height="10" fill="#e45756"/>'
        f'<text x="{width - 96}" y="33" font-size="11">current</text></svg>'
    )
    return "".join(parts)


def _column_chart(name: str, ref: DatasetProfile, cur: DatasetProfile) -> str | None:
    r, c = ref.columns.get(name), cur.columns.get(name)
    if isinstance(r, NumericProfile) and isinstance(c, NumericProfile):
        if r.histogram is None or c.histogram is None:
            return None
        if not np.array_equal(r.histogram.edges, c.histogram.edges):
            return None
        groups = coarse_groups(r.histogram.in_range)
        edges = r.histogram.edges
        starts = [float(edges[np.argmax(groups == g)]) for g in range(int(groups.max()) + 1)]
        labels = ["below", *(f"≥{s:.3g}" for s in starts), "above"]

        def coarse(counts: np.ndarray) -> np.ndarray:
            inner = np.bincount(groups, weights=counts[1:-1], minlength=len(starts))
            return np.concatenate([[counts[0]], inner, [counts[-1]]]).astype(float)

        return _bars(labels, coarse(r.histogram.counts), coarse(c.histogram.counts), name)
    if isinstance(r, CategoricalProfile) and isinstance(c, CategoricalProfile):
        top = [k for k, _ in r.top(12)]
        top += [k for k, _ in c.top(12) if k not in top][: 24 - len(top)]
        rc, cc = dict(r.top()), dict(c.top())
        rv = np.array([rc.get(k, 0) for k in top], dtype=float)
        cv = np.array([cc.get(k, 0) for k in top], dtype=float)
        return _bars([str(k) for k in top], rv, cv, name)
    return None


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:4px 8px}
th{background:#f3f3f3}.drift{color:#b00;font-weight:bold}.ok{color:#070}.na{color:#888}
td.num{text-align:right;font-variant-numeric:tabular-nums}"""


def to_html(
    report: DriftReport,
    reference: DatasetProfile | None = None,
    current: DatasetProfile | None = None,
) -> str:
    """A self-contained HTML page; with both profiles, histograms of drifted columns."""
    rows = []
    for c in report.columns:
        verdict = _verdict(c)
        cls = "drift" if verdict == "DRIFT" else ("na" if c.drift_detected is None else "ok")
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>" for v in (c.column, c.kind, c.role, c.method)
            )
            + "".join(
                f'<td class="num">{html.escape(_fmt(v))}</td>'
                for v in (c.statistic, c.p_value, c.threshold)
            )
            + f'<td class="{cls}">{html.escape(verdict)}</td>'
            + f"<td>{html.escape(c.note or '')}</td></tr>"
        )
    charts = []
    if reference is not None and current is not None:
        for c in report.columns:
            if c.drift_detected:
                svg = _column_chart(c.column, reference, current)
                if svg:
                    charts.append(f"<figure>{svg}</figure>")
    summary = (
        f"{sum(1 for c in report.features if c.drift_detected)} of {len(report.features)} "
        f"features drifted (share {report.share_drifted:.2f}); dataset drift: "
        f"<b>{'yes' if report.dataset_drift else 'no'}</b> (at ≥ {report.drift_share})."
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>trustops drift report</title><style>{_CSS}</style></head><body>"
        f"<h1>Drift report</h1><p>Mode: {html.escape(report.mode)}; reference rows: "
        f"{report.reference_rows}; current rows: {report.current_rows}.</p><p>{summary}</p>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in _notes(report))
        + "<table><thead><tr><th>column</th><th>kind</th><th>role</th><th>method</th>"
        "<th>statistic</th><th>p-value</th><th>threshold</th><th>drift</th><th>note</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        + (f"<h2>Drifted columns: reference vs current</h2>{''.join(charts)}" if charts else "")
        + "</body></html>\n"
    )


def profile_table(p: DatasetProfile) -> Table:
    """A summary of a profile: one row per column."""
    t = Table(title=f"Profile: {p.rows:,} rows, {len(p.columns)} columns")
    for name in ("column", "kind", "values", "missing", "summary"):
        t.add_column(name, justify="right" if name in ("values", "missing") else "left")
    for name, col in p.columns.items():
        missing = col.nulls + (col.nans if isinstance(col, NumericProfile) else 0)
        if isinstance(col, NumericProfile):
            if p.kinds[name] == "datetime" and col.minimum is not None:
                from datetime import UTC, datetime

                lo = datetime.fromtimestamp(col.minimum, UTC).isoformat()
                hi = datetime.fromtimestamp(col.maximum or col.minimum, UTC).isoformat()
                summary = f"{lo} … {hi}"
            else:
                summary = (
                    f"min {_fmt(col.minimum)}  mean {_fmt(col.mean if col.count else None)}  "
                    f"max {_fmt(col.maximum)}  std {_fmt(col.std)}"
                )
        elif isinstance(col, CategoricalProfile):
            top = ", ".join(f"{k}: {v:,}" for k, v in col.top(3))
            summary = f"{col.distinct:,} distinct{'' if col.exact else ' (est.)'}; {top}"
        else:
            summary = ""
        t.add_row(escape(name), p.kinds[name], f"{col.count:,}", f"{missing:,}", escape(summary))
    return t
