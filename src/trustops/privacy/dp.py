"""Differentially private statistics, built on OpenDP: count, sum, mean, histogram, selection rates.

Each statistic is an OpenDP measurement (a stable transformation chained
to a noise mechanism); trustops only chooses the noise scale and
post-processes the output. The scale is the smallest one for which
OpenDP's own privacy map proves the requested epsilon (``binary_search_param``),
and the epsilon charged is what the map states for that scale, so every
number released here is covered by OpenDP's proofs, not by ours.

Neighbouring datasets differ by ``contributions`` rows added or removed
(symmetric distance; ``contributions=1`` when each person is one row).

==================  ==============================  ===========================================
statistic           OpenDP chain                    sensitivity (per contribution)
==================  ==============================  ===========================================
``count``           ``make_count``                  1
``sum``             ``make_clamp`` >> ``make_sum``  max(abs(lower), abs(upper))
``mean``            sum and count, composed         as sum, and 1; epsilon split evenly
``histogram``       ``make_count_by_categories``    1 (L1), 1 (L2): one row moves one cell
``selection_rates`` counts by (group, outcome)      1: one row is in one cell
==================  ==============================  ===========================================

Mechanisms (scales as OpenDP states them):

- ``laplace``: pure epsilon-DP. Noise Laplace(b) has density exp(-|x|/b)/(2b)
  and standard deviation b*sqrt(2); epsilon = sensitivity / b. Integers get
  the discrete Laplace (Canonne, Kamath, Steinke 2020), floats a Laplace
  discretised on a grid of 2^k, with the map rounding up.
- ``gaussian``: (epsilon, delta)-DP. Noise N(0, sigma^2) gives
  rho = sensitivity^2 / (2 sigma^2) zero-concentrated DP, converted to
  (epsilon, delta) at the delta given (``make_zCDP_to_approxDP``).

A mean is (noisy sum)/(noisy count) clamped to the bounds; a selection rate
is (noisy selected)/(noisy selected + noisy not selected) clamped to [0, 1],
and a group's impact ratio its rate over the highest group's rate:
post-processing, which costs no privacy.

These numbers are never for a NYC Local Law 144 bias audit: the law asks for
the exact selection rates and impact ratios (:mod:`trustops.ll144`), and
asking for a DP release "for" LL144 is refused.

Example:
    >>> import pyarrow as pa
    >>> data = pa.table({"age": [30, 41, 52, 25]})
    >>> r = compute(data, "count", epsilon=0.5)
    >>> r.values[0].scale, r.epsilon
    (2.0, 0.5)
    >>> r = compute(data, "sum", column="age", bounds=(18, 100), epsilon=1.0)
    >>> round(r.values[0].scale, 3), r.mechanism
    (100.0, 'laplace')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from trustops.errors import InputError, MissingColumnError, UsageError, first_line

__all__ = [
    "MECHANISMS",
    "STATISTICS",
    "NoisyValue",
    "Query",
    "Release",
    "compute",
    "plan",
]

STATISTICS = ("count", "sum", "mean", "histogram", "selection_rates")
MECHANISMS = ("laplace", "gaussian")
OTHER = "(other)"  # the cell of values outside the declared categories
_LL144 = ("ll144", "ll-144", "nyc-ll144", "local-law-144")


def _opendp() -> Any:
    import opendp.prelude as dp

    # OpenDP gates every constructor not yet vetted by its review process
    # behind "contrib" (count, sum, clamp, laplace, gaussian, compositions all
    # are). "floating-point" is not enabled: the float sum and Laplace used
    # here are the versions OpenDP proves safe against floating-point attacks
    # (its map accounts for rounding), so nothing needs that opt-in.
    dp.enable_features("contrib")
    return dp


@dataclass(frozen=True, slots=True)
class NoisyValue:
    """One released number, its noise scale and the mechanism that added the noise."""

    label: str
    value: float
    scale: float  # Laplace b, or Gaussian sigma

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Release:
    """A differentially private release: noisy values, estimates from them, and what it cost.

    ``values`` are the mechanism's outputs, each with its noise scale;
    ``estimates`` are post-processed from them (a mean, selection rates;
    ``None`` where the noisy denominator is not positive). ``epsilon`` and
    ``delta`` are what OpenDP's privacy map states for the whole release.
    """

    statistic: str
    mechanism: str
    epsilon: float
    delta: float
    contributions: int
    values: tuple[NoisyValue, ...]
    estimates: dict[str, float | None]
    parameters: dict[str, Any]
    dataset: str | None = None
    release_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic,
            "mechanism": self.mechanism,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "contributions": self.contributions,
            "values": [v.to_dict() for v in self.values],
            "estimates": dict(self.estimates),
            "parameters": dict(self.parameters),
            "dataset": self.dataset,
            "release_id": self.release_id,
            "note": "differentially private (OpenDP); not for NYC LL144 bias audits",
        }

    def lines(self) -> list[str]:
        """One line per number: the value, its noise scale and the release's epsilon."""
        cost = f"epsilon={self.epsilon:.4g}" + (f", delta={self.delta:.3g}" if self.delta else "")
        out = [
            f"{v.label}: {_fmt(v.value)}  ({self.mechanism} noise, scale {v.scale:.4g}; {cost})"
            for v in self.values
        ]
        out += [
            f"{label}: {'n/a' if value is None else _fmt(value)}  (from the values above; {cost})"
            for label, value in self.estimates.items()
        ]
        return out


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4f}"


