"""The rules of declared checks: one frozen dataclass each, checking itself against a profile.

Formulas (``n`` = rows; a numeric column's rows split into finite values,
NaN, +inf, -inf and nulls):

- ``max_null_rate``: (nulls + NaN) / n ≤ limit (``null_rate``; NaN is missing).
- ``max_nan_rate``: NaN / n ≤ limit.
- ``min`` / ``max``: the smallest / largest value, −inf / +inf included,
  NaN and nulls excluded, against the bound; no values passes. Datetime
  columns take ISO 8601 bounds; naive times are UTC.
- ``allowed``: every non-null value is in the set (compared as text, booleans
  as ``true``/``false``). A profile past its category cap holds more distinct
  values than the cap, so a set no larger than the cap fails for sure.
- ``unique``: no non-null value repeats (nulls are ignored, as in SQL).
  Exact for text and booleans; past the category cap, a frequent-items lower
  bound of 2 proves a repeat. Numeric: a repeat is proven when an integer
  column holds more values than integers in [min, max]; otherwise not
  evaluable.
- ``row_count``: min ≤ n ≤ max.
- ``freshness``: now − newest timestamp ≤ max_age (no timestamps fails).

Each rule returns a :class:`~trustops.core.quality.checks.CheckResult` whose
message states the observation against the bound, e.g. ``min of 'age' is 17 < 18``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa
from datasketches import frequent_items_error_type

from trustops.core.profiles.categorical import CategoricalProfile, sketch_key
from trustops.core.profiles.dataset import KINDS, DatasetProfile, null_rate
from trustops.core.profiles.numeric import NumericProfile
from trustops.core.quality.checks.durations import format_duration
from trustops.core.quality.checks.results import CheckResult, Severity, Status

# ---------------------------------------------------------------------------- formatting


def _num(x: float | None, digits: int = 6) -> str:
    if x is None:
        return "—"
    if isinstance(x, int) or (float(x).is_integer() and abs(x) < 1e15):
        return str(int(x))
    return f"{x:.{digits}g}"


def _iso(seconds: float) -> str:
    t = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    return t.isoformat().replace("+00:00", "Z")


def _listing(values: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f" (+{len(values) - limit} more)" if len(values) > limit else "")


# ---------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class _Rule:
    name: ClassVar[str]

    def _result(
        self, column: str | None, status: Status, observed: Any, expected: Any, message: str
    ) -> CheckResult:
        severity: Severity = getattr(self, "severity", "error")
        return CheckResult(self.name, column, status, observed, expected, message, severity)


@dataclass(frozen=True, slots=True)
class RequiredColumns(_Rule):
    """These columns are in the data (observed: the missing ones)."""

    name: ClassVar[str] = "required_columns"
    columns: tuple[str, ...]
    severity: Severity = "error"

    def check(self, profile: DatasetProfile, now: dt.datetime) -> CheckResult:
        missing = [c for c in self.columns if c not in profile.columns]
        if missing:
            return self._result(
                None,
                "fail",
                missing,
                list(self.columns),
                f"missing required column(s): {_listing(missing)}",
            )
        n = len(self.columns)
        return self._result(
            None, "pass", [], list(self.columns), f"all {n} required columns present"
        )


@dataclass(frozen=True, slots=True)
class RowCount(_Rule):
    """``min ≤ rows ≤ max`` (either bound may be absent)."""

    name: ClassVar[str] = "row_count"
    min: int | None = None
    max: int | None = None
    severity: Severity = "error"

    def check(self, profile: DatasetProfile, now: dt.datetime) -> CheckResult:
        n = profile.rows
        expected = {"min": self.min, "max": self.max}
        if self.min is not None and n < self.min:
            return self._result(None, "fail", n, expected, f"{n:,} rows < {self.min:,}")
        if self.max is not None and n > self.max:
            return self._result(None, "fail", n, expected, f"{n:,} rows > {self.max:,}")
        bounds = " and ".join(
            t
            for t in (
                f"≥ {self.min:,}" if self.min is not None else "",
                f"≤ {self.max:,}" if self.max is not None else "",
            )
            if t
        )
        return self._result(None, "pass", n, expected, f"{n:,} rows {bounds}".rstrip())


@dataclass(frozen=True, slots=True)
class Freshness(_Rule):
    """The newest timestamp of ``column`` is at most ``max_age`` before now (observed: seconds)."""

    name: ClassVar[str] = "freshness"
    column: str
    max_age: dt.timedelta
    severity: Severity = "error"

    def check(self, col: Any, kind: str, now: dt.datetime) -> CheckResult:
        limit = self.max_age.total_seconds()
        if kind == "null" or (kind == "datetime" and col.maximum is None):
            msg = f"{self.column!r} has no timestamps"
            return self._result(self.column, "fail", None, limit, msg)
        if kind != "datetime":
            return _wrong_kind(self, self.column, kind, "a datetime column", limit)
        age = now.timestamp() - col.maximum
        status: Status = "pass" if age <= limit else "fail"
        sign = "≤" if status == "pass" else ">"
        message = (
            f"newest {self.column!r} ({_iso(col.maximum)}) is {format_duration(age)} old "
            f"{sign} {format_duration(limit)}"
        )
        return self._result(self.column, status, age, limit, message)


@dataclass(frozen=True, slots=True)
class ColumnType(_Rule):
    """The column's kind (``numeric``, ``datetime`` …) or Arrow type (``int64``, ``string``)."""

    name: ClassVar[str] = "type"
    column: str
    expected: str
    severity: Severity = "error"

    def check(self, profile: DatasetProfile, kind: str) -> CheckResult:
        arrow = profile.types[self.column]
        if self.expected in KINDS:
            ok = kind == self.expected
        else:
            canonical = _arrow_type_text(self.expected) or self.expected
            ok = arrow == canonical or arrow.startswith((canonical + "[", canonical + "<"))
        what = "every value missing" if kind == "null" else kind
        sign = "" if ok else f", expected {self.expected}"
        message = f"{self.column!r} is {arrow} ({what}){sign}"
        return self._result(self.column, "pass" if ok else "fail", arrow, self.expected, message)


