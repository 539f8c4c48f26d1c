"""A parsed set of checks, and its evaluation against a profile."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from trustops.core.profiles.dataset import DatasetProfile
from trustops.core.quality.checks.results import ValidationReport
from trustops.core.quality.checks.rules import (
    Allowed,
    ColumnType,
    Freshness,
    Maximum,
    MaxNanRate,
    MaxNullRate,
    Minimum,
    RequiredColumns,
    RowCount,
    Rule,
    Unique,
    _iso,
)
from trustops.errors import UsageError


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
    """Check every rule of ``suite`` against ``profile`` (see :mod:`trustops.core.quality.checks`).

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
