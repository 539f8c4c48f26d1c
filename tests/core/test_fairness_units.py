"""Fairness numbers on small literal tables, checked against hand computations."""

from __future__ import annotations

import json
import math
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
from scipy.stats import fisher_exact

import trustops
from trustops.core.fairness.intervals import wilson_interval
from trustops.errors import UnknownMetricError, UsageError


def table(**groups: tuple[int, int, int, int]) -> dict[str, list[Any]]:
    """Rows with the given confusion cells per group: ``g=(TN, FP, FN, TP)``."""
    y: list[int] = []
    p: list[int] = []
    g: list[str] = []
    for name, (tn, fp, fn, tp) in groups.items():
        for yt, yp, n in ((0, 0, tn), (0, 1, fp), (1, 0, fn), (1, 1, tp)):
            y += [yt] * n
            p += [yp] * n
            g += [name] * n
    return {"y": y, "p": p, "g": g}


def assess(data: dict[str, Any], **kw: Any) -> trustops.FairnessReport:
    return trustops.assess_fairness(data, y_true="y", y_pred="p", sensitive="g", **kw)


# --- every binary metric on a hand-computed confusion table -----------------------

# a: TN=3 FP=1 FN=2 TP=4 (W=10); b: TN=1 FP=2 FN=0 TP=2 (W=5); all: TN=4 FP=3 FN=2 TP=6.
TWO_GROUPS = table(a=(3, 1, 2, 4), b=(1, 2, 0, 2))


def _theil(fn: int, correct: int, fp: int) -> float:
    n = fn + correct + fp
    mu = (correct + 2 * fp) / n
    return sum(c * (b / mu) * math.log(b / mu) for b, c in ((1, correct), (2, fp)) if c) / n


def _ge2(fn: int, correct: int, fp: int) -> float:
    n = fn + correct + fp
    mu = (correct + 2 * fp) / n
    return sum(c * ((b / mu) ** 2 - 1) for b, c in ((0, fn), (1, correct), (2, fp))) / (2 * n)


BINARY_CASES = [
    # metric, group a, group b, overall
    ("base_rate", 6 / 10, 2 / 5, 8 / 15),
    ("selection_rate", 5 / 10, 4 / 5, 9 / 15),
    ("true_positive_rate", 4 / 6, 2 / 2, 6 / 8),
    ("false_positive_rate", 1 / 4, 2 / 3, 3 / 7),
    ("true_negative_rate", 3 / 4, 1 / 3, 4 / 7),
    ("false_negative_rate", 2 / 6, 0 / 2, 2 / 8),
    ("precision", 4 / 5, 2 / 4, 6 / 9),
    ("negative_predictive_value", 3 / 5, 1 / 1, 4 / 6),
    ("false_discovery_rate", 1 / 5, 2 / 4, 3 / 9),
    ("false_omission_rate", 2 / 5, 0 / 1, 2 / 6),
    ("accuracy", 7 / 10, 3 / 5, 10 / 15),
    ("f1", 8 / 11, 4 / 6, 12 / 17),
    ("balanced_accuracy", (4 / 6 + 3 / 4) / 2, (1 + 1 / 3) / 2, (6 / 8 + 4 / 7) / 2),
    ("theil_index", _theil(2, 7, 1), _theil(0, 3, 2), _theil(2, 10, 3)),
    ("generalized_entropy_index", _ge2(2, 7, 1), _ge2(0, 3, 2), _ge2(2, 10, 3)),
]


@pytest.mark.parametrize(
    ("metric", "a", "b", "overall"), BINARY_CASES, ids=[c[0] for c in BINARY_CASES]
)
def test_binary_metric_formula(metric: str, a: float, b: float, overall: float) -> None:
    report = assess(TWO_GROUPS)
    ga, gb = report.by_group
    assert (ga.group, gb.group) == ({"g": "a"}, {"g": "b"})
    assert ga.metrics[metric] == pytest.approx(a, rel=1e-12)
    assert gb.metrics[metric] == pytest.approx(b, rel=1e-12, abs=1e-15)
    assert report.overall[metric] == pytest.approx(overall, rel=1e-12)