@dataclass(frozen=True)
class Query:
    """A calibrated OpenDP measurement, ready to run on a table (see :func:`plan`)."""

    statistic: str
    mechanism: str
    epsilon: float
    delta: float
    contributions: int
    columns: tuple[str, ...]
    parameters: dict[str, Any]
    measurement: Any
    labels: tuple[str, ...]
    scales: tuple[float, ...]
    prepare: Callable[[Any], Any]
    finish: Callable[[list[float]], dict[str, float | None]]

    def run(self, table: Any) -> Release:
        """Release the statistic of ``table`` (a pyarrow Table with :attr:`columns`)."""
        for name in self.columns:
            if name not in table.column_names:
                raise MissingColumnError(name, available=table.column_names)
        dp = _opendp()
        try:
            raw = self.measurement(self.prepare(table))
        except dp.OpenDPException as exc:  # e.g. a sum that overflows: say so, no traceback
            raise InputError(f"OpenDP refused the {self.statistic}: {first_line(exc)}") from None
        flat = _flatten(raw)
        values = tuple(
            NoisyValue(label, float(v), scale)
            for label, v, scale in zip(self.labels, flat, self.scales, strict=True)
        )
        return Release(
            statistic=self.statistic,
            mechanism=self.mechanism,
            epsilon=self.epsilon,
            delta=self.delta,
            contributions=self.contributions,
            values=values,
            estimates=self.finish(flat),
            parameters=self.parameters,
        )


def _flatten(raw: Any) -> list[float]:
    if isinstance(raw, list | tuple):
        return [x for part in raw for x in _flatten(part)]
    return [raw]


