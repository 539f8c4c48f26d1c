"""PII detectors: personal data and protected attributes found per column, as mergeable tallies.

A scan reads record batches. In each string column, RE2 prefilters
(:func:`pyarrow.compute.match_substring_regex`) pick the candidate values in
bulk; only the distinct candidates go through the Python validators (Luhn, IBAN
mod-97, SSN area/group/serial rules, :mod:`ipaddress`, …). Integer columns are
checked for card numbers (13–19 digits, Luhn) and, when the column name says
SSN, for SSNs; date, timestamp and date-like string columns for birth dates.

The result of one batch is a :class:`PiiScan` of per-column
:class:`ColumnScan` tallies: counts, bounded sets of *masked* examples and
birth-date statistics. Tallies are a monoid (``zero`` / ``merge``), so scanning
batches or partitions and merging them, in any order, gives the same result as
scanning the whole. Decisions that need the whole column (is this a card
column or one of identifiers? is this a birth-date column?) are taken in
:meth:`PiiScan.report`, which returns the :class:`PiiReport` evidence.

Raw values never leave a batch: tallies and reports hold masked forms only.
The reference date for ages is passed in (this package never reads the clock).

Modules, each importing only those above it:

- :mod:`.report`: the evidence (:class:`PiiReport`, :class:`ColumnFindings`,
  :class:`DetectorFinding`, :class:`ProtectedAttribute`) with ``to_dict`` / ``from_dict``.
- :mod:`.detectors`: the text detectors: validators (Luhn, IBAN mod-97, SSN, phone,
  e-mail, IP), masks, and :data:`DETECTORS`.
- :mod:`.bulk`: whole values in the commonest layouts judged with Arrow kernels and NumPy.
- :mod:`.tallies`: :class:`ScanSettings` and the per-column monoid :class:`ColumnScan`.
- :mod:`.protected`: protected attributes from column names and from values.
- :mod:`.birth_dates`: dates of birth in date, timestamp and text columns.
- :mod:`.scan`: :func:`scan_column`, :func:`scan_batch`, :class:`PiiScan` and the
  column-level decisions of :meth:`PiiScan.report`.

Example:
    >>> import datetime, pyarrow as pa
    >>> settings = ScanSettings(reference_date=datetime.date(2025, 1, 1))
    >>> batch = pa.record_batch({"contact": ["ann@example.com", "n/a"], "sex": ["f", "m"]})
    >>> report = scan_batch(batch, settings).report()
    >>> report.pii_columns, report.protected_columns
    (['contact'], ['sex'])
    >>> report.column("contact").detectors[0].examples
    ('a***@e***.com',)
"""

from trustops.core.quality.pii.birth_dates import BIRTH_SHARE as BIRTH_SHARE
from trustops.core.quality.pii.birth_dates import BIRTH_SPAN_DAYS as BIRTH_SPAN_DAYS
from trustops.core.quality.pii.detectors import (
    DETECTOR_NAMES,
    DETECTORS,
    Detector,
    iban_valid,
    luhn_valid,
)
from trustops.core.quality.pii.detectors import IBAN_LENGTHS as IBAN_LENGTHS
from trustops.core.quality.pii.protected import VALUE_SHARE as VALUE_SHARE
from trustops.core.quality.pii.protected import name_tokens, protected_attribute_from_name
from trustops.core.quality.pii.report import (
    ColumnFindings,
    DetectorFinding,
    PiiReport,
    ProtectedAttribute,
)
from trustops.core.quality.pii.scan import LUHN_EXCESS_SD as LUHN_EXCESS_SD
from trustops.core.quality.pii.scan import LUHN_SHARE as LUHN_SHARE
from trustops.core.quality.pii.scan import PiiScan, logical_type, scan_batch, scan_column
from trustops.core.quality.pii.tallies import (
    BirthDateTally,
    ColumnScan,
    DetectorTally,
    ScanSettings,
)

__all__ = [
    "DETECTORS",
    "DETECTOR_NAMES",
    "BirthDateTally",
    "ColumnFindings",
    "ColumnScan",
    "Detector",
    "DetectorFinding",
    "DetectorTally",
    "PiiReport",
    "PiiScan",
    "ProtectedAttribute",
    "ScanSettings",
    "iban_valid",
    "logical_type",
    "luhn_valid",
    "name_tokens",
    "protected_attribute_from_name",
    "scan_batch",
    "scan_column",
]