@pytest.mark.parametrize(
    ("metric", "a", "b", "overall"), BINARY_CASES, ids=[c[0] for c in BINARY_CASES]
)
def test_disparities_follow_fairlearn_conventions(
    metric: str, a: float, b: float, overall: float
) -> None:
    report = assess(TWO_GROUPS)
    lo, hi = min(a, b), max(a, b)
    assert report.difference(metric) == pytest.approx(hi - lo, abs=1e-12)
    assert report.difference(metric, "to_overall") == pytest.approx(
        max(abs(a - overall), abs(b - overall)), abs=1e-12
    )
    if hi == 0:
        assert report.ratio(metric) is None
    else:
        assert report.ratio(metric) == pytest.approx(lo / hi, rel=1e-12, abs=1e-15)
    sym = [min(v / overall, overall / v) if v else 0.0 for v in (a, b)]
    assert report.ratio(metric, "to_overall") == pytest.approx(min(sym), rel=1e-12, abs=1e-15)


def test_counts_per_group_and_overall() -> None:
    report = assess(TWO_GROUPS)
    assert [g.count for g in report.by_group] == [10, 5]
    assert report.overall["count"] == 15
    assert report.counts.n_rows == 15


def test_weights_enter_the_confusion_table() -> None:
    # a: (y, p, w) = (1,1,3) (0,1,1) (0,0,1) (1,0,1): weighted TP=3 FP=1 TN=1 FN=1, W=6
    data = {
        "y": [1, 0, 0, 1, 1, 0],
        "p": [1, 1, 0, 0, 1, 0],
        "g": ["a"] * 4 + ["b"] * 2,
        "w": [3.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    }
    report = assess(data, sample_weight="w")
    a = report.by_group[0]
    assert a.count == 4
    assert a.metrics["selection_rate"] == pytest.approx(4 / 6)
    assert a.metrics["true_positive_rate"] == pytest.approx(3 / 4)
    assert a.metrics["precision"] == pytest.approx(3 / 4)
    assert a.metrics["accuracy"] == pytest.approx(4 / 6)
    assert report.overall["selection_rate"] == pytest.approx(5 / 8)


# --- undefined values are None with a reason ---------------------------------------------


def _reasons(report: trustops.FairnessReport, metric: str, scope: str) -> list[dict[str, Any]]:
    return [u.to_dict() for u in report.undefined if u.metric == metric and u.scope == scope]


def test_group_without_actual_positives_has_no_tpr() -> None:
    report = assess(table(a=(2, 1, 1, 1), b=(3, 1, 0, 0)))
    b = report.by_group[1]
    assert b.metrics["true_positive_rate"] is None
    assert b.metrics["false_negative_rate"] is None
    assert b.metrics["false_positive_rate"] == pytest.approx(0.25)
    reasons = _reasons(report, "true_positive_rate", "group")
    assert reasons == [
        {
            "metric": "true_positive_rate",
            "scope": "group",
            "group": {"g": "b"},
            "reason": "no actual positives (TP+FN=0)",
        }
    ]
    # disparities only have one group with a value left
    assert report.difference("true_positive_rate") is None
    assert report.ratio("true_positive_rate") is None
    json.dumps(report.to_dict(), allow_nan=False)


def test_single_group_has_none_disparities_with_a_reason() -> None:
    report = assess(table(a=(2, 1, 1, 1)))
    assert report.overall["selection_rate"] == pytest.approx(0.4)
    for metric in ("selection_rate", "true_positive_rate", "accuracy"):
        assert report.difference(metric) is None
        assert report.ratio(metric) is None
        # one group compared with the whole is still defined (and trivial)
        assert report.difference(metric, "to_overall") == 0.0
        assert report.ratio(metric, "to_overall") == 1.0
        reasons = _reasons(report, metric, "disparity")
        assert {r["group"]["disparity"] for r in reasons} == {"difference", "ratio"}
        assert {r["reason"] for r in reasons} == {"only one group has a value; nothing to compare"}
    d = report.to_dict()["disparities"]["selection_rate"]
    assert d["difference"] is None and d["ratio"] is None


def test_ratio_with_max_zero_is_none() -> None:
    report = assess(table(a=(3, 0, 1, 0), b=(1, 0, 2, 0)))  # nobody is selected
    assert report.difference("selection_rate") == 0.0
    assert report.ratio("selection_rate") is None
    assert report.ratio("selection_rate", "to_overall") is None
    kinds = {
        r["group"]["disparity"]: r["reason"]
        for r in _reasons(report, "selection_rate", "disparity")
    }
    assert kinds == {"ratio": "denominator is 0", "ratio_to_overall": "denominator is 0"}
    # precision has no predicted positives anywhere: undefined in every group and overall
    assert report.overall["precision"] is None
    assert _reasons(report, "precision", "overall")[0]["reason"] == (
        "no predicted positives (TP+FP=0)"
    )
    assert all(g.metrics["precision"] is None for g in report.by_group)
    assert report.difference("precision") is None
    assert {r["reason"] for r in _reasons(report, "precision", "disparity")} == {
        "no group has a value"
    }


def test_unknown_metric_names_are_refused() -> None:
    report = assess(TWO_GROUPS)
    for name in ("nope", "count", "true_positive_rate[1]"):
        with pytest.raises(UnknownMetricError, match="unknown metric"):
            report.difference(name)
    with pytest.raises(UsageError, match="unknown method"):
        report.difference("selection_rate", "sideways")


# --- four-fifths -----------------------------------------------------------------


def test_four_fifths_impact_ratio_shortfall_and_tests() -> None:
    # a: 6 of 10 selected (reference), b: 2 of 8 selected
    report = assess(table(a=(4, 2, 0, 4), b=(3, 1, 3, 1)))
    ref, b = report.breakdowns[0].four_fifths
    assert ref["group"] == {"g": "a"} and ref["is_reference"] is True
    assert ref["impact_ratio"] == 1.0 and ref["shortfall"] == 0
    assert ref["reason"] == "reference group (highest selection rate)"
    assert ref["z_p_value"] is None and ref["fisher_p_value"] is None

    assert (b["selected"], b["count"]) == (2, 8)
    assert b["impact_ratio"] == pytest.approx(0.25 / 0.6)
    assert b["below_threshold"] is True
    # fewest extra selections of b reaching 0.8 · 0.6 = 0.48: ceil(0.48 · 8 − 2) = 2
    assert b["shortfall"] == 2
    pooled = 8 / 18
    z = (2 / 8 - 6 / 10) / math.sqrt(pooled * (1 - pooled) * (1 / 8 + 1 / 10))
    assert b["z_statistic"] == pytest.approx(z, rel=1e-12)
    assert b["z_p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9)
    expected_fisher = fisher_exact([[2, 6], [6, 4]], alternative="two-sided")[1]
    assert b["fisher_p_value"] == pytest.approx(float(expected_fisher), rel=1e-12)
    assert b["reason"] is None


@pytest.mark.parametrize(
    ("ref", "other", "impact", "below", "shortfall"),
    [
        ((5, 10), (4, 10), 0.8, False, 0),  # exactly at the threshold passes
        ((5, 10), (3, 10), 0.6, True, 1),
        ((10, 10), (0, 5), 0.0, True, 4),
        ((1, 4), (1, 4), 1.0, False, 0),
    ],
)
def test_four_fifths_table(
    ref: tuple[int, int], other: tuple[int, int], impact: float, below: bool, shortfall: int
) -> None:
    (s_a, n_a), (s_b, n_b) = ref, other
    data = table(a=(n_a - s_a, s_a, 0, 0), b=(n_b - s_b, s_b, 0, 0))
    rows = assess(data).breakdowns[0].four_fifths
    b = rows[1]
    assert b["impact_ratio"] == pytest.approx(impact)
    assert b["below_threshold"] is below
    assert b["shortfall"] == shortfall


def test_four_fifths_without_any_selection_gives_reasons() -> None:
    rows = assess(table(a=(3, 0, 1, 0), b=(2, 0, 2, 0))).breakdowns[0].four_fifths
    for row in rows:
        assert row["impact_ratio"] is None and row["below_threshold"] is None
        assert row["reason"] == "no group has any selection (highest selection rate is 0)"


# --- Wilson intervals ------------------------------------------------------------


def _wilson(x: int, n: int, confidence: float) -> tuple[float, float]:
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@pytest.mark.parametrize(
    ("x", "n", "confidence"),
    [(8, 10, 0.95), (0, 5, 0.90), (5, 5, 0.99), (3, 7, 0.80), (1, 1, 0.95), (37, 120, 0.95)],
)
def test_wilson_interval_matches_the_formula(x: int, n: int, confidence: float) -> None:
    lo, hi = wilson_interval(x, n, confidence)
    elo, ehi = _wilson(x, n, confidence)
    assert float(lo) == pytest.approx(elo, abs=1e-12)
    assert float(hi) == pytest.approx(ehi, abs=1e-12)
    assert float(lo) <= x / n <= float(hi)


def test_wilson_known_value_and_empty() -> None:
    lo, hi = wilson_interval(8, 10, 0.95)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.4902, 0.9433)
    lo, hi = wilson_interval(0, 0, 0.95)
    assert np.isnan(lo) and np.isnan(hi)


def test_report_carries_wilson_intervals_on_row_counts() -> None:
    # a: 8 of 10 selected
    report = assess(table(a=(1, 4, 1, 4), b=(2, 1, 1, 1)))
    lo, hi = report.by_group[0].intervals["selection_rate"]["wilson"]
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)
    # TPR of a: 4 of 5 actual positives
    lo, hi = report.by_group[0].intervals["true_positive_rate"]["wilson"]
    assert (lo, hi) == pytest.approx(_wilson(4, 5, 0.95), abs=1e-12)
    lo90, hi90 = (
        assess(table(a=(1, 4, 1, 4), b=(2, 1, 1, 1)), confidence=0.9)
        .by_group[0]
        .intervals["selection_rate"]["wilson"]
    )
    assert lo < lo90 < hi90 < hi
    assert "f1" not in report.by_group[0].intervals  # not a proportion


