"""Parsing declared checks: the YAML mapping (what ``yaml.safe_load`` returns) to a suite.

:func:`parse_checks` validates every key and returns a
:class:`~trustops.core.quality.checks.CheckSuite`; anything wrong raises
:class:`ChecksError` naming the file and the path of the key at fault, with a
hint where one helps (``checks.yaml: columns.age: unknown rule 'maxx'``, hint
``did you mean 'max'?``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from trustops.core.profiles.dataset import KINDS
from trustops.core.quality.checks.durations import parse_duration
from trustops.core.quality.checks.results import SEVERITIES, Severity
from trustops.core.quality.checks.rules import (
    Allowed,
    ColumnType,
    Freshness,
    Maximum,
    MaxNanRate,
    MaxNullRate,
    Minimum,
    NoInfinite,
    RequiredColumns,
    RowCount,
    Rule,
    Unique,
    _arrow_type_text,
)
from trustops.core.quality.checks.suite import CheckSuite
from trustops.errors import InputError

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


class ChecksError(InputError):
    """A check declaration that cannot be used; ``path`` names the key at fault."""

    def __init__(self, source: str, path: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{source}: {path + ' ' if path else ''}{message}", hint=hint)
        self.path = path


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
