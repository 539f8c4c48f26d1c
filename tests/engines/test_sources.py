"""Every source gives the same profile: pandas, Polars (eager and lazy), Arrow, CSV,
Parquet (file and directory), DuckDB and Spark.

The sources are all made from one pandas frame, the way a user would make
them. Exact parts (counts, nulls, NaN/inf, min/max, histogram counts,
category counts) must be equal and the moments equal to rounding; the column
*types* may differ (``string`` and ``large_string``, ``timestamp[ns]`` and
``timestamp[us, tz=UTC]``) but never the kinds. Two differences are right and
are documented here rather than fixed:

- a pandas ``float64`` column has no null apart from NaN, so pandas, and
  everything made from pandas (Polars' ``from_pandas``, Spark's
  ``createDataFrame``, a CSV written by pandas), counts its NaN as nulls while
  an Arrow or Polars column keeps the two apart (``null_rate`` counts both);
- Spark keeps microseconds, so nanoseconds are truncated; and it reads naive
  timestamps in the session time zone (UTC in these tests).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trustops.core.profiles import (
    CategoricalProfile,
    DatasetProfile,
    NumericProfile,
    TypeChangedError,
)
from trustops.engines.sources import BatchSource, open_source
from trustops.errors import EmptyDataError, InputError, MissingColumnError, UsageError
from trustops.profiling import profile

ROWS = 6000
ENGINES = ["pandas", "polars", "lazy", "arrow", "csv", "parquet", "directory", "duckdb", "spark"]


def frame(rows: int = ROWS, seed: int = 7) -> pd.DataFrame:
    """Every kind, with nulls, NaN (a null in pandas), ±inf, a category dtype and time zones."""
    rng = np.random.default_rng(seed)
    missing = lambda: rng.random(rows) < 0.1  # noqa: E731
    x = rng.normal(10, 3, rows).round(6)
    x[missing()] = np.nan
    x[:3] = [np.inf, -np.inf, np.inf]
    micros = rng.integers(0, 400 * 86_400 * 10**6, rows)
    start = pd.Timestamp("2024-01-01")
    df = pd.DataFrame(
        {
            "x": x,
            "count": pd.array(np.where(missing(), None, rng.integers(0, 50, rows)), "Int64"),
            "small": rng.integers(-100, 100, rows).astype(np.int32),
            "city": pd.Series(
                np.where(missing(), None, rng.choice(["Oslo", "Lima", "Pune"], rows))
            ),
            "grade": pd.Categorical(rng.choice(["A", "B", "C", "D"], rows)),
            # Categories of numbers: numeric, as in every engine that decodes them.
            "level": pd.Categorical(rng.choice([1, 2, 3, 5], rows)),
            # Past the category cap of the reference below: sketched.
            "user": [f"u{u}" for u in rng.integers(0, 10_000, rows)],
            "ok": pd.array(np.where(missing(), None, rng.random(rows) < 0.7), "boolean"),
            "seen": (start + pd.to_timedelta(micros, unit="us")).astype("datetime64[us]"),
            "stamp": pd.Series(start + pd.to_timedelta(micros[::-1], unit="us")).dt.tz_localize(
                "UTC"
            ),
            "day": [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in micros % 900],
        }
    )
    df.loc[missing(), "seen"] = pd.NaT
    return df


def make_source(engine: str, df: pd.DataFrame, tmp: Path, request: pytest.FixtureRequest) -> Any:
    """``df`` as the given engine's object (or a path), made the way a user would."""
    arrow = pa.Table.from_pandas(df, preserve_index=False)
    if engine == "pandas":
        return df
    if engine == "polars":
        return pl.from_pandas(df)
    if engine == "lazy":
        return pl.from_pandas(df).lazy().filter(pl.lit(True))
    if engine == "arrow":
        return arrow
    if engine == "csv":
        df.to_csv(tmp / "data.csv", index=False)
        return str(tmp / "data.csv")
    if engine == "parquet":
        pq.write_table(arrow, tmp / "data.parquet")
        return tmp / "data.parquet"
    if engine == "directory":
        (tmp / "parts").mkdir()
        for i, start in enumerate(range(0, len(df), 700)):
            pq.write_table(arrow.slice(start, 700), tmp / "parts" / f"part-{i:03}.parquet")
        (tmp / "parts" / "_SUCCESS").write_text("")  # as Spark and Hadoop leave it
        return tmp / "parts"
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        request.addfinalizer(con.close)
        con.register("frame", arrow)
        return con.sql("SELECT * FROM frame")
    if engine == "spark":
        spark = request.getfixturevalue("spark")
        return spark.createDataFrame(df)  # one partition per default-parallelism slice
    raise AssertionError(engine)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return frame()


