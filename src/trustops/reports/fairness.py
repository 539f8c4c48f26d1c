"""Render a :class:`FairnessReport` for people: Rich tables, Markdown, and an HTML page.

The HTML page is self-contained (inline CSS and SVG, no scripts, no network):
a bar chart of each group's impact ratio with the four-fifths line, then the
group metrics and disparities.

Example:
    >>> import trustops
    >>> r = trustops.assess_fairness({"y": [1, 0, 1, 0], "p": [1, 0, 0, 0],
    ...     "g": ["a", "a", "b", "b"]}, y_true="y", y_pred="p", sensitive="g")
    >>> "| g=a |" in to_markdown(r)
    True
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from trustops.core.fairness import FairnessReport

__all__ = ["SUMMARY_METRICS", "rich_tables", "to_html", "to_json", "to_markdown"]

SUMMARY_METRICS = {
    "binary": (
        "selection_rate",
        "true_positive_rate",
        "false_positive_rate",
        "precision",
        "accuracy",
    ),
    "multiclass": ("accuracy", "balanced_accuracy"),
    "regression": ("mean_prediction", "mean_absolute_error", "root_mean_squared_error", "r2_score"),
}
SHORT = {
    "selection_rate": "sel. rate",
    "true_positive_rate": "TPR",
    "false_positive_rate": "FPR",
    "precision": "precision",
    "accuracy": "accuracy",
    "balanced_accuracy": "bal. acc.",
    "mean_prediction": "mean ŷ",
    "mean_absolute_error": "MAE",
    "root_mean_squared_error": "RMSE",
    "r2_score": "R²",
}


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table: ``—`` for undefined."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_p(value: float | None) -> str:
    """A p-value: two significant digits, scientific when small."""
    if value is None:
        return "—"
    return f"{value:.2g}" if value >= 1e-3 else f"{value:.1e}"


def _ci_metric(report: FairnessReport, metrics: Sequence[str]) -> str | None:
    """The first shown metric that has intervals: it gets an interval column."""
    for m in metrics:
        if any(g.intervals.get(m) for g in report.by_group):
            return m
    return None


def interval_text(group: Any, metric: str) -> str:
    """A group's interval for ``metric``: the bootstrap's if computed, else Wilson's."""
    kinds = group.intervals.get(metric, {})
    lo, hi = kinds.get("bootstrap") or kinds.get("wilson") or (None, None)
    return "—" if lo is None or hi is None else f"[{lo:.3f}, {hi:.3f}]"


def group_label(group: dict[str, Any]) -> str:
    return ", ".join(f"{k}={'(missing)' if v is None else v}" for k, v in group.items())


