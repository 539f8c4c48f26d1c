"""Out-of-range inputs: the share of values outside the reference's range.

For each input column the caller counts the values below the reference's
lowest edge and above its highest (the underflow and overflow bins of a
profile histogram on the reference's edges) out of all non-missing values::

    rate = (below + above) / total        an anomaly when rate > max_rate

A column with ``total = 0`` has no rate and is never an anomaly.

Example:
    >>> r = out_of_range_rate(3, 9, 1000, max_rate=0.01)
    >>> r.rate, r.anomaly_detected
    (0.012, True)
    >>> out_of_range_rates({"age": (0, 2, 500), "income": (40, 0, 500)}).flagged
    ('income',)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from trustops.errors import InputError, MissingColumnError, UsageError

__all__ = [
    "DEFAULT_MAX_RATE",
    "OutOfRange",
    "OutOfRangeReport",
    "out_of_range_rate",
    "out_of_range_rates",
]

DEFAULT_MAX_RATE = 0.01
"""Out-of-range share above which a column is an anomaly, unless told otherwise."""


@dataclass(frozen=True, slots=True)
class OutOfRange:
    """Counts below and above the reference range in one column, and their rate."""

    column: str | None
    below: int
    above: int
    total: int
    max_rate: float

    @property
    def rate(self) -> float | None:
        """(below + above) / total; ``None`` when there are no values."""
        return (self.below + self.above) / self.total if self.total else None

    @property
    def below_rate(self) -> float | None:
        return self.below / self.total if self.total else None

    @property
    def above_rate(self) -> float | None:
        return self.above / self.total if self.total else None

    @property
    def anomaly_detected(self) -> bool:
        rate = self.rate
        return rate is not None and rate > self.max_rate

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "below": self.below,
            "above": self.above,
            "total": self.total,
            "rate": self.rate,
            "below_rate": self.below_rate,
            "above_rate": self.above_rate,
            "max_rate": self.max_rate,
            "anomaly_detected": self.anomaly_detected,
        }


@dataclass(frozen=True, slots=True)
class OutOfRangeReport:
    """Out-of-range rates of several columns, in the order given."""

    columns: tuple[OutOfRange, ...]
    max_rate: float

    @property
    def flagged(self) -> tuple[str, ...]:
        """Columns whose out-of-range rate exceeds ``max_rate``."""
        return tuple(str(c.column) for c in self.columns if c.anomaly_detected)

    @property
    def anomaly_detected(self) -> bool:
        return any(c.anomaly_detected for c in self.columns)

    def __getitem__(self, column: str) -> OutOfRange:
        for c in self.columns:
            if c.column == column:
                return c
        raise MissingColumnError(column, available=[str(c.column) for c in self.columns])

    def __iter__(self) -> Iterator[OutOfRange]:
        return iter(self.columns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_rate": self.max_rate,
            "columns": [c.to_dict() for c in self.columns],
            "flagged": list(self.flagged),
            "anomaly_detected": self.anomaly_detected,
        }


def _check_max_rate(max_rate: float) -> float:
    max_rate = float(max_rate)
    if not (math.isfinite(max_rate) and 0 <= max_rate <= 1):
        raise UsageError(f"max_rate must be between 0 and 1, got {max_rate}")
    return max_rate


def _count(name: str, value: Any, column: str | None) -> int:
    where = f" of column {column!r}" if column is not None else ""
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}{where} is not a number ({value!r})") from None
    if not math.isfinite(as_float) or as_float != math.floor(as_float):
        raise InputError(f"{name}{where} is not a whole number ({value!r})")
    if as_float < 0:
        raise InputError(f"{name}{where} is negative ({value!r})")
    return int(as_float)


def out_of_range_rate(
    below: int,
    above: int,
    total: int,
    *,
    max_rate: float = DEFAULT_MAX_RATE,
    column: str | None = None,
) -> OutOfRange:
    """Share of ``total`` values below or above the reference range; anomaly above ``max_rate``.

    Example:
        >>> out_of_range_rate(0, 0, 0).to_dict()["rate"] is None
        True
    """
    max_rate = _check_max_rate(max_rate)
    b, a = _count("below", below, column), _count("above", above, column)
    n = _count("total", total, column)
    if b + a > n:
        where = f" in column {column!r}" if column is not None else ""
        raise InputError(f"below + above ({b} + {a}) exceeds total ({n}){where}")
    return OutOfRange(column, b, a, n, max_rate)


def out_of_range_rates(
    columns: Mapping[str, tuple[int, int, int]], *, max_rate: float = DEFAULT_MAX_RATE
) -> OutOfRangeReport:
    """:func:`out_of_range_rate` for each ``column → (below, above, total)``."""
    max_rate = _check_max_rate(max_rate)
    results = []
    for column, counts in columns.items():
        try:
            below, above, total = counts
        except (TypeError, ValueError):
            raise InputError(
                f"column {column!r}: expected (below, above, total), got {counts!r}"
            ) from None
        results.append(out_of_range_rate(below, above, total, max_rate=max_rate, column=column))
    return OutOfRangeReport(tuple(results), max_rate)
