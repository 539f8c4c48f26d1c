"""Monitoring over time as HTML and as a table: one chart per monitored series.

Rows are the time series of :func:`trustops.monitoring.store.series` (or
:func:`series_rows` of an evaluation not stored): one per window and check,
with value, interval, threshold and status. Each series becomes a
:func:`~trustops.reports.charts.band_chart`: the value per window, its
interval as a band, the threshold as a dashed line, breaches in red.

Example:
    >>> rows = [{"window_index": 0, "start": "2026-11-01T00:00:00.000000Z", "key": "k",
    ...          "value": 0.9, "low": 0.8, "high": 0.95, "op": ">=", "threshold": 0.8,
    ...          "status": "ok", "action": "none", "n": 100}]
    >>> "<svg" in to_html(rows, [], title="monitor m")
    True
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from trustops.monitoring.evaluate import Evaluation
from trustops.reports.charts import band_chart

__all__ = ["series_rows", "to_html", "window_label"]


def series_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The rows :func:`trustops.monitoring.store.series` would hold for ``evaluation``."""
    out = []
    for result in evaluation.windows:
        w = result.window_dict()
        for c in result.checks:
            out.append(
                {"window_index": w["index"], "start": w["start"], "end": w["end"],
                 "row_count": w["count"], "late_count": w["late"], "key": c.key,
                 "kind": c.kind, "value": c.value, "low": c.low, "high": c.high, "op": c.op,
                 "threshold": c.threshold, "status": c.status, "action": c.action, "n": c.n}
            )  # fmt: skip
    return out


def window_label(row: Mapping[str, Any]) -> str:
    """A short label: the start date of a time window (``11-03``), else ``#index``."""
    start = row.get("start")
    return str(start)[5:10] if start else f"#{row['window_index']}"


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def to_html(
    rows: Sequence[Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]], *, title: str
) -> str:
    """A self-contained page: a chart per series, then the alert history."""
    keys = list(dict.fromkeys(r["key"] for r in rows))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;"
        "font-size:13px}.breach{color:#c0392b}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Each chart is one monitored value per window: the line, its confidence interval "
        "(band), the policy's threshold (dashed). Red points breach it; an alert needs the "
        "interval to exclude the threshold, or a breach several windows in a row.</p>",
    ]
    for key in keys:
        series = [r for r in rows if r["key"] == key]
        threshold = series[0]["threshold"]
        points = [
            (window_label(r), r["value"], r["low"], r["high"],
             r["status"] in ("breach", "supported"))
            for r in series
        ]  # fmt: skip
        parts.append(f"<h2>{html.escape(key)} {html.escape(series[0]['op'])} {threshold:g}</h2>")
        parts.append(band_chart(points, title=key, threshold=threshold))
    parts.append("<h2>Alerts</h2>")
    if not alerts:
        parts.append("<p>No alerts.</p>")
    else:
        parts.append(
            "<table><tr><th>window</th><th>check</th><th>action</th><th>reason</th>"
            "<th>deliveries</th><th>triggers</th></tr>"
        )
        for a in alerts:
            window = a["payload"]["window"]
            deliveries = ", ".join(f"{d['channel']}: {d['status']}" for d in a["deliveries"])
            triggers = ", ".join(f"{t['trigger']}: {t['status']}" for t in a["triggers"])
            parts.append(
                f"<tr><td>{html.escape(window_label({**window, 'window_index': window['index']}))}"
                f"</td><td>{html.escape(a['key'])}</td><td>{html.escape(a['action'])}</td>"
                f"<td>{html.escape(a['reason'] or '')}</td><td>{html.escape(deliveries)}</td>"
                f"<td>{html.escape(triggers)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
