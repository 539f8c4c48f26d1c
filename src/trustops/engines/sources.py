"""Any tabular source as Arrow record batches, readable more than once.

A :class:`BatchSource` is what the profiling kernel reads: ``batches()``
yields :class:`pyarrow.RecordBatch` objects and can be called again (fitting a
reference profile reads the data twice: once for the sketches that place the
bin edges, once for the histograms on them). Supported sources:

- in memory: a PyArrow ``Table``/``RecordBatch``, a pandas ``DataFrame``, a
  Polars ``DataFrame``, a dict of arrays (converted to Arrow once and kept;
  pandas ``object`` columns of strings become dictionary arrays);
- streamed in bounded memory: a Polars ``LazyFrame`` (run once per read by
  the streaming engine, in batches), a Parquet file, a directory of Parquet files or a glob
  pattern (``logs/*.parquet``, read file by file, row group by row group), a DuckDB
  relation (``duckdb.sql("SELECT ...")``);
- a CSV file (read whole with PyArrow; convert big CSVs to Parquet first);
- a DuckDB SQL query given as text, ``"duckdb:SELECT ... FROM 'logs/*.parquet'"``
  (also on the command line), run in a fresh in-memory connection and streamed.

Spark DataFrames are not read here: the kernel runs inside Spark instead
(:mod:`trustops.engines.spark`). Backends are recognised by their module name
and never imported unless the user already passed one of their objects.

Example:
    >>> import pyarrow as pa
    >>> src = open_source(pa.table({"x": [1, 2, 3]}), batch_size=2)
    >>> [b.num_rows for b in src.batches()], src.num_rows, src.schema.names
    ([2, 1], 3, ['x'])
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from trustops.errors import (
    EmptyDataError,
    InputError,
    MissingColumnError,
    UsageError,
    first_line,
)

__all__ = ["DEFAULT_BATCH_SIZE", "BatchSource", "open_source"]

DEFAULT_BATCH_SIZE = 1 << 20


@dataclass(frozen=True)
class BatchSource:
    """A re-readable stream of record batches with a fixed schema.

    Attributes:
        name: what to call the source in messages (a file name, ``"pandas"``).
        schema: the Arrow schema every batch has.
        num_rows: the number of rows if known without reading, else ``None``.
        read: a function returning a fresh iterator over the batches.
    """

    name: str
    schema: pa.Schema
    num_rows: int | None
    read: Callable[[], Iterator[pa.RecordBatch]]

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Every batch, from the start; empty batches are skipped."""
        for batch in self.read():
            if batch.num_rows:
                yield batch

    def select(self, columns: list[str]) -> BatchSource:
        """The same source restricted to ``columns`` (in that order)."""
        missing = [c for c in columns if c not in self.schema.names]
        if missing:
            raise MissingColumnError(missing[0], available=self.schema.names)
        schema = pa.schema([self.schema.field(c) for c in columns])
        read = self.read
        return BatchSource(
            self.name, schema, self.num_rows, lambda: (b.select(columns) for b in read())
        )


