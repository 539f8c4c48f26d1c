"""Window series and baselines: what the anomaly detectors chart.

The caller reduces each monitoring window (an hour, a day, a batch of
predictions) to a few sums: the number of predictions ``n_t`` and either the
number selected ``s_t`` (selection rate ``s_t / n_t``) or the sum of scores
``S_t`` (score mean ``S_t / n_t``; with the sum of squared scores ``Q_t`` when
σ0 is to be estimated). A :class:`WindowSeries` holds these, validated; a
window with ``n_t = 0`` is allowed and has no value.

A :class:`Baseline` is the in-control level the detectors compare against:
its centre (p0 or μ0) and the standard deviation σ of one prediction, so that
window t has standard error ``σ_t = σ / √n_t``::

    selection rate   σ = √(p0 (1 − p0))       (binomial)
    score mean       σ = σ0

It is given (from a reference data set), or estimated from windows taken to be
in control (Montgomery 2020, §6.3.2 and §7.2.1)::

    p0  = Σ s_t / Σ n_t
    μ0  = Σ S_t / Σ n_t
    σ0² = Σ (Q_t − S_t² / n_t) / Σ (n_t − 1)     (pooled within-window variance)

The pooled within-window variance is not inflated by shifts between windows,
which are what the detectors look for.

Example:
    >>> series = WindowSeries.selection_rates([30, 28, 33], [100, 100, 100])
    >>> series.values.tolist()
    [0.3, 0.28, 0.33]
    >>> base = Baseline.estimate(series, windows=2)
    >>> base.centre, round(base.sigma, 4)
    (0.29, 0.4538)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from trustops.errors import InputError, UsageError

__all__ = [
    "STATISTICS",
    "Baseline",
    "WindowSeries",
    "empty_windows",
    "optional_float",
    "standardise",
    "window_records",
]

STATISTICS = ("selection_rate", "score_mean")
"""What a window series holds: a rate of 0/1 outcomes, or a mean of scores."""


def optional_float(x: Any) -> float | None:
    """A float, or ``None`` for NaN or ±inf (how undefined values leave the core)."""
    x = float(x)
    return x if math.isfinite(x) else None


def empty_windows(counts: np.ndarray) -> tuple[int, ...]:
    """Indices of the windows with no observations."""
    return tuple(int(i) for i in np.flatnonzero(counts == 0))


def window_records(
    labels: Sequence[str],
    counts: np.ndarray,
    values: np.ndarray,
    z: np.ndarray,
    alarmed: Iterable[int],
    **series: np.ndarray,
) -> list[dict[str, Any]]:
    """One JSON-ready record per window: its statistic, the detector's ``series``, its status."""
    alarms = set(alarmed)
    return [
        {
            "index": t,
            "label": labels[t],
            "count": int(counts[t]),
            "value": optional_float(values[t]),
            "z": optional_float(z[t]),
            **{key: optional_float(s[t]) for key, s in series.items()},
            "status": "no_data" if counts[t] == 0 else "alarm" if t in alarms else "ok",
        }
        for t in range(len(labels))
    ]


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _window_array(
    name: str, values: ArrayLike, labels: Sequence[str], *, signed: bool = False
) -> np.ndarray:
    """A finite (and unless ``signed``, non-negative) float vector, or an InputError naming
    the first bad window."""
    try:
        a = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: not numbers ({exc})") from None
    if a.ndim != 1:
        raise InputError(f"{name}: expected one value per window, got shape {a.shape}")

    def bad(mask: np.ndarray, what: str) -> None:
        if mask.any():
            i = int(np.argmax(mask))
            where = f"window {i}" + (f" ({labels[i]!r})" if i < len(labels) else "")
            raise InputError(f"{name}: {where} is {what} ({a[i]})")

    bad(np.isnan(a), "missing")
    bad(np.isinf(a), "infinite")
    if not signed:
        bad(a < 0, "negative")
    return a


def _check_lengths(arrays: Mapping[str, np.ndarray | Sequence[str] | None]) -> None:
    sizes = {k: len(v) for k, v in arrays.items() if v is not None}
    first, n = next(iter(sizes.items()))
    for k, m in sizes.items():
        if m != n:
            raise InputError(f"{k} has {m} windows but {first} has {n}")