@dataclass(frozen=True, slots=True)
class MaxNullRate(_Rule):
    """(nulls + NaN) / rows ≤ ``limit``, as :func:`~trustops.core.profiles.null_rate`."""

    name: ClassVar[str] = "max_null_rate"
    column: str
    limit: float
    severity: Severity = "error"

    def check(self, col: Any, kind: str) -> CheckResult:
        return _rate(self, "null rate", null_rate(col), self.limit)


@dataclass(frozen=True, slots=True)
class MaxNanRate(_Rule):
    """NaN / rows ≤ ``limit`` (numeric columns; nulls are not NaN)."""

    name: ClassVar[str] = "max_nan_rate"
    column: str
    limit: float
    severity: Severity = "error"

    def check(self, col: Any, kind: str) -> CheckResult:
        if kind not in ("numeric", "datetime", "null"):
            return _wrong_kind(self, self.column, kind, "numeric columns", self.limit)
        nans = col.nans if isinstance(col, NumericProfile) else 0
        return _rate(self, "NaN rate", nans / col.total if col.total else None, self.limit)


@dataclass(frozen=True, slots=True)
class NoInfinite(_Rule):
    """No +inf or -inf value (numeric columns; observed: how many)."""

    name: ClassVar[str] = "no_infinite"
    column: str
    severity: Severity = "error"

    def check(self, col: Any, kind: str) -> CheckResult:
        if kind not in ("numeric", "datetime", "null"):
            return _wrong_kind(self, self.column, kind, "numeric columns", 0)
        n = col.pos_inf + col.neg_inf if isinstance(col, NumericProfile) else 0
        status: Status = "pass" if n == 0 else "fail"
        return self._result(
            self.column, status, n, 0, f"{self.column!r} has {n:,} infinite value(s)"
        )


