"""A whole dataset's profile: one mergeable profile per column, plus outcome counts.

:class:`DatasetProfile` is a monoid: :meth:`DatasetProfile.zero` is the
identity, :meth:`DatasetProfile.merge` is associative and commutative (up to
floating-point rounding of the moments), and :meth:`DatasetProfile.update`
with a record batch equals merging the batch's own profile. Profiling
partitions in any order and merging them gives the profile of the whole,
which is what lets the same kernel run over a stream of batches or inside
Spark executors.

A :class:`ProfilePlan` fixes what is computed: which columns, the histogram
edges of numeric columns (taken from a reference profile, so later data is
binned like the reference), the sketch size, and the category cap. Column
kinds come from the Arrow type:

========================================  ============
Arrow type                                kind
========================================  ============
integer, floating point, decimal          numeric
timestamp, date (as seconds since epoch)  datetime
boolean                                   boolean
string, large string                      categorical
null (every value missing)                null
anything else (lists, structs, binary)    other
========================================  ============

A dictionary-encoded column (a pandas ``category``, a Polars ``Categorical``,
a DuckDB ``ENUM``) has the kind of its values, as every engine that decodes
it does: categories of text are categorical, categories of numbers numeric.

Example:
    >>> import pyarrow as pa
    >>> batch = pa.record_batch({"age": [30, 40, None], "city": ["a", "b", "a"]})
    >>> p = DatasetProfile.zero(ProfilePlan(), batch.schema).update(batch)
    >>> p.rows, p.kinds
    (3, {'age': 'numeric', 'city': 'categorical'})
    >>> p.columns["age"].mean, p.columns["city"].counts
    (35.0, {'a': 2, 'b': 1})
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
import pyarrow as pa

from trustops.core.fairness.counts import GroupCounts
from trustops.core.profiles.categorical import DEFAULT_MAX_CATEGORIES, CategoricalProfile
from trustops.core.profiles.edges import QuantileGrid, grid_counts
from trustops.core.profiles.numeric import (
    DEFAULT_SKETCH_K,
    Histogram,
    NumericProfile,
    fit_edges,
)
from trustops.errors import InputError, MissingColumnError, UsageError

__all__ = [
    "KINDS",
    "ColumnProfile",
    "CountsProfile",
    "DatasetProfile",
    "ProfilePlan",
    "TypeChangedError",
    "column_kind",
    "numeric_values",
]

T = TypeVar("T")
R = TypeVar("R")

KINDS = ("numeric", "datetime", "boolean", "categorical", "null", "other")
DEFAULT_BINS = 100
_TICKS_PER_SECOND = {"s": 1, "ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}


class TypeChangedError(InputError):
    """A column's kind differs between two profiles or between a profile and new data."""

    def __init__(self, column: str, before: str, after: str, *, where: str = "") -> None:
        super().__init__(
            f"column {column!r} changed type: {before} {where or 'before'}, {after} now",
            hint="cast the column to one type, or profile it under another name",
        )
        self.column = column


def column_kind(arrow_type: pa.DataType) -> str:
    """The profile kind of an Arrow type (see the module docstring)."""
    t = arrow_type
    if pa.types.is_dictionary(t):
        return column_kind(t.value_type)
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numeric"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "categorical"
    if pa.types.is_null(t):
        return "null"
    return "other"


@dataclass(frozen=True, slots=True)
class CountsProfile:
    """Only counts: a column with no values (kind ``null``) or values not profiled (``other``)."""

    count: int
    nulls: int

    @staticmethod
    def zero() -> CountsProfile:
        return CountsProfile(0, 0)

    @staticmethod
    def of(values: pa.Array) -> CountsProfile:
        return CountsProfile(len(values) - values.null_count, values.null_count)

    @property
    def total(self) -> int:
        return self.count + self.nulls

    def merge(self, other: CountsProfile) -> CountsProfile:
        return CountsProfile(self.count + other.count, self.nulls + other.nulls)


ColumnProfile = NumericProfile | CategoricalProfile | CountsProfile