# --- min_group_size -----------------------------------------------------------------


def test_min_group_size_reports_tiny_groups_but_leaves_them_out() -> None:
    data = table(a=(2, 1, 0, 2), b=(1, 0, 2, 1), c=(0, 0, 1, 0))  # c: one row, rate 0
    report = assess(data, min_group_size=2)
    assert [g.group for g in report.small_groups] == [{"g": "c"}]
    c = report.by_group[2]
    assert c.included is False and c.count == 1 and c.metrics["selection_rate"] == 0.0
    # a: 3/5 = 0.6, b: 1/4 = 0.25; c (0.0) takes no part
    assert report.difference("selection_rate") == pytest.approx(0.35)
    assert report.ratio("selection_rate") == pytest.approx(0.25 / 0.6)
    assert assess(data).difference("selection_rate") == pytest.approx(0.6)
    d = report.to_dict()
    assert d["small_groups"] == [{"g": "c"}]
    assert d["by_group"][2]["included"] is False
    ff = report.breakdowns[0].four_fifths[2]
    assert ff["impact_ratio"] is None and ff["reason"] == "group smaller than min_group_size"


def test_min_group_size_leaving_one_group_gives_none_disparities() -> None:
    report = assess(table(a=(2, 1, 0, 2), b=(1, 0, 0, 1)), min_group_size=3)
    assert [g.group for g in report.small_groups] == [{"g": "b"}]
    assert report.difference("selection_rate") is None
    assert report.ratio("selection_rate") is None


