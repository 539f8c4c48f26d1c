"""CSV and Parquet files in and out, through PyArrow (no pandas needed).

Example:
    >>> import pyarrow as pa, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_table(pa.table({"a": [1, 2]}), path)
    >>> read_table(path, columns=["a"]).num_rows
    2
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from trustops.errors import InputError, MissingColumnError, UsageError, first_line

__all__ = ["FORMATS", "read_table", "write_bytes", "write_table", "write_text"]

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
CSV_NULLS = ["", "null", "NULL", "NaN", "nan"]


def _format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None and path.is_dir():
        return "parquet"
    if fmt is None:
        raise UsageError(
            f"cannot tell the format of {path.name!r}", hint="use a .csv or .parquet file"
        )
    return fmt


def read_table(path: str | Path, *, columns: Sequence[str] | None = None) -> pa.Table:
    """Read a CSV or Parquet file (or Parquet directory), only ``columns`` if given."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"file {str(path)!r} not found")
    fmt = _format(path)
    wanted = list(dict.fromkeys(columns)) if columns is not None else None
    try:
        if fmt == "parquet":
            schema = pq.read_schema(path) if path.is_file() else pq.ParquetDataset(path).schema
            _check(wanted, schema.names)
            return pq.read_table(path, columns=wanted)
        # An empty field (or null/NaN) is a missing value, for text columns too; "NA" is text
        # (North America, Namibia), not a null as in Arrow's default list.
        options = pacsv.ConvertOptions(strings_can_be_null=True, null_values=CSV_NULLS)
        table = pacsv.read_csv(path, convert_options=options)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read {path.name!r}: {first_line(exc)}") from None
    if table.num_columns == 0:
        raise InputError(f"file {path.name!r} has no columns")
    _check(wanted, table.column_names)
    return table.select(wanted) if wanted is not None else table


def _check(wanted: Sequence[str] | None, names: Sequence[str]) -> None:
    for name in wanted or ():
        if list(names).count(name) > 1:
            raise InputError(f"column {name!r} appears more than once in the file's header")
        if name not in names:
            raise MissingColumnError(name, available=names)


def write_table(table: pa.Table, path: str | Path) -> None:
    """Write ``table`` as CSV or Parquet, chosen by the file suffix."""
    path = Path(path)
    fmt = _format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path``, creating its folder; :class:`InputError` if it cannot."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path``, creating its folder; :class:`InputError` if it cannot."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