@dataclass(frozen=True, slots=True)
class ProfilePlan:
    """What a profile computes.

    Attributes:
        columns: the columns to profile (``None``: all of them).
        bins: histogram bins fitted on a reference's quantiles.
        sketch_k: the KLL sketch's ``k`` (rank error ≈ 1.33% at 200, 0.28% at 1000);
            0 for no quantile sketches (moments and histograms only).
        max_categories: exact category counts up to this many distinct values.
        edges: histogram edges per numeric/datetime column (from a reference).
        kinds: the kinds a reference had, to catch a column whose type changed.
    """

    columns: tuple[str, ...] | None = None
    bins: int = DEFAULT_BINS
    sketch_k: int = DEFAULT_SKETCH_K
    max_categories: int = DEFAULT_MAX_CATEGORIES
    edges: Mapping[str, np.ndarray] = field(default_factory=dict)
    kinds: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.bins < 1:
            raise UsageError(f"bins must be at least 1, got {self.bins}")
        if not (8 <= self.sketch_k <= 65535 or self.sketch_k == 0):
            raise UsageError(
                f"sketch_k must be between 8 and 65535 (or 0: no sketch), got {self.sketch_k}"
            )
        if self.max_categories < 1:
            raise UsageError(f"max_categories must be at least 1, got {self.max_categories}")