@pytest.fixture(scope="module")
def reference(data: pd.DataFrame) -> DatasetProfile:
    return profile(pa.Table.from_pandas(data, preserve_index=False), max_categories=1000)


def without_histograms(p: DatasetProfile) -> DatasetProfile:
    columns = {
        n: replace(c, histogram=None) if isinstance(c, NumericProfile) else c
        for n, c in p.columns.items()
    }
    return replace(p, columns=columns)


HLL_BOUND = 3 * 1.04 / math.sqrt(2**14)  # three standard errors of the distinct count


def assert_same_profile(got: DatasetProfile, expected: DatasetProfile, data: pd.DataFrame) -> None:
    """Exact parts equal (moments to rounding); sketched categories within their bounds.

    A frequent-items sketch that has purged, and an HLL union, depend on how
    the rows were split, so sketched columns are checked against the data.
    """
    assert (got.rows, got.kinds) == (expected.rows, expected.kinds)
    for name, col in got.columns.items():
        other = expected.columns[name]
        if not (isinstance(col, CategoricalProfile) and not col.exact):
            assert col == other, name
            continue
        assert isinstance(other, CategoricalProfile) and not other.exact, name
        assert (col.count, col.nulls) == (other.count, other.nulls), name
        truth = data[name].value_counts()
        listed = dict(col.top())
        assert all(abs(n - truth[k]) <= col.frequency_error for k, n in listed.items()), name
        assert all(k in listed for k, n in truth.items() if n > col.frequency_error), name
        assert abs(col.distinct - len(truth)) <= HLL_BOUND * len(truth), name


def exact_values(data: pd.DataFrame, column: str) -> np.ndarray:
    return pa.Table.from_pandas(data[[column]]).column(0).drop_null().to_numpy().astype(float)


