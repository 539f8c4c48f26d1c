"""Run the profiling kernel inside Spark: each partition returns a partial profile.

``run_kernel`` ships the kernel to the executors with ``DataFrame.mapInArrow``:
every partition folds its Arrow record batches into a profile and yields it
serialised (one binary cell); the driver collects those few cells and merges
them. Only profiles cross the network, never rows. PySpark is imported only
when a Spark DataFrame is passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pyarrow as pa

from trustops.errors import InputError

__all__ = ["arrow_schema", "run_kernel"]

P = TypeVar("P")
T = TypeVar("T")


def arrow_schema(df: Any) -> pa.Schema:
    """The Arrow schema of a Spark DataFrame's rows as ``mapInArrow`` hands them over."""
    from pyspark.sql.pandas.types import to_arrow_schema

    try:
        return to_arrow_schema(df.schema)
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
    bytes; ``merged(parts, schema, plan)`` combines them. Both must be
    importable top-level code (they are pickled to the executors).
    """
    from pyspark.sql.types import BinaryType, StructField, StructType

    schema = arrow_schema(df)
    schema_bytes = schema.serialize().to_pybytes()
    out_schema = StructType([StructField("profile", BinaryType(), False)])

    def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        arrow = pa.ipc.read_schema(pa.py_buffer(schema_bytes))
        payload = partial(arrow, batches, plan)
        yield pa.RecordBatch.from_arrays([pa.array([payload], pa.binary())], names=["profile"])

    rows = df.mapInArrow(per_partition, out_schema).collect()
    return merged([bytes(r["profile"]) for r in rows], schema, plan), schema
