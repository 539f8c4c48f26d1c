"""Run the profiling kernel inside Spark: each partition returns a partial profile.

``run_kernel`` ships the kernel to the executors with ``DataFrame.mapInArrow``:
every partition folds its Arrow record batches into a profile and yields it
serialised (one binary cell); the driver collects those few cells and merges
them. Only profiles cross the network, never rows. PySpark is imported only
when a Spark DataFrame is passed.

Spark needs no special settings. Its timestamps are instants (microseconds,
UTC); a naive pandas ``datetime64`` turned into a Spark DataFrame is read in
the session time zone (``spark.sql.session.timeZone``), so set that to UTC to
get the same instants as profiling the pandas frame itself. Spark keeps
microseconds, so nanoseconds are truncated before trustops sees them.
"""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pyarrow as pa

from trustops.errors import InputError, TrustOpsError

__all__ = ["arrow_schema", "run_kernel"]

P = TypeVar("P")
T = TypeVar("T")


def arrow_schema(df: Any) -> pa.Schema:
    """The Arrow schema of a Spark DataFrame's rows as ``mapInArrow`` hands them over."""
    from pyspark.sql.pandas.types import to_arrow_schema

    conf = df.sparkSession.conf
    # PySpark 4 asks for the session time zone (timestamps come over as UTC
    # instants tagged with it) and whether strings come over as large strings
    # (Spark's own default when unset); older versions may take neither.
    wanted = {
        "timezone": lambda: conf.get("spark.sql.session.timeZone"),
        "prefers_large_types": lambda: (
            str(conf.get("spark.sql.execution.arrow.useLargeVarTypes")).lower() == "true"
        ),
    }
    accepted = inspect.signature(to_arrow_schema).parameters
    options = {name: value() for name, value in wanted.items() if name in accepted}
    try:
        return to_arrow_schema(df.schema, **options)
    except TypeError as exc:
        raise InputError(f"a Spark column has a type trustops cannot profile: {exc}") from None


def run_kernel(
    df: Any,
    plan: P,
    partial: Callable[[pa.Schema, Iterator[pa.RecordBatch], P], bytes],
    merged: Callable[[list[bytes], pa.Schema, P], T],
) -> tuple[T, pa.Schema]:
    """Run ``partial`` on every partition of ``df`` and ``merged`` on the driver.

    ``partial(schema, batches, plan)`` folds one partition into serialised
    bytes in an executor (it is pickled there with its closure);
    ``merged(parts, schema, plan)`` combines them on the driver. A
    :class:`~trustops.errors.TrustOpsError` raised in an executor (a column
    with missing labels, say) is raised again on the driver as itself, not as
    Spark's ``PythonException``.
    """
    from pyspark.sql.types import BinaryType, StructField, StructType

    schema = arrow_schema(df)
    schema_bytes = schema.serialize().to_pybytes()
    out_schema = StructType(
        [StructField("profile", BinaryType(), False), StructField("error", BinaryType(), True)]
    )

    def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        arrow = pa.ipc.read_schema(pa.py_buffer(schema_bytes))
        error = None
        try:
            payload = partial(arrow, batches, plan)
        except TrustOpsError as exc:
            payload, error = b"", _error_state(exc)
        yield pa.RecordBatch.from_arrays(
            [pa.array([payload], pa.binary()), pa.array([error], pa.binary())],
            names=["profile", "error"],
        )

    rows = df.mapInArrow(per_partition, out_schema).collect()
    for row in rows:
        if row["error"] is not None:
            raise _error_from(bytes(row["error"]))
    return merged([bytes(r["profile"]) for r in rows], schema, plan), schema


def _error_state(exc: TrustOpsError) -> bytes:
    """The error's class, message, hint and context attributes (to rebuild it on the driver)."""
    attrs = {k: v for k, v in vars(exc).items() if k not in ("message", "hint")}
    try:
        return pickle.dumps((type(exc), exc.message, exc.hint, attrs))
    except (pickle.PicklingError, TypeError, AttributeError):
        return pickle.dumps((InputError, exc.message, exc.hint, {}))


def _error_from(state: bytes) -> TrustOpsError:
    # Leaves take their context as constructor arguments (a column, a count), so
    # the error is rebuilt from its parts rather than by calling the class.
    cls, message, hint, attrs = pickle.loads(state)
    error: TrustOpsError = cls.__new__(cls)
    TrustOpsError.__init__(error, message, hint=hint)
    error.__dict__.update(attrs)
    return error
