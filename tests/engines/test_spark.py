"""The profiling kernel inside Spark: executors fold partitions, the driver merges them.

A Spark profile must equal the in-process profile of the same rows: exactly
for counts, to rounding for moments, and within the sketch bounds for the
quantiles that place a reference's bin edges.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import trustops
from trustops.core.profiles import DatasetProfile, NumericProfile, ProfilePlan
from trustops.engines.spark import arrow_schema, run_kernel
from trustops.errors import MissingValuesError
from trustops.profiling import profile

from .test_sources import frame


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    df = frame(4000, seed=11)
    rng = np.random.default_rng(2)
    df["race"] = rng.choice(["White", "Black", "Asian", "Other"], len(df))
    df["y"] = rng.integers(0, 2, len(df))
    df["p"] = rng.integers(0, 2, len(df))
    return df


@pytest.fixture(scope="module")
def table(data: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(data, preserve_index=False)


@pytest.fixture(scope="module")
def frame_on_spark(spark: Any, data: pd.DataFrame) -> Any:
    df = spark.createDataFrame(data)
    assert df.rdd.getNumPartitions() > 1
    return df


@pytest.mark.parametrize("large", ["false", "true"])
def test_the_kernel_runs_in_the_executors(spark: Any, frame_on_spark: Any, large: str) -> None:
    def partial(schema: pa.Schema, batches: Iterator[pa.RecordBatch], plan: str) -> bytes:
        seen = [(b.num_rows, [f.type for f in b.schema]) for b in batches]
        return pickle.dumps((os.getpid(), seen, plan, schema))

    def merged(parts: list[bytes], schema: pa.Schema, plan: str) -> list[Any]:
        return [pickle.loads(p) for p in parts]

    spark.conf.set("spark.sql.execution.arrow.useLargeVarTypes", large)
    try:
        parts, schema = run_kernel(frame_on_spark, "plan", partial, merged)
    finally:
        spark.conf.unset("spark.sql.execution.arrow.useLargeVarTypes")
    string = pa.large_string() if large == "true" else pa.string()
    assert schema.field("city").type == string
    assert len(parts) == frame_on_spark.rdd.getNumPartitions() > 1
    assert all(pid != os.getpid() for pid, *_ in parts)  # Python workers, not the driver
    assert sum(rows for _, seen, _, _ in parts for rows, _ in seen) == 4000
    for _, seen, plan, sent in parts:
        assert plan == "plan" and sent == schema
        # The schema computed on the driver is the one the batches have.
        assert all(types == [f.type for f in schema] for _, types in seen)


def test_a_reference_fitted_on_spark_equals_the_one_fitted_in_process(
    frame_on_spark: Any, table: pa.Table
) -> None:
    seen: list[int] = []
    on_spark = profile(frame_on_spark, progress=seen.append)
    here = profile(table)
    assert sum(seen) == 2 * 4000  # both reads report progress
    assert on_spark.rows == here.rows and on_spark.kinds == here.kinds
    assert set(on_spark.plan.edges) == set(here.plan.edges)
    # Exact parts, moments, edges and histograms equal (edges from exact grid counts) ...
    assert on_spark == here
    # ... and on Spark's edges the in-process histograms are the same counts.
    assert profile(table, reference=on_spark) == on_spark
    for name in on_spark.plan.edges:
        col = on_spark.columns[name]
        assert isinstance(col, NumericProfile) and col.histogram is not None
        assert col.histogram.counts.sum() == col.count
        assert col.histogram.below == col.histogram.above == 0
    # The merged sketch: each quantile's exact rank is within the reported rank error.
    x = on_spark.columns["x"]
    assert isinstance(x, NumericProfile) and x.rank_error is not None and x.rank_error > 0
    values = table.column("x").drop_null().to_numpy()
    finite = np.sort(values[np.isfinite(values)])
    qs = np.linspace(0, 1, 21)
    for q, v in zip(qs, x.quantiles(qs), strict=True):
        below = np.searchsorted(finite, v, side="left") / len(finite)
        at = np.searchsorted(finite, v, side="right") / len(finite)
        assert below - x.rank_error <= q <= at + x.rank_error, (q, v)


def test_partitions_that_are_empty(spark: Any, frame_on_spark: Any, table: pa.Table) -> None:
    reference = profile(table)
    # Keep only the first slice's rows: the other partitions hand over no batch at all.
    few = frame_on_spark.filter("small > 90")
    rows = table.filter(pa.compute.greater(table.column("small"), 90))
    assert few.rdd.getNumPartitions() > 1
    assert profile(few, reference=reference) == profile(rows, reference=reference)
    none = frame_on_spark.filter("small > 1000")
    empty = profile(none)
    assert empty.rows == 0 and empty.kinds == reference.kinds
    assert all(col.total == 0 for col in empty.columns.values())


def test_outcome_counts_equal_count_groups(frame_on_spark: Any, data: pd.DataFrame) -> None:
    spec = {"sensitive": "race", "y_true": "y", "y_pred": "p"}
    ref = profile(data, columns=["x"])
    on_spark = profile(frame_on_spark, reference=ref, columns=["x"], outcomes=spec)
    assert list(on_spark.columns) == ["x"]
    expected = trustops.count_groups(data, sensitive="race", y_true="y", y_pred="p")
    got = on_spark.outcomes
    assert got is not None
    got, expected = got.sorted_levels(), expected.sorted_levels()
    assert (got.attributes, got.levels, got.classes) == (
        expected.attributes,
        expected.levels,
        expected.classes,
    )
    assert np.array_equal(got.rows, expected.rows)
    assert profile(data, reference=ref, columns=["x"], outcomes=spec) == on_spark


def test_an_error_in_an_executor_is_raised_as_itself(spark: Any, data: pd.DataFrame) -> None:
    broken = data.head(200).assign(y=lambda d: d["y"].astype("Int64").mask(d.index == 150))
    df = spark.createDataFrame(broken)
    with pytest.raises(MissingValuesError, match="'y'") as err:
        profile(
            df,
            reference=profile(broken),
            outcomes={"sensitive": "race", "y_true": "y", "y_pred": "p"},
        )
    assert err.value.column == "y" and err.value.count == 1


def test_spark_types_map_to_the_same_kinds(spark: Any) -> None:
    df = spark.sql(
        "SELECT CAST(1.5 AS DECIMAL(10, 2)) AS money, CAST(1 AS TINYINT) AS tiny, "
        "CAST(2.5 AS FLOAT) AS f, DATE'2024-02-29' AS d, "
        "TIMESTAMP_NTZ'2024-01-01 00:00:01' AS ntz, "
        "'a' AS s, true AS b, NULL AS nothing"
    )
    schema = arrow_schema(df)
    kinds = DatasetProfile.zero(ProfilePlan(), schema).kinds
    assert kinds == {
        "money": "numeric",
        "tiny": "numeric",
        "f": "numeric",
        "d": "datetime",
        "ntz": "datetime",
        "s": "categorical",
        "b": "boolean",
        "nothing": "null",
    }
