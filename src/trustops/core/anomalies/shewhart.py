"""Shewhart control charts: a p-chart for selection rates, an X̄-chart for score means.

Each window's value x_t is compared with limits around the baseline centre,
L standard errors away (Shewhart 1931; Montgomery 2020, §6.2 and §7.2)::

    p-chart   p0 ± L·√(p0 (1 − p0) / n_t), clipped to [0, 1]
    X̄-chart   μ0 ± L·σ0 / √n_t

The limits follow each window's count n_t. The rules read the standardised
value ``z_t = (x_t − centre) / σ_t`` (Montgomery's standardized chart, §7.2.2),
so one set of zones serves every window size. With ``run_rules=True`` the
Western Electric rules are added (Western Electric 1956; Montgomery §5.3.6);
their zones are at 1 and 2 standard errors whatever L is::

    beyond_limits                |z_t| > L                          (always on)
    two_of_three_beyond_2sigma   z_t beyond 2, and 1 of the 2 windows before it
    four_of_five_beyond_1sigma   z_t beyond 1, and 3 of the 4 windows before it
    eight_on_one_side            z_t and the 7 windows before it on one side of the centre

(all on the same side; an alarm's ``direction`` is that side, ``"up"`` or
``"down"``). An alarm fires at every window where its rule holds, so a lasting
shift alarms at every window it lasts. Windows with no predictions have no
value, no limits and no alarm; the rules skip them, so the windows either side
of an empty one count as consecutive.

In control, with normal z_t, 3σ limits alone give a false alarm once every
370 windows on average (ARL0 = 1/0.0027); with the four rules, once every 92
(Champ & Woodall 1987). The normal approximation of the p-chart needs
n_t·p0 and n_t·(1 − p0) of about 5 or more.

Example:
    >>> from trustops.core.anomalies.windows import Baseline, WindowSeries
    >>> series = WindowSeries.selection_rates([30, 28, 45, 31], [100, 100, 100, 100])
    >>> chart = p_chart(series, Baseline.selection_rate(0.3))
    >>> round(float(chart.upper_limits[0]), 4)  # 0.3 + 3·√(0.3·0.7/100)
    0.4375
    >>> [(a.window, a.rule, a.direction) for a in chart.alarms]
    [(2, 'beyond_limits', 'up')]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from trustops.core.anomalies.windows import (
    Baseline,
    WindowSeries,
    empty_windows,
    standardise,
    window_records,
)
from trustops.errors import UsageError

__all__ = ["RUN_RULES", "Alarm", "ControlChart", "p_chart", "xbar_chart"]

RUN_RULES = (
    "beyond_limits",
    "two_of_three_beyond_2sigma",
    "four_of_five_beyond_1sigma",
    "eight_on_one_side",
)
"""The rules a Shewhart chart can apply, in the order alarms list them."""


@dataclass(frozen=True, slots=True)
class Alarm:
    """A window where a rule fired: its index and label, the rule, the side and the value."""

    window: int
    label: str
    rule: str
    direction: str  # "up" or "down"
    value: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "label": self.label,
            "rule": self.rule,
            "direction": self.direction,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class ControlChart:
    """A Shewhart chart over a window series: values, limits, z and alarms.

    Arrays have one entry per window, NaN where the window is empty.
    """

    chart: str  # "p" or "xbar"
    baseline: Baseline
    labels: tuple[str, ...]
    counts: np.ndarray
    values: np.ndarray
    z: np.ndarray
    lower_limits: np.ndarray
    upper_limits: np.ndarray
    limit: float
    run_rules: bool
    alarms: tuple[Alarm, ...]

    @property
    def statistic(self) -> str:
        return self.baseline.statistic

    @property
    def centre(self) -> float:
        return self.baseline.centre

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules this chart applied."""
        return RUN_RULES if self.run_rules else RUN_RULES[:1]

    @property
    def anomaly_detected(self) -> bool:
        return bool(self.alarms)

    @property
    def empty_windows(self) -> tuple[int, ...]:
        return empty_windows(self.counts)

    def to_dict(self) -> dict[str, Any]:
        windows = window_records(
            self.labels,
            self.counts,
            self.values,
            self.z,
            (a.window for a in self.alarms),
            lower_limit=self.lower_limits,
            upper_limit=self.upper_limits,
        )
        return {
            "detector": "shewhart",
            "chart": self.chart,
            "statistic": self.statistic,
            "baseline": self.baseline.to_dict(),
            "centre": self.centre,
            "limit": self.limit,
            "rules": list(self.rules),
            "windows": windows,
            "empty_windows": list(self.empty_windows),
            "alarms": [a.to_dict() for a in self.alarms],
            "anomaly_detected": self.anomaly_detected,
        }


