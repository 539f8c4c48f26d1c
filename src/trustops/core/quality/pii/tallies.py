"""Per-column tallies of a scan: counts, masked examples and birth-date statistics; a monoid.

Tallies of two batches (or partitions) merge into the tallies of both; examples
are the smallest distinct masked forms, so the result does not depend on row
order or partitioning.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from trustops.core.quality.pii.detectors import DETECTOR_NAMES
from trustops.errors import UsageError


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """What every tally of one scan shares; tallies merge only under equal settings.

    Attributes:
        reference_date: ages are taken on this day (the caller's today).
        max_examples: masked examples kept per detector and column.
    """

    reference_date: dt.date
    max_examples: int = 3

    def __post_init__(self) -> None:
        if self.max_examples < 0:
            raise UsageError(f"max_examples must be at least 0, got {self.max_examples}")


def _smallest(examples: Iterable[str], k: int) -> tuple[str, ...]:
    # the k smallest distinct masked forms: independent of row order and partitioning
    return tuple(heapq.nsmallest(k, set(examples)))


@dataclass(frozen=True, slots=True)
class DetectorTally:
    """Values holding a candidate, values holding a match, and masked examples."""

    candidates: int = 0
    matches: int = 0
    examples: tuple[str, ...] = ()

    def merge(self, other: DetectorTally, max_examples: int) -> DetectorTally:
        return DetectorTally(
            self.candidates + other.candidates,
            self.matches + other.matches,
            _smallest((*self.examples, *other.examples), max_examples),
        )


@dataclass(frozen=True, slots=True)
class BirthDateTally:
    """Date values and how many are plausible birth dates (days since 1970-01-01).

    ``plausible``: age 0–120 on the reference date; ``adults``: of them, age 18 or more;
    ``timed``: of them, with a time of day other than midnight.
    """

    dates: int = 0
    plausible: int = 0
    adults: int = 0
    timed: int = 0
    earliest: int | None = None
    latest: int | None = None
    examples: tuple[str, ...] = ()

    def merge(self, other: BirthDateTally, max_examples: int) -> BirthDateTally:
        def pick(f: Callable[..., int], a: int | None, b: int | None) -> int | None:
            return b if a is None else a if b is None else f(a, b)

        return BirthDateTally(
            self.dates + other.dates,
            self.plausible + other.plausible,
            self.adults + other.adults,
            self.timed + other.timed,
            pick(min, self.earliest, other.earliest),
            pick(max, self.latest, other.latest),
            _smallest((*self.examples, *other.examples), max_examples),
        )


@dataclass(frozen=True, slots=True)
class ColumnScan:
    """One column's tallies; :meth:`zero` and :meth:`merge` make it a monoid."""

    column: str
    type: str
    settings: ScanSettings
    rows: int = 0
    non_null: int = 0
    detectors: Mapping[str, DetectorTally] = field(default_factory=dict)
    birth_dates: BirthDateTally = BirthDateTally()
    terms: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def zero(cls, column: str, type: str, settings: ScanSettings) -> ColumnScan:
        return cls(column, type, settings)

    def merge(self, other: ColumnScan) -> ColumnScan:
        """The tallies of both parts; the column, its type and the settings must agree."""
        if (self.column, self.type, self.settings) != (other.column, other.type, other.settings):
            raise UsageError(
                f"cannot merge scans of {self.column!r} ({self.type}) and "
                f"{other.column!r} ({other.type}) or with different settings"
            )
        k = self.settings.max_examples
        names = sorted({*self.detectors, *other.detectors}, key=DETECTOR_NAMES.index)
        empty = DetectorTally()
        return ColumnScan(
            self.column,
            self.type,
            self.settings,
            self.rows + other.rows,
            self.non_null + other.non_null,
            {
                n: self.detectors.get(n, empty).merge(other.detectors.get(n, empty), k)
                for n in names
            },
            self.birth_dates.merge(other.birth_dates, k),
            {
                t: self.terms.get(t, 0) + other.terms.get(t, 0)
                for t in sorted({*self.terms, *other.terms})
            },
        )

    __add__ = merge
