"""Declared data-quality checks, evaluated against a profile.

A :class:`CheckSuite` is parsed from a plain mapping (what ``yaml.safe_load``
returns) by :func:`parse_checks`, which names the path of anything wrong
(``checks.yaml: columns.age.max_null_rate must be a number between 0 and 1``).
:func:`evaluate` checks every rule against a
:class:`~trustops.core.profiles.DatasetProfile` and returns a
:class:`ValidationReport`: one :class:`CheckResult` per rule, naming the rule,
the column, the observed and expected values, and a one-line message.

Statuses:

- ``pass`` / ``fail``: the rule holds / does not hold.
- ``error``: the rule cannot apply (the column is missing, ``min`` on a text
  column, a date bound on a number column).
- ``not_evaluable``: the rule applies but a profile cannot decide it
  (allowed categories of a numeric column; uniqueness of float values).

``passed`` is false when a rule of severity ``error`` fails or errors;
``warn`` rules and ``not_evaluable`` results never fail a report.

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

Example:
    >>> import datetime as dt, pyarrow as pa
    >>> from trustops.core.profiles import DatasetProfile, ProfilePlan
    >>> t = pa.table({"age": [17, 40, None], "race": ["A", "B", "Z"]})
    >>> p = DatasetProfile.zero(ProfilePlan(), t.schema).update(t)
    >>> suite = parse_checks({"columns": {"age": {"min": 18, "max_null_rate": 0.5},
    ...     "race": {"allowed": ["A", "B"]}}})
    >>> report = evaluate(suite, p, now=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    >>> [(r.rule, r.status) for r in report.results]
    [('min', 'fail'), ('max_null_rate', 'pass'), ('allowed', 'fail')]
    >>> report.results[0].message
    "min of 'age' is 17 < 18"
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pyarrow as pa
from datasketches import frequent_items_error_type

from trustops.core.profiles.categorical import CategoricalProfile, sketch_key
from trustops.core.profiles.dataset import KINDS, DatasetProfile, null_rate
from trustops.core.profiles.numeric import NumericProfile
from trustops.errors import InputError, UsageError

__all__ = [
    "COLUMN_RULES",
    "STATUSES",
    "TABLE_RULES",
    "Allowed",
    "CheckResult",
    "CheckSuite",
    "ChecksError",
    "ColumnType",
    "Freshness",
    "MaxNanRate",
    "MaxNullRate",
    "Maximum",
    "Minimum",
    "NoInfinite",
    "RequiredColumns",
    "RowCount",
    "Rule",
    "Unique",
    "ValidationReport",
    "evaluate",
    "format_duration",
    "parse_checks",
    "parse_duration",
]

Severity = Literal["error", "warn"]
Status = Literal["pass", "fail", "error", "not_evaluable"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "error", "not_evaluable")
SEVERITIES = ("error", "warn")
TABLE_RULES = ("required_columns", "row_count", "freshness")
COLUMN_RULES = (
    "type",
    "max_null_rate",
    "max_nan_rate",
    "min",
    "max",
    "allowed",
    "unique",
    "no_infinite",
)
_TOP_KEYS = ("version", "description", *TABLE_RULES, "columns")
# Parametrised Arrow types are matched by their text; the bare name matches any parameters.
_ARROW_FAMILIES = frozenset(
    [
        "timestamp",
        "duration",
        "time32",
        "time64",
        "date32",
        "date64",
        "decimal128",
        "decimal256",
        "dictionary",
        "list",
        "large_list",
        "fixed_size_list",
        "struct",
        "map",
        "fixed_size_binary",
    ]
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


class ChecksError(InputError):
    """A check declaration that cannot be used; ``path`` names the key at fault."""

    def __init__(self, source: str, path: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{source}: {path + ' ' if path else ''}{message}", hint=hint)
        self.path = path


# ---------------------------------------------------------------------------- results


def _json_value(x: Any) -> Any:
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, tuple | list):
        return [_json_value(v) for v in x]
    return x


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one rule.

    Attributes:
        rule: the rule's name (``max_null_rate``, ``row_count`` ...).
        column: the column checked, or ``None`` for a table rule.
        status: ``pass``, ``fail``, ``error`` or ``not_evaluable``.
        observed: what the profile shows (a number, ISO time, list), or ``None``.
        expected: the declared bound, set or type.
        message: one line for people, e.g. ``null rate of 'income' is 0.153 > 0.05``.
        severity: ``error`` (fails the report) or ``warn``.
    """

    rule: str
    column: str | None
    status: Status
    observed: Any
    expected: Any
    message: str
    severity: Severity = "error"

    @property
    def blocking(self) -> bool:
        """Whether this result fails the report (an ``error`` rule that failed or errored)."""
        return self.severity == "error" and self.status in ("fail", "error")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (infinite values as the strings ``"inf"``/``"-inf"``)."""
        return {
            "rule": self.rule,
            "column": self.column,
            "status": self.status,
            "severity": self.severity,
            "observed": _json_value(self.observed),
            "expected": _json_value(self.expected),
            "message": self.message,
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> CheckResult:
        return CheckResult(
            d["rule"],
            d.get("column"),
            d["status"],
            d.get("observed"),
            d.get("expected"),
            d.get("message", ""),
            d.get("severity", "error"),
        )


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Every rule's result, in declaration order (table rules first).

    ``to_dict()`` is the evidence record::

        {"kind": "data_quality", "passed": false, "rows": 1000,
         "evaluated_at": "2025-01-01T00:00:00Z", "results": [{...}],
         "counts": {"total": 9, "pass": 7, "fail": 1, "error": 1,
                    "not_evaluable": 0, "blocking": 2, "warnings": 0}}
    """

    results: tuple[CheckResult, ...]
    rows: int | None = None
    evaluated_at: str | None = None

    @property
    def passed(self) -> bool:
        """No ``error``-severity rule failed or errored."""
        return not any(r.blocking for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        """The results that fail the report."""
        return [r for r in self.results if r.blocking]

    @property
    def warnings(self) -> list[CheckResult]:
        """``warn`` rules that failed or errored."""
        return [r for r in self.results if r.severity == "warn" and r.status in ("fail", "error")]

    @property
    def counts(self) -> dict[str, int]:
        out = {"total": len(self.results)}
        for status in STATUSES:
            out[status] = sum(1 for r in self.results if r.status == status)
        out["blocking"] = len(self.failures)
        out["warnings"] = len(self.warnings)
        return out

    def result(self, rule: str, column: str | None = None) -> CheckResult:
        """The first result of ``rule`` (on ``column``); ``KeyError`` if none."""
        for r in self.results:
            if r.rule == rule and r.column == column:
                return r
        raise KeyError((rule, column))

    def to_dict(self) -> dict[str, Any]:
        """The evidence record (see the class docstring)."""
        return {
            "kind": "data_quality",
            "passed": self.passed,
            "rows": self.rows,
            "evaluated_at": self.evaluated_at,
            "results": [r.to_dict() for r in self.results],
            "counts": self.counts,
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> ValidationReport:
        return ValidationReport(
            tuple(CheckResult.from_dict(r) for r in d["results"]),
            d.get("rows"),
            d.get("evaluated_at"),
        )


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


def parse_duration(text: str) -> dt.timedelta:
    """``"90m"``, ``"24h"``, ``"7d"``, ``"1d12h"`` … as a timedelta (units s, m, h, d, w).

    >>> parse_duration("1d12h")
    datetime.timedelta(days=1, seconds=43200)
    """
    compact = text.replace(" ", "").lower()
    parts = _DURATION.findall(compact)
    if not compact or "".join(a + u for a, u in parts) != compact:
        raise ValueError(f"not a duration: {text!r}")
    return dt.timedelta(seconds=sum(float(a) * _UNITS[u] for a, u in parts))


def format_duration(seconds: float) -> str:
    """A duration for people, in its two largest units: ``1d 2h``, ``3h 5m``, ``42s``.

    >>> format_duration(93_900)
    '1d 2h'
    """
    sign, s = ("-" if seconds < 0 else ""), abs(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size or (unit == "s" and not parts):
            n = int(s // size)
            s -= n * size
            parts.append(f"{n}{unit}")
    return sign + " ".join(parts[:2])


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


# ---------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, slots=True)
class CheckSuite:
    """Parsed checks: the rules in declaration order (table rules first)."""

    rules: tuple[Rule, ...]
    source: str = "checks"

    @property
    def columns(self) -> list[str]:
        """Every column a rule names, in order of first mention."""
        names: dict[str, None] = {}
        for rule in self.rules:
            if isinstance(rule, RequiredColumns):
                names.update(dict.fromkeys(rule.columns))
            elif not isinstance(rule, RowCount):
                names[rule.column] = None
        return list(names)


def evaluate(suite: CheckSuite, profile: DatasetProfile, *, now: dt.datetime) -> ValidationReport:
    """Check every rule of ``suite`` against ``profile`` (see the module docstring).

    ``now`` (timezone-aware) is the clock freshness is measured against; the
    core never reads the clock itself.

    Raises:
        UsageError: ``now`` has no timezone.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise UsageError("now must be timezone-aware", hint="e.g. datetime.now(timezone.utc)")
    results = []
    for rule in suite.rules:
        if isinstance(rule, RequiredColumns | RowCount):
            results.append(rule.check(profile, now))
            continue
        name = rule.column
        if name not in profile.columns:
            message = f"column {name!r} not in the data"
            results.append(rule._result(name, "error", None, _expected(rule), message))
            continue
        col, kind = profile.columns[name], profile.kinds[name]
        if isinstance(rule, Freshness):
            results.append(rule.check(col, kind, now))
        elif isinstance(rule, ColumnType):
            results.append(rule.check(profile, kind))
        elif isinstance(rule, Unique):
            results.append(rule.check(profile, col, kind))
        else:
            results.append(rule.check(col, kind))
    stamp = now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return ValidationReport(tuple(results), profile.rows, stamp)


def _expected(rule: Rule) -> Any:
    if isinstance(rule, Freshness):
        return rule.max_age.total_seconds()
    if isinstance(rule, ColumnType):
        return rule.expected
    if isinstance(rule, MaxNullRate | MaxNanRate):
        return rule.limit
    if isinstance(rule, Minimum | Maximum):
        v = rule.value
        return _iso(v.timestamp()) if isinstance(v, dt.datetime) else v
    if isinstance(rule, Allowed):
        return list(rule.values)
    return 0


# ---------------------------------------------------------------------------- parsing


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str, *, hint: str | None = None) -> ChecksError:
        return ChecksError(self.source, path, message, hint=hint)

    def unknown(self, path: str, key: Any, known: Sequence[str], what: str) -> ChecksError:
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
        where = f"{path}: " if path else ""
        return ChecksError(self.source, "", f"{where}unknown {what} {key!r}", hint=hint)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"must be a mapping, not {_yaml_type(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.fail(path, f"has the key {key!r}, which is not text (quote it)")
        return value

    def keys(self, value: Mapping[str, Any], path: str, known: Sequence[str], what: str) -> None:
        for key in value:
            if key not in known:
                raise self.unknown(path, key, known, what)

    def severity(self, value: Any, path: str) -> Severity:
        if value not in SEVERITIES:
            raise self.fail(path, f"must be 'error' or 'warn', not {value!r}")
        severity: Severity = value
        return severity

    def number(self, value: Any, path: str, what: str = "a number") -> float:
        if isinstance(value, str):  # YAML 1.1 reads 1e6 (no dot) as text
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(path, f"must be {what}, not {_yaml_type(value)}")
        return value

    def rate(self, value: Any, path: str) -> float:
        rate = self.number(value, path, "a number between 0 and 1")
        if not 0 <= rate <= 1:
            raise self.fail(path, f"must be a number between 0 and 1, not {rate}")
        return float(rate)

    def count(self, value: Any, path: str) -> int:
        n = self.number(value, path, "a whole number ≥ 0")
        if n < 0 or not float(n).is_integer():
            raise self.fail(path, f"must be a whole number ≥ 0, not {n}")
        return int(n)

    def flag(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, not {_yaml_type(value)}")
        return value

    def name(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(path, f"must be a column name, not {_yaml_type(value)}")
        return value

    def bound(self, value: Any, path: str) -> float | dt.datetime:
        if isinstance(value, dt.datetime | dt.date):
            return _aware(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
            try:
                return _aware(dt.datetime.fromisoformat(value))
            except ValueError:
                raise self.fail(
                    path, f"must be a number or an ISO 8601 date/time, not {value!r}"
                ) from None
        return self.number(value, path, "a number or an ISO 8601 date/time")

    def duration(self, value: Any, path: str) -> dt.timedelta:
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return parse_duration(value)
        except ValueError:
            raise self.fail(
                path, f"must be a duration like 90m, 24h or 7d, not {value!r}"
            ) from None

    def long_form(
        self, value: Any, path: str, default: Severity, main: str = "value"
    ) -> tuple[Any, Severity]:
        """``x`` or ``{value: x, severity: warn}``."""
        if isinstance(value, Mapping) and main in value:
            self.mapping(value, path)
            self.keys(value, path, (main, "severity"), "key")
            return value[main], self.severity(value.get("severity", default), path + ".severity")
        return value, default


def _aware(value: dt.date) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _yaml_type(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def parse_checks(checks: Mapping[str, Any], *, source: str = "checks") -> CheckSuite:
    """Parse and validate declared checks (the YAML format of ``docs/quality.md``).

    ``source`` names the file in messages. Raises :class:`ChecksError`
    (an :class:`~trustops.errors.InputError`) naming the path at fault.

    Example:
        >>> suite = parse_checks({"row_count": {"min": 10}, "columns": {"x": {"unique": True}}})
        >>> [r.name for r in suite.rules], suite.columns
        (['row_count', 'unique'], ['x'])
    """
    p = _Parser(source)
    top = p.mapping(checks, "")
    p.keys(top, "", _TOP_KEYS, "key")
    if "version" in top and top["version"] != 1:
        raise p.fail("version", f"must be 1, not {top['version']!r}")
    rules: list[Rule] = []
    if "required_columns" in top:
        names, sev = p.long_form(top["required_columns"], "required_columns", "error", "columns")
        if not isinstance(names, list) or not names:
            raise p.fail("required_columns", "must be a list of column names")
        cols = [p.name(n, f"required_columns[{i}]") for i, n in enumerate(names)]
        rules.append(RequiredColumns(tuple(dict.fromkeys(cols)), sev))
    if "row_count" in top:
        spec = p.mapping(top["row_count"], "row_count")
        p.keys(spec, "row_count", ("min", "max", "severity"), "key")
        lo = p.count(spec["min"], "row_count.min") if spec.get("min") is not None else None
        hi = p.count(spec["max"], "row_count.max") if spec.get("max") is not None else None
        if lo is None and hi is None:
            raise p.fail("row_count", "needs min, max or both")
        if lo is not None and hi is not None and lo > hi:
            raise p.fail("row_count", f"has min {lo} above max {hi}")
        rules.append(RowCount(lo, hi, p.severity(spec.get("severity", "error"), "row_count")))
    if "freshness" in top:
        spec = p.mapping(top["freshness"], "freshness")
        p.keys(spec, "freshness", ("column", "max_age", "severity"), "key")
        for key in ("column", "max_age"):
            if key not in spec:
                raise p.fail("freshness", f"needs {key!r}")
        rules.append(
            Freshness(
                p.name(spec["column"], "freshness.column"),
                p.duration(spec["max_age"], "freshness.max_age"),
                p.severity(spec.get("severity", "error"), "freshness.severity"),
            )
        )
    columns = p.mapping(top.get("columns") or {}, "columns")
    for column, spec in columns.items():
        rules.extend(_column_rules(p, column, spec))
    return CheckSuite(tuple(rules), source)


def _column_rules(p: _Parser, column: str, spec: Any) -> list[Rule]:
    base = f"columns.{column}"
    spec = p.mapping(spec, base)
    p.keys(spec, base, (*COLUMN_RULES, "severity"), "rule")
    default = p.severity(spec.get("severity", "error"), f"{base}.severity")
    rules: list[Rule] = []
    lo_hi: dict[str, float | dt.datetime] = {}
    for key, raw in spec.items():
        if key == "severity":
            continue
        path = f"{base}.{key}"
        value, sev = p.long_form(raw, path, default)
        if key == "type":
            if not isinstance(value, str):
                raise p.fail(path, f"must be a kind or an Arrow type name, not {_yaml_type(value)}")
            if value not in KINDS and not _arrow_type_text(value):
                family = re.split(r"[\[<]", value, maxsplit=1)[0]
                if family not in _ARROW_FAMILIES:
                    raise p.fail(
                        path,
                        f"names an unknown type {value!r}",
                        hint=f"a kind ({', '.join(KINDS)}) or an Arrow type like int64, "
                        "double, string, bool, timestamp[us]",
                    )
            rules.append(ColumnType(column, value, sev))
        elif key in ("max_null_rate", "max_nan_rate"):
            cls = MaxNullRate if key == "max_null_rate" else MaxNanRate
            rules.append(cls(column, p.rate(value, path), sev))
        elif key in ("min", "max"):
            lo_hi[key] = p.bound(value, path)
            bound_cls = Minimum if key == "min" else Maximum
            rules.append(bound_cls(column, lo_hi[key], sev))
        elif key == "allowed":
            if not isinstance(value, list) or not value:
                raise p.fail(path, "must be a non-empty list of values")
            for i, v in enumerate(value):
                if v is None or not isinstance(v, str | int | float | bool):
                    raise p.fail(
                        f"{path}[{i}]",
                        f"must be text, a number or true/false, not {_yaml_type(v)}",
                        hint="missing values are limited by max_null_rate",
                    )
            rules.append(Allowed(column, tuple(value), sev))
        elif key in ("unique", "no_infinite") and p.flag(value, path):
            rules.append(Unique(column, sev) if key == "unique" else NoInfinite(column, sev))
    if len(lo_hi) == 2:
        lo, hi = lo_hi["min"], lo_hi["max"]
        same = isinstance(lo, dt.datetime) == isinstance(hi, dt.datetime)
        if same and lo > hi:  # type: ignore[operator]
            raise p.fail(base, f"has min {lo} above max {hi}")
    return rules
