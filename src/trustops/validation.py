"""Validate data against declared checks: ``trustops.validate(...)``.

The checks come from a YAML file (read with ``yaml.safe_load``), a mapping of
the same shape, or a parsed :class:`~trustops.core.quality.checks.CheckSuite`.
The data is profiled first, unless it is a profile already (or a saved
profile file), and only the columns the checks name are profiled; every
decision is then taken from the profile by
:func:`trustops.core.quality.checks.evaluate`, so a check gives the same
result on the data, on its profile, and on a profile saved and loaded again.

A column that the checks name but the data lacks is not an error here: each
rule on it reports status ``error`` (and ``required_columns`` fails), so one
run shows every problem at once.

Example:
    >>> import datetime as dt, pyarrow as pa
    >>> data = pa.table({"id": [1, 2, 2], "city": ["a", "b", None]})
    >>> checks = {"row_count": {"min": 1}, "columns": {"id": {"unique": True},
    ...     "city": {"max_null_rate": 0.1}, "zip": {"type": "string"}}}
    >>> report = validate(data, checks, now=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    >>> report.passed, [r.status for r in report.results]
    (False, ['pass', 'fail', 'fail', 'error'])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trustops.core.profiles import DatasetProfile
from trustops.core.profiles.categorical import DEFAULT_MAX_CATEGORIES
from trustops.core.quality.checks import CheckSuite, ValidationReport, evaluate, parse_checks
from trustops.engines.sources import open_source
from trustops.errors import InputError
from trustops.profiling import Progress, is_profile_file, load_profile, profile

__all__ = ["load_checks", "validate"]


def load_checks(checks: str | Path | Mapping[str, Any] | CheckSuite) -> CheckSuite:
    """Parse checks from a YAML file path, a mapping, or return a suite as is.

    Raises:
        InputError: the file is missing, is not valid YAML (the message names
            the file and the line), or declares a check wrongly (the message
            names the key, e.g. ``checks.yaml: columns.age.min must be ...``).
    """
    if isinstance(checks, CheckSuite):
        return checks
    if isinstance(checks, Mapping):
        return parse_checks(checks)
    import yaml

    path = Path(checks)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"checks file {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start is not None and (mark is None or start.line != mark.line):
            problem += f" ({context} that starts at line {start.line + 1})"
        raise InputError(f"{path.name}: invalid YAML{where}: {problem}") from None
    if doc is None:
        raise InputError(f"{path.name} declares no checks", hint="see docs/quality.md")
    return parse_checks(doc, source=path.name)


def validate(
    data: Any,
    checks: str | Path | Mapping[str, Any] | CheckSuite,
    *,
    now: dt.datetime | None = None,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    progress: Progress | None = None,
) -> ValidationReport:
    """Check ``data`` against ``checks`` and return the evidence.

    Args:
        data: any source :func:`trustops.profile` reads, a
            :class:`~trustops.core.profiles.DatasetProfile`, or the path of a
            saved profile file.
        checks: a YAML file path, a mapping of the same shape, or a
            :class:`~trustops.core.quality.checks.CheckSuite`.
        now: the time freshness is measured against (default: the current
            UTC time); a naive datetime is taken as UTC.
        max_categories: exact category counts up to this many distinct values
            (``allowed`` and ``unique`` are exact up to it).
        progress: called with the rows read, for a progress bar.

    Raises:
        InputError: the checks or the data cannot be read.
    """
    suite = load_checks(checks)
    if now is None:
        now = dt.datetime.now(dt.UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    if isinstance(data, str | Path) and is_profile_file(data):
        data = load_profile(data)
    if not isinstance(data, DatasetProfile):
        data = _profile(data, suite, max_categories, progress)
    return evaluate(suite, data, now=now)


def _profile(
    data: Any, suite: CheckSuite, max_categories: int, progress: Progress | None
) -> DatasetProfile:
    """Profile the columns the checks name that the data has (missing ones become errors)."""
    if type(data).__module__.split(".")[0] == "pyspark":
        names = list(data.columns)
    else:
        data = open_source(data)  # opened once: a CSV is not read twice
        names = data.schema.names
    wanted = [c for c in suite.columns if c in names]
    return profile(data, columns=wanted, max_categories=max_categories, progress=progress)
