"""The outcome of declared checks: a :class:`CheckResult` per rule, in a :class:`ValidationReport`.

Both are frozen dataclasses with ``to_dict()`` / ``from_dict()``; the report's
dictionary is the ``data_quality`` evidence record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warn"]
Status = Literal["pass", "fail", "error", "not_evaluable"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "error", "not_evaluable")
SEVERITIES = ("error", "warn")


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