@dataclass(frozen=True, slots=True)
class DatasetProfile:
    """Mergeable sufficient statistics of a dataset (see the module docstring).

    Attributes:
        rows: the number of rows.
        columns: one profile per column, in the data's column order.
        kinds: each column's kind (``numeric``, ``datetime``, ``categorical`` ...).
        types: each column's Arrow type, as text.
        plan: what was computed.
        outcomes: outcome counts per group (the fairness core's table), if asked for.
    """

    rows: int
    columns: dict[str, ColumnProfile]
    kinds: dict[str, str]
    types: dict[str, str]
    plan: ProfilePlan
    outcomes: GroupCounts | None = None

    @staticmethod
    def zero(plan: ProfilePlan, schema: pa.Schema) -> DatasetProfile:
        """The empty profile of data with ``schema`` (the monoid's identity)."""
        names = list(plan.columns) if plan.columns is not None else list(schema.names)
        for name in names:
            if name not in schema.names:
                raise MissingColumnError(name, available=schema.names)
        kinds, types, columns = {}, {}, {}
        for name in names:
            arrow_type = schema.field(name).type
            kind = column_kind(arrow_type)
            expected = plan.kinds.get(name)
            if expected is not None and kind != expected and "null" not in (kind, expected):
                raise TypeChangedError(name, expected, kind, where="in the reference")
            # A dictionary column is described by its values' type: pandas categories
            # and strings read as dictionaries look like the same column elsewhere.
            shown = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
            kinds[name], types[name] = kind, str(shown)
            columns[name] = _zero_column(kind, name, plan)
        return DatasetProfile(0, columns, kinds, types, plan)

    def update(self, batch: pa.RecordBatch | pa.Table) -> DatasetProfile:
        """This profile merged with the profile of ``batch``."""
        return self.merge(self.of_batch(batch))

    def of_batch(self, batch: pa.RecordBatch | pa.Table) -> DatasetProfile:
        """The profile of one batch, made with this profile's plan and kinds."""
        work: list[tuple[str, str, pa.Array]] = []
        for name, kind in self.kinds.items():
            if name not in batch.schema.names:
                raise MissingColumnError(name, available=batch.schema.names)
            values = batch.column(name)
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            found = column_kind(values.type)
            if found != kind and found != "null":
                raise TypeChangedError(name, kind, found, where="in earlier batches")
            if kind not in ("categorical", "boolean"):  # categories count codes, undecoded
                values = _decoded(values)
            work.append((name, kind, values))
        plan = self.plan

        def one(item: tuple[str, str, pa.Array]) -> ColumnProfile:
            return _profile_column(item[1], item[0], item[2], plan)

        parts = _map_columns(one, work, batch.num_rows)
        columns = {name: part for (name, _, _), part in zip(work, parts, strict=True)}
        return DatasetProfile(batch.num_rows, columns, self.kinds, self.types, self.plan)

    def finite_values(self, batch: pa.RecordBatch | pa.Table, name: str) -> np.ndarray:
        """The finite values of numeric or datetime column ``name`` of ``batch``, as floats."""
        values = _decoded(batch.column(name))
        if values.null_count:
            values = values.drop_null()
        x = numeric_values(self.kinds[name], values)
        return x[np.isfinite(x)]

    def ranges(self) -> dict[str, tuple[float, float]]:
        """``(min, max)`` of every numeric or datetime column with a finite value."""
        return {
            name: (col.minimum, col.maximum)
            for name, col in self.columns.items()
            if isinstance(col, NumericProfile)
            and col.minimum is not None
            and col.maximum is not None
        }

    def grid_counts_of(
        self,
        batch: pa.RecordBatch | pa.Table,
        ranges: Mapping[str, tuple[float, float]],
        integers: frozenset[str] = frozenset(),
    ) -> dict[str, np.ndarray]:
        """Counts of ``batch`` on each column's first edge-fitting grid over ``(min, max)``."""

        def one(item: tuple[str, tuple[float, float]]) -> np.ndarray:
            name, (lo, hi) = item
            return grid_counts(self.finite_values(batch, name), lo, hi, integer=name in integers)

        items = list(ranges.items())
        return dict(zip(ranges, _map_columns(one, items, batch.num_rows), strict=True))

    def sub_counts_of(
        self,
        batch: pa.RecordBatch | pa.Table,
        grids: Mapping[str, QuantileGrid],
        cells: Mapping[str, np.ndarray],
    ) -> dict[str, np.ndarray]:
        """Counts of ``batch`` on the sub-cells of each column's ``cells`` (:mod:`.edges`)."""

        def one(item: tuple[str, np.ndarray]) -> np.ndarray:
            name, c = item
            return grids[name].sub_counts(self.finite_values(batch, name), c)

        items = list(cells.items())
        return dict(zip(cells, _map_columns(one, items, batch.num_rows), strict=True))

    def histograms_of(self, batch: pa.RecordBatch | pa.Table) -> dict[str, Histogram]:
        """Exact histograms of ``batch`` on this plan's edges (a reference's second read)."""

        def one(item: tuple[str, np.ndarray]) -> Histogram:
            name, edges = item
            return Histogram.of(self.finite_values(batch, name), edges)

        items = list(self.plan.edges.items())
        parts = _map_columns(one, items, batch.num_rows)
        return {name: h for (name, _), h in zip(items, parts, strict=True)}

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """The profile of both parts (same columns; kinds must agree)."""
        if list(self.kinds) != list(other.kinds):
            raise InputError(
                "cannot merge profiles of different columns: "
                f"{list(self.kinds)} and {list(other.kinds)}"
            )
        kinds = dict(self.kinds)
        types = dict(self.types)
        columns: dict[str, ColumnProfile] = {}
        for name, mine in self.columns.items():
            theirs = other.columns[name]
            a, b = self.kinds[name], other.kinds[name]
            if a != b:
                if "null" not in (a, b):
                    raise TypeChangedError(name, a, b, where="in one part")
                # A part with no values of the column yet: the typed part decides.
                if a == "null":
                    kinds[name], types[name] = b, other.types[name]
                    mine = _with_nulls(_zero_column(b, name, other.plan), mine)
                else:
                    theirs = _zero_column(a, name, self.plan)
                    theirs = _with_nulls(theirs, other.columns[name])
            columns[name] = mine.merge(theirs)  # type: ignore[arg-type]
        outcomes = self.outcomes
        if other.outcomes is not None:
            outcomes = other.outcomes if outcomes is None else outcomes.merge(other.outcomes)
        return DatasetProfile(self.rows + other.rows, columns, kinds, types, self.plan, outcomes)

    def with_outcomes(self, counts: GroupCounts) -> DatasetProfile:
        """This profile with ``counts`` merged into its outcome table."""
        merged = counts if self.outcomes is None else self.outcomes.merge(counts)
        return replace(self, outcomes=merged)

    def fitted_plan(
        self, bins: int | None = None, *, edges: Mapping[str, np.ndarray] | None = None
    ) -> ProfilePlan:
        """A plan whose histogram edges sit at this profile's quantiles (for a reference).

        ``edges`` are exact ones found by :mod:`.edges` (what ``trustops.profile``
        does, re-reading the data); without them, the edges are the KLL
        sketch's approximate quantiles, which vary from run to run.
        """
        bins = bins or self.plan.bins
        if edges is not None:
            edges = dict(edges)
        else:
            edges = {}
            for name, col in self.columns.items():
                if isinstance(col, NumericProfile) and col.sketch is not None:
                    fitted = fit_edges(col.sketch, bins)
                    if len(fitted):
                        edges[name] = fitted
        return replace(
            self.plan,
            columns=tuple(self.kinds),
            bins=bins,
            edges=edges,
            kinds=dict(self.kinds),
        )

    def column(self, name: str) -> ColumnProfile:
        """One column's profile, or :class:`MissingColumnError`."""
        if name not in self.columns:
            raise MissingColumnError(name, available=list(self.columns))
        return self.columns[name]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatasetProfile):
            return NotImplemented
        return (
            self.rows == other.rows
            and self.kinds == other.kinds
            and self.columns == other.columns
            and _same_outcomes(self.outcomes, other.outcomes)
        )