@dataclass(frozen=True, slots=True)
class Minimum(_Rule):
    """Every value ≥ ``value`` (a number, or an aware datetime for datetime columns)."""

    name: ClassVar[str] = "min"
    column: str
    value: float | dt.datetime
    severity: Severity = "error"

    def check(self, col: Any, kind: str) -> CheckResult:
        return _bound(self, col, kind, self.value, lower=True)


@dataclass(frozen=True, slots=True)
class Maximum(_Rule):
    """Every value ≤ ``value`` (a number, or an aware datetime for datetime columns)."""

    name: ClassVar[str] = "max"
    column: str
    value: float | dt.datetime
    severity: Severity = "error"

    def check(self, col: Any, kind: str) -> CheckResult:
        return _bound(self, col, kind, self.value, lower=False)


@dataclass(frozen=True, slots=True)
class Allowed(_Rule):
    """Every non-null value is one of ``values`` (observed: the others, most frequent first)."""

    name: ClassVar[str] = "allowed"
    column: str
    values: tuple[Any, ...]
    severity: Severity = "error"

    def check(self, col: Any, kind: str) -> CheckResult:
        expected = list(self.values)
        if kind == "null":
            return self._result(self.column, "pass", [], expected, f"{self.column!r} has no values")
        if not isinstance(col, CategoricalProfile):
            msg = f"{self.column!r} is {kind}: its profile keeps no set of values"
            return self._result(self.column, "not_evaluable", None, expected, msg)
        keys = {sketch_key(v) for v in self.values}
        if col.counts is None:
            cap = col.max_categories
            if len(keys) <= cap:
                msg = f"{self.column!r} has more than {cap:,} distinct values, {len(keys)} allowed"
                return self._result(self.column, "fail", None, expected, msg)
            msg = f"{self.column!r} has more than {cap:,} distinct values: counts were not kept"
            return self._result(self.column, "not_evaluable", None, expected, msg)
        others = [(v, n) for v, n in col.top() if sketch_key(v) not in keys]
        if not others:
            msg = f"every value of {self.column!r} is allowed ({col.distinct} distinct)"
            return self._result(self.column, "pass", [], expected, msg)
        rows = sum(n for _, n in others)
        values = [v for v, _ in others]
        message = (
            f"{self.column!r} has {len(values)} value(s) outside the allowed set "
            f"in {rows:,} rows: {_listing(values)}"
        )
        return self._result(self.column, "fail", values, expected, message)


@dataclass(frozen=True, slots=True)
class Unique(_Rule):
    """No non-null value repeats (observed: rows repeating an earlier value, when known)."""

    name: ClassVar[str] = "unique"
    column: str
    severity: Severity = "error"

    def check(self, profile: DatasetProfile, col: Any, kind: str) -> CheckResult:
        c = self.column
        if kind == "null":
            return self._result(c, "pass", 0, 0, f"{c!r} has no values")
        if isinstance(col, CategoricalProfile):
            if col.counts is not None:
                repeats = col.count - col.distinct
                if repeats == 0:
                    return self._result(c, "pass", 0, 0, f"{col.count:,} values of {c!r} unique")
                dups = [v for v, n in col.top() if n > 1]
                msg = f"{c!r} has {repeats:,} repeated row(s), e.g. {_listing(dups, 3)}"
                return self._result(c, "fail", repeats, 0, msg)
            assert col.frequent is not None
            proven = col.frequent.get_frequent_items(
                frequent_items_error_type.NO_FALSE_POSITIVES, 1
            )
            if proven:
                msg = f"{c!r} repeats values, e.g. {_listing([r[0] for r in proven], 3)}"
                return self._result(c, "fail", None, 0, msg)
            msg = f"{c!r} has more than {col.max_categories:,} distinct values: counts not kept"
            return self._result(c, "not_evaluable", None, 0, msg)
        if isinstance(col, NumericProfile):
            if col.pos_inf > 1 or col.neg_inf > 1:
                return self._result(c, "fail", None, 0, f"{c!r} repeats an infinite value")
            values = col.count + col.pos_inf + col.neg_inf
            if values <= 1:
                return self._result(c, "pass", 0, 0, f"{c!r} has {values} value(s)")
            arrow = profile.types[c]
            lo, hi = col.minimum, col.maximum
            if arrow.startswith(("int", "uint")) and lo is not None and hi is not None:
                slots = int(hi - lo) + 1
                if col.count > slots:
                    msg = (
                        f"{c!r} holds {col.count:,} integers in [{_num(lo)}, {_num(hi)}], "
                        f"which has only {slots:,}: values repeat"
                    )
                    return self._result(c, "fail", None, 0, msg)
            msg = f"{c!r} is {kind}: a profile keeps no set of values (cast keys to string)"
            return self._result(c, "not_evaluable", None, 0, msg)
        return self._result(c, "not_evaluable", None, 0, f"{c!r} is {kind}: not profiled")