# --- reference group ---------------------------------------------------------------


THREE_GROUPS = table(a=(2, 1, 0, 2), b=(1, 0, 2, 1), c=(1, 1, 1, 1))  # SR 0.6, 0.25, 0.5


@pytest.mark.parametrize("reference", [{"g": "b"}, "g=b", ["g=b"]])
def test_to_reference_values(reference: Any) -> None:
    report = assess(THREE_GROUPS, reference=reference)
    assert report.breakdowns[0].reference == {"g": "b"}
    assert report.difference("selection_rate", "to_reference") == pytest.approx(0.35)
    assert report.ratio("selection_rate", "to_reference") == pytest.approx(0.25 / 0.6)
    entry = report.to_dict()["disparities"]["selection_rate"]
    assert entry["difference_to_reference"] == pytest.approx(0.35)
    assert entry["ratio_to_reference"] == pytest.approx(0.25 / 0.6)


def test_to_reference_needs_a_reference() -> None:
    report = assess(THREE_GROUPS)
    with pytest.raises(UsageError, match="reference"):
        report.difference("selection_rate", "to_reference")
    assert "difference_to_reference" not in report.to_dict()["disparities"]["selection_rate"]


def test_reference_value_must_exist() -> None:
    with pytest.raises(UsageError, match="'zz'"):
        assess(THREE_GROUPS, reference={"g": "zz"})
    with pytest.raises(UsageError, match="ATTRIBUTE=VALUE"):
        assess(THREE_GROUPS, reference="gb")


