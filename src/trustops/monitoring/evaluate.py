"""Evaluate a monitor's windows: one function for batch mode and for the server.

:func:`evaluate` takes the prediction log as an Arrow table (from Parquet
files in a lake, or from the predictions stored by the server — both paths
call it the same way), the monitor's configuration, the reference profile
and the monitor's state, and returns each newly closed window's results,
the alert decisions and the next state. It stores and sends nothing; the
runner (:mod:`trustops.monitoring.runner`) does that.

Per window and check:

- **fairness**: the fairness core's report on the window's rows
  (:func:`trustops.assess.assess_fairness`, count-table bootstrap), one series
  per sensitive attribute: the disparity and its bootstrap percentile
  interval. Selection rates need no ground truth (the predictions stand in for
  the labels); error-rate metrics use the rows whose label has arrived.
- **drift**: the window against the reference profile
  (:func:`trustops.drift.detect_drift`): the share of drifted features. Each
  column's verdict is a test, so a breach counts as supported.
- **performance**: on labelled rows; proportions (accuracy, true/false
  positive rate, precision) with Wilson intervals.

Then :mod:`trustops.core.monitoring.rules` turns statuses into alert
decisions (interval or persistence rule) and
:mod:`trustops.core.monitoring.alerts` deduplicates them.

Example:
    >>> import pyarrow as pa
    >>> from trustops.monitoring.config import build_config
    >>> cfg = build_config({"monitor": "m", "model": "scorer@1",
    ...     "window": {"kind": "count", "size": 4}, "persistence": 1,
    ...     "columns": {"time": "t", "prediction": "p", "sensitive": ["g"]},
    ...     "fairness": {"bootstrap": 0, "min_group_size": 1},
    ...     "checks": [{"metric": "fairness.selection_rate.difference", "op": "<=",
    ...                 "threshold": 0.2}]})
    >>> log = pa.table({"t": ["2026-01-01T00:00:00Z"] * 8, "p": [1, 1, 0, 0, 1, 0, 0, 1],
    ...                 "g": ["a", "a", "b", "b", "a", "b", "a", "b"]})
    >>> result = evaluate(log, cfg, now=0)
    >>> [(c.value, c.status, c.action) for w in result.windows for c in w.checks]
    [(1.0, 'breach', 'send'), (0.0, 'ok', 'resolve')]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustops.core.fairness.intervals import wilson_interval
from trustops.core.monitoring.alerts import AlertState, event_of, step
from trustops.core.monitoring.rules import decide, window_status
from trustops.core.monitoring.windows import (
    CountWindowing,
    TimeWindowing,
    Window,
    WindowPlan,
    plan_count_windows,
    plan_time_windows,
)
from trustops.errors import InputError, MissingColumnError, MissingValuesError
from trustops.monitoring.anomaly import chart_window, window_sums
from trustops.monitoring.config import LABEL_FREE, CheckSpec, MonitorConfig

__all__ = [
    "CheckResult",
    "Evaluation",
    "MonitorState",
    "WindowResult",
    "evaluate",
    "iso",
    "log_table",
    "micros",
]


def iso(us: int | None) -> str | None:
    """ISO-8601 UTC text of a time in µs (``None`` stays ``None``)."""
    if us is None:
        return None
    dt = datetime(1970, 1, 1, tzinfo=UTC) + _delta(us)
    return dt.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _delta(us: int) -> Any:
    from datetime import timedelta

    return timedelta(microseconds=int(us))


def micros(value: datetime | int) -> int:
    """µs since the epoch of an aware ``datetime`` (naive is taken as UTC), or an int as is."""
    if isinstance(value, int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class MonitorState:
    """What a monitor remembers between runs: the last window, breach runs, alert states."""

    last_window: int | None = None
    runs: Mapping[str, int] = field(default_factory=dict)
    alerts: Mapping[str, AlertState] = field(default_factory=dict)
    baselines: Mapping[str, list[float]] = field(default_factory=dict)  # anomaly charts' sums

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_window": self.last_window,
            "runs": dict(sorted(self.runs.items())),
            "alerts": {k: v.to_dict() for k, v in sorted(self.alerts.items())},
            "baselines": {k: list(v) for k, v in sorted(self.baselines.items())},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> MonitorState:
        d = d or {}
        return cls(
            d.get("last_window"),
            {str(k): int(v) for k, v in (d.get("runs") or {}).items()},
            {str(k): AlertState.from_dict(v) for k, v in (d.get("alerts") or {}).items()},
            {str(k): [float(x) for x in v] for k, v in (d.get("baselines") or {}).items()},
        )


@dataclass(frozen=True)
class CheckResult:
    """One check in one window: value, interval, threshold, status, decision and action."""

    key: str
    kind: str
    metric: str
    value: float | None
    low: float | None
    high: float | None
    op: str
    threshold: float
    status: str
    n: int
    source: str
    reason: str | None = None  # "interval" | "persistence" when the window alerts
    run: int = 0
    action: str = "none"  # send | suppress | resolve | none

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class WindowResult:
    """A closed window's results: its bounds, counts, checks and details (evidence content)."""

    monitor: str
    model: str
    window: Window
    at: int  # the window's time for cool-downs (its end; count windows: the newest event)
    checks: tuple[CheckResult, ...]
    details: Mapping[str, Any] = field(default_factory=dict)

    def window_dict(self) -> dict[str, Any]:
        w = self.window
        return {
            "index": w.index,
            "start": iso(w.start),
            "end": iso(w.end),
            "count": w.count,
            "late": w.late,
            "empty": w.empty,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "model": self.model,
            "window": self.window_dict(),
            "checks": [c.to_dict() for c in self.checks],
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class Evaluation:
    """The windows evaluated in one run, in order, and the monitor's next state."""

    windows: tuple[WindowResult, ...]
    state: MonitorState

    @property
    def alerts(self) -> list[tuple[WindowResult, CheckResult]]:
        """Checks whose action is ``send`` (new alerts and reminders), in window order."""
        return [(w, c) for w in self.windows for c in w.checks if c.action == "send"]


# -- reading the log ------------------------------------------------------------------


def log_table(data: Any, config: MonitorConfig, *, since: int | None = None) -> pa.Table:
    """The monitor's columns of ``data`` (any engine source, or a Spark DataFrame) as Arrow.

    ``since`` (µs) keeps only predictions made at or after it, batch by batch
    (in Spark, as a filter), so a run over a growing lake holds only the
    windows it has yet to evaluate.
    """
    names = _needed(config)
    time = config.columns.time
    if type(data).__module__.split(".")[0] == "pyspark":
        present = list(data.columns)
        for name in names:
            if name not in present:
                raise MissingColumnError(name, available=present)
        selected = data.select(*names)
        if since is not None and "timestamp" in dict(selected.dtypes).get(time, ""):
            from pyspark.sql import functions as f

            selected = selected.where(f.col(time) >= f.lit(_datetime(since)))
        if hasattr(selected, "toArrow"):
            return selected.toArrow()
        return pa.Table.from_pandas(selected.toPandas(), preserve_index=False)
    from trustops.engines.sources import open_source

    source = open_source(data)
    optional = {config.columns.received, config.columns.id} - {None}
    names = [n for n in names if n in source.schema.names or n not in optional]
    source = source.select(names)
    filtered = since is not None and time in source.schema.names
    batches = []
    for batch in source.batches():  # filtered as read: memory holds only what is kept
        if filtered:
            times = _time_column(pa.Table.from_batches([batch]), time)
            batch = batch.filter(pa.array(times >= since))
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=source.schema)


