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

The formulas of the rules are in :mod:`.rules`.

Modules, each importing only those above it:

- :mod:`.results`: :class:`CheckResult` and :class:`ValidationReport`, the evidence.
- :mod:`.durations`: :func:`parse_duration` and :func:`format_duration` (``7d``, ``1d 2h``).
- :mod:`.rules`: one frozen dataclass per rule, each checking itself against a profile.
- :mod:`.suite`: :class:`CheckSuite` and :func:`evaluate`.
- :mod:`.parse`: :func:`parse_checks`, from the YAML mapping to a :class:`CheckSuite`,
  and :class:`ChecksError`.

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

from trustops.core.quality.checks.durations import format_duration, parse_duration
from trustops.core.quality.checks.parse import COLUMN_RULES, TABLE_RULES, ChecksError, parse_checks
from trustops.core.quality.checks.results import SEVERITIES as SEVERITIES
from trustops.core.quality.checks.results import STATUSES, CheckResult, ValidationReport
from trustops.core.quality.checks.results import Severity as Severity
from trustops.core.quality.checks.results import Status as Status
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
)
from trustops.core.quality.checks.suite import CheckSuite, evaluate

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
