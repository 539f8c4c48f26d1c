"""PII scan of any tabular source: the Python entry point.

:func:`scan_pii` opens the data with :func:`trustops.engines.sources.open_source`
(pandas, Polars, Arrow, dict, CSV, Parquet, DuckDB), scans it batch by batch
with the pure detectors of :mod:`trustops.core.quality.pii` and merges the
per-batch tallies into one :class:`~trustops.core.quality.pii.PiiReport`. It
passes today's date in (for birth dates) and never prints: a caller that wants
progress passes ``progress``, a function called with the rows read so far.

Example:
    >>> import datetime
    >>> report = scan_pii({"email": ["ann@example.com", None], "id": [1, 2]},
    ...                   reference_date=datetime.date(2025, 1, 1))
    >>> report.pii_columns, report.column("email").detectors[0].match_rate
    (['email'], 1.0)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from trustops.core.quality.pii import PiiReport, PiiScan, ScanSettings, scan_batch
from trustops.engines.sources import DEFAULT_BATCH_SIZE, BatchSource, open_source
from trustops.errors import InputError, UsageError, first_line

__all__ = ["scan_pii"]


def _column_list(columns: str | Sequence[str]) -> list[str]:
    names = [columns] if isinstance(columns, str) else list(columns)
    if not names:
        raise UsageError("columns must name at least one column (or be None for all)")
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise UsageError(f"columns must be names, got {type(name).__name__}")
        if name in names[:i]:
            raise UsageError(f"column {name!r} is given more than once")
    return names


def _batches(source: BatchSource) -> Iterator[pa.RecordBatch]:
    """The source's batches; a read that fails half-way is an input error naming the source."""
    batches = source.batches()
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"cannot read {source.name}: {first_line(exc)}") from None
        yield batch


def scan_pii(
    data: Any,
    *,
    columns: str | Sequence[str] | None = None,
    sample_limit: int | None = None,
    max_examples: int = 3,
    reference_date: dt.date | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> PiiReport:
    """Scan ``data`` for personal data and protected attributes, column by column.

    Args:
        data: a pandas or Polars frame, an Arrow table, a dict of columns, a DuckDB
            relation, or a CSV/Parquet path (see :func:`~trustops.engines.sources.open_source`).
        columns: the columns to scan (default: all), in report order.
        sample_limit: scan only the first this many rows (``None``: every row). The
            report says ``sampled`` when rows were left unscanned.
        max_examples: masked examples kept per column and detector (0: none).
        reference_date: the day ages are taken on, for dates of birth (default: today).
        batch_size: rows per batch read.
        progress: called after each batch with the number of rows scanned so far.

    Returns:
        The :class:`~trustops.core.quality.pii.PiiReport`. No rows is not an error: the
        report has ``rows == 0``, every column with no detector, and name-based flags.

    Raises:
        MissingColumnError: a name in ``columns`` is not in the data.
        InputError: the data or file cannot be read (the message names it).
        UsageError: ``columns``, ``sample_limit`` or ``max_examples`` make no sense.
    """
    if sample_limit is not None and sample_limit < 1:
        raise UsageError(f"sample_limit must be at least 1 (or None), got {sample_limit}")
    settings = ScanSettings(reference_date or dt.date.today(), max_examples)
    source = open_source(data, batch_size=batch_size)
    if columns is not None:
        source = source.select(_column_list(columns))
    scan = PiiScan.zero(source.schema, settings)
    sampled = False
    for batch in _batches(source):
        if sample_limit is not None:
            room = sample_limit - scan.rows
            if room <= 0 or batch.num_rows > room:
                sampled = True
                if room <= 0:
                    break
                batch = batch.slice(0, room)
        scan = scan.merge(scan_batch(batch, settings))
        if progress is not None:
            progress(scan.rows)
    return scan.report(sample_limit=sample_limit, sampled=sampled)