def _md(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|")


def _metrics(report: FairnessReport, chosen: Sequence[str] | None) -> tuple[str, ...]:
    """The metrics to show: ``chosen`` (each checked) or the task's summary set."""
    if chosen:
        for name in chosen:
            report.check_metric(name)
        return tuple(chosen)
    return tuple(m for m in SUMMARY_METRICS[report.task] if m in report.metrics)


def _impact(report: FairnessReport) -> dict[str, Mapping[str, Any]]:
    out = {}
    for b in report.breakdowns:
        for row in b.four_fifths:
            out[group_label(row["group"])] = row
    return out


def rich_tables(report: FairnessReport, metrics: Sequence[str] | None = None) -> list[Table]:
    """A group table and a disparity table for the terminal."""
    metrics = _metrics(report, metrics)
    impact = _impact(report)
    groups = Table(title=f"Fairness by group ({report.task}, {report.counts.n_rows:,} rows)")
    groups.add_column("group", no_wrap=True)
    groups.add_column("count", justify="right")
    for m in metrics:
        groups.add_column(escape(SHORT.get(m, m)), justify="right")
    if report.task == "binary":
        groups.add_column("impact ratio", justify="right")
        groups.add_column("p (Fisher)", justify="right")
    for g in report.by_group:
        label = escape(group_label(dict(g.group))) + ("" if g.included else " (small)")
        cells = [label, fmt(g.count), *(fmt(g.metrics.get(m)) for m in metrics)]
        if report.task == "binary":
            row = impact.get(group_label(dict(g.group)), {})
            ratio = row.get("impact_ratio")
            text = fmt(ratio)
            if row.get("below_threshold"):
                text = f"[bold red]{text}[/]"
            cells += [text, fmt_p(row.get("fisher_p_value"))]
        groups.add_row(*cells)
    disp = Table(title="Disparities (Fairlearn between_groups: max − min, min / max)")
    disp.add_column("metric", no_wrap=True)
    for col in ("difference", "ratio", "diff. to overall", "ratio to overall"):
        disp.add_column(col, justify="right")
    if report.privileged is not None:
        disp.add_column("unpriv − priv", justify="right")
        disp.add_column("unpriv / priv", justify="right")
    for m in metrics:
        cells = [
            escape(SHORT.get(m, m)),
            fmt(report.difference(m)),
            fmt(report.ratio(m)),
            fmt(report.difference(m, "to_overall")),
            fmt(report.ratio(m, "to_overall")),
        ]
        if report.privileged is not None:
            cells += [fmt(report.privileged.difference.get(m)), fmt(report.privileged.ratio.get(m))]
        disp.add_row(*cells)
    return [groups, disp]


def _jsonable(value: Any) -> Any:
    """Group labels may be any value: non-finite floats become text, not invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def to_json(report: FairnessReport) -> str:
    """The report as JSON (``null`` for undefined values, never NaN)."""
    return json.dumps(_jsonable(report.to_dict()), indent=2, allow_nan=False, default=str)


def to_markdown(report: FairnessReport, metrics: Sequence[str] | None = None) -> str:
    """The report as Markdown tables."""
    metrics = _metrics(report, metrics)
    impact = _impact(report)
    lines = [f"# Fairness report ({report.task}, {report.counts.n_rows:,} rows)", ""]
    ci = _ci_metric(report, metrics)
    head = ["group", "count", *metrics]
    if ci is not None:
        head.append(f"{ci} {report.confidence:.0%} CI")
    if report.task == "binary":
        head += ["impact_ratio", "fisher_p_value", "shortfall"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for g in report.by_group:
        cells = [
            _md(group_label(dict(g.group))),
            fmt(g.count),
            *(fmt(g.metrics.get(m)) for m in metrics),
        ]
        if ci is not None:
            cells.append(interval_text(g, ci))
        if report.task == "binary":
            row = impact.get(group_label(dict(g.group)), {})
            cells += [
                fmt(row.get("impact_ratio")),
                fmt_p(row.get("fisher_p_value")),
                fmt(row.get("shortfall")),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Disparities",
        "",
        "| metric | difference | ratio | difference_to_overall | ratio_to_overall |",
        "|---|---|---|---|---|",
    ]
    for m in metrics:
        lines.append(
            f"| {m} | {fmt(report.difference(m))} | {fmt(report.ratio(m))} | "
            f"{fmt(report.difference(m, 'to_overall'))} | "
            f"{fmt(report.ratio(m, 'to_overall'))} |"
        )
    if report.undefined:
        lines += ["", "## Undefined values", ""]
        for u in report.undefined[:50]:
            where = group_label(dict(u.group)) if u.group else u.scope
            lines.append(f"- `{u.metric}` ({where}): {u.reason}")
        if len(report.undefined) > 50:
            lines.append(f"- … and {len(report.undefined) - 50} more (all are in the JSON output)")
    return "\n".join(lines) + "\n"


def _bar_chart(report: FairnessReport) -> str:
    threshold = report.four_fifths_threshold
    rows = [r for b in report.breakdowns for r in b.four_fifths]
    if not rows:
        return ""
    bar_h, gap, left, width = 22, 8, 230, 420
    height = len(rows) * (bar_h + gap) + 50
    parts = [
        f'<svg role="img" aria-label="Impact ratio by group" width="{left + width + 80}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" '
        'font-size="13">'
    ]
    scale = width / 1.2
    for i, row in enumerate(rows):
        y = 20 + i * (bar_h + gap)
        label = html.escape(group_label(row["group"]))
        ratio = row["impact_ratio"]
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{label}</text>')
        if ratio is None:
            parts.append(f'<text x="{left + 4}" y="{y + 15}" fill="#777">undefined</text>')
            continue
        colour = "#c0392b" if ratio < threshold else "#2e86c1"
        w = max(1.0, min(ratio, 1.2) * scale)
        parts.append(
            f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{colour}" data-group="{label}" data-ratio="{ratio:.6f}"/>'
        )
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}">{ratio:.3f}</text>')
    x = left + threshold * scale
    parts.append(
        f'<line x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="{height - 25}" stroke="#000" '
        'stroke-dasharray="5,4" class="threshold"/>'
    )
    parts.append(
        f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">'
        f"four-fifths line ({threshold})</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def to_html(
    report: FairnessReport,
    metrics: Sequence[str] | None = None,
    *,
    title: str = "trustops fairness report",
) -> str:
    """A self-contained HTML page: impact-ratio chart with the four-fifths line, then tables."""
    metrics = _metrics(report, metrics)
    impact = _impact(report)
    ci = _ci_metric(report, metrics)
    esc = html.escape
    head = "".join(f"<th>{esc(SHORT.get(m, m))}</th>" for m in metrics)
    body = []
    for g in report.by_group:
        label = group_label(dict(g.group))
        row = impact.get(label, {})
        ratio = row.get("impact_ratio")
        cls = ' class="below"' if row.get("below_threshold") else ""
        cells = "".join(f"<td>{fmt(g.metrics.get(m))}</td>" for m in metrics)
        extra = f"<td>{interval_text(g, ci)}</td>" if ci is not None else ""
        if report.task == "binary":
            extra += (
                f"<td>{fmt(ratio)}</td><td>{fmt_p(row.get('fisher_p_value'))}</td>"
                f"<td>{fmt(row.get('shortfall'))}</td>"
            )
        body.append(f"<tr{cls}><td>{esc(label)}</td><td>{fmt(g.count)}</td>{cells}{extra}</tr>")
    extra_head = (
        f"<th>{esc(SHORT.get(ci, ci))} {report.confidence:.0%} CI</th>" if ci is not None else ""
    )
    if report.task == "binary":
        extra_head += "<th>impact ratio</th><th>p (Fisher)</th><th>shortfall</th>"
    disp_rows = "".join(
        f"<tr><td>{esc(m)}</td><td>{fmt(report.difference(m))}</td><td>{fmt(report.ratio(m))}</td>"
        f"<td>{fmt(report.difference(m, 'to_overall'))}</td>"
        f"<td>{fmt(report.ratio(m, 'to_overall'))}</td></tr>"
        for m in metrics
    )
    undefined = "".join(
        f"<li><code>{esc(u.metric)}</code> "
        f"({esc(group_label(dict(u.group)) if u.group else u.scope)}): {esc(u.reason)}</li>"
        for u in report.undefined[:100]
    ) + (
        f"<li>… and {len(report.undefined) - 100} more (all are in the JSON output)</li>"
        if len(report.undefined) > 100
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: right; white-space: nowrap; }}
td:first-child, th:first-child {{ text-align: left; }}
tr.below td {{ background: #fdecea; }}
</style></head><body>
<h1>{esc(title)}</h1>
<p>{report.task} task, {report.counts.n_rows:,} rows, sensitive: {
        esc(", ".join(report.attributes))
    }{" (intersectional)" if report.intersectional else ""}.
{
        f"Intervals: {report.bootstrap:,} bootstrap resamples of the count table."
        if report.bootstrap
        else "Intervals: Wilson score."
    }</p>
<h2>Impact ratio by group (four-fifths rule)</h2>
{_bar_chart(report)}
<h2>Metrics by group</h2>
<table id="by-group"><thead><tr><th>group</th><th>count</th>{head}{extra_head}</tr></thead>
<tbody>{"".join(body)}</tbody></table>
<h2>Disparities</h2>
<table id="disparities"><thead><tr><th>metric</th><th>difference</th><th>ratio</th>
<th>difference to overall</th><th>ratio to overall</th></tr></thead>
<tbody>{disp_rows}</tbody></table>
{f"<h2>Undefined values</h2><ul>{undefined}</ul>" if undefined else ""}
</body></html>
"""