def _backend(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def _in_memory(name: str, table: pa.Table, batch_size: int) -> BatchSource:
    if table.num_columns == 0:
        raise EmptyDataError(f"{name} has no columns")
    _check_unique_names(table.schema.names, name)
    return BatchSource(
        name,
        table.schema,
        table.num_rows,
        lambda: iter(table.to_batches(max_chunksize=batch_size)),
    )


def _check_unique_names(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise InputError(f"column {n!r} appears more than once in {where}")
        seen.add(n)


def _from_pandas(df: Any, batch_size: int) -> BatchSource:
    names = [str(c) for c in df.columns]
    _check_unique_names(names, "the pandas DataFrame")
    # Object columns of strings shared between rows become dictionary arrays
    # without hashing every string; every other column goes through Arrow.
    encoded: dict[int, pa.Array] = {}
    for i in range(len(names)):
        column = df.iloc[:, i]
        if column.dtype == object:
            array = _strings_as_dictionary(column.to_numpy())
            if array is not None:
                encoded[i] = array
    rest = [i for i in range(len(names)) if i not in encoded]
    try:
        converted = (
            pa.Table.from_pandas(
                df,
                preserve_index=False,
                nthreads=2,
                columns=[df.columns[i] for i in rest] if encoded else None,
            )
            if rest or not encoded
            else None
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        column_name = _column_in_message(str(exc), names)
        where = f"column {column_name!r}" if column_name else "a column"
        raise InputError(
            f"{where} mixes value types and cannot be profiled: {str(exc).splitlines()[0]}"
        ) from None
    if not encoded:
        assert converted is not None
        return _in_memory("pandas DataFrame", converted, batch_size)
    columns: list[pa.Array | pa.ChunkedArray] = []
    fields: list[pa.Field] = []
    for i, name in enumerate(names):
        if i in encoded:
            columns.append(encoded[i])
            fields.append(pa.field(name, encoded[i].type))
        else:
            assert converted is not None
            j = rest.index(i)
            columns.append(converted.column(j))
            fields.append(converted.schema.field(j))
    table = pa.Table.from_arrays(columns, schema=pa.schema(fields))
    return _in_memory("pandas DataFrame", table, batch_size)


def _strings_as_dictionary(values: Any) -> pa.DictionaryArray | None:
    """An object column of strings as a dictionary array, or ``None`` (use Arrow's path).

    Factorizes by object identity first (:func:`trustops.engines.columns._factorize_by_identity`,
    ``None`` unless rows share their string objects, as after ``read_parquet``
    or ``read_csv``); ``None`` and NaN become nulls, as ``Table.from_pandas``
    makes them. Columns holding anything but strings take Arrow's path, which
    types them or reports the mix.
    """
    import numpy as np

    from trustops.engines.columns import _factorize_by_identity

    found = _factorize_by_identity(values)
    if found is None:
        return None
    codes, uniques = found
    if not uniques or any(type(u) is not str for u in uniques):
        return None
    codes = np.asarray(codes)
    missing = codes < 0
    indices = pa.array(codes.astype(np.int32, copy=False), mask=missing if missing.any() else None)
    return pa.DictionaryArray.from_arrays(indices, pa.array(uniques, type=pa.string()))


def _column_in_message(message: str, names: list[str]) -> str | None:
    for n in names:
        if f"column {n}" in message or f"'{n}'" in message:
            return n
    return None


def _from_polars(df: Any, batch_size: int) -> BatchSource:
    if type(df).__name__ == "LazyFrame":
        schema = df.limit(0).collect().to_arrow().schema

        # One streaming run per read. Slicing the query (offset, length) instead
        # would run it once per slice: quadratic, and wrong for a query whose row
        # order is not fixed (a group_by), whose slices overlap and miss rows.
        def read() -> Iterator[pa.RecordBatch]:
            if not hasattr(df, "collect_batches"):  # older Polars: collected in memory
                yield from df.collect().to_arrow().to_batches(max_chunksize=batch_size)
                return
            for chunk in df.collect_batches(chunk_size=batch_size):
                yield from chunk.to_arrow().to_batches(max_chunksize=batch_size)

        return BatchSource("Polars LazyFrame", schema, None, read)
    return _in_memory("Polars DataFrame", df.to_arrow(), batch_size)


def _from_duckdb(relation: Any, batch_size: int) -> BatchSource:
    # Newest name first: DuckDB renamed fetch_arrow_reader to to_arrow_reader.
    names = ("to_arrow_reader", "fetch_arrow_reader", "fetch_record_batch")
    method = next((n for n in names if hasattr(relation, n)), None)
    if method is None or not hasattr(relation, "limit"):  # a connection, not a relation
        raise InputError(
            f"unsupported DuckDB object {type(relation).__name__}",
            hint="pass a relation, e.g. duckdb.sql('SELECT ...')",
        )
    empty = relation.limit(0)
    table = empty.to_arrow_table() if hasattr(empty, "to_arrow_table") else empty.arrow()
    schema = table.schema

    def read() -> Iterator[pa.RecordBatch]:
        # A DuckDB connection holds one open result: close the reader even when
        # the reading stops early (an error), or the connection stays busy.
        with getattr(relation, method)(batch_size) as reader:
            yield from reader

    return BatchSource("DuckDB relation", schema, None, read)


def _parquet_files(path: str) -> list[str]:
    if any(ch in path for ch in "*?["):
        files = sorted(glob.glob(path, recursive=True))
        if not files:
            raise InputError(f"no file matches {path!r}")
        return files
    p = Path(path)
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*") if f.is_file() and not _hidden(f, p))
        if not files:
            raise InputError(f"directory {path!r} holds no data files")
        return files
    return [path]


def _hidden(f: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in f.relative_to(root).parts)


def _from_parquet(path: str, batch_size: int) -> BatchSource:
    import pyarrow.parquet as pq

    files = _parquet_files(path)
    first_schema: pa.Schema | None = None
    rows = 0
    for f in files:
        try:
            meta = pq.read_metadata(f)
            schema = meta.schema.to_arrow_schema()
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                f"cannot read {Path(f).name!r} as Parquet: {first_line(exc)}"
            ) from None
        rows += meta.num_rows
        if first_schema is None:
            first_schema = _nullable(schema)
        elif _column_types(schema) != _column_types(first_schema):
            raise InputError(
                f"{Path(f).name!r} does not have the schema of {Path(files[0]).name!r}: "
                + _schema_difference(first_schema, schema)
            )
    assert first_schema is not None
    name = Path(files[0]).name if len(files) == 1 else f"{path} ({len(files)} files)"
    _check_unique_names(first_schema.names, name)
    schema = first_schema.remove_metadata()

    def read() -> Iterator[pa.RecordBatch]:
        # File after file, row group after row group, without pre-buffering: a
        # dataset scan pre-buffers a whole file's column chunks and queues decoded
        # batches ahead of a slower reader, so its memory grows with the file.
        for f in files:
            with pq.ParquetFile(f, pre_buffer=False) as parquet:
                for batch in parquet.iter_batches(batch_size=batch_size, use_threads=True):
                    yield _conformed(batch, schema)

    return BatchSource(name, schema, rows, read)


def _conformed(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with the types of ``schema`` (a file may say large_string for string)."""
    if batch.schema.equals(schema, check_metadata=False):
        return batch
    return pa.RecordBatch.from_arrays(
        [
            column if column.type == field.type else column.cast(field.type)
            for column, field in zip(batch.columns, schema, strict=True)
        ],
        schema=schema,
    )


# Parquet stores these pairs alike (a writer's Arrow schema hint is all that differs),
# and the dataset reader casts one to the other.
_SAME_IN_PARQUET = {
    pa.large_string(): pa.string(),
    pa.string_view(): pa.string(),
    pa.large_binary(): pa.binary(),
    pa.binary_view(): pa.binary(),
}


def _column_types(schema: pa.Schema) -> list[tuple[str, pa.DataType]]:
    """Names and types as Parquet keeps them (nullability and metadata aside)."""
    return [(f.name, _SAME_IN_PARQUET.get(f.type, f.type)) for f in schema]


def _nullable(schema: pa.Schema) -> pa.Schema:
    # Another file may hold nulls in a column the first file declares non-nullable.
    return pa.schema([f.with_nullable(True) for f in schema])


def _schema_difference(a: pa.Schema, b: pa.Schema) -> str:
    for field in a:
        if field.name not in b.names:
            return f"column {field.name!r} is missing"
        other = b.field(field.name)
        if _SAME_IN_PARQUET.get(other.type, other.type) != _SAME_IN_PARQUET.get(
            field.type, field.type
        ):
            return f"column {field.name!r} is {other.type}, not {field.type}"
    extra = [n for n in b.names if n not in a.names]
    if extra:
        return f"column {extra[0]!r} is extra"
    return "the columns are in a different order"


#: A text source starting with this is a DuckDB query, e.g. ``duckdb:SELECT * FROM 'x.parquet'``.
DUCKDB_PREFIX = "duckdb:"


def _from_query(query: str, batch_size: int) -> BatchSource:
    """Run a DuckDB SQL query (in a fresh in-memory connection) and stream its result."""
    try:
        import duckdb
    except ImportError:
        raise UsageError(
            "a duckdb: source needs DuckDB", hint="pip install 'trustops[duckdb]'"
        ) from None
    if not query.strip():
        raise UsageError("the duckdb: source has no query", hint="duckdb:SELECT ... FROM ...")
    connection = duckdb.connect()
    try:
        relation = connection.sql(query)
    except duckdb.Error as exc:
        raise InputError(f"DuckDB cannot run the query: {first_line(exc)}") from None
    if relation is None:
        raise InputError("the DuckDB query returns no rows (use a SELECT)")
    return _from_duckdb(relation, batch_size)


def _from_path(path: str, batch_size: int) -> BatchSource:
    from trustops.engines.files import read_table

    if path.startswith(DUCKDB_PREFIX):
        return _from_query(path[len(DUCKDB_PREFIX) :], batch_size)
    has_glob = any(ch in path for ch in "*?[")
    p = Path(path)
    if not has_glob and not p.exists():
        raise InputError(f"file {path!r} not found")
    if has_glob or p.is_dir() or p.suffix.lower() in (".parquet", ".pq"):
        return _from_parquet(path, batch_size)
    if p.suffix.lower() == ".csv":
        return _in_memory(p.name, read_table(p), batch_size)
    raise UsageError(
        f"cannot tell the format of {p.name!r}",
        hint="use a .csv or .parquet file, a Parquet directory or a glob pattern",
    )


def open_source(data: Any, *, batch_size: int = DEFAULT_BATCH_SIZE) -> BatchSource:
    """Open ``data`` as a :class:`BatchSource` (see the module docstring).

    Raises:
        InputError: the object or file cannot be read, names clash, or the
            files of a Parquet directory disagree on the schema (the message
            names the file and the column).
    """
    if batch_size < 1:
        raise UsageError(f"batch_size must be at least 1, got {batch_size}")
    if isinstance(data, BatchSource):
        return data
    if isinstance(data, str | Path):
        return _from_path(str(data), batch_size)
    backend = _backend(data)
    if backend == "pyarrow":
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        if isinstance(data, pa.Table):
            return _in_memory("Arrow table", data, batch_size)
        if isinstance(data, pa.RecordBatchReader):
            return _in_memory("Arrow stream", data.read_all(), batch_size)
    if backend == "pandas" and type(data).__name__ == "DataFrame":
        return _from_pandas(data, batch_size)
    if backend == "polars":
        return _from_polars(data, batch_size)
    if backend in ("duckdb", "_duckdb"):
        return _from_duckdb(data, batch_size)
    if backend == "pyspark":
        raise UsageError(
            "a Spark DataFrame is profiled inside Spark",
            hint="call trustops.profile(spark_df), which runs the kernel in the executors",
        )
    if isinstance(data, Mapping):
        try:
            table = pa.table({str(k): v for k, v in data.items()})
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise InputError(f"cannot read the dict as columns: {first_line(exc)}") from None
        return _in_memory("dict", table, batch_size)
    raise InputError(
        f"unsupported data type {type(data).__name__}",
        hint="pass a pandas or Polars frame, an Arrow table, a DuckDB relation, "
        "a Spark DataFrame, or a CSV/Parquet path",
    )
