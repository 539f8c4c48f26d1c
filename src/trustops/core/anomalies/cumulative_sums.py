"""Tabular CUSUM: small, persistent shifts in a selection rate or a score mean.

Page's cumulative sums (Page 1954), in the tabular two-sided form of
Montgomery (2020, §9.1.2), run on the standardised window values
``z_t = (x_t − centre) / σ_t`` (σ_t = √(p0(1 − p0)/n_t) for a selection rate,
σ0/√n_t for a score mean; see :mod:`~trustops.core.anomalies.windows`)::

    C⁺_t = max(0,  z_t − k + C⁺_{t−1})
    C⁻_t = max(0, −z_t − k + C⁻_{t−1})      C⁺_0 = C⁻_0 = 0

An alarm is raised at the first window where C⁺ (``direction="up"``) or C⁻
(``"down"``) exceeds h. Both sums then restart at 0 (Montgomery's restart
after the cause is found), so a lasting shift raises a new alarm every few
windows and the gaps between alarms measure the run length.

At an alarm, the run is the windows since the alarming sum was last 0 (or
last restarted): the **change point** is the last window before the run (the
process is estimated to have shifted just after it; ``None`` if the sum was
never 0 before), ``run_length`` is how many windows with data the run has
(Montgomery's N⁺ / N⁻), and ``estimated_level`` is the rate or mean pooled
over the run, Σ sums / Σ counts — with equal window sizes, exactly
Montgomery's estimate ``μ0 ± σ_t (k + C/N)`` (eq. 9.6).

The defaults k = 0.5, h = 5 are tuned to a shift of one standard error: in
control (normal z_t) a false alarm comes once every ARL0 ≈ 465 windows; a
shift of 1σ_t is found after ≈ 10.4 windows on average, of 2σ_t after ≈ 4
(Montgomery Table 9.3). A window with no predictions has no z and leaves both
sums as they were; it is reported without statistics and never alarms.

Example (the end of Montgomery's Example 9.1, samples 22–29; μ0 = 10, σ = 1):

    >>> from trustops.core.anomalies.windows import Baseline, WindowSeries
    >>> x = [9.33, 12.29, 11.50, 10.60, 11.08, 10.38, 11.62, 11.31]
    >>> result = cusum(WindowSeries.score_means(x, [1] * 8), Baseline.score_mean(10, 1))
    >>> [round(float(c), 2) for c in result.upper]
    [0.0, 1.79, 2.79, 2.89, 3.47, 3.35, 4.47, 5.28]
    >>> a = result.first_alarm
    >>> a.window, a.direction, a.change_point, a.run_length, round(a.estimated_level, 2)
    (7, 'up', 0, 7, 11.25)
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

__all__ = ["Cusum", "CusumAlarm", "cusum"]


@dataclass(frozen=True, slots=True)
class CusumAlarm:
    """A CUSUM alarm: the window, its side, the sum that crossed h, and the estimated change.

    ``value`` is the window's rate or mean, ``cusum`` the sum (C⁺ or C⁻) that
    exceeded h, ``change_point`` the last window before the shift (``None``
    when the sum had been positive since the start).
    """

    window: int
    label: str
    direction: str  # "up" or "down"
    value: float
    cusum: float
    change_point: int | None
    change_point_label: str | None
    run_length: int
    estimated_level: float

    rule = "cusum"

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "label": self.label,
            "rule": self.rule,
            "direction": self.direction,
            "value": self.value,
            "cusum": self.cusum,
            "change_point": self.change_point,
            "change_point_label": self.change_point_label,
            "run_length": self.run_length,
            "estimated_level": self.estimated_level,
        }


@dataclass(frozen=True, slots=True)
class Cusum:
    """Two-sided tabular CUSUM over a window series.

    ``upper`` and ``lower`` hold C⁺_t and C⁻_t as computed at each window
    (before any restart), NaN for empty windows, like ``values`` and ``z``.
    """

    baseline: Baseline
    labels: tuple[str, ...]
    counts: np.ndarray
    values: np.ndarray
    z: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    k: float
    h: float
    alarms: tuple[CusumAlarm, ...]

    @property
    def statistic(self) -> str:
        return self.baseline.statistic

    @property
    def anomaly_detected(self) -> bool:
        return bool(self.alarms)

    @property
    def first_alarm(self) -> CusumAlarm | None:
        return self.alarms[0] if self.alarms else None

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
            upper=self.upper,
            lower=self.lower,
        )
        first = self.first_alarm
        return {
            "detector": "cusum",
            "statistic": self.statistic,
            "baseline": self.baseline.to_dict(),
            "k": self.k,
            "h": self.h,
            "windows": windows,
            "empty_windows": list(self.empty_windows),
            "alarms": [a.to_dict() for a in self.alarms],
            "first_alarm": None if first is None else first.to_dict(),
            "anomaly_detected": self.anomaly_detected,
        }


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"{name} must be a finite number > 0, got {value}")
    return value


def cusum(series: WindowSeries, baseline: Baseline, *, k: float = 0.5, h: float = 5.0) -> Cusum:
    """Two-sided tabular CUSUM with reference value ``k`` and decision interval ``h``.

    Both are in standard errors of the window value: ``k`` is half the shift
    to detect fastest, ``h`` sets the false-alarm rate (k = 0.5, h = 5:
    ARL0 ≈ 465 windows).

    Example:
        >>> from trustops.core.anomalies.windows import Baseline, WindowSeries
        >>> s = WindowSeries.selection_rates([30, 0, 36, 38, 39, 40], [100, 0, 100, 100, 100, 100])
        >>> r = cusum(s, Baseline.selection_rate(0.3))
        >>> r.first_alarm.window, r.first_alarm.change_point, r.to_dict()["windows"][1]["upper"]
        (5, 0, None)
    """
    k, h = _positive("k", k), _positive("h", h)
    values, z = standardise(series, baseline)
    n = len(series)
    upper, lower = np.full(n, np.nan), np.full(n, np.nan)
    alarms: list[CusumAlarm] = []
    c_up = c_down = 0.0
    zero_up: int | None = None  # last window where C⁺ was 0 (or restarted)
    zero_down: int | None = None
    for t, z_t in enumerate(z.tolist()):
        if math.isnan(z_t):
            continue
        c_up = max(0.0, z_t - k + c_up)
        c_down = max(0.0, -z_t - k + c_down)
        upper[t], lower[t] = c_up, c_down
        if c_up == 0:
            zero_up = t
        if c_down == 0:
            zero_down = t
        if c_up > h or c_down > h:
            up = c_up > h
            last_zero = zero_up if up else zero_down
            before = -1 if last_zero is None else last_zero
            alarms.append(_alarm(series, values, t, up, c_up if up else c_down, before))
            c_up = c_down = 0.0
            zero_up = zero_down = t
    return Cusum(
        baseline=baseline,
        labels=series.labels,
        counts=series.counts,
        values=values,
        z=z,
        upper=upper,
        lower=lower,
        k=k,
        h=h,
        alarms=tuple(alarms),
    )


def _alarm(
    series: WindowSeries, values: np.ndarray, t: int, up: bool, statistic: float, before: int
) -> CusumAlarm:
    """The alarm at window ``t`` for a run that started after window ``before`` (−1: start)."""
    run = slice(before + 1, t + 1)
    counts = series.counts[run]
    return CusumAlarm(
        window=t,
        label=series.labels[t],
        direction="up" if up else "down",
        value=float(values[t]),
        cusum=statistic,
        change_point=None if before < 0 else before,
        change_point_label=None if before < 0 else series.labels[before],
        run_length=int(np.count_nonzero(counts)),
        estimated_level=float(series.sums[run].sum() / counts.sum()),
    )
