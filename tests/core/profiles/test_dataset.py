"""Dataset profiles obey the monoid laws on random tables of every column kind."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from functools import reduce

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.core.fairness import GroupCounts
from trustops.core.profiles import (
    CategoricalProfile,
    CountsProfile,
    DatasetProfile,
    NumericProfile,
    ProfilePlan,
    TypeChangedError,
    column_kind,
    null_rate,
)
from trustops.errors import InputError, MissingColumnError, UsageError

EPOCH = dt.datetime(2020, 1, 1)
SCHEMA = pa.schema(
    {
        "x": pa.float64(),
        "n": pa.int32(),
        "s": pa.string(),
        "b": pa.bool_(),
        "t": pa.timestamp("us"),
        "d": pa.date32(),
        "nothing": pa.null(),
        "blob": pa.binary(),
    }
)
# Fixed edges, as a reference would give; values fall below, inside and above them.
PLAN = ProfilePlan(
    edges={
        "x": np.array([-10.0, -1.0, 0.0, 1.0, 10.0]),
        "n": np.array([-3.0, 0.0, 3.0]),
        "t": np.array([1577836800.0, 1577840400.0, 1577923200.0]),
    },
    max_categories=4,
)
FLOATS = st.one_of(
    st.none(),
    st.floats(-1e6, 1e6, allow_subnormal=False),
    st.integers(-12, 12).map(float),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)
ROW = st.fixed_dictionaries(
    {
        "x": FLOATS,
        "n": st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1), st.integers(-5, 5)),
        "s": st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e", "f"])),
        "b": st.one_of(st.none(), st.booleans()),
        "t": st.one_of(
            st.none(),
            st.integers(-(10**6), 10**12).map(lambda us: EPOCH + dt.timedelta(microseconds=us)),
        ),
        "d": st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))),
        "nothing": st.none(),
        "blob": st.one_of(st.none(), st.binary(max_size=3)),
    }
)


def table_of(rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def profile_of(table: pa.Table, plan: ProfilePlan = PLAN) -> DatasetProfile:
    return DatasetProfile.zero(plan, table.schema).update(table)


@st.composite
def partitioned(draw: st.DrawFn) -> tuple[pa.Table, list[pa.Table]]:
    rows = draw(st.lists(ROW, max_size=25))
    table = table_of(rows)
    cuts = sorted(draw(st.lists(st.integers(0, len(rows)), max_size=4)))
    bounds = [0, *cuts, len(rows)]
    parts = [table.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    return table, [parts[i] for i in draw(st.permutations(range(len(parts))))]


# --- the monoid laws -----------------------------------------------------------


@given(partitioned())
def test_profiling_partitions_in_any_order_equals_the_whole(
    case: tuple[pa.Table, list[pa.Table]],
) -> None:
    table, parts = case
    whole = profile_of(table)
    zero = DatasetProfile.zero(PLAN, SCHEMA)
    streamed = reduce(DatasetProfile.update, parts, zero)
    merged = reduce(DatasetProfile.merge, [zero.of_batch(p) for p in parts], zero)
    assert streamed == whole and merged == whole
    assert whole.rows == table.num_rows
    for name, col in whole.columns.items():
        assert col.total == table.num_rows, name
    x = whole.columns["x"]
    assert isinstance(x, NumericProfile) and x.histogram is not None
    assert x.histogram.counts.sum() == x.count
    # Exact parts, spelled out against the data itself.
    values = [v for v in table.column("x").to_pylist() if v is not None]
    finite = [v for v in values if math.isfinite(v)]
    assert x.nulls == table.column("x").null_count
    assert x.nans == sum(math.isnan(v) for v in values)
    assert (x.pos_inf, x.neg_inf) == (values.count(math.inf), values.count(-math.inf))
    assert (x.minimum, x.maximum) == ((min(finite), max(finite)) if finite else (None, None))


@given(partitioned())
def test_zero_is_an_identity_and_merge_commutes_and_associates(
    case: tuple[pa.Table, list[pa.Table]],
) -> None:
    _, parts = case
    zero = DatasetProfile.zero(PLAN, SCHEMA)
    a, b, c = (profile_of(p) for p in [*parts, table_of([]), table_of([])][:3])
    assert zero.merge(a) == a == a.merge(zero)
    assert a.merge(b) == b.merge(a)
    assert a.merge(b).merge(c) == a.merge(b.merge(c))


def test_kinds() -> None:
    p = DatasetProfile.zero(PLAN, SCHEMA)
    assert p.kinds == {
        "x": "numeric",
        "n": "numeric",
        "s": "categorical",
        "b": "boolean",
        "t": "datetime",
        "d": "datetime",
        "nothing": "null",
        "blob": "other",
    }
    assert column_kind(pa.large_string()) == column_kind(pa.string_view()) == "categorical"
    assert column_kind(pa.dictionary(pa.int8(), pa.string())) == "categorical"
    assert column_kind(pa.dictionary(pa.int8(), pa.int64())) == "numeric"
    assert column_kind(pa.dictionary(pa.int8(), pa.timestamp("ns"))) == "datetime"
    assert column_kind(pa.decimal128(10, 2)) == "numeric"
    assert isinstance(p.columns["blob"], CountsProfile)


# --- kinds and types --------------------------------------------------------------


@pytest.mark.parametrize(
    "arrow_type",
    [pa.timestamp("s"), pa.timestamp("ms"), pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")],
)
def test_the_same_instants_in_any_unit_give_the_same_profile(arrow_type: pa.DataType) -> None:
    rng = np.random.default_rng(0)
    seconds = rng.integers(-(10**9), 2 * 10**9, 500)
    micros = pa.array(seconds * 1_000_000 + rng.integers(0, 1000, 500) * 1000, pa.timestamp("us"))
    if arrow_type.unit == "s":
        micros = pa.array(seconds * 1_000_000, pa.timestamp("us"))
    plan = ProfilePlan(edges={"t": np.array([0.0, 1e9, 1.5e9])})
    expected = profile_of(pa.table({"t": micros}), plan)
    got = profile_of(pa.table({"t": micros.cast(arrow_type)}), plan)
    assert got == expected
    # Bit for bit, not to a tolerance: the engines hand over different units.
    assert got.columns["t"].minimum == expected.columns["t"].minimum  # type: ignore[union-attr]


def test_dates_are_seconds_since_the_epoch() -> None:
    days = pa.array([dt.date(1970, 1, 2), dt.date(1969, 12, 31), None])
    p = profile_of(pa.table({"d": days}), ProfilePlan())
    d = p.columns["d"]
    assert isinstance(d, NumericProfile)
    assert (d.minimum, d.maximum, d.nulls) == (-86400.0, 86400.0, 1)
    as64 = profile_of(pa.table({"d": days.cast(pa.date64())}), ProfilePlan())
    assert as64 == p


def test_dictionaries_are_profiled_as_their_values() -> None:
    plain = pa.table({"n": [3, 1, None, 3], "t": pa.array([0, 5, 5, None], pa.timestamp("s"))})
    encoded = pa.table(
        {name: plain.column(name).dictionary_encode() for name in plain.column_names}
    )
    plan = ProfilePlan(edges={"n": np.array([0.0, 2.0, 4.0]), "t": np.array([0.0, 1.0, 9.0])})
    assert profile_of(encoded, plan) == profile_of(plain, plan)
    assert profile_of(encoded, plan).kinds == {"n": "numeric", "t": "datetime"}


def test_decimals_are_numeric() -> None:
    import decimal

    values = pa.array(
        [decimal.Decimal("1.25"), None, decimal.Decimal("-3.50")], pa.decimal128(5, 2)
    )
    p = profile_of(pa.table({"v": values}), ProfilePlan())
    v = p.columns["v"]
    assert isinstance(v, NumericProfile)
    assert (v.count, v.nulls, v.minimum, v.maximum) == (2, 1, -3.5, 1.25)


def test_a_typed_batch_after_an_all_null_one() -> None:
    nulls = pa.table({"x": pa.nulls(3)})
    typed = pa.table({"x": pa.array([1.0, None])})
    # Within one stream the first schema decides; a null-typed batch adds nulls.
    stream = DatasetProfile.zero(ProfilePlan(), typed.schema).update(nulls).update(typed)
    assert stream.columns["x"].nulls == 4
    # Profiles made apart: the typed part decides the kind, and the nulls stay counted.
    a, b = profile_of(nulls, ProfilePlan()), profile_of(typed, ProfilePlan())
    assert a.kinds["x"] == "null" and b.kinds["x"] == "numeric"
    for merged in (a.merge(b), b.merge(a)):
        assert merged.kinds["x"] == "numeric" and merged.types["x"] == "double"
        assert (merged.columns["x"].count, merged.columns["x"].nulls) == (1, 4)
    assert a.merge(b) == b.merge(a) == stream


def test_a_changed_type_is_named() -> None:
    p = DatasetProfile.zero(ProfilePlan(), pa.schema({"age": pa.int64()}))
    with pytest.raises(TypeChangedError, match="'age'") as err:
        p.update(pa.table({"age": ["forty"]}))
    assert err.value.column == "age"
    ref = p.update(pa.table({"age": [40]})).fitted_plan()
    with pytest.raises(TypeChangedError, match="'age' changed type: numeric"):
        DatasetProfile.zero(ref, pa.schema({"age": pa.string()}))
    other = DatasetProfile.zero(ProfilePlan(), pa.schema({"age": pa.string()}))
    with pytest.raises(TypeChangedError):
        p.merge(other)
    with pytest.raises(InputError, match="different columns"):
        p.merge(DatasetProfile.zero(ProfilePlan(), pa.schema({"x": pa.int64()})))


def test_missing_columns() -> None:
    with pytest.raises(MissingColumnError, match="'nope'"):
        DatasetProfile.zero(ProfilePlan(columns=("nope",)), SCHEMA)
    p = DatasetProfile.zero(ProfilePlan(columns=("x",)), SCHEMA)
    assert list(p.columns) == ["x"]
    with pytest.raises(MissingColumnError, match="'x'"):
        p.update(pa.table({"y": [1.0]}))
    with pytest.raises(MissingColumnError):
        p.column("y")


@pytest.mark.parametrize(
    "kwargs", [{"bins": 0}, {"sketch_k": 4}, {"sketch_k": 70_000}, {"max_categories": 0}]
)
def test_plan_arguments_are_checked(kwargs: dict[str, int]) -> None:
    with pytest.raises(UsageError):
        ProfilePlan(**kwargs)  # type: ignore[arg-type]


def test_fitted_plan_places_edges_on_numeric_columns() -> None:
    table = pa.table(
        {"x": np.arange(1000.0), "s": ["a"] * 1000, "empty": pa.array([None] * 1000, pa.float64())}
    )
    plan = profile_of(table, ProfilePlan(bins=10)).fitted_plan()
    assert set(plan.edges) == {"x"} and plan.columns == ("x", "s", "empty")
    assert plan.kinds == {"x": "numeric", "s": "categorical", "empty": "numeric"}
    edges = plan.edges["x"]
    assert edges[0] == 0.0 and edges[-2] == 999.0 and 8 <= len(edges) <= 12
    hist = profile_of(table, plan).columns["x"].histogram  # type: ignore[union-attr]
    assert hist is not None and hist.below == hist.above == 0 and hist.counts.sum() == 1000


def test_big_batches_profile_columns_in_parallel_with_the_same_result() -> None:
    rng = np.random.default_rng(1)
    table = pa.table({"x": rng.normal(size=150_000), "s": rng.choice(["a", "b"], 150_000)})
    plan = ProfilePlan(edges={"x": np.linspace(-3, 3, 13)})
    whole = profile_of(table, plan)
    parts = reduce(
        DatasetProfile.merge, [profile_of(b, plan) for b in table.to_batches(max_chunksize=40_000)]
    )
    assert whole == parts


def test_outcomes_merge() -> None:
    def counts(level: str, n: int) -> GroupCounts:
        rows = np.zeros((1, 2, 2), np.int64)
        rows[0, 1, 1] = n
        return GroupCounts(("g",), ((level,),), "binary", (0, 1), rows, rows.astype(float))

    p = DatasetProfile.zero(ProfilePlan(), pa.schema({"x": pa.int64()}))
    a, b = p.with_outcomes(counts("a", 2)), p.with_outcomes(counts("b", 3))
    assert a.merge(b) == b.merge(a) and a.merge(b) != a
    assert a.merge(p) == a == p.merge(a)
    assert a.merge(b).outcomes is not None and a.merge(b).outcomes.rows.sum() == 5  # type: ignore[union-attr]


def test_null_rate() -> None:
    p = profile_of(pa.table({"x": [1.0, None, math.nan, 2.0], "s": ["a", None, None, None]}))
    assert null_rate(p.columns["x"]) == 0.5 and null_rate(p.columns["s"]) == 0.75
    assert null_rate(NumericProfile.zero()) is None and null_rate(CategoricalProfile.zero()) is None