def plan(
    statistic: str,
    *,
    epsilon: float,
    delta: float = 0.0,
    mechanism: str | None = None,
    column: str | None = None,
    bounds: tuple[float, float] | None = None,
    categories: Sequence[str] | None = None,
    group_column: str | None = None,
    outcome_column: str | None = None,
    positive: str = "1",
    contributions: int = 1,
    report: str | None = None,
) -> Query:
    """Calibrate the OpenDP measurement for ``statistic`` at ``epsilon`` (and ``delta``).

    ``mechanism`` defaults to ``laplace`` without delta and ``gaussian`` with
    one. ``sum`` and ``mean`` need ``column`` and ``bounds`` (values are
    clamped to them; declare them from knowledge, not from the data);
    ``histogram`` needs ``column`` and ``categories``; ``selection_rates``
    needs ``group_column`` (with the groups as ``categories``) and
    ``outcome_column`` (``positive``: the outcome value counted as selected).
    ``report`` names what the numbers are for: LL144 is refused.

    Example:
        >>> q = plan("histogram", column="race", categories=["A", "B"], epsilon=1.0)
        >>> q.labels, q.scales
        (('A', 'B', '(other)'), (1.0, 1.0, 1.0))
    """
    if report is not None and report.strip().lower() in _LL144:
        raise UsageError(
            "differential privacy is refused for NYC Local Law 144 outputs: the law requires "
            "the exact selection rates and impact ratios",
            hint="use `trustops report ll144` for the audit; DP is for other published statistics",
        )
    if statistic not in STATISTICS:
        raise UsageError(f"unknown statistic {statistic!r} (known: {', '.join(STATISTICS)})")
    if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
        raise InputError(f"epsilon must be a positive number, not {epsilon!r}")
    if not (isinstance(delta, int | float) and 0 <= delta < 1):
        raise InputError(f"delta must be in [0, 1), not {delta!r}")
    mechanism = mechanism or ("gaussian" if delta > 0 else "laplace")
    if mechanism not in MECHANISMS:
        raise UsageError(f"unknown mechanism {mechanism!r} (known: {', '.join(MECHANISMS)})")
    if mechanism == "gaussian" and delta <= 0:
        raise UsageError("the gaussian mechanism needs a delta > 0 (e.g. --delta 1e-6)")
    if mechanism == "laplace" and delta > 0:
        raise UsageError("the laplace mechanism is pure epsilon-DP: leave delta at 0")
    if not isinstance(contributions, int) or contributions < 1:
        raise InputError(f"contributions must be a whole number >= 1, not {contributions!r}")
    builder = _Builder(_opendp(), mechanism, epsilon, delta, contributions)
    base = {"contributions": contributions}
    if statistic == "count":
        return builder.count(base)
    if statistic in ("sum", "mean"):
        if column is None:
            raise UsageError(f"a {statistic} needs a column")
        lower, upper = _bounds(bounds, statistic)
        return builder.sum_or_mean(statistic, column, lower, upper, base)
    cats = _categories(categories, statistic)
    if statistic == "histogram":
        if column is None:
            raise UsageError("a histogram needs a column")
        return builder.histogram(column, cats, base)
    if group_column is None or outcome_column is None:
        raise UsageError("selection rates need a group column and an outcome column")
    return builder.selection_rates(group_column, outcome_column, str(positive), cats, base)


def _bounds(bounds: tuple[float, float] | None, statistic: str) -> tuple[float, float]:
    if bounds is None:
        raise UsageError(
            f"a {statistic} needs declared bounds (lower, upper)",
            hint="bounds come from knowledge of the column, never from the data itself",
        )
    lower, upper = (float(b) for b in bounds)
    if not (math.isfinite(lower) and math.isfinite(upper) and lower < upper):
        raise InputError(f"bounds must be finite with lower < upper, not {bounds!r}")
    return lower, upper


def _categories(categories: Sequence[str] | None, statistic: str) -> list[str]:
    if not categories:
        raise UsageError(
            f"{statistic} needs the categories declared up front",
            hint="taking them from the data would reveal which rare values exist",
        )
    cats = [str(c) for c in categories]
    if len(set(cats)) != len(cats):
        raise InputError(f"categories repeat a value: {cats}")
    if OTHER in cats:
        raise InputError(f"{OTHER!r} is reserved for values outside the categories")
    return cats