def _datetime(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + _delta(us)


def _needed(config: MonitorConfig) -> list[str]:
    c = config.columns
    names = [c.time, c.prediction, *c.sensitive]
    for optional in (c.received, c.id, c.score, c.label):
        if optional:
            names.append(optional)
    if any(k.kind == "drift" for k in config.checks):
        names += c.features
    return list(dict.fromkeys(names))


def _time_column(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        raise MissingColumnError(name, available=table.column_names, role="time")
    col = table.column(name)
    if col.null_count:
        raise MissingValuesError(name, col.null_count, hint="every prediction needs its time")
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        try:
            col = pc.cast(col, pa.timestamp("us", tz="UTC"))
        except pa.ArrowInvalid:
            try:
                col = pc.cast(col, pa.timestamp("us"))
            except pa.ArrowInvalid:
                raise InputError(
                    f"column {name!r}: not ISO-8601 times",
                    hint="write e.g. 2026-11-27T18:00:00Z",
                ) from None
    if not pa.types.is_timestamp(col.type):
        raise InputError(
            f"column {name!r} holds {col.type}, not times",
            hint="a timestamp column, or ISO-8601 text",
        )
    return np.asarray(
        col.cast(pa.timestamp("us", tz=col.type.tz)).cast(pa.int64()).to_numpy(), dtype=np.int64
    )


def _plan(
    table: pa.Table, config: MonitorConfig, now: int, after: int | None
) -> tuple[WindowPlan, np.ndarray]:
    events = _time_column(table, config.columns.time)
    received = config.columns.received
    arrivals = (
        _time_column(table, received) if received and received in table.column_names else None
    )
    w = config.window
    if w.kind == "count":
        order = arrivals if arrivals is not None else events
        return plan_count_windows(order, CountWindowing(w.size), after=after), events
    windowing = TimeWindowing(w.size, origin=w.origin_us, lateness=w.lateness_us)
    return (
        plan_time_windows(events, windowing, now=now, arrival_times=arrivals, after=after),
        events,
    )


# -- the checks ----------------------------------------------------------------------------


def _float(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


_Found = tuple[CheckSpec, str, float | None, float | None, float | None, int]
"""A check's (spec, key, value, low, high, rows used) in one window."""


def _fairness(
    rows: pa.Table, config: MonitorConfig, checks: Sequence[CheckSpec], details: dict[str, Any]
) -> list[_Found]:
    from trustops.assess import assess_fairness

    c = config.columns
    out: list[_Found] = []
    by_label: dict[bool, Any] = {}
    for check in checks:
        metric, _, convention = check.metric.rpartition(".")
        labelled = metric not in LABEL_FREE
        if labelled not in by_label:
            data = _with_attributes(rows, c.sensitive, details)
            if labelled:
                if not c.label or c.label not in rows.column_names:
                    raise MissingColumnError(
                        c.label or "label", available=rows.column_names, role="label"
                    )
                data = data.filter(pc.is_valid(data.column(c.label)))
            report = None
            if data.num_rows:
                report = assess_fairness(
                    data,
                    y_true=c.label if labelled else c.prediction,
                    y_pred=c.prediction,
                    sensitive=list(c.sensitive),
                    task="binary",
                    pos_label=config.pos_label,
                    bootstrap=config.bootstrap,
                    seed=config.seed,
                    confidence=config.confidence,
                    min_group_size=config.min_group_size,
                )
                details.setdefault("groups", {}).update(_group_values(report, metric))
            by_label[labelled] = (report, data.num_rows)
        report, n = by_label[labelled]
        for attribute in c.sensitive:
            key = f"{check.key}[{attribute}]"
            if report is None:
                out.append((check, key, None, None, None, 0))
                continue
            breakdown = next(b for b in report.breakdowns if b.name == attribute)
            value = _float(breakdown.disparities.get(metric, {}).get(convention))
            interval = breakdown.disparity_intervals.get(metric, {}).get(convention)
            low, high = (None, None) if interval is None else (interval[0], interval[1])
            out.append((check, key, value, _float(low), _float(high), n))
    return out


def _with_attributes(rows: pa.Table, names: Sequence[str], details: dict[str, Any]) -> pa.Table:
    """The rows whose sensitive attributes are all known; how many were not is a detail."""
    known = None
    for name in names:
        if name not in rows.column_names:
            raise MissingColumnError(name, available=rows.column_names, role="sensitive")
        valid = pc.is_valid(rows.column(name))
        known = valid if known is None else pc.and_(known, valid)
    if known is None:
        return rows
    kept = rows.filter(known)
    if kept.num_rows < rows.num_rows:
        details["rows_without_sensitive_attributes"] = rows.num_rows - kept.num_rows
    return kept


def _group_values(report: Any, metric: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for b in report.breakdowns:
        out.setdefault(b.name, {})[metric] = [
            {"group": str(next(iter(g.group.values()))), "count": g.count,
             "value": g.metrics.get(metric)}
            for g in b.groups
        ]  # fmt: skip
    return out


_PROPORTIONS = {
    # metric: (numerator cells, denominator cells) over (true, predicted) in {0, 1}²
    "accuracy": ({(0, 0), (1, 1)}, {(0, 0), (0, 1), (1, 0), (1, 1)}),
    "true_positive_rate": ({(1, 1)}, {(1, 0), (1, 1)}),
    "false_positive_rate": ({(0, 1)}, {(0, 0), (0, 1)}),
    "precision": ({(1, 1)}, {(0, 1), (1, 1)}),
}


def _binary(column: pa.ChunkedArray, pos_label: Any) -> np.ndarray:
    if pa.types.is_boolean(column.type):
        pos_label = bool(pos_label)
    return np.asarray(pc.equal(column, pa.scalar(pos_label, type=column.type)).to_numpy(), bool)


def _performance(
    rows: pa.Table, config: MonitorConfig, check: CheckSpec
) -> tuple[float | None, float | None, float | None, int]:
    c = config.columns
    if not c.label or c.label not in rows.column_names:
        raise MissingColumnError(c.label or "label", available=rows.column_names, role="label")
    labelled = rows.filter(pc.is_valid(rows.column(c.label)))
    if not labelled.num_rows:
        return None, None, None, 0
    y = _binary(labelled.column(c.label), config.pos_label).astype(np.int64)
    p = _binary(labelled.column(c.prediction), config.pos_label).astype(np.int64)
    cells = np.bincount(y * 2 + p, minlength=4).reshape(2, 2)
    tn, fp, fn, tp = cells[0, 0], cells[0, 1], cells[1, 0], cells[1, 1]
    if check.metric in _PROPORTIONS:
        num_cells, den_cells = _PROPORTIONS[check.metric]
        x = sum(int(cells[i, j]) for i, j in num_cells)
        n = sum(int(cells[i, j]) for i, j in den_cells)
        if n == 0:
            return None, None, None, int(labelled.num_rows)
        lo, hi = wilson_interval(x, n, config.confidence)
        return x / n, _float(lo), _float(hi), int(labelled.num_rows)
    tpr = tp / (tp + fn) if tp + fn else math.nan
    tnr = tn / (tn + fp) if tn + fp else math.nan
    if check.metric == "balanced_accuracy":
        value = (tpr + tnr) / 2
    else:  # f1
        value = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan
    return _float(value), None, None, int(labelled.num_rows)


def _drift(
    rows: pa.Table, config: MonitorConfig, reference: Any, details: dict[str, Any]
) -> tuple[float | None, int]:
    from trustops.drift import detect_drift

    features = list(config.columns.features)
    report = detect_drift(reference, rows.select(features), columns=features)
    details["drift"] = {
        "share_drifted": report.share_drifted,
        "drifted_columns": [col.column for col in report.columns if col.drift_detected],
    }
    return _float(report.share_drifted), rows.num_rows


def _window_checks(
    rows: pa.Table,
    window: Window,
    config: MonitorConfig,
    reference: Any,
    baselines: dict[str, list[float]],
) -> tuple[list[CheckResult], dict[str, Any]]:
    details: dict[str, Any] = {}
    found: list[_Found] = []
    fairness = [k for k in config.checks if k.kind == "fairness"]
    if fairness:
        if window.empty:
            found += [(k, f"{k.key}[{a}]", None, None, None, 0)
                      for k in fairness for a in config.columns.sensitive]  # fmt: skip
        else:
            found += _fairness(rows, config, fairness, details)
    for check in config.checks:
        if check.kind == "drift":
            if reference is None:
                raise InputError(f"monitor {config.name!r}: the drift check needs a reference")
            value, n = _drift(rows, config, reference, details) if not window.empty else (None, 0)
            found.append((check, check.key, value, None, None, n))
        elif check.kind == "performance":
            value, low, high, n = (
                _performance(rows, config, check) if not window.empty else (None, None, None, 0)
            )
            found.append((check, check.key, value, low, high, n))
        elif check.kind == "anomaly":
            spec = next(a for a in config.anomalies if a.statistic == check.metric)
            sums = window_sums(rows, config, spec.statistic) if not window.empty else (0, 0, 0)
            value, chart, baselines[spec.statistic] = chart_window(
                spec, sums, baselines.get(spec.statistic, [])
            )
            details.setdefault("anomalies", {})[spec.statistic] = chart
            found.append((check, check.key, value, None, None, int(sums[0])))
    results = []
    for check, key, value, low, high, n in found:
        status = window_status(
            value, low, high, check.op, check.threshold, tested=check.kind in _TESTED
        )
        results.append(
            CheckResult(key, check.kind, check.metric, value, low, high, check.op,
                        check.threshold, status, n, check.source)
        )  # fmt: skip
    return results, details


_TESTED = ("drift", "anomaly")  # their verdicts are tests: a breach counts as supported


def evaluate(
    data: Any,
    config: MonitorConfig,
    *,
    now: datetime | int,
    reference: Any = None,
    state: MonitorState | None = None,
) -> Evaluation:
    """Evaluate every window closed at ``now`` after ``state.last_window``.

    Args:
        data: the prediction log (an Arrow table, any engine source, a Spark
            DataFrame); rows of already evaluated windows may be included.
        config: the monitor.
        now: the evaluation time (aware ``datetime`` or µs).
        reference: the reference profile, for the drift check.
        state: the monitor's state after its previous run (default: a new monitor).
    """
    state = state or MonitorState()
    since = None
    if config.window.kind == "time" and state.last_window is not None:
        since = config.window.origin_us + (state.last_window + 1) * config.window.size
    table = data if isinstance(data, pa.Table) else log_table(data, config, since=since)
    for name in _needed(config):
        if name not in table.column_names and name not in (
            config.columns.received,
            config.columns.id,
            config.columns.label,
        ):
            raise MissingColumnError(name, available=table.column_names)
    plan, events = _plan(table, config, micros(now), state.last_window)
    runs = dict(state.runs)
    alerts = dict(state.alerts)
    baselines = {k: list(v) for k, v in state.baselines.items()}
    windows = []
    last = state.last_window
    for window, positions in plan:
        rows = table.take(pa.array(positions, type=pa.int64()))
        checks, details = _window_checks(rows, window, config, reference, baselines)
        if window.end is not None:
            at = window.end
        else:
            at = int(events[positions].max()) if positions.size else 0
        decided = []
        for check in checks:
            decision = decide(check.status, runs.get(check.key, 0), config.persistence)
            runs[check.key] = decision.run
            alert_state, action = step(
                alerts.get(check.key, AlertState()),
                event_of(check.status, decision.alert),
                at=at,
                cooldown=config.cooldown_us,
            )
            alerts[check.key] = alert_state
            decided.append(replace(check, reason=decision.reason, run=decision.run, action=action))
        windows.append(WindowResult(config.name, config.model, window, at, tuple(decided), details))
        last = window.index
    return Evaluation(tuple(windows), MonitorState(last, runs, alerts, baselines))
