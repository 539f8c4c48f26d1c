"""Scanning: the tallies of a column and of a batch, and the findings of the whole scan.

String columns go through every detector (whole values in the commonest layouts
in bulk, the rest one distinct value at a time), the birth-date parsers and the
protected-attribute vocabulary; integer columns are looked at as card numbers
and, when the name says SSN, as SSNs; date and timestamp columns as birth dates.
:meth:`PiiScan.report` then applies the column-level guards: a card column needs
more Luhn passes than chance gives, a birth-date column the tests of
:mod:`.birth_dates`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustops.core.quality.pii.birth_dates import (
    _birth_column,
    _birth_tally,
    _string_dates,
    _temporal_days,
)
from trustops.core.quality.pii.bulk import _POW10, _STRICT, _bulk, _card_status, _ssn_status
from trustops.core.quality.pii.detectors import _SSN_PLAIN, DETECTORS, Detector
from trustops.core.quality.pii.protected import (
    _protected_by_values,
    _value_terms,
    name_tokens,
    protected_attribute_from_name,
)
from trustops.core.quality.pii.report import (
    ColumnFindings,
    DetectorFinding,
    PiiReport,
    ProtectedAttribute,
)
from trustops.core.quality.pii.tallies import ColumnScan, DetectorTally, ScanSettings, _smallest
from trustops.errors import UsageError

LUHN_SHARE = 0.5  # of card-shaped values that must pass Luhn (chance: 1 in 10) ...
LUHN_EXCESS_SD = 4.0  # ... unless the passes exceed chance by this many standard deviations
# Column-name words that say SSN: only then are nine digits without separators SSNs.
_SSN_HINTS = frozenset({"ssn", "ssns", "socialsecurity"})

# ---------------------------------------------------------------------------- tallies


def logical_type(arrow_type: pa.DataType) -> str:
    """The kind of column, the same for every backend (pandas ``string`` and Polars
    ``large_string`` are both ``"string"``).

    >>> logical_type(pa.large_string()), logical_type(pa.timestamp("ns")), logical_type(pa.int8())
    ('string', 'timestamp', 'integer')
    """
    t = pa.types
    if t.is_dictionary(arrow_type):
        return logical_type(arrow_type.value_type)
    for kind, test in (
        ("string", lambda x: t.is_string(x) or t.is_large_string(x) or _is_string_view(x)),
        ("integer", t.is_integer),
        ("float", t.is_floating),
        ("decimal", t.is_decimal),
        ("boolean", t.is_boolean),
        ("date", t.is_date),
        ("timestamp", t.is_timestamp),
        ("time", t.is_time),
        ("duration", t.is_duration),
        ("binary", lambda x: t.is_binary(x) or t.is_large_binary(x) or t.is_fixed_size_binary(x)),
        ("nested", t.is_nested),
        ("null", t.is_null),
    ):
        if test(arrow_type):
            return kind
    return "other"


def _is_string_view(arrow_type: pa.DataType) -> bool:
    return bool(getattr(pa.types, "is_string_view", lambda _: False)(arrow_type))


def _scan_text(
    values: pa.Array, detector: Detector, k: int, bulk: str | None
) -> DetectorTally | None:
    candidates = values.filter(pc.match_substring_regex(values, detector.prefilter))
    if not len(candidates):
        return None
    examples: list[str] = []
    status = np.zeros(len(candidates), dtype=np.int8)
    handled = np.zeros(len(candidates), dtype=bool)
    if bulk is not None:
        handled, status, examples = _bulk(bulk, candidates)
    rest = candidates.filter(pa.array(~handled)) if handled.any() else candidates
    if len(rest):
        encoded = rest.dictionary_encode()
        distinct = np.zeros(len(encoded.dictionary), dtype=np.int8)
        for i, text in enumerate(encoded.dictionary.to_pylist()):  # each distinct value once
            is_candidate, masked = detector.classify(text)
            distinct[i] = 2 if masked is not None else int(is_candidate)
            if masked is not None:
                examples.append(masked)
        status[~handled] = distinct[encoded.indices.to_numpy(zero_copy_only=False)]
    found = int(np.count_nonzero(status))
    if not found:
        return None
    return DetectorTally(found, int(np.count_nonzero(status == 2)), _smallest(examples, k))


def _example_strings(values: np.ndarray, k: int, fmt: Callable[[int], str]) -> tuple[str, ...]:
    return _smallest((fmt(int(x)) for x in np.unique(values)[:k]), k)


def _card_key_mask(key: int) -> str:
    return "*" * (15 - key // 10_000) + f"{key % 10_000:04d}"


def _scan_integers(values: np.ndarray, ssn_hint: bool, k: int) -> dict[str, DetectorTally]:
    out = {}
    v = values[(values > 0) & (values <= np.iinfo(np.int64).max)].astype(np.int64)
    cards = _card_status(v)
    if cards.any():
        hits = v[cards == 2]
        # the smallest masks: the most digits (stars) first, then the last four digits
        keys = (19 - np.searchsorted(_POW10, hits, side="right")) * 10_000 + hits % 10_000
        examples = _example_strings(keys, k, _card_key_mask)
        out["card_number"] = DetectorTally(int(np.count_nonzero(cards)), len(hits), examples)
    if ssn_hint:
        ssn = v[v < 1_000_000_000]
        if len(ssn):
            status = _ssn_status(ssn)
            serials = ssn[status == 2] % 10_000
            examples = _example_strings(serials, k, lambda x: f"***-**-{x:04d}")
            out["ssn"] = DetectorTally(len(ssn), int(np.count_nonzero(status == 2)), examples)
    return out


def scan_column(
    array: pa.Array | pa.ChunkedArray, column: str, settings: ScanSettings
) -> ColumnScan:
    """Tallies of one column of one batch (see the module docstring)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], array.type)
    kind = logical_type(array.type)
    scan = ColumnScan(column, kind, settings, len(array), len(array) - array.null_count)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if _is_string_view(array.type):  # few kernels take views yet
        array = array.cast(pa.string())
    values = array.drop_null()
    if not len(values):
        return scan
    tokens = set(name_tokens(column))
    ssn_hint = bool(tokens & _SSN_HINTS) or {"social", "security"} <= tokens
    k = settings.max_examples
    if kind == "string":
        found = {}
        for detector in DETECTORS.values():
            bulk = detector.name if detector.name in _STRICT else None
            if detector.name == "ssn" and ssn_hint:
                detector, bulk = _SSN_PLAIN, "ssn_plain"
            tally = _scan_text(values, detector, k, bulk)
            if tally is not None:
                found[detector.name] = tally
        days = _string_dates(values)
        births = _birth_tally(days, np.zeros(len(days), dtype=bool), settings)
        return replace(scan, detectors=found, birth_dates=births, terms=_value_terms(values))
    if kind == "integer":
        return replace(scan, detectors=_scan_integers(values.to_numpy(), ssn_hint, k))
    if kind in ("date", "timestamp"):
        return replace(scan, birth_dates=_birth_tally(*_temporal_days(values), settings))
    return scan