_PARALLEL_ROWS = 100_000
_POOL: ThreadPoolExecutor | None = None


def _map_columns(f: Callable[[T], R], items: Sequence[T], rows: int) -> list[R]:
    """``[f(x) for x in items]``, on two threads for big batches.

    NumPy and Arrow release the GIL in their loops, so one column's moments
    and histogram overlap another column's sketch update. Results are the
    same either way (each column is computed by itself).
    """
    global _POOL
    workers = min(2, os.cpu_count() or 1)
    if rows < _PARALLEL_ROWS or len(items) < 2 or workers < 2:
        return [f(x) for x in items]
    if _POOL is None:
        _POOL = ThreadPoolExecutor(workers, thread_name_prefix="trustops-profile")
    return list(_POOL.map(f, items))


def _same_outcomes(a: GroupCounts | None, b: GroupCounts | None) -> bool:
    if a is None or b is None:
        return a is b
    a, b = a.sorted_levels(), b.sorted_levels()
    return (
        a.attributes == b.attributes
        and a.levels == b.levels
        and a.classes == b.classes
        and np.array_equal(a.rows, b.rows)
    )


def _zero_column(kind: str, name: str, plan: ProfilePlan) -> ColumnProfile:
    if kind in ("numeric", "datetime"):
        return NumericProfile.zero(plan.edges.get(name), sketch_k=plan.sketch_k)
    if kind in ("categorical", "boolean"):
        return CategoricalProfile.zero(plan.max_categories)
    return CountsProfile.zero()


def _with_nulls(profile: ColumnProfile, counts: ColumnProfile) -> ColumnProfile:
    """``profile`` (empty) holding the nulls of a part whose column was all null."""
    nulls = counts.nulls
    return replace(profile, nulls=nulls)


def _decoded(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One array, dictionaries decoded (the kernels read values, not codes)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values


def _seconds(ticks: np.ndarray, per_second: int) -> np.ndarray:
    """Seconds since the epoch, the same float for the same instant in any unit.

    ``ticks * 1e-6`` and ``ticks * 1e-9`` round differently (1e-6 and 1e-9
    are inexact), so the same instant read from Spark (µs) and pandas (ns)
    would differ in the last bit. Whole seconds are exact integers below
    2**53 and the fraction ``r / per_second`` is one correctly rounded
    division of the same real number in every unit, so their sum is too.
    """
    if per_second == 1:
        return ticks.astype(np.float64)
    whole, rest = np.divmod(ticks, per_second)
    return whole.astype(np.float64) + rest / per_second


def numeric_values(kind: str, values: pa.Array) -> np.ndarray:
    """Floats of a null-free numeric or datetime array (datetimes: seconds since the epoch)."""
    if kind == "datetime":
        t = values.type
        if pa.types.is_date32(t):
            return values.cast(pa.int32()).to_numpy().astype(np.float64) * 86400.0
        ticks = values.cast(pa.int64()).to_numpy()
        per_second = 1000 if pa.types.is_date64(t) else _TICKS_PER_SECOND[t.unit]
        return _seconds(ticks, per_second)
    if pa.types.is_decimal(values.type):
        values = values.cast(pa.float64())
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _profile_column(kind: str, name: str, values: pa.Array, plan: ProfilePlan) -> ColumnProfile:
    if pa.types.is_null(values.type):
        return _with_nulls(_zero_column(kind, name, plan), CountsProfile.of(values))
    if kind in ("numeric", "datetime"):
        nulls = values.null_count
        if nulls:
            values = values.drop_null()
        return NumericProfile.of(
            numeric_values(kind, values),
            nulls=nulls,
            edges=plan.edges.get(name),
            sketch_k=plan.sketch_k,
        )
    if kind in ("categorical", "boolean"):
        return CategoricalProfile.of(values, max_categories=plan.max_categories)
    return CountsProfile.of(values)


def null_rate(profile: ColumnProfile) -> float | None:
    """Share of rows where the column is missing (null; NaN counts as missing too)."""
    total = profile.total
    if total == 0:
        return None
    missing = profile.nulls + (profile.nans if isinstance(profile, NumericProfile) else 0)
    return missing / total