# --- privileged (AIF360 convention) --------------------------------------------------


AIF360_EXAMPLE = {
    "y": [0, 1, 0, 1, 1, 0, 1, 1],
    "p": [0, 0, 0, 1, 1, 0, 1, 1],
    "g": list("aaaabbbb"),
}


def test_privileged_follows_aif360_sign_convention() -> None:
    report = assess(AIF360_EXAMPLE, privileged={"g": "b"})
    agg = report.aggregates
    assert agg["disparate_impact"] == pytest.approx(1 / 3)
    assert agg["statistical_parity_difference"] == pytest.approx(-0.5)
    assert report.difference("selection_rate", "privileged") == pytest.approx(-0.5)
    assert report.ratio("selection_rate", "privileged") == pytest.approx(1 / 3)
    # TPR: unprivileged a 1/2, privileged b 3/3; FPR 0 in both
    assert agg["aif360_equal_opportunity_difference"] == pytest.approx(-0.5)
    assert agg["average_odds_difference"] == pytest.approx(-0.25)
    assert agg["average_abs_odds_difference"] == pytest.approx(0.25)
    priv = report.privileged
    assert priv is not None
    assert (priv.privileged_count, priv.unprivileged_count) == (4, 4)
    assert priv.ratio["false_positive_rate"] is None  # 0 / 0
    # the privileged group is also the reference group
    assert report.breakdowns[0].reference == {"g": "b"}
    d = report.to_dict()["disparities"]["selection_rate"]
    assert d["difference_unprivileged_minus_privileged"] == pytest.approx(-0.5)
    assert d["ratio_unprivileged_to_privileged"] == pytest.approx(1 / 3)


def test_privileged_pools_every_other_group() -> None:
    # SR: a 1/4, b 3/4, c 2/4; unprivileged = a + c = 3/8
    data = table(a=(3, 1, 0, 0), b=(1, 3, 0, 0), c=(2, 2, 0, 0))
    report = assess(data, privileged="g=b")
    assert report.aggregates["statistical_parity_difference"] == pytest.approx(3 / 8 - 3 / 4)
    assert report.aggregates["disparate_impact"] == pytest.approx(0.5)
    assert report.privileged is not None and report.privileged.unprivileged_count == 8


def test_privileged_method_needs_a_privileged_group() -> None:
    with pytest.raises(UsageError, match="privileged"):
        assess(AIF360_EXAMPLE).difference("selection_rate", "privileged")


# --- multiclass ------------------------------------------------------------------------


def test_multiclass_one_vs_rest_metric_names_and_values() -> None:
    data = {"y": list("ABCABCAB"), "p": list("ABBACCAB"), "g": list("xxxxyyyy")}
    report = assess(data)
    assert report.task == "multiclass"
    for label in "ABC":
        assert f"true_positive_rate[{label}]" in report.metrics
    assert "accuracy" in report.metrics and "balanced_accuracy" in report.metrics
    x, y = report.by_group
    # class B: x has y=B once (predicted B); y has y=B twice (predicted C, B)
    assert x.metrics["true_positive_rate[B]"] == 1.0
    assert y.metrics["true_positive_rate[B]"] == 0.5
    assert x.metrics["false_positive_rate[B]"] == pytest.approx(1 / 3)
    assert y.metrics["false_positive_rate[B]"] == 0.0
    assert report.overall["true_positive_rate[B]"] == pytest.approx(2 / 3)
    assert report.overall["accuracy"] == pytest.approx(6 / 8)
    assert report.difference("true_positive_rate[B]") == pytest.approx(0.5)
    assert report.to_dict()["four_fifths"] == []
    with pytest.raises(UnknownMetricError):
        report.difference("true_positive_rate")


# --- regression ------------------------------------------------------------------------


