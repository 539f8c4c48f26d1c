"""Prediction anomalies per window: Shewhart charts of the selection rate and the score mean.

Each window is reduced to sums — predictions n_t and selections s_t, or
scores' sum S_t and sum of squares Q_t — and charted against a baseline by
the anomaly core (:func:`trustops.core.anomalies.p_chart`,
:func:`~trustops.core.anomalies.xbar_chart`): the window's standardised
distance ``z_t = (x_t − centre) / (σ / √n_t)``. The monitored value is
``|z_t|`` with the threshold ``|z| <= limit`` (3 by default): beyond it the
window is out of control, which is itself a test, so the breach counts as
supported.

The baseline is given (``baseline``, and ``sigma`` for scores) or estimated
from the first ``baseline_windows`` windows with data, whose sums the
monitor's state keeps (those windows report ``no_data``)::

    p0 = Σ s_t / Σ n_t      μ0 = Σ S_t / Σ n_t      σ0² = Σ (Q_t − S_t²/n_t) / Σ (n_t − 1)

Example:
    >>> from trustops.monitoring.config import AnomalySpec
    >>> spec = AnomalySpec("selection_rate", limit=3.0, baseline=0.5)
    >>> value, details, _ = chart_window(spec, (400.0, 140.0, 0.0), [])
    >>> round(value, 2), details["direction"]  # (0.35 − 0.5) / √(0.25/400)
    (6.0, 'down')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustops.core.anomalies import Baseline, WindowSeries, p_chart, xbar_chart
from trustops.errors import UsageError
from trustops.monitoring.config import AnomalySpec, MonitorConfig

__all__ = ["chart_window", "window_sums"]


def window_sums(
    rows: pa.Table, config: MonitorConfig, statistic: str
) -> tuple[float, float, float]:
    """``(n, sum, sum of squares)`` of the window: selections, or scores (nulls left out)."""
    c = config.columns
    if statistic == "selection_rate":
        column = rows.column(c.prediction)
        pos = bool(config.pos_label) if pa.types.is_boolean(column.type) else config.pos_label
        selected = pc.sum(pc.equal(column, pa.scalar(pos, type=column.type))).as_py() or 0
        return float(rows.num_rows), float(selected), float(selected)
    assert c.score is not None
    scores = pc.drop_null(rows.column(c.score)).to_numpy().astype(np.float64)
    return float(scores.size), float(scores.sum()), float((scores * scores).sum())


def _baseline(spec: AnomalySpec, acc: Sequence[float]) -> Baseline | None:
    if spec.baseline is not None:
        if spec.statistic == "selection_rate":
            return Baseline.selection_rate(spec.baseline)
        assert spec.sigma is not None
        return Baseline.score_mean(spec.baseline, spec.sigma)
    _, n, total, within, dof = acc
    try:
        if spec.statistic == "selection_rate":
            return Baseline.selection_rate(total / n)
        return Baseline.score_mean(total / n, math.sqrt(within / dof) if dof > 0 else 0.0)
    except UsageError:  # a rate of 0 or 1, or no spread: nothing to chart against
        return None


def chart_window(
    spec: AnomalySpec, sums: tuple[float, float, float], acc: Sequence[float]
) -> tuple[float | None, dict[str, Any], list[float]]:
    """``(|z|, details, accumulated baseline sums)`` of one window.

    ``acc`` is ``[windows, n, sum, within-window sum of squares, degrees of
    freedom]`` of the baseline windows so far (empty at the start).
    """
    n, total, squares = sums
    acc = list(acc) or [0.0, 0.0, 0.0, 0.0, 0.0]
    if n == 0:
        return None, {"statistic": spec.statistic, "note": "no predictions"}, acc
    if spec.baseline is None and acc[0] < spec.baseline_windows:
        within = squares - total * total / n if spec.statistic == "score_mean" else 0.0
        acc = [acc[0] + 1, acc[1] + n, acc[2] + total, acc[3] + within, acc[4] + n - 1]
        note = f"estimating the baseline: window {int(acc[0])} of {spec.baseline_windows}"
        return None, {"statistic": spec.statistic, "note": note}, acc
    baseline = _baseline(spec, acc)
    if baseline is None:
        return None, {"statistic": spec.statistic, "note": "the baseline has no spread"}, acc
    if spec.statistic == "selection_rate":
        chart = p_chart(WindowSeries.selection_rates([total], [n]), baseline, limit=spec.limit)
    else:
        series = WindowSeries.score_means([total], [n], sum_squares=[squares])
        chart = xbar_chart(series, baseline, limit=spec.limit)
    z = float(chart.z[0])
    details = {
        "statistic": spec.statistic,
        "value": float(chart.values[0]),
        "centre": baseline.centre,
        "lower_limit": float(chart.lower_limits[0]),
        "upper_limit": float(chart.upper_limits[0]),
        "z": z,
        "direction": "up" if z > 0 else "down",
    }
    return abs(z), details, acc