@dataclass(frozen=True, slots=True)
class PiiScan:
    """The tallies of every column of a table (or of a part of it); a monoid."""

    settings: ScanSettings
    rows: int = 0
    columns: tuple[ColumnScan, ...] = ()

    @classmethod
    def zero(cls, schema: pa.Schema, settings: ScanSettings) -> PiiScan:
        return cls(
            settings,
            0,
            tuple(ColumnScan.zero(f.name, logical_type(f.type), settings) for f in schema),
        )

    def merge(self, other: PiiScan) -> PiiScan:
        if [c.column for c in self.columns] != [c.column for c in other.columns]:
            raise UsageError("cannot merge scans of tables with different columns")
        return PiiScan(
            self.settings,
            self.rows + other.rows,
            tuple(a.merge(b) for a, b in zip(self.columns, other.columns, strict=True)),
        )

    __add__ = merge

    def report(self, *, sample_limit: int | None = None, sampled: bool = False) -> PiiReport:
        """The findings: detectors past their column-level guards, protected attributes."""
        return PiiReport(
            self.rows,
            tuple(_findings(c) for c in self.columns),
            self.settings.reference_date,
            sample_limit,
            sampled,
        )


def scan_batch(batch: pa.RecordBatch | pa.Table, settings: ScanSettings) -> PiiScan:
    """The tallies of one batch, every column."""
    return PiiScan(
        settings,
        batch.num_rows,
        tuple(
            scan_column(batch.column(i), name, settings)
            for i, name in enumerate(batch.schema.names)
        ),
    )


# ---------------------------------------------------------------------------- findings


def _card_column(t: DetectorTally) -> bool:
    n, k = t.candidates, t.matches
    return k >= LUHN_SHARE * n or (k - 0.1 * n) > LUHN_EXCESS_SD * math.sqrt(0.09 * n)


def _findings(scan: ColumnScan) -> ColumnFindings:
    found = []
    for name, t in scan.detectors.items():
        if t.matches and (name != "card_number" or _card_column(t)):
            found.append(
                DetectorFinding(
                    name, t.matches, t.candidates, t.matches / scan.non_null, t.examples
                )
            )
    births = _birth_column(scan)
    if births:
        b = scan.birth_dates
        found.append(
            DetectorFinding(
                "date_of_birth", b.plausible, b.dates, b.plausible / scan.non_null, b.examples
            )
        )
    protected = protected_attribute_from_name(scan.column) or _protected_by_values(scan)
    if protected is None and births:
        protected = ProtectedAttribute("age", "values", "values are dates of birth")
    return ColumnFindings(scan.column, scan.type, scan.rows, scan.non_null, tuple(found), protected)