def test_regression_metrics_by_hand() -> None:
    data = {"y": [1.0, 2.0, 3.0, 4.0], "p": [1.0, 3.0, 3.0, 4.0], "g": list("aabb")}
    report = assess(data)
    assert report.task == "regression"
    a, b = report.by_group
    assert a.metrics["mean_error"] == 0.5 and b.metrics["mean_error"] == 0.0
    assert a.metrics["mean_absolute_error"] == 0.5
    assert a.metrics["root_mean_squared_error"] == pytest.approx(math.sqrt(0.5))
    assert a.metrics["mean_prediction"] == 2.0
    assert a.metrics["r2_score"] == pytest.approx(1 - 1 / 0.5)
    assert b.metrics["r2_score"] == 1.0
    assert report.overall["r2_score"] == pytest.approx(1 - 1 / 5)


@pytest.mark.parametrize("value", [1.0, 0.5, 0.1, 0.7, 1e-3])
def test_r2_of_a_group_with_constant_y_true_is_undefined(value: float) -> None:
    data = {"y": [value] * 3 + [1.0, 2.0], "p": [0.2, 0.1, 0.0, 1.5, 2.0], "g": list("aaabb")}
    report = assess(data, task="regression")
    assert report.by_group[0].metrics["r2_score"] is None
    reasons = [
        u.reason
        for u in report.undefined
        if u.metric == "r2_score" and u.scope == "group" and u.group == {"g": "a"}
    ]
    assert reasons == ["y_true is constant in the group"]


# --- to_dict ------------------------------------------------------------------------------


def test_to_dict_keys() -> None:
    report = assess(THREE_GROUPS, reference={"g": "b"})
    d = report.to_dict()
    assert {"overall", "by_group", "disparities", "four_fifths"} <= d.keys()
    assert list(d["overall"]) == list(report.metrics)
    for g in d["by_group"]:
        assert {"group", "count"} <= g.keys()
        assert set(report.metrics) - {"count"} <= g.keys()
    assert list(d["disparities"]) == [m for m in report.metrics if m != "count"]
    for entry in d["disparities"].values():
        assert list(entry) == [
            "difference",
            "ratio",
            "difference_to_overall",
            "ratio_to_overall",
            "difference_to_reference",
            "ratio_to_reference",
        ]
    assert [r["group"] for r in d["four_fifths"]] == [{"g": "a"}, {"g": "b"}, {"g": "c"}]
    for row in d["four_fifths"]:
        assert {
            "impact_ratio",
            "shortfall",
            "z_p_value",
            "fisher_p_value",
            "below_threshold",
            "selection_rate",
            "is_reference",
        } <= row.keys()
    plain = assess(THREE_GROUPS).to_dict()
    for entry in plain["disparities"].values():
        assert list(entry) == ["difference", "ratio", "difference_to_overall", "ratio_to_overall"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reference": {"g": "b"}, "min_group_size": 5},
        {"privileged": {"g": "a"}, "bootstrap": 30, "seed": 1},
        {"intersectional": True},
    ],
)
@pytest.mark.parametrize(
    "data",
    [
        table(a=(3, 0, 1, 0), b=(1, 0, 2, 0)),  # many undefined values
        THREE_GROUPS,
        {"y": list("ABCABCAB"), "p": list("ABBACCAB"), "g": list("aaaabbbb")},
    ],
    ids=["undefined", "three-groups", "multiclass"],
)
def test_to_dict_is_strict_json(data: dict[str, Any], kwargs: dict[str, Any]) -> None:
    report = assess(data, **kwargs)
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(text)["n_rows"] == len(data["y"])


def test_to_dict_is_strict_json_with_scores_and_regression() -> None:
    data = {**THREE_GROUPS, "s": [0.1 * (i % 10) for i in range(len(THREE_GROUPS["y"]))]}
    report = trustops.assess_fairness(data, y_true="y", y_pred="p", sensitive="g", score="s")
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert "roc_auc" in d["overall"]
    reg = assess({"y": [1.0, 1.0, 2.0, 3.5], "p": [1.0, 2.0, 2.0, 3.0], "g": list("aabb")})
    json.dumps(reg.to_dict(), allow_nan=False)


