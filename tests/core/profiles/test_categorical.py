"""Categorical profiles: exact counts, the switch to sketches past the cap, sketch error bounds."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from functools import reduce

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.core.profiles import CategoricalProfile
from trustops.core.profiles.categorical import HLL_LG_K, value_counts

# Three standard errors of an HLL estimate with 2^14 registers.
HLL_BOUND = 3 * 1.04 / math.sqrt(2**HLL_LG_K)
CATEGORY = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "é", "", "NA", "10"]))


def profile_of(values: list[object], cap: int = 10_000) -> CategoricalProfile:
    return CategoricalProfile.of(pa.array(values), max_categories=cap)


def zipf_values(n: int, distinct: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    ranks = np.minimum(rng.zipf(1.3, n), distinct) - 1
    return [f"v{r}" for r in ranks]


def test_exact_counts() -> None:
    p = profile_of(["a", "b", "a", None, None, "a"])
    assert (p.count, p.nulls, p.total, p.exact, p.distinct) == (4, 2, 6, True, 2)
    assert p.counts == {"a": 3, "b": 1} and p.frequency_error == 0
    assert p.top() == [("a", 3), ("b", 1)] and p.top(1) == [("a", 3)]


def test_booleans_and_dictionaries() -> None:
    p = profile_of([True, False, True, None])
    assert p.counts == {True: 2, False: 1} and p.nulls == 1
    d = CategoricalProfile.of(pa.array(["x", "y", None, "x"]).dictionary_encode())
    assert d == profile_of(["x", "y", None, "x"])


def test_all_null_and_empty() -> None:
    assert profile_of([None, None]) == CategoricalProfile(0, 2, {})
    assert profile_of([]) == CategoricalProfile.zero()


@st.composite
def partitioned(draw: st.DrawFn) -> tuple[list[object], list[list[object]]]:
    values = draw(st.lists(CATEGORY, max_size=40))
    cuts = sorted(draw(st.lists(st.integers(0, len(values)), max_size=4)))
    bounds = [0, *cuts, len(values)]
    parts = [values[a:b] for a, b in itertools.pairwise(bounds)]
    return values, [parts[i] for i in draw(st.permutations(range(len(parts))))]


@given(partitioned(), st.integers(1, 8))
def test_merging_partitions_equals_the_whole(
    case: tuple[list[object], list[list[object]]], cap: int
) -> None:
    values, parts = case
    whole = profile_of(values, cap)
    merged = reduce(
        CategoricalProfile.merge,
        [profile_of(p, cap) for p in parts],
        CategoricalProfile.zero(cap),
    )
    # Few distinct values: the sketches are still exact, so even sketch mode is equal.
    assert merged == whole
    assert merged.exact == (len({v for v in values if v is not None}) <= cap)
    if not merged.exact:
        truth = Counter(v for v in values if v is not None)
        assert dict(merged.top()) == {str(k): n for k, n in truth.items()}


@given(partitioned())
def test_zero_identity_commutative_associative(
    case: tuple[list[object], list[list[object]]],
) -> None:
    _, parts = case
    a, b, c = (profile_of(p, 3) for p in [*parts, [], []][:3])
    zero = CategoricalProfile.zero(3)
    assert zero.merge(a) == a == a.merge(zero)
    assert a.merge(b) == b.merge(a)
    assert a.merge(b).merge(c) == a.merge(b.merge(c))


def test_cap_switches_to_sketches_on_update_and_on_merge() -> None:
    assert not profile_of(["a", "b", "c"], cap=2).exact  # one batch past the cap
    a, b = profile_of(["a", "b"], cap=2), profile_of(["c"], cap=2)
    assert a.exact and b.exact
    merged = a.merge(b)  # together past the cap
    assert not merged.exact and merged.distinct == 3 and merged.count == 3
    # Once sketched, for good: merging an exact part keeps the sketches.
    again = merged.merge(profile_of(["a"], cap=2))
    assert not again.exact and dict(again.top()) == {"a": 2, "b": 1, "c": 1}
    assert profile_of(["a"], cap=2).merge(merged) == again
    # Booleans are sketched under their text.
    bools = profile_of([True, False, None], cap=1)
    assert not bools.exact and dict(bools.top()) == {"true": 1, "false": 1}


@pytest.mark.parametrize("parts", [1, 9])
def test_sketch_estimates_within_their_bounds(parts: int) -> None:
    values = zipf_values(200_000, 50_000, seed=parts)
    truth = Counter(values)
    chunks = np.array_split(np.array(values, dtype=object), parts)
    p = reduce(
        CategoricalProfile.merge,
        [CategoricalProfile.of(pa.array(c), max_categories=1000) for c in chunks],
    )
    assert not p.exact and p.count == len(values)
    err = p.frequency_error
    assert 0 < err <= math.ceil(3.5 / 2**12 * len(values))
    top = p.top()
    for key, estimate in top:
        assert abs(estimate - truth[key]) <= err, key
    # No false negatives: every category more frequent than the error bound is listed.
    listed = {k for k, _ in top}
    assert all(k in listed for k, n in truth.items() if n > err)
    assert [k for k, _ in p.top(5)] == [k for k, _ in truth.most_common(5)]
    assert abs(p.distinct - len(truth)) <= HLL_BOUND * len(truth)


# --- dictionary arrays: counted from their indices ---------------------------------


def decoded_counts(values: pa.Array) -> tuple[list[object], list[int], int]:
    plain = values.dictionary_decode()
    vc = pc.value_counts(plain.drop_null())
    return vc.field("values").to_pylist(), vc.field("counts").to_pylist(), plain.null_count


def test_dictionary_counts_merge_duplicate_entries_and_skip_unused_ones() -> None:
    # "a" twice, "unused" never indexed, a null entry in the dictionary itself.
    dictionary = pa.array(["a", "b", None, "a", "unused", "", "c"])
    indices = pa.array([3, 1, None, 0, 2, 5, 3, 6, 1, 0], type=pa.int8())
    values = pa.DictionaryArray.from_arrays(indices, dictionary)
    expected = (["a", "b", "", "c"], [4, 2, 1, 1], 2)  # in order of first appearance
    assert value_counts(values) == decoded_counts(values) == expected
    p = CategoricalProfile.of(values)
    assert (p.count, p.nulls, p.counts) == (8, 2, {"a": 4, "b": 2, "": 1, "c": 1})
    assert p == CategoricalProfile.of(values.dictionary_decode())
    # Slices, chunked arrays, only nulls, an empty dictionary, unsigned indices.
    assert value_counts(values.slice(4, 3)) == decoded_counts(values.slice(4, 3))
    chunked = pa.chunked_array([values.slice(0, 5), values.slice(5)])
    assert value_counts(chunked) == expected
    only_nulls = pa.DictionaryArray.from_arrays(pa.array([None, 2, None], pa.int32()), dictionary)
    assert value_counts(only_nulls) == ([], [], 3)
    empty = pa.DictionaryArray.from_arrays(pa.array([None], pa.int32()), pa.array([], pa.string()))
    assert value_counts(empty) == ([], [], 1)
    unsigned = pa.DictionaryArray.from_arrays(
        pa.array([1, 1, 0], pa.uint8()), pa.array([True, False])
    )
    assert value_counts(unsigned) == ([False, True], [2, 1], 0)


@given(
    st.lists(CATEGORY, min_size=1, max_size=8),
    st.lists(st.one_of(st.none(), st.integers(0, 7)), max_size=60),
)
def test_dictionary_counts_equal_the_decoded_counts(
    dictionary: list[object], picks: list[int | None]
) -> None:
    indices = [None if i is None else i % len(dictionary) for i in picks]
    values = pa.DictionaryArray.from_arrays(
        pa.array(indices, pa.int32()), pa.array(dictionary, pa.string())
    )
    assert value_counts(values) == decoded_counts(values)
    assert CategoricalProfile.of(values, max_categories=2) == CategoricalProfile.of(
        values.dictionary_decode(), max_categories=2
    )


def test_a_sketched_dictionary_column_matches_its_decoded_values() -> None:
    # Past the cap the sketch is fed the counts in order: the same order as decoded.
    words = pa.array([f"w{i}" for i in range(5000)])
    rng = np.random.default_rng(5)
    values = pa.DictionaryArray.from_arrays(
        pa.array(rng.zipf(1.3, 50_000) % 5000, pa.int32()), words
    )
    p = CategoricalProfile.of(values, max_categories=100)
    assert not p.exact
    assert p == CategoricalProfile.of(values.dictionary_decode(), max_categories=100)