# --- every engine, the same profile ----------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_same_profile(
    engine: str,
    data: pd.DataFrame,
    reference: DatasetProfile,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    source = make_source(engine, data, tmp_path, request)
    expected = profile(data, reference=reference)
    got = profile(source, reference=reference, batch_size=500)
    assert got.kinds == reference.kinds
    assert_same_profile(got, expected, data)
    user = got.columns["user"]
    assert isinstance(user, CategoricalProfile) and not user.exact and user.frequency_error > 0
    for name, col in got.columns.items():
        assert col.total == ROWS, name
        if isinstance(col, NumericProfile) and name in reference.plan.edges:
            assert col.histogram is not None and col.histogram.counts.sum() == col.count
    if engine == "spark":
        return  # the two-pass profile of a Spark frame is checked in test_spark
    # Without a reference each engine fits its own edges: exact counts on grids, so
    # the edges and histograms are the same on every engine and batching.
    own = profile(source, batch_size=500, max_categories=1000)
    assert_same_profile(own, expected, data)
    x = own.columns["x"]
    assert isinstance(x, NumericProfile) and x.rank_error is not None and x.histogram is not None
    finite = np.sort(exact_values(data, "x")[np.isfinite(exact_values(data, "x"))])
    inner = x.histogram.edges[1:-1]
    exact_ranks = np.searchsorted(finite, inner, side="left") / len(finite)
    assert np.all(np.abs(exact_ranks - np.linspace(0, 1, len(inner) + 2)[1:-1]) < 0.05)
    assert x.histogram.counts.sum() == x.count and x.histogram.below == x.histogram.above == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_changed_type_is_caught_on_every_engine(
    engine: str,
    data: pd.DataFrame,
    reference: DatasetProfile,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    changed = data.head(50).assign(small=lambda d: d["small"].map(lambda v: f"n{v}"))
    source = make_source(engine, changed, tmp_path, request)
    with pytest.raises(TypeChangedError, match="'small' changed type: numeric") as err:
        profile(source, reference=reference)
    assert err.value.column == "small"
    with pytest.raises(MissingColumnError, match="'nope'"):
        profile(source, columns=["x", "nope"])


# --- open_source -------------------------------------------------------------------


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "spark"])
def test_batches_are_re_readable_and_sized(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    df = frame(1000)
    src = open_source(make_source(engine, df, tmp_path, request), batch_size=300)
    assert src.schema.names == list(df.columns)
    assert src.num_rows in (1000, None)
    first, second = list(src.batches()), list(src.batches())
    assert sum(b.num_rows for b in first) == 1000
    assert all(0 < b.num_rows <= 300 for b in first)
    assert pa.Table.from_batches(first).equals(pa.Table.from_batches(second))
    assert all(b.schema.names == src.schema.names for b in first)
    picked = src.select(["x", "city"])
    assert picked.schema.names == ["x", "city"]
    assert all(b.schema.names == ["x", "city"] for b in picked.batches())
    with pytest.raises(MissingColumnError, match="'nope'"):
        src.select(["nope"])


def test_a_lazy_query_without_a_fixed_row_order_is_read_once_per_pass() -> None:
    # A group_by's output order changes from run to run: reading it in slices
    # (one run per slice) duplicated some groups and lost others.
    keys = pl.LazyFrame({"k": list(range(20_000))}).group_by("k").agg(pl.len())
    src = open_source(keys, batch_size=1000)
    for _ in range(2):
        seen = [k for b in src.batches() for k in b.column("k").to_pylist()]
        assert len(seen) == len(set(seen)) == 20_000


def write_parts(root: Path, tables: dict[str, pa.Table]) -> Path:
    root.mkdir()
    for name, table in tables.items():
        pq.write_table(table, root / name)
    return root


def test_parquet_files_with_another_schema_are_named(tmp_path: Path) -> None:
    good = pa.table({"x": [1, 2], "c": ["a", "b"]})
    cases = {
        "type": pa.table({"x": ["1"], "c": ["a"]}),
        "missing": pa.table({"x": [1]}),
        "extra": pa.table({"x": [1], "c": ["a"], "z": [0.5]}),
        "order": pa.table({"c": ["a"], "x": [1]}),
    }
    expected = {
        "type": "'b.parquet' does not have the schema of 'a.parquet': "
        "column 'x' is string, not int64",
        "missing": "'b.parquet' .* column 'c' is missing",
        "extra": "'b.parquet' .* column 'z' is extra",
        "order": "'b.parquet' .* different order",
    }
    for case, bad in cases.items():
        root = write_parts(tmp_path / case, {"a.parquet": good, "b.parquet": bad})
        with pytest.raises(InputError, match=expected[case]):
            open_source(root)
        with pytest.raises(InputError, match=expected[case]):
            profile(str(root / "*.parquet"))


def test_parquet_writers_that_differ_only_in_arrow_hints_are_one_dataset(tmp_path: Path) -> None:
    # Polars writes large_string, PyArrow string; one writer marks a column
    # non-nullable. Parquet stores each pair alike.
    root = tmp_path / "mixed"
    root.mkdir()
    pl.DataFrame({"x": [1, 2], "c": ["a", "b"]}).write_parquet(root / "a.parquet")
    strict = pa.schema([pa.field("x", pa.int64(), nullable=False), pa.field("c", pa.string())])
    pq.write_table(pa.table({"x": [3], "c": ["c"]}, schema=strict), root / "b.parquet")
    pq.write_table(
        pa.table({"x": [None], "c": [None]}, schema=pa.schema({"x": pa.int64(), "c": pa.string()})),
        root / "c.parquet",
    )
    src = open_source(root)
    table = pa.Table.from_batches(list(src.batches()))
    assert sorted(table.column("x").to_pylist(), key=str) == [1, 2, 3, None]
    p = profile(root)
    assert (p.rows, p.columns["x"].nulls, p.columns["c"].count) == (4, 1, 3)


def test_parquet_paths(tmp_path: Path) -> None:
    root = write_parts(
        tmp_path / "logs",
        {"2024-01.parquet": pa.table({"x": [1.0]}), "2024-02.parquet": pa.table({"x": [2.0]})},
    )
    (root / ".hidden.parquet").write_bytes(b"not parquet")  # hidden files are skipped
    assert open_source(root).num_rows == 2
    assert open_source(str(root / "2024-0*.parquet")).num_rows == 2
    assert "2 files" in open_source(root).name
    with pytest.raises(InputError, match="no file matches"):
        open_source(str(root / "*.csv"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no data files"):
        open_source(tmp_path / "empty")
    (root / "notes.parquet").write_text("not parquet")
    with pytest.raises(InputError, match=r"'notes\.parquet' as Parquet"):
        open_source(root)
    with pytest.raises(InputError, match="not found"):
        open_source(tmp_path / "missing.parquet")
    with pytest.raises(UsageError, match="cannot tell the format"):
        open_source(__file__)


def test_other_inputs() -> None:
    assert open_source({"a": [1, 2], 3: ["x", "y"]}).schema.names == ["a", "3"]
    batch = pa.record_batch({"a": [1, 2, 3]})
    assert open_source(batch).num_rows == 3
    assert open_source(pa.RecordBatchReader.from_batches(batch.schema, [batch])).num_rows == 3
    with pytest.raises(InputError, match="cannot read the dict"):
        open_source({"a": [1, 2], "b": [1]})
    with pytest.raises(InputError, match="unsupported data type"):
        open_source([1, 2, 3])
    with pytest.raises(InputError, match="appears more than once"):
        open_source(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(InputError, match="'m' mixes value types"):
        open_source(pd.DataFrame({"m": [1, "a"]}))
    with pytest.raises(EmptyDataError, match="no columns"):
        open_source(pa.table({}))
    with pytest.raises(UsageError, match="batch_size"):
        open_source(batch, batch_size=0)
    src = open_source(batch)
    assert open_source(src) is src and isinstance(src, BatchSource)


@pytest.mark.filterwarnings("error::DeprecationWarning")  # no retired DuckDB names
def test_duckdb_objects() -> None:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS x, range::INTEGER % 3 AS g FROM range(2500)")
        src = open_source(con.sql("SELECT x, g FROM t WHERE x % 2 = 0"), batch_size=400)
        assert src.schema.field("g").type == pa.int32()
        counts = [sum(b.num_rows for b in src.batches()) for _ in range(2)]
        assert counts == [1250, 1250]
        # A read stopped early (an error mid-profile) leaves the connection usable.
        stopped = src.batches()
        next(stopped)
        stopped.close()
        assert con.sql("SELECT count(*) FROM t").fetchall() == [(2500,)]
        with pytest.raises(InputError, match="unsupported DuckDB object"):
            open_source(con)
    finally:
        con.close()


def test_a_spark_frame_is_not_read_here(spark: Any) -> None:
    with pytest.raises(UsageError, match="inside Spark"):
        open_source(spark.createDataFrame([(1,)], ["a"]))


# --- pandas strings as dictionaries, Parquet file by file ------------------------------

DICT_ROWS = 120_000  # above the identity factorization's minimum


def string_frame(rows: int = DICT_ROWS, seed: int = 3) -> pd.DataFrame:
    """Object columns whose rows share their string objects, as after ``read_parquet``."""
    rng = np.random.default_rng(seed)
    levels = np.array(["a", "b", "", "é", None, np.nan, "long " * 20], dtype=object)
    return pd.DataFrame(
        {
            "city": levels[rng.integers(0, len(levels), rows)],
            "few": np.array(["x", "y"], dtype=object)[rng.integers(0, 2, rows)],
            "cat": pd.Categorical(
                np.array(["p", "q", None], dtype=object)[rng.integers(0, 3, rows)]
            ),
            "x": rng.normal(size=rows),
        }
    )


def test_pandas_string_columns_become_dictionaries_with_the_same_profile() -> None:
    df = string_frame()
    src = open_source(df, batch_size=7000)
    for name in ("city", "few", "cat"):
        assert pa.types.is_dictionary(src.schema.field(name).type), name
        assert pa.types.is_string(src.schema.field(name).type.value_type), name
    table = pa.Table.from_batches(list(src.batches()), schema=src.schema)
    expected = pa.Table.from_pandas(df, preserve_index=False)
    for name in ("city", "few"):
        assert table.column(name).cast(pa.string()).equals(expected.column(name)), name
    reference = profile(df)
    for other in (expected, pl.from_arrow(expected)):
        assert profile(other) == reference
        assert profile(other, reference=reference) == profile(df, reference=reference)
    assert profile(df, batch_size=7000) == reference
    city = reference.columns["city"]
    assert isinstance(city, CategoricalProfile) and city.counts is not None
    is_null = df["city"].isna()
    assert city.nulls == int(is_null.sum())
    assert city.counts == dict(Counter(df["city"][~is_null]))
    assert reference.kinds["city"] == reference.kinds["cat"] == "categorical"


def test_pandas_object_columns_the_identity_path_does_not_take() -> None:
    rows = DICT_ROWS
    # One object a row (CPython shares one-character strings: "3" would be shared).
    per_row = np.array([f"v{i % 7}" for i in range(rows)]).astype(object)
    nothing = np.full(rows, None, dtype=object)
    src = open_source(pd.DataFrame({"s": per_row, "n": nothing}))
    assert src.schema.field("s").type == pa.string()
    assert src.schema.field("n").type == pa.null()
    assert profile(pd.DataFrame({"s": per_row})) == profile(pa.table({"s": per_row.tolist()}))
    mixed = np.array([1, "a"] * (rows // 2), dtype=object)
    with pytest.raises(InputError, match="'m' mixes value types"):
        open_source(pd.DataFrame({"x": np.zeros(rows), "m": mixed}))
    numbers = np.array([1, 2] * (rows // 2), dtype=object)
    assert open_source(pd.DataFrame({"k": numbers})).schema.field("k").type == pa.int64()


def test_parquet_is_read_row_group_by_row_group_with_the_same_profile(tmp_path: Path) -> None:
    df = string_frame(30_000)
    table = pa.Table.from_pandas(df, preserve_index=False)
    path = tmp_path / "groups.parquet"
    pq.write_table(table, path, row_group_size=4000)
    assert pq.ParquetFile(path).metadata.num_row_groups > 1
    src = open_source(path, batch_size=2500)
    batches = list(src.batches())
    assert all(0 < b.num_rows <= 2500 for b in batches)
    assert all(b.schema.equals(src.schema) for b in batches)
    assert sum(b.num_rows for b in batches) == src.num_rows == 30_000
    assert profile(path, batch_size=2500) == profile(table) == profile(df)
    # Files that store a column as large_string are read with the first file's types.
    root = tmp_path / "parts"
    root.mkdir()
    pq.write_table(table.slice(0, 10_000), root / "a.parquet", row_group_size=3000)
    big = table.slice(10_000).cast(
        pa.schema(
            [pa.field("few", pa.large_string()) if f.name == "few" else f for f in table.schema]
        )
    )
    pq.write_table(big, root / "b.parquet", row_group_size=3000)
    parts = open_source(root, batch_size=2500)
    assert all(b.schema.equals(parts.schema) for b in parts.batches())
    assert profile(root) == profile(table)


def test_a_duckdb_query_given_as_text(tmp_path: Path) -> None:
    table = pa.table({"x": [1.5, 2.5, None, 4.0], "g": ["a", "b", "a", None]})
    pq.write_table(table, tmp_path / "t.parquet")
    query = f"duckdb:SELECT * FROM '{tmp_path / 't.parquet'}'"
    assert profile(query) == profile(table)
    assert profile(f"{query} WHERE x > 2").rows == 2
    with pytest.raises(InputError, match="DuckDB cannot run the query"):
        open_source("duckdb:SELEC 1")
