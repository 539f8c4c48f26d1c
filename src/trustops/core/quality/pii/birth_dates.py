"""Dates of birth: plausible birth dates in date, timestamp and date-like text columns.

A value is a plausible birth date when it gives an age of 0–120 on the
reference date. A column is a birth-date column when its name says so
(``dob``, ``birthdate`` …) or when nearly all of its values are plausible
birth dates, without times of day, mostly of adults, spanning at least ten years.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustops.core.quality.pii.protected import _BIRTH_HINTS, name_tokens
from trustops.core.quality.pii.tallies import BirthDateTally, ColumnScan, ScanSettings

BIRTH_SHARE = 0.95  # of non-null values, for a birth-date column not named so
BIRTH_SPAN_DAYS = 3653  # ten years between the earliest and latest birth date

_ISO_DATE = (
    r"^\s*(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?)?\s*$"
)
_DMY_DATE = r"^\s*(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})\s*$"


def _to_days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of year/month/day arrays, and which of them are real dates."""
    ok = (m >= 1) & (m <= 12) & (d >= 1)
    months = ((y - 1970) * 12 + np.where(ok, m, 1) - 1).astype("datetime64[M]")
    start = months.astype("datetime64[D]").astype(np.int64)
    length = (months + 1).astype("datetime64[D]").astype(np.int64) - start
    return start + d - 1, ok & (d <= length)


def _string_dates(values: pa.Array) -> np.ndarray:
    days = []
    iso = pc.extract_regex(values, _ISO_DATE).drop_null()
    if len(iso):
        y, m, d = (iso.field(f).cast(pa.int64()).to_numpy() for f in "ymd")
        got, ok = _to_days(y, m, d)
        days.append(got[ok])
    dmy = pc.extract_regex(values, _DMY_DATE).drop_null()
    if len(dmy):
        a, b, y = (dmy.field(f).cast(pa.int64()).to_numpy() for f in ("a", "b", "y"))
        day_first, ok1 = _to_days(y, b, a)
        month_first, ok2 = _to_days(y, a, b)
        days.append(np.where(ok1, day_first, month_first)[ok1 | ok2])
    return np.concatenate(days) if days else np.zeros(0, dtype=np.int64)


_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def _temporal_days(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    if pa.types.is_date32(values.type):
        days = values.cast(pa.int32()).to_numpy().astype(np.int64)
        return days, np.zeros(len(days), dtype=bool)
    if pa.types.is_date64(values.type):
        ms = values.cast(pa.int64()).to_numpy()
        return ms // _PER_DAY["ms"], ms % _PER_DAY["ms"] != 0
    if values.type.tz is not None:  # the birth date is the local calendar day
        values = pc.local_timestamp(values)
    raw = values.cast(pa.int64()).to_numpy()
    per_day = _PER_DAY[values.type.unit]
    return raw // per_day, raw % per_day != 0


def _years_before(day: dt.date, years: int) -> int:
    try:
        shifted = day.replace(year=day.year - years)
    except ValueError:  # 29 February
        shifted = day.replace(year=day.year - years, day=28)
    return (shifted - dt.date(1970, 1, 1)).days


def _birth_tally(days: np.ndarray, timed: np.ndarray, settings: ScanSettings) -> BirthDateTally:
    ref = settings.reference_date
    hi, adult, lo = _years_before(ref, 0), _years_before(ref, 18), _years_before(ref, 121) + 1
    ok = (days >= lo) & (days <= hi)
    plausible = days[ok]
    if not len(plausible):
        return BirthDateTally(dates=len(days))
    years = plausible.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    return BirthDateTally(
        len(days),
        len(plausible),
        int((plausible <= adult).sum()),
        int(timed[ok].sum()),
        int(plausible.min()),
        int(plausible.max()),
        tuple(f"{d:03d}*-**-**" for d in np.unique(years // 10)[: settings.max_examples].tolist()),
    )


def _birth_column(scan: ColumnScan) -> bool:
    b = scan.birth_dates
    if not b.plausible:
        return False
    if set(name_tokens(scan.column)) & _BIRTH_HINTS:
        return True
    assert b.earliest is not None and b.latest is not None
    return (
        b.plausible >= BIRTH_SHARE * scan.non_null
        and b.timed == 0
        and b.adults >= 0.5 * b.plausible
        and b.latest - b.earliest >= BIRTH_SPAN_DAYS
    )