def test_empty_intersections_are_listed_once_not_per_metric() -> None:
    data = {
        "y": [1, 0, 1, 0, 1, 0],
        "p": [1, 1, 0, 0, 1, 0],
        "a": ["x", "x", "x", "y", "y", "y"],
        "b": ["u", "u", "v", "u", "u", "u"],
    }
    r = trustops.assess_fairness(
        data, y_true="y", y_pred="p", sensitive=["a", "b"], intersectional=True, min_group_size=2
    )
    assert [dict(g.group) for g in r.empty_groups] == [{"a": "y", "b": "v"}]
    assert [dict(g.group) for g in r.small_groups] == [{"a": "x", "b": "v"}]
    empty = [u for u in r.undefined if u.group == {"a": "y", "b": "v"}]
    assert [(u.metric, u.reason) for u in empty] == [
        ("*", "empty group: no rows, so every metric is undefined")
    ]
    doc = r.to_dict()
    assert doc["empty_groups"] == [{"a": "y", "b": "v"}]
    assert doc["small_groups"] == [{"a": "x", "b": "v"}]


def test_group_specs_match_exactly_and_none_is_the_missing_group() -> None:
    data = {
        "y": [1, 0, 1, 0, 1, 0],
        "p": [1, 1, 0, 0, 1, 0],
        "g": ["None", "None", None, None, "x", "x"],
    }
    kw = {"y_true": "y", "y_pred": "p", "sensitive": "g", "missing": "group"}
    missing = trustops.assess_fairness(data, privileged={"g": None}, **kw)
    assert missing.privileged is not None and missing.privileged.privileged_count == 2
    text = trustops.assess_fairness(data, privileged="g=None", **kw)
    assert text.privileged is not None and text.privileged.privileged_count == 2
    assert text.privileged.privileged_metrics["selection_rate"] == 1.0  # the text level
    assert missing.privileged.privileged_metrics["selection_rate"] == 0.0  # the null level


def test_numpy_pos_label_is_a_json_number() -> None:
    import json

    import numpy as np

    r = trustops.assess_fairness(
        y_true=np.array([1, 0]),
        y_pred=np.array([1, 1]),
        sensitive=np.array(["a", "b"]),
        pos_label=np.int64(1),
    )
    assert json.loads(json.dumps(r.to_dict(), default=str))["pos_label"] == 1


def test_weighted_tests_use_kish_effective_sample_size() -> None:
    import numpy as np

    rng = np.random.default_rng(4)
    n = 400
    data = {
        "y": rng.integers(0, 2, n),
        "p": rng.integers(0, 2, n),
        "g": np.where(rng.random(n) < 0.5, "a", "b"),
    }
    plain = trustops.assess_fairness(data, y_true="y", y_pred="p", sensitive="g")
    doubled = trustops.assess_fairness(
        {**data, "w": np.full(n, 2.0)}, y_true="y", y_pred="p", sensitive="g", sample_weight="w"
    )
    # constant weights: n_eff = n, so every test and interval equals the unweighted one
    for a, b in zip(
        plain.breakdowns[0].four_fifths, doubled.breakdowns[0].four_fifths, strict=True
    ):
        for key in ("impact_ratio", "z_p_value", "fisher_p_value", "shortfall"):
            assert (a[key] is None and b[key] is None) or a[key] == pytest.approx(b[key], rel=1e-9)
    for a, b in zip(plain.by_group, doubled.by_group, strict=True):
        assert a.intervals["selection_rate"]["wilson"] == pytest.approx(
            b.intervals["selection_rate"]["wilson"], rel=1e-9
        )
    # one heavy row: n_eff shrinks, the interval still holds the weighted rate
    w = np.ones(n)
    w[np.flatnonzero(data["g"] == "a")[0]] = 100.0
    heavy = trustops.assess_fairness(
        {**data, "w": w}, y_true="y", y_pred="p", sensitive="g", sample_weight="w"
    )
    a = heavy.by_group[0]
    lo, hi = a.intervals["selection_rate"]["wilson"]
    assert lo <= a.metrics["selection_rate"] <= hi
    row = heavy.breakdowns[0].four_fifths[0]
    assert row["effective_count"] < a.count
    assert (row["shortfall"] == 0) == (not row["below_threshold"])