Rule = (
    RequiredColumns
    | RowCount
    | Freshness
    | ColumnType
    | MaxNullRate
    | MaxNanRate
    | NoInfinite
    | Minimum
    | Maximum
    | Allowed
    | Unique
)


def _wrong_kind(rule: Any, column: str, kind: str, needs: str, expected: Any) -> CheckResult:
    msg = f"{rule.name} applies to {needs}; {column!r} is {kind}"
    result: CheckResult = rule._result(column, "error", None, expected, msg)
    return result


def _rate(rule: Any, what: str, rate: float | None, limit: float) -> CheckResult:
    if rate is None:
        msg = f"{what} of {rule.column!r} is undefined (no rows)"
        result: CheckResult = rule._result(rule.column, "not_evaluable", None, limit, msg)
        return result
    ok = rate <= limit
    msg = f"{what} of {rule.column!r} is {_num(rate, 3)} {'≤' if ok else '>'} {_num(limit)}"
    result = rule._result(rule.column, "pass" if ok else "fail", rate, limit, msg)
    return result


def _bound(rule: Any, col: Any, kind: str, bound: float | dt.datetime, *, lower: bool) -> Any:
    c, what = rule.column, ("min" if lower else "max")
    is_time = isinstance(bound, dt.datetime)
    expected = _iso(bound.timestamp()) if isinstance(bound, dt.datetime) else bound
    if kind not in ("numeric", "datetime", "null"):
        return _wrong_kind(rule, c, kind, "numeric and datetime columns", expected)
    if kind == "datetime" and not is_time:
        msg = f"{what} of datetime column {c!r} must be a date or time (ISO 8601), not a number"
        return rule._result(c, "error", None, expected, msg)
    if kind == "numeric" and is_time:
        return rule._result(c, "error", None, expected, f"{c!r} is numeric; {what} is a date")
    value = _extreme(col, lower=lower) if isinstance(col, NumericProfile) else None
    if value is None:
        return rule._result(c, "pass", None, expected, f"{c!r} has no values")
    limit = bound.timestamp() if isinstance(bound, dt.datetime) else bound
    ok = value >= limit if lower else value <= limit
    sign = ("≥" if ok else "<") if lower else ("≤" if ok else ">")
    shown: Any = _iso(value) if is_time else value
    text = shown if is_time else _num(value)
    message = f"{what} of {c!r} is {text} {sign} {expected if is_time else _num(limit)}"
    return rule._result(c, "pass" if ok else "fail", shown, expected, message)


def _extreme(col: NumericProfile, *, lower: bool) -> float | None:
    """The smallest (``lower``) or largest non-NaN value, infinities included."""
    low, high = (-math.inf if col.neg_inf else None), (math.inf if col.pos_inf else None)
    if lower:
        return low if low is not None else col.minimum if col.count else high
    return high if high is not None else col.maximum if col.count else low


def _arrow_type_text(name: str) -> str | None:
    try:
        return str(pa.type_for_alias(name))
    except (ValueError, KeyError):
        return None