class _Builder:
    """Builds each statistic's measurement at the scale OpenDP proves for epsilon (and delta)."""

    def __init__(self, dp: Any, mechanism: str, epsilon: float, delta: float, d_in: int) -> None:
        self.dp, self.mechanism, self.epsilon, self.delta, self.d_in = (
            dp,
            mechanism,
            epsilon,
            delta,
            d_in,
        )

    def _strings(self) -> Any:
        dp = self.dp
        return dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance()

    def _floats(self) -> Any:
        dp = self.dp
        return dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()

    def _noise(self, transformation: Any, scale: float) -> Any:
        dp = self.dp
        if self.mechanism == "laplace":
            return transformation >> dp.m.then_laplace(scale=scale)
        zcdp = transformation >> dp.m.then_gaussian(scale=scale)
        return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(zcdp), self.delta)

    def _calibrated(self, transformation: Any, epsilon: float, delta: float) -> tuple[Any, float]:
        """The measurement with the smallest scale whose map proves (epsilon, delta)."""
        dp = self.dp
        saved = self.delta
        self.delta = delta
        try:

            def make(scale: float) -> Any:
                return self._noise(transformation, scale)

            d_out = epsilon if self.mechanism == "laplace" else (epsilon, delta)

            def proves(scale: float) -> bool:
                # OpenDP's binary_search_param lets a map's overflow at tiny scales
                # (exp of a huge epsilon in the zCDP conversion) escape; here it is a "no"
                try:
                    return bool(make(scale).check(self.d_in, d_out))
                except dp.OpenDPException:
                    return False

            upper = 1.0
            while not proves(upper):
                upper *= 2
                if upper > 2.0**80:
                    raise InputError(f"no noise scale gives epsilon {epsilon:g}; raise it")
            scale = float(dp.binary_search(proves, bounds=(0.0, upper), T=float))
            return make(scale), scale
        finally:
            self.delta = saved

    def _query(self, statistic: str, measurement: Any, **kw: Any) -> Query:
        cost = measurement.map(self.d_in)
        epsilon, delta = (float(cost), 0.0) if self.mechanism == "laplace" else map(float, cost)
        return Query(
            statistic=statistic,
            mechanism=self.mechanism,
            epsilon=epsilon,
            delta=delta,
            contributions=self.d_in,
            measurement=measurement,
            **kw,
        )

    def count(self, base: dict[str, Any]) -> Query:
        dp = self.dp
        meas, scale = self._calibrated(
            self._strings() >> dp.t.then_count(), self.epsilon, self.delta
        )
        return self._query(
            "count",
            meas,
            columns=(),
            parameters=base,
            labels=("count",),
            scales=(scale,),
            prepare=lambda table: [""] * table.num_rows,
            finish=lambda flat: {},
        )

    def sum_or_mean(
        self, statistic: str, column: str, lower: float, upper: float, base: dict[str, Any]
    ) -> Query:
        dp = self.dp
        summed = self._floats() >> dp.t.then_clamp((lower, upper)) >> dp.t.then_sum()
        params = {**base, "column": column, "bounds": [lower, upper]}
        if statistic == "sum":
            meas, scale = self._calibrated(summed, self.epsilon, self.delta)
            return self._query(
                "sum",
                meas,
                columns=(column,),
                parameters=params,
                labels=(f"sum of {column}",),
                scales=(scale,),
                prepare=lambda table: _floats(table, column),
                finish=lambda flat: {},
            )
        # a mean: half the budget for the sum, half for the count, composed by OpenDP
        counted = self._floats() >> dp.t.then_count()
        sum_meas, sum_scale = self._calibrated(summed, self.epsilon / 2, self.delta / 2)
        count_meas, count_scale = self._calibrated(counted, self.epsilon / 2, self.delta / 2)
        both = dp.c.make_composition([sum_meas, count_meas])

        def finish(flat: list[float]) -> dict[str, float | None]:
            total, n = flat
            if n <= 0:
                return {f"mean of {column}": None}
            return {f"mean of {column}": min(max(total / n, lower), upper)}

        return self._query(
            "mean",
            both,
            columns=(column,),
            parameters=params,
            labels=(f"sum of {column}", "count"),
            scales=(sum_scale, count_scale),
            prepare=lambda table: _floats(table, column),
            finish=finish,
        )

    def _counts_by(self, categories: list[str]) -> Any:
        dp = self.dp
        metric = "L1Distance<int>" if self.mechanism == "laplace" else "L2Distance<int>"
        return self._strings() >> dp.t.then_count_by_categories(
            categories=categories, null_category=True, MO=metric
        )

    def histogram(self, column: str, categories: list[str], base: dict[str, Any]) -> Query:
        meas, scale = self._calibrated(self._counts_by(categories), self.epsilon, self.delta)
        labels = (*categories, OTHER)
        return self._query(
            "histogram",
            meas,
            columns=(column,),
            parameters={**base, "column": column, "categories": categories},
            labels=labels,
            scales=(scale,) * len(labels),
            prepare=lambda table: _strings(table, column),
            finish=lambda flat: {},
        )

    def selection_rates(
        self,
        group_column: str,
        outcome_column: str,
        positive: str,
        groups: list[str],
        base: dict[str, Any],
    ) -> Query:
        # one cell per (group, selected?): a row is in exactly one cell, so the
        # whole vector has sensitivity 1 and costs epsilon once (parallel composition)
        cells = [f"{g}\x1f{s}" for g in groups for s in ("selected", "not selected")]
        meas, scale = self._calibrated(self._counts_by(cells), self.epsilon, self.delta)
        labels = (*(f"{g}: {s}" for g in groups for s in ("selected", "not selected")), OTHER)

        def prepare(table: Any) -> list[str]:
            group = _strings(table, group_column)
            outcome = _strings(table, outcome_column)
            return [
                f"{g}\x1f{'selected' if o == positive else 'not selected'}"
                for g, o in zip(group, outcome, strict=True)
            ]

        def finish(flat: list[float]) -> dict[str, float | None]:
            rates: dict[str, float | None] = {}
            for i, g in enumerate(groups):
                selected, rejected = flat[2 * i], flat[2 * i + 1]
                selected = max(selected, 0.0)
                total = selected + max(rejected, 0.0)
                rates[f"selection rate {g}"] = None if total <= 0 else min(selected / total, 1.0)
            known = [r for r in rates.values() if r is not None]
            top = max(known, default=0.0)
            for g in groups:  # the fairness summary, post-processed from the noisy rates
                rate = rates[f"selection rate {g}"]
                rates[f"impact ratio {g}"] = None if rate is None or top <= 0 else rate / top
            return rates

        return self._query(
            "selection_rates",
            meas,
            columns=(group_column, outcome_column),
            parameters={
                **base,
                "group_column": group_column,
                "outcome_column": outcome_column,
                "positive": positive,
                "categories": groups,
            },
            labels=labels,
            scales=(scale,) * len(labels),
            prepare=prepare,
            finish=finish,
        )


