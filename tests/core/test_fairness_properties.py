"""Properties of the fairness core on random small data (Hypothesis, 'ci' profile).

(a) row order does not matter; (b) counting partitions and merging equals
counting the whole (classification, score histograms, regression); (c)
renaming a group's value changes no number; (d) the bootstrap is reproducible
with a seed and its intervals are well formed.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from functools import reduce
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import trustops
from trustops.core.fairness import (
    GroupCounts,
    build_report,
    count_classification,
    count_regression,
    count_scores,
)
from trustops.errors import UsageError

LEVELS_1 = ("a", "b", "c")
LEVELS_2 = ("x", "y")
# Dyadic weights: sums are exact, so constant groups stay exactly constant.
WEIGHTS = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0])
SCORES = st.one_of(
    st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
    st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False),
)


# --- comparison -------------------------------------------------------------


def assert_same(
    a: Any, b: Any, *, rel: float = 1e-12, abs_: float = 1e-12, path: str = "$"
) -> None:
    """Deep equality; floats to ``rel``/``abs_``; None, bools, ints and strings exactly."""
    if a is None or b is None:
        assert a is b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, bool) or isinstance(b, bool):
        assert type(a) is type(b) and a == b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert isinstance(b, dict), f"{path}: dict vs {type(b).__name__}"
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], rel=rel, abs_=abs_, path=f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)), f"{path}: sequence vs {type(b).__name__}"
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, rel=rel, abs_=abs_, path=f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), f"{path}: {a!r} {b!r}"
        assert math.isclose(a, b, rel_tol=rel, abs_tol=abs_), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


# --- data -------------------------------------------------------------------


@st.composite
def frames(
    draw: st.DrawFn, *, min_rows: int = 1, max_rows: int = 30, scores: bool | None = None
) -> dict[str, Any]:
    """A dict-of-lists table with 0/1 labels, 1-2 string sensitive columns, options."""
    n = draw(st.integers(min_rows, max_rows))
    col = lambda s: draw(st.lists(s, min_size=n, max_size=n))  # noqa: E731
    data: dict[str, list[Any]] = {
        "y": col(st.integers(0, 1)),
        "p": col(st.integers(0, 1)),
        "g1": col(st.sampled_from(LEVELS_1)),
    }
    sensitive = ["g1"]
    if draw(st.booleans()):
        data["g2"] = col(st.sampled_from(LEVELS_2))
        sensitive.append("g2")
    weighted = draw(st.booleans())
    if weighted:
        data["w"] = col(WEIGHTS)
    with_scores = draw(st.booleans()) if scores is None else scores
    if with_scores:
        data["s"] = col(SCORES)
    return {"data": data, "sensitive": sensitive, "weighted": weighted, "scores": with_scores}


def call_kwargs(frame: dict[str, Any]) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "y_true": "y",
        "y_pred": "p",
        "sensitive": frame["sensitive"],
        "task": "binary",
    }
    if frame["weighted"]:
        kw["sample_weight"] = "w"
    if frame["scores"]:
        kw["score"] = "s"
    return kw


def take(data: dict[str, list[Any]], idx: Any) -> dict[str, list[Any]]:
    return {k: [v[i] for i in idx] for k, v in data.items()}


# --- (a) row order ----------------------------------------------------------


@given(
    frame=frames(),
    perm_seed=st.integers(0, 2**32 - 1),
    intersectional=st.booleans(),
    min_group_size=st.integers(1, 3),
    use_privileged=st.booleans(),
)
def test_row_order_does_not_change_the_report(
    frame: dict[str, Any],
    perm_seed: int,
    intersectional: bool,
    min_group_size: int,
    use_privileged: bool,
) -> None:
    data = frame["data"]
    kw = call_kwargs(frame)
    kw.update(intersectional=intersectional, min_group_size=min_group_size)
    if use_privileged:
        kw["privileged"] = {"g1": data["g1"][0]}
    perm = np.random.default_rng(perm_seed).permutation(len(data["y"]))
    before = trustops.assess_fairness(data, **kw).to_dict()
    after = trustops.assess_fairness(take(data, perm), **kw).to_dict()
    assert_same(before, after)


# --- (b) partitions and merging ---------------------------------------------


@st.composite
def coded_rows(draw: st.DrawFn, *, regression: bool = False) -> dict[str, Any]:
    """Integer-coded rows over fixed levels, with a random assignment to k parts."""
    n = draw(st.integers(0, 30))
    two = draw(st.booleans())
    lst = lambda s: np.asarray(draw(st.lists(s, min_size=n, max_size=n)))  # noqa: E731
    codes = [lst(st.integers(0, len(LEVELS_1) - 1)).astype(np.int64)]
    levels = [LEVELS_1]
    if two:
        codes.append(lst(st.integers(0, len(LEVELS_2) - 1)).astype(np.int64))
        levels.append(LEVELS_2)
    k = draw(st.integers(1, 4))
    out: dict[str, Any] = {
        "codes": codes,
        "levels": levels,
        "attrs": ("g1", "g2")[: len(codes)],
        "part": lst(st.integers(0, k - 1)).astype(np.int64),
        "k": k,
        "w": lst(WEIGHTS).astype(np.float64) if draw(st.booleans()) else None,
    }
    if regression:
        # Integer-valued targets: sums are exact, so the only rounding is in the merge.
        out["y"] = lst(st.integers(-20, 20)).astype(np.float64)
        out["p"] = lst(st.integers(-20, 20)).astype(np.float64)
    else:
        out["y"] = lst(st.integers(0, 1)).astype(np.int64)
        out["p"] = lst(st.integers(0, 1)).astype(np.int64)
        out["s"] = lst(SCORES).astype(np.float64)
    if n == 0:  # empty arrays need an integer dtype to be used as codes
        out["codes"] = [np.zeros(0, np.int64) for _ in codes]
        out["part"] = np.zeros(0, np.int64)
    return out


def _subset(rows: dict[str, Any], mask: np.ndarray | None) -> dict[str, Any]:
    pick = (lambda a: a) if mask is None else (lambda a: a[mask])
    return {
        "codes": [pick(c) for c in rows["codes"]],
        "y": pick(rows["y"]),
        "p": pick(rows["p"]),
        "s": pick(rows["s"]) if "s" in rows else None,
        "w": pick(rows["w"]) if rows["w"] is not None else None,
    }


def _classification(rows: dict[str, Any], sub: dict[str, Any], scores: bool) -> GroupCounts:
    counts = count_classification(
        sub["codes"],
        rows["levels"],
        rows["attrs"],
        sub["y"],
        sub["p"],
        2,
        sample_weight=sub["w"],
        classes=(0, 1),
    )
    if not scores:
        return counts
    hist = count_scores(sub["codes"], rows["levels"], sub["y"], sub["s"], sample_weight=sub["w"])
    return GroupCounts(
        counts.attributes,
        counts.levels,
        counts.task,
        counts.classes,
        counts.rows,
        counts.weights,
        scores=hist,
        weighted=counts.weighted,
    )


def _parts(rows: dict[str, Any]) -> list[dict[str, Any]]:
    return [_subset(rows, rows["part"] == i) for i in range(rows["k"])]


@given(rows=coded_rows(), scores=st.booleans())
def test_merging_partition_counts_equals_counting_the_whole(
    rows: dict[str, Any], scores: bool
) -> None:
    whole = _classification(rows, _subset(rows, None), scores)
    merged = reduce(GroupCounts.merge, [_classification(rows, p, scores) for p in _parts(rows)])
    assert merged.rows.dtype == whole.rows.dtype
    np.testing.assert_array_equal(merged.rows, whole.rows)
    np.testing.assert_allclose(merged.weights, whole.weights, rtol=1e-12, atol=1e-12)
    assert merged.weighted == whole.weighted
    if scores:
        assert merged.scores is not None and whole.scores is not None
        np.testing.assert_array_equal(merged.scores.group, whole.scores.group)
        np.testing.assert_array_equal(merged.scores.value, whole.scores.value)
        np.testing.assert_array_equal(merged.scores.rows, whole.scores.rows)
        np.testing.assert_allclose(
            merged.scores.weight, whole.scores.weight, rtol=1e-12, atol=1e-12
        )
    else:
        assert merged.scores is None
    if whole.n_rows:
        assert_same(build_report(merged).to_dict(), build_report(whole).to_dict())


@given(rows=coded_rows(regression=True))
def test_merging_regression_sums_equals_counting_the_whole(rows: dict[str, Any]) -> None:
    def count(sub: dict[str, Any]) -> GroupCounts:
        return count_regression(
            sub["codes"], rows["levels"], rows["attrs"], sub["y"], sub["p"], sample_weight=sub["w"]
        )

    whole = count(_subset(rows, None))
    merged = reduce(GroupCounts.merge, [count(p) for p in _parts(rows)])
    np.testing.assert_array_equal(merged.rows, whole.rows)
    np.testing.assert_allclose(merged.weights, whole.weights, rtol=1e-12, atol=1e-12)
    assert merged.regression is not None and whole.regression is not None
    np.testing.assert_allclose(
        merged.regression.values, whole.regression.values, rtol=1e-9, atol=1e-9
    )
    if whole.n_rows:
        m, w = build_report(merged).to_dict(), build_report(whole).to_dict()
        assert_same(m, w, rel=1e-9, abs_=1e-9)
        assert_same(m["overall"]["r2_score"], w["overall"]["r2_score"], rel=1e-9, abs_=1e-9)


@st.composite
def partitioned_frames(draw: st.DrawFn, *, regression: bool = False) -> dict[str, Any]:
    """k parts in which every level of every sensitive column occurs."""
    k = draw(st.integers(1, 3))
    two = draw(st.booleans())
    weighted = draw(st.booleans())
    scores = not regression and draw(st.booleans())
    label = st.integers(-5, 5).map(float) if regression else st.integers(0, 1)
    parts = []
    for _ in range(k):
        n = draw(st.integers(0, 8))
        col = lambda s, n=n: draw(st.lists(s, min_size=n, max_size=n))  # noqa: E731
        # one row per level (cycling the second attribute) so the levels match
        g1 = list(LEVELS_1) + col(st.sampled_from(LEVELS_1))
        m = len(g1)
        part = {
            "y": draw(st.lists(label, min_size=m, max_size=m)),
            "p": draw(st.lists(label, min_size=m, max_size=m)),
            "g1": g1,
        }
        if two:
            part["g2"] = [LEVELS_2[i % 2] for i in range(len(LEVELS_1))] + col(
                st.sampled_from(LEVELS_2)
            )
        if weighted:
            part["w"] = draw(st.lists(WEIGHTS, min_size=m, max_size=m))
        if scores:
            part["s"] = draw(st.lists(SCORES, min_size=m, max_size=m))
        parts.append(part)
    whole = {key: [v for part in parts for v in part[key]] for key in parts[0]}
    kw: dict[str, Any] = {
        "y_true": "y",
        "y_pred": "p",
        "sensitive": ["g1", "g2"][: 1 + two],
        "task": "regression" if regression else "binary",
    }
    if weighted:
        kw["sample_weight"] = "w"
    if scores:
        kw["score"] = "s"
    return {"parts": parts, "whole": whole, "kw": kw}


@given(frame=partitioned_frames())
def test_count_groups_of_parts_merge_to_count_groups_of_the_whole(frame: dict[str, Any]) -> None:
    kw = frame["kw"]
    whole = trustops.count_groups(frame["whole"], **kw)
    merged = reduce(GroupCounts.merge, [trustops.count_groups(p, **kw) for p in frame["parts"]])
    assert merged.levels == whole.levels
    np.testing.assert_array_equal(merged.rows, whole.rows)
    np.testing.assert_allclose(merged.weights, whole.weights, rtol=1e-12, atol=1e-12)
    if "score" in kw:
        assert merged.scores is not None and whole.scores is not None
        np.testing.assert_array_equal(merged.scores.value, whole.scores.value)
        np.testing.assert_allclose(
            merged.scores.weight, whole.scores.weight, rtol=1e-12, atol=1e-12
        )
    assert_same(build_report(merged).to_dict(), build_report(whole).to_dict())


@given(frame=partitioned_frames(regression=True))
def test_count_groups_of_parts_merge_for_regression(frame: dict[str, Any]) -> None:
    kw = frame["kw"]
    whole = trustops.count_groups(frame["whole"], **kw)
    merged = reduce(GroupCounts.merge, [trustops.count_groups(p, **kw) for p in frame["parts"]])
    assert merged.task == whole.task == "regression"
    np.testing.assert_array_equal(merged.rows, whole.rows)
    assert merged.regression is not None and whole.regression is not None
    np.testing.assert_allclose(
        merged.regression.values, whole.regression.values, rtol=1e-9, atol=1e-9
    )
    m = build_report(merged, pos_label=None).to_dict()
    w = build_report(whole, pos_label=None).to_dict()
    assert_same(m, w, rel=1e-9, abs_=1e-9)


def test_merge_unites_levels_and_refuses_other_attributes() -> None:
    one = count_classification([np.array([0])], [("b",)], ("g",), np.array([1]), np.array([1]), 2)
    two = count_classification([np.array([0])], [("a",)], ("g",), np.array([0]), np.array([1]), 2)
    merged = one.merge(two)
    assert merged.levels == (("a", "b"),)
    assert merged.rows.tolist() == [[[0, 1], [0, 0]], [[0, 0], [0, 1]]]
    assert two.merge(one).rows.tolist() == merged.rows.tolist()
    other = count_classification([np.array([0])], [("a",)], ("h",), np.array([1]), np.array([1]), 2)
    with pytest.raises(UsageError, match="different sensitive attributes"):
        one.merge(other)


@given(
    y=st.lists(st.integers(0, 1), min_size=2, max_size=60),
    data=st.data(),
)
def test_partitions_with_their_own_levels_merge_to_the_whole(y: list[int], data: Any) -> None:
    """Each part sees only some groups and maybe one class: merge still equals the whole."""
    n = len(y)
    p = data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    g = data.draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=n, max_size=n))
    h = data.draw(st.lists(st.sampled_from(["x", "y"]), min_size=n, max_size=n))
    w = data.draw(st.lists(st.floats(0.1, 5), min_size=n, max_size=n))
    cut = sorted(data.draw(st.lists(st.integers(1, n - 1), max_size=3)))
    arrays = {
        "y": np.array(y),
        "p": np.array(p),
        "g": np.array(g, dtype=object),
        "h": np.array(h, dtype=object),
        "w": np.array(w),
    }
    kw = {
        "y_true": "y",
        "y_pred": "p",
        "sensitive": ["g", "h"],
        "sample_weight": "w",
        "task": "binary",
    }
    whole = trustops.count_groups(arrays, **kw)
    bounds = [0, *cut, n]
    parts = [
        trustops.count_groups({k: v[a:b] for k, v in arrays.items()}, **kw)
        for a, b in itertools.pairwise(bounds)
        if b > a
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    assert merged.levels == whole.levels
    np.testing.assert_array_equal(merged.rows, whole.rows)
    np.testing.assert_allclose(merged.weights, whole.weights, rtol=1e-12)


# --- (c) relabelling ----------------------------------------------------------


def _group_key(group: dict[str, Any], mapping: dict[str, str]) -> tuple[Any, ...]:
    return tuple(sorted((k, mapping.get(v, v) if k == "g1" else v) for k, v in group.items()))


@given(
    frame=frames(),
    targets=st.permutations(["zzz", "a", "0"]),
    intersectional=st.booleans(),
    use_reference=st.booleans(),
)
def test_relabelling_a_group_changes_no_number(
    frame: dict[str, Any], targets: list[str], intersectional: bool, use_reference: bool
) -> None:
    mapping = dict(zip(LEVELS_1, targets, strict=True))
    data = frame["data"]
    renamed = {**data, "g1": [mapping[v] for v in data["g1"]]}
    kw = call_kwargs(frame)
    kw["intersectional"] = intersectional
    kw_renamed = dict(kw)
    if use_reference:
        kw["privileged"] = {"g1": data["g1"][0]}
        kw_renamed["privileged"] = {"g1": mapping[data["g1"][0]]}
    one = trustops.assess_fairness(data, **kw).to_dict()
    two = trustops.assess_fairness(renamed, **kw_renamed).to_dict()

    assert_same(one["overall"], two["overall"])
    assert_same(one["disparities"], two["disparities"])
    assert_same(one["aggregates"], two["aggregates"])
    # per-group metrics, keyed by the (mapped) label
    by_one = {_group_key(g["group"], mapping): g for g in one["by_group"]}
    by_two = {_group_key(g["group"], {}): g for g in two["by_group"]}
    assert len(by_one) == len(one["by_group"])
    assert by_one.keys() == by_two.keys()
    for key, g in by_one.items():
        assert_same(
            {k: v for k, v in g.items() if k != "group"},
            {k: v for k, v in by_two[key].items() if k != "group"},
        )
    # four-fifths: impact ratios and everything that does not depend on tie-breaking
    ff_one = {
        (tuple(r["attributes"]), _group_key(r["group"], mapping)): r for r in one["four_fifths"]
    }
    ff_two = {(tuple(r["attributes"]), _group_key(r["group"], {})): r for r in two["four_fifths"]}
    assert ff_one.keys() == ff_two.keys()
    for key, r in ff_one.items():
        for field in (
            "selected",
            "count",
            "selection_rate",
            "impact_ratio",
            "shortfall",
            "below_threshold",
        ):
            assert_same(r[field], ff_two[key][field], path=f"{key}.{field}")
    for attrs in {k[0] for k in ff_one}:
        rows = [r for (a, _), r in ff_one.items() if a == attrs]
        top = [
            r["selection_rate"]
            for r in rows
            if r["reason"] != "group smaller than min_group_size"
            and r["selection_rate"] is not None
        ]
        if top and top.count(max(top)) == 1:  # unique reference: tests must agree too
            for key in (k for k in ff_one if k[0] == attrs):
                for field in ("is_reference", "z_statistic", "z_p_value", "fisher_p_value"):
                    assert_same(ff_one[key][field], ff_two[key][field], path=f"{key}.{field}")

    # undefined values as a multiset, groups mapped
    def undefined(d: dict[str, Any], m: dict[str, str]) -> Counter[str]:
        out: Counter[str] = Counter()
        for u in d["undefined"]:
            group = u["group"]
            if u["scope"] in ("group", "privileged") and group is not None:
                group = _group_key(group, m)
            out[repr((u["metric"], u["scope"], group, u["reason"]))] += 1
        return out

    assert undefined(one, mapping) == undefined(two, {})


# --- (d) bootstrap -------------------------------------------------------------


@given(
    frame=frames(min_rows=2, scores=False),
    seed=st.integers(0, 2**31 - 1),
    use_privileged=st.booleans(),
)
def test_bootstrap_is_reproducible_and_intervals_are_well_formed(
    frame: dict[str, Any], seed: int, use_privileged: bool
) -> None:
    kw = call_kwargs(frame)
    kw.update(bootstrap=40, seed=seed)
    if use_privileged:
        kw["privileged"] = {"g1": frame["data"]["g1"][0]}
    one = trustops.assess_fairness(frame["data"], **kw)
    two = trustops.assess_fairness(frame["data"], **kw)
    assert one.to_dict() == two.to_dict()
    assert one.intervals["bootstrap_resamples"] == 40

    for g in one.by_group:
        rate = g.metrics["selection_rate"]
        ivs = g.intervals["selection_rate"]
        weighted = kw.get("sample_weight") is not None
        assert set(ivs) == {"wilson", "bootstrap"}
        lo, hi = ivs["bootstrap"]
        if rate is None:  # no rows, or only rows of weight 0: no resample has a value
            assert lo is None and hi is None
            continue
        assert lo is not None and hi is not None
        assert 0.0 <= lo <= hi <= 1.0
        wlo, whi = ivs["wilson"]
        assert wlo is not None and whi is not None
        assert 0.0 <= wlo <= whi <= 1.0
        if weighted:  # Wilson on Kish's effective sample size contains the weighted rate
            assert wlo - 1e-12 <= rate <= whi + 1e-12
    # The Wilson interval (on row counts) always contains the observed proportion.
    for b in one.breakdowns if not weighted else ():
        for row, g in zip(b.four_fifths, b.groups, strict=True):
            if row["count"]:
                p_hat = row["selected"] / row["count"]
                wlo, whi = g.intervals["selection_rate"]["wilson"]
                assert wlo - 1e-12 <= p_hat <= whi + 1e-12
    for b in one.breakdowns:
        for kinds in b.disparity_intervals.values():
            for lo, hi in kinds.values():
                assert (lo is None) == (hi is None)
                if lo is not None:
                    assert lo <= hi