@dataclass(frozen=True, slots=True)
class WindowSeries:
    """Per-window sums of one statistic, in time order.

    ``counts[t]`` is the number of predictions in window t; ``sums[t]`` the
    number selected (``statistic="selection_rate"``) or the sum of scores
    (``"score_mean"``); ``sum_squares[t]``, optional, the sum of squared
    scores. Build one with :meth:`selection_rates` or :meth:`score_means`.
    Counts must be whole numbers; a window with count 0 has no value (NaN).
    """

    statistic: str
    labels: tuple[str, ...]
    counts: np.ndarray
    sums: np.ndarray
    sum_squares: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise UsageError(
                f"unknown window statistic {self.statistic!r}", hint=f"one of {STATISTICS}"
            )
        labels = tuple(str(x) for x in self.labels)
        name = "selected" if self.statistic == "selection_rate" else "sums"
        counts = _window_array("counts", self.counts, labels)
        sums = _window_array(name, self.sums, labels, signed=self.statistic == "score_mean")
        squares = (
            None
            if self.sum_squares is None
            else _window_array("sum_squares", self.sum_squares, labels)
        )
        _check_lengths({"counts": counts, name: sums, "sum_squares": squares, "labels": labels})
        where = lambda i: f"window {i} ({labels[i]!r})"  # noqa: E731
        fractional = counts != np.floor(counts)
        if fractional.any():
            i = int(np.argmax(fractional))
            raise InputError(f"counts: {where(i)} is not a whole number ({counts[i]})")
        nonzero = sums != 0
        if squares is not None:
            nonzero |= squares != 0
        orphan = (counts == 0) & nonzero
        if orphan.any():
            i = int(np.argmax(orphan))
            raise InputError(f"{name}: {where(i)} has no predictions (count 0) but a nonzero sum")
        if self.statistic == "selection_rate":
            over = sums > counts
            if over.any():
                i = int(np.argmax(over))
                raise InputError(
                    f"selected: {where(i)} has {sums[i]:g} selected of {counts[i]:g} predictions"
                )
        if squares is not None:
            # Cauchy–Schwarz: Q ≥ S²/n; a little slack for rounding in the caller's sums.
            with np.errstate(divide="ignore", invalid="ignore"):
                short = squares - np.where(counts > 0, sums * sums / counts, 0.0)
            below = short < -1e-9 * np.maximum(1.0, squares)
            if below.any():
                i = int(np.argmax(below))
                raise InputError(
                    f"sum_squares: {where(i)} is less than sums²/counts "
                    "(not a sum of squares of the same scores)"
                )
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "counts", _frozen(counts.astype(np.int64)))
        object.__setattr__(self, "sums", _frozen(sums))
        object.__setattr__(self, "sum_squares", None if squares is None else _frozen(squares))

    @classmethod
    def selection_rates(
        cls, selected: ArrayLike, counts: ArrayLike, *, labels: Sequence[Any] | None = None
    ) -> WindowSeries:
        """Selection rate per window: ``selected[t]`` of ``counts[t]`` predictions."""
        sums = np.asarray(selected)
        return cls("selection_rate", _labels(labels, sums), np.asarray(counts), sums)

    @classmethod
    def score_means(
        cls,
        sums: ArrayLike,
        counts: ArrayLike,
        *,
        sum_squares: ArrayLike | None = None,
        labels: Sequence[Any] | None = None,
    ) -> WindowSeries:
        """Score mean per window: ``sums[t] / counts[t]``; ``sum_squares`` to estimate σ0."""
        s = np.asarray(sums)
        q = None if sum_squares is None else np.asarray(sum_squares)
        return cls("score_mean", _labels(labels, s), np.asarray(counts), s, q)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def values(self) -> np.ndarray:
        """The rate or mean of each window; NaN where the window is empty."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.counts > 0, self.sums / self.counts, np.nan)

    @property
    def empty_windows(self) -> tuple[int, ...]:
        """Indices of windows with no predictions."""
        return tuple(int(i) for i in np.flatnonzero(self.counts == 0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic,
            "labels": list(self.labels),
            "counts": self.counts.tolist(),
            "sums": self.sums.tolist(),
            "sum_squares": None if self.sum_squares is None else self.sum_squares.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowSeries:
        squares = data.get("sum_squares")
        return cls(
            data["statistic"],
            tuple(data["labels"]),
            np.asarray(data["counts"]),
            np.asarray(data["sums"]),
            None if squares is None else np.asarray(squares),
        )


def _labels(labels: Sequence[Any] | None, values: np.ndarray) -> tuple[str, ...]:
    """The labels as text; by default the window indices."""
    if labels is not None:
        return tuple(str(x) for x in labels)
    return tuple(str(i) for i in range(len(values) if values.ndim else 0))


@dataclass(frozen=True, slots=True)
class Baseline:
    """The in-control level: centre (p0 or μ0) and σ of one prediction.

    ``windows`` and ``count`` say where an estimated baseline came from (the
    first ``windows`` windows, ``count`` predictions); both are ``None`` when
    the baseline was given.
    """

    statistic: str
    centre: float
    sigma: float
    windows: int | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise UsageError(
                f"unknown baseline statistic {self.statistic!r}", hint=f"one of {STATISTICS}"
            )
        centre, sigma = float(self.centre), float(self.sigma)
        if self.statistic == "selection_rate":
            if not 0 < centre < 1:
                raise UsageError(
                    f"p0 must be strictly between 0 and 1, got {centre}",
                    hint="a rate of 0 or 1 has no variation to chart",
                )
            if not math.isclose(sigma, math.sqrt(centre * (1 - centre)), rel_tol=1e-9):
                raise UsageError(f"sigma of a selection rate must be √(p0(1 − p0)), got {sigma}")
        elif not math.isfinite(centre):
            raise UsageError(f"mean0 must be a finite number, got {centre}")
        if not (math.isfinite(sigma) and sigma > 0):
            raise UsageError(f"sigma0 must be a finite number > 0, got {sigma}")
        object.__setattr__(self, "centre", centre)
        object.__setattr__(self, "sigma", sigma)

    @classmethod
    def selection_rate(cls, p0: float) -> Baseline:
        """A given selection rate ``p0`` (0 < p0 < 1), e.g. from the reference data."""
        p0 = float(p0)
        if not 0 < p0 < 1:  # checked here too: √ of a negative number would hide the reason
            raise UsageError(f"p0 must be strictly between 0 and 1, got {p0}")
        return cls("selection_rate", p0, math.sqrt(p0 * (1 - p0)))

    @classmethod
    def score_mean(cls, mean0: float, sigma0: float) -> Baseline:
        """A given score mean ``mean0`` and per-prediction standard deviation ``sigma0``."""
        return cls("score_mean", mean0, sigma0)

    @classmethod
    def estimate(cls, series: WindowSeries, windows: int | None = None) -> Baseline:
        """Estimate from the first ``windows`` windows of ``series`` (all when ``None``).

        Example:
            >>> s = WindowSeries.score_means([2.0, 6.0], [2, 2], sum_squares=[2.0, 26.0])
            >>> Baseline.estimate(s)  # windows {1, 1} and {1, 5}: pooled variance (0 + 8) / 2
            Baseline(statistic='score_mean', centre=2.0, sigma=2.0, windows=2, count=4)
        """
        n_windows = len(series) if windows is None else windows
        if isinstance(n_windows, bool) or not isinstance(n_windows, (int, np.integer)):
            raise UsageError(f"baseline windows must be an integer, got {windows!r}")
        if not 1 <= n_windows <= len(series):
            raise UsageError(
                f"baseline windows must be between 1 and {len(series)}, got {n_windows}"
            )
        n_windows = int(n_windows)
        span = f"baseline windows 0–{n_windows - 1}"
        counts = series.counts[:n_windows]
        total = int(counts.sum())
        if total == 0:
            raise InputError(f"{span} have no predictions", hint="use more baseline windows")
        centre = float(series.sums[:n_windows].sum()) / total
        if series.statistic == "selection_rate":
            if not 0 < centre < 1:
                raise InputError(
                    f"{span} have a selection rate of {centre:g}: nothing to chart against",
                    hint="give p0 with Baseline.selection_rate",
                )
            return cls("selection_rate", centre, math.sqrt(centre * (1 - centre)), n_windows, total)
        if series.sum_squares is None:
            raise UsageError(
                "estimating sigma0 needs sum_squares",
                hint="pass sum_squares to WindowSeries.score_means, or give Baseline.score_mean",
            )
        filled = counts > 0
        sums = series.sums[:n_windows][filled]
        within = series.sum_squares[:n_windows][filled] - sums * sums / counts[filled]
        dof = int((counts[filled] - 1).sum())
        if dof == 0:
            raise InputError(f"{span} have one prediction each: no within-window variance")
        variance = max(0.0, float(within.sum())) / dof
        if variance <= 0:
            raise InputError(f"{span} have constant scores: sigma0 is 0")
        return cls("score_mean", centre, math.sqrt(variance), n_windows, total)

    def standard_errors(self, counts: np.ndarray) -> np.ndarray:
        """σ_t = σ / √n_t per window; NaN where ``n_t = 0``."""
        n = np.asarray(counts, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.where(n > 0, self.sigma / np.sqrt(n), np.nan)

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic,
            "source": "given" if self.windows is None else "estimated",
            "centre": self.centre,
            "sigma": self.sigma,
            "windows": self.windows,
            "count": self.count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        return cls(
            data["statistic"], data["centre"], data["sigma"], data.get("windows"), data.get("count")
        )


def standardise(series: WindowSeries, baseline: Baseline) -> tuple[np.ndarray, np.ndarray]:
    """Window values and ``z_t = (x_t − centre) / σ_t``, both NaN for empty windows."""
    if series.statistic != baseline.statistic:
        raise UsageError(
            f"a {baseline.statistic} baseline cannot chart a {series.statistic} series"
        )
    values = series.values
    return values, (values - baseline.centre) / baseline.standard_errors(series.counts)