def _strings(table: Any, column: str) -> list[str]:
    """The column as text; a null becomes the empty string (counted under "(other)")."""
    values = table.column(column).to_pylist()
    return ["" if v is None else _text(v) for v in values]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _floats(table: Any, column: str) -> list[float]:
    """The column as floats, nulls and NaN dropped (a row-by-row filter: stability 1)."""
    import pyarrow as pa

    array = table.column(column)
    if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)):
        raise InputError(f"column {column!r} is {array.type}, not numeric: a sum needs numbers")
    return [float(v) for v in array.to_pylist() if v is not None and not math.isnan(v)]


def compute(data: Any, statistic: str, **options: Any) -> Release:
    """Release ``statistic`` of ``data`` (a pyarrow Table or a frame) without a budget ledger.

    For published numbers use :func:`trustops.privacy.budget.release`, which
    charges the dataset's budget and audits the release; this is the bare
    mechanism (tests, notebooks on data that is not registered).
    """
    import pyarrow as pa

    query = plan(statistic, **options)
    table = data if isinstance(data, pa.Table) else _to_arrow(data, query.columns)
    return query.run(table)


def _to_arrow(data: Any, columns: Sequence[str]) -> Any:
    import pyarrow as pa

    from trustops.engines.sources import open_source

    source = open_source(data)
    if columns:
        source = source.select(list(columns))
    return pa.Table.from_batches(list(source.batches()), schema=source.schema)