def p_chart(
    series: WindowSeries, baseline: Baseline, *, limit: float = 3.0, run_rules: bool = False
) -> ControlChart:
    """p-chart of the selection rate per window: limits ``p0 ± L·√(p0(1 − p0)/n_t)``.

    Example:
        >>> from trustops.core.anomalies.windows import Baseline, WindowSeries
        >>> s = WindowSeries.selection_rates([20, 0], [100, 0], labels=["mon", "tue"])
        >>> c = p_chart(s, Baseline.selection_rate(0.2))
        >>> c.to_dict()["windows"][1]["status"], c.anomaly_detected
        ('no_data', False)
    """
    if series.statistic != "selection_rate":
        raise UsageError(
            f"p_chart charts selection rates, not {series.statistic}",
            hint="use xbar_chart for score means",
        )
    return _shewhart("p", series, baseline, limit, run_rules)


def xbar_chart(
    series: WindowSeries, baseline: Baseline, *, limit: float = 3.0, run_rules: bool = False
) -> ControlChart:
    """X̄-chart of the score mean per window: limits ``μ0 ± L·σ0/√n_t``.

    Example:
        >>> from trustops.core.anomalies.windows import Baseline, WindowSeries
        >>> s = WindowSeries.score_means([50.0, 58.0], [100, 100])
        >>> c = xbar_chart(s, Baseline.score_mean(0.5, 0.25))
        >>> round(float(c.z[1]), 6), [a.rule for a in c.alarms]  # (0.58 − 0.5) / 0.025
        (3.2, ['beyond_limits'])
    """
    if series.statistic != "score_mean":
        raise UsageError(
            f"xbar_chart charts score means, not {series.statistic}",
            hint="use p_chart for selection rates",
        )
    return _shewhart("xbar", series, baseline, limit, run_rules)


def _shewhart(
    chart: str, series: WindowSeries, baseline: Baseline, limit: float, run_rules: bool
) -> ControlChart:
    limit = float(limit)
    if not (math.isfinite(limit) and limit > 0):
        raise UsageError(f"limit must be a finite number > 0, got {limit}")
    values, z = standardise(series, baseline)
    half = limit * baseline.standard_errors(series.counts)
    lower, upper = baseline.centre - half, baseline.centre + half
    if chart == "p":
        lower, upper = np.clip(lower, 0.0, 1.0), np.clip(upper, 0.0, 1.0)
    alarms = tuple(
        Alarm(t, series.labels[t], rule, direction, float(values[t]))
        for t, rule, direction in _rule_hits(z, limit, run_rules)
    )
    return ControlChart(
        chart=chart,
        baseline=baseline,
        labels=series.labels,
        counts=series.counts,
        values=values,
        z=z,
        lower_limits=lower,
        upper_limits=upper,
        limit=limit,
        run_rules=run_rules,
        alarms=alarms,
    )


def _count_last(flags: np.ndarray, width: int) -> np.ndarray:
    """How many of the ``width`` flags ending at each position are set."""
    cum = np.concatenate([[0], np.cumsum(flags)])
    end = np.arange(1, flags.size + 1)
    return cum[end] - cum[np.maximum(0, end - width)]


def _rule_hits(z: np.ndarray, limit: float, run_rules: bool) -> list[tuple[int, str, str]]:
    """``(window, rule, direction)`` for every rule that holds, by window then rule."""
    windows = np.flatnonzero(~np.isnan(z))
    hits: list[tuple[int, int, str]] = []
    for sign, direction in ((1.0, "up"), (-1.0, "down")):
        s = sign * z[windows]  # positive on this side
        fired = [s > limit]
        if run_rules:
            fired += [
                (s > 2) & (_count_last(s > 2, 3) >= 2),
                (s > 1) & (_count_last(s > 1, 5) >= 4),
                _count_last(s > 0, 8) == 8,
            ]
        for r, mask in enumerate(fired):
            hits += [(int(windows[j]), r, direction) for j in np.flatnonzero(mask)]
    return [(t, RUN_RULES[r], d) for t, r, d in sorted(hits)]
