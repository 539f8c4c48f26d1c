"""Categorical (string, boolean, dictionary) column profiles: exact counts, then sketches.

Category counts are exact while the column has at most ``max_categories``
distinct values. Past that cap the profile switches, for good, to two
sketches (Apache DataSketches): a frequent-items sketch (Misra–Gries /
SpaceSaving family; every estimate is within ``epsilon · total`` of the true
count) and an HLL distinct-count sketch (relative error about ``1.04/√m``
for ``m = 2^lg_k`` registers). Both merge, so profiles of partitions merge
into the profile of the whole either way.

Example:
    >>> import pyarrow as pa
    >>> p = CategoricalProfile.of(pa.array(["a", "b", "a", None]))
    >>> p.count, p.nulls, p.exact, sorted(p.counts.items())
    (3, 1, True, [('a', 2), ('b', 1)])
    >>> p.merge(CategoricalProfile.of(pa.array(["c"]))).distinct
    3
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasketches import (
    frequent_items_error_type,
    frequent_strings_sketch,
    hll_sketch,
    hll_union,
)

__all__ = ["DEFAULT_MAX_CATEGORIES", "CategoricalProfile"]

DEFAULT_MAX_CATEGORIES = 10_000
FREQUENT_LG_MAX_MAP_SIZE = 12  # epsilon = 3.5 / 2^12 ≈ 0.00085 of the total count
HLL_LG_K = 14  # relative standard error ≈ 1.04 / sqrt(2^14) ≈ 0.8%


def sketch_key(value: Any) -> str:
    """The string a value is counted under once sketched (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def value_counts(values: pa.Array | pa.ChunkedArray) -> tuple[list[Any], list[int], int]:
    """Distinct non-null values, their counts, and the number of nulls."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.DictionaryArray):
        return _dictionary_counts(values)
    nulls = values.null_count
    if nulls:
        values = values.drop_null()
    if len(values) == 0:
        return [], [], nulls
    vc = pc.value_counts(values)
    return vc.field("values").to_pylist(), vc.field("counts").to_pylist(), nulls


def _dictionary_counts(values: pa.DictionaryArray) -> tuple[list[Any], list[int], int]:
    """:func:`value_counts` of a dictionary array from its indices, without decoding.

    Counts the codes with ``np.bincount``; only the used entries of the
    dictionary are turned into Python values. Entries that repeat a value (a
    dictionary is not required to be unique) are merged; unused entries and
    null entries of the dictionary itself are skipped (rows pointing at a null
    entry count as nulls, as they do once decoded).
    """
    nulls = values.null_count
    dictionary = values.dictionary
    if len(values) == nulls or len(dictionary) == 0:
        return [], [], len(values)
    indices = values.indices
    if nulls:
        indices = indices.drop_null()
    codes = indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    tally = np.bincount(codes, minlength=len(dictionary))
    # In order of first appearance, as pc.value_counts of the decoded values lists
    # them (a sketch built from the counts once past max_categories depends on it).
    first = np.full(len(dictionary), len(codes), dtype=np.intp)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.intp))
    used = np.flatnonzero(tally)
    used = used[np.argsort(first[used], kind="stable")]
    keys = dictionary.take(pa.array(used, type=pa.int64()))
    totals = tally[used]
    if keys.null_count:
        valid = np.asarray(keys.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        nulls += int(totals[~valid].sum())
        keys, totals = keys.filter(pa.array(valid)), totals[valid]
    merged: dict[Any, int] = {}
    for key, n in zip(keys.to_pylist(), totals.tolist(), strict=True):
        merged[key] = merged.get(key, 0) + n
    return list(merged), list(merged.values()), nulls


@dataclass(frozen=True, slots=True, eq=False)
class CategoricalProfile:
    """Mergeable summary of one categorical column (see the module docstring).

    Exactly one of ``counts`` (exact mode) or the pair ``frequent`` and
    ``distinct_sketch`` (sketch mode) is set.
    """

    count: int
    nulls: int
    counts: dict[Any, int] | None
    frequent: frequent_strings_sketch | None = None
    distinct_sketch: hll_sketch | None = None
    max_categories: int = DEFAULT_MAX_CATEGORIES

    @staticmethod
    def zero(max_categories: int = DEFAULT_MAX_CATEGORIES) -> CategoricalProfile:
        """The empty profile (the monoid's identity)."""
        return CategoricalProfile(0, 0, {}, max_categories=max_categories)

    @staticmethod
    def of(values: pa.Array, *, max_categories: int = DEFAULT_MAX_CATEGORIES) -> CategoricalProfile:
        """Profile one Arrow array of categories."""
        keys, counts, nulls = value_counts(values)
        profile = CategoricalProfile(
            sum(counts), nulls, dict(zip(keys, counts, strict=True)), max_categories=max_categories
        )
        return profile._capped()

    @property
    def exact(self) -> bool:
        """Whether the category counts are exact (at most ``max_categories`` seen)."""
        return self.counts is not None

    @property
    def total(self) -> int:
        return self.count + self.nulls

    @property
    def distinct(self) -> int:
        """The number of distinct non-null values (exact, or the HLL estimate rounded)."""
        if self.counts is not None:
            return len(self.counts)
        assert self.distinct_sketch is not None
        return round(self.distinct_sketch.get_estimate())

    @property
    def frequency_error(self) -> int:
        """Largest error of any count in :meth:`top` (0 in exact mode)."""
        if self.frequent is None:
            return 0
        return int(self.frequent.epsilon * self.frequent.total_weight)

    def top(self, k: int | None = None) -> list[tuple[Any, int]]:
        """Categories by decreasing count, ties by value; estimates in sketch mode."""
        if self.counts is not None:
            items = sorted(self.counts.items(), key=lambda kv: (-kv[1], sketch_key(kv[0])))
        else:
            assert self.frequent is not None
            rows = self.frequent.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES)
            items = sorted(((r[0], int(r[1])) for r in rows), key=lambda kv: (-kv[1], kv[0]))
        return items if k is None else items[:k]

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        """The profile of both parts' values."""
        count, nulls = self.count + other.count, self.nulls + other.nulls
        if self.counts is not None and other.counts is not None:
            merged = dict(self.counts)
            for key, n in other.counts.items():
                merged[key] = merged.get(key, 0) + n
            return CategoricalProfile(
                count, nulls, merged, max_categories=self.max_categories
            )._capped()
        frequent = frequent_strings_sketch(FREQUENT_LG_MAX_MAP_SIZE)
        union = hll_union(HLL_LG_K)
        for part in (self, other):
            if part.counts is not None:
                _add_counts(frequent, union, part.counts.items())
            else:
                assert part.frequent is not None and part.distinct_sketch is not None
                frequent.merge(part.frequent)
                union.update(part.distinct_sketch)
        return CategoricalProfile(
            count, nulls, None, frequent, union.get_result(), self.max_categories
        )

    def _capped(self) -> CategoricalProfile:
        if self.counts is None or len(self.counts) <= self.max_categories:
            return self
        frequent = frequent_strings_sketch(FREQUENT_LG_MAX_MAP_SIZE)
        union = hll_union(HLL_LG_K)
        _add_counts(frequent, union, self.counts.items())
        return CategoricalProfile(
            self.count, self.nulls, None, frequent, union.get_result(), self.max_categories
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CategoricalProfile):
            return NotImplemented
        if (self.count, self.nulls, self.exact) != (other.count, other.nulls, other.exact):
            return False
        if self.counts is not None:
            return self.counts == other.counts
        return self.top() == other.top() and self.distinct == other.distinct


def _add_counts(
    frequent: frequent_strings_sketch, union: hll_union, items: Iterable[tuple[Any, int]]
) -> None:
    distinct = hll_sketch(HLL_LG_K)
    for key, n in items:
        s = sketch_key(key)
        frequent.update(s, n)
        distinct.update(s)
    union.update(distinct)
