"""trustops.explain: SHAP and LIME adapters, their additivity, agreement with shap, evidence."""

from __future__ import annotations

import json

# installed by `make test` ([all,dev]): a missing one fails here rather than skipping
import lightgbm
import numpy as np
import pandas as pd
import pytest
import shap
import sklearn.ensemble as sklearn_ensemble
import xgboost
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from trustops.core.explain import ReasonDictionary, principal_reasons
from trustops.datasets import CREDIT_FEATURES, make_credit
from trustops.errors import (
    EmptyDataError,
    InputError,
    MissingColumnError,
    MissingValuesError,
    UnsupportedError,
)
from trustops.explain import (
    Explanation,
    explain,
    explanation_stability,
    top_k_agreement,
)

FEATURES = list(CREDIT_FEATURES)


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    return pd.DataFrame(make_credit(300, seed=0))


def _fit(kind: str, df: pd.DataFrame):  # type: ignore[no-untyped-def]
    X, y = df[FEATURES], df["approved"]
    model = {
        "gbm": lambda: sklearn_ensemble.GradientBoostingClassifier(
            n_estimators=30, max_depth=3, random_state=0
        ),
        "lightgbm": lambda: lightgbm.LGBMClassifier(n_estimators=30, verbose=-1),
        "xgboost": lambda: xgboost.XGBClassifier(n_estimators=30, max_depth=3),
        "logistic": lambda: LogisticRegression(max_iter=1000),
        "pipeline": lambda: make_pipeline(StandardScaler(), LogisticRegression()),
    }[kind]()
    return model.fit(X, y)


@pytest.fixture(scope="module")
def models(credit: pd.DataFrame) -> dict[str, object]:
    return {k: _fit(k, credit) for k in ("gbm", "lightgbm", "xgboost", "logistic", "pipeline")}


def _target(model: object, X: pd.DataFrame, output: str) -> np.ndarray:
    p = model.predict_proba(X)[:, 1]  # type: ignore[attr-defined]
    return np.log(p) - np.log1p(-p) if output == "log_odds" else p


# -- additivity ----------------------------------------------------------------

# XGBoost computes in float32; everything else adds up to float64 rounding.
TOLERANCE = {"gbm": 1e-6, "lightgbm": 1e-6, "xgboost": 1e-5, "logistic": 1e-6, "pipeline": 1e-6}


@pytest.mark.parametrize("kind", ["gbm", "lightgbm", "xgboost", "logistic"])
@pytest.mark.parametrize("with_background", [False, True])
def test_attributions_add_up_to_the_explained_output(
    kind: str, with_background: bool, credit: pd.DataFrame, models: dict[str, object]
) -> None:
    model = models[kind]
    background = credit[FEATURES].iloc[:40] if with_background else None
    e = explain(model, credit, background=background)
    expected_output = {
        ("gbm", False): "log_odds",
        ("lightgbm", False): "log_odds",
        ("xgboost", False): "log_odds",
    }.get((kind, with_background), "probability")
    if kind == "logistic":
        expected_output = "log_odds"
    assert e.output == expected_output
    assert e.values.shape == (len(credit), len(FEATURES))
    total = e.values.sum(axis=1) + e.base_values
    error = np.abs(total - _target(model, credit[FEATURES], e.output)).max()
    assert error < TOLERANCE[kind], error
    assert (e.baseline_hash is None) == (not with_background and kind != "logistic")


def test_pipeline_is_explained_by_permutation_and_adds_up(
    credit: pd.DataFrame, models: dict[str, object]
) -> None:
    model, rows = models["pipeline"], credit.iloc[:20]
    e = explain(model, rows, background=credit[FEATURES].iloc[:20], budget=200)
    assert (e.method, e.output, e.explainer) == (
        "permutation",
        "probability",
        "shap.PermutationExplainer",
    )
    # each permutation telescopes, so Permutation SHAP adds up to rounding (documented 1e-6)
    error = np.abs(e.values.sum(1) + e.base_values - _target(model, rows[FEATURES], "p")).max()
    assert error < 1e-6


def test_kernel_adds_up_and_is_seeded(credit: pd.DataFrame, models: dict[str, object]) -> None:
    model, rows = models["pipeline"], credit.iloc[:8]
    bg = credit[FEATURES].iloc[:15]
    a = explain(model, rows, background=bg, method="kernel", budget=100, seed=3)
    b = explain(model, rows, background=bg, method="kernel", budget=100, seed=3)
    assert np.array_equal(a.values, b.values)
    error = np.abs(a.values.sum(1) + a.base_values - _target(model, rows[FEATURES], "p")).max()
    assert error < 1e-6


# -- agreement with shap ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["gbm", "lightgbm", "xgboost"])
def test_tree_values_equal_calling_shap_directly(
    kind: str, credit: pd.DataFrame, models: dict[str, object]
) -> None:
    model, X = models[kind], credit[FEATURES]
    ours = explain(model, credit)
    direct = shap.TreeExplainer(model)(X)
    assert np.array_equal(ours.values, np.asarray(direct.values, dtype=np.float64))
    bg = X.iloc[:40]
    ours = explain(model, credit, background=bg)
    direct = shap.TreeExplainer(
        model, data=bg, feature_perturbation="interventional", model_output="probability"
    )(X)
    assert np.array_equal(ours.values, np.asarray(direct.values, dtype=np.float64))
    assert np.allclose(ours.base_values, direct.base_values, rtol=0, atol=0)


def test_linear_values_equal_calling_shap_directly(
    credit: pd.DataFrame, models: dict[str, object]
) -> None:
    model, X = models["logistic"], credit[FEATURES]
    ours = explain(model, credit, background=X.iloc[:50])
    # row-major arrays, as trustops passes them (a column-major copy differs in the last bit)
    bg, rows = (np.ascontiguousarray(a.to_numpy(float)) for a in (X.iloc[:50], X))
    direct = shap.LinearExplainer(model, bg)(rows)
    assert np.array_equal(ours.values, direct.values)
    assert np.array_equal(ours.base_values, direct.base_values)


def test_permutation_values_equal_calling_shap_directly(
    credit: pd.DataFrame, models: dict[str, object]
) -> None:
    model, X = models["pipeline"], credit[FEATURES]
    bg = X.iloc[:10].to_numpy(float)
    ours = explain(model, X.iloc[:5], background=X.iloc[:10], budget=100, seed=1)

    def f(rows: np.ndarray) -> np.ndarray:
        return model.predict_proba(pd.DataFrame(rows, columns=FEATURES))[:, 1]  # type: ignore[attr-defined]

    masker = shap.maskers.Independent(bg, max_samples=10)
    direct = shap.PermutationExplainer(f, masker, seed=1)(
        X.iloc[:5].to_numpy(float), max_evals=100, silent=True
    )
    assert np.array_equal(ours.values, direct.values)


def test_interventional_treeshap_that_does_not_add_up_is_refused(credit: pd.DataFrame) -> None:
    forest = sklearn_ensemble.RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    forest.fit(credit[FEATURES], credit["approved"])
    assert explain(forest, credit).output == "probability"  # path-dependent adds up
    with pytest.raises(UnsupportedError, match="do not add up"):
        explain(forest, credit, background=credit[FEATURES].iloc[:30])


# -- summaries -----------------------------------------------------------------


def _made(values: list[list[float]], names: tuple[str, ...] = ("b", "a", "c")) -> Explanation:
    v = np.array(values, dtype=float)
    return Explanation(v, np.zeros(len(v)), names, "raw", "tree", "x", "0", None, 0)


def test_importance_is_mean_absolute_value_sorted_with_ties_by_name() -> None:
    e = _made([[1.0, -1.0, 0.5], [-1.0, 1.0, -2.5]])
    assert list(e.importance().items()) == [("c", 1.5), ("a", 1.0), ("b", 1.0)]


def test_by_group_has_one_row_per_group_and_is_kept_for_evidence(
    credit: pd.DataFrame, models: dict[str, object]
) -> None:
    e = explain(models["lightgbm"], credit)
    groups = e.by_group(credit["race"])
    assert groups.column == "race"
    assert groups.values.shape == (credit["race"].nunique(), len(FEATURES))
    assert groups.groups == tuple(sorted(credit["race"].unique()))
    assert sum(groups.counts) == len(credit)
    a = groups.groups.index("A")
    mask = (credit["race"] == "A").to_numpy()
    assert np.allclose(groups.values[a], np.abs(e.values[mask]).mean(0))
    evidence = json.loads(json.dumps(e.to_dict()))
    assert set(evidence["by_group"]["race"]["groups"]) == set(map(str, groups.groups))
    assert "values" not in evidence
    assert len(e.to_dict(include_values=True)["values"]) == len(credit)
    with pytest.raises(InputError, match="'race' has 3 values"):
        e.by_group(credit["race"].iloc[:3])


def test_to_dict_is_json_evidence(credit: pd.DataFrame, models: dict[str, object]) -> None:
    e = explain(models["xgboost"], credit, background=credit[FEATURES].iloc[:30])
    d = json.loads(json.dumps(e.to_dict()))
    assert d["method"] == "tree" and d["explainer"] == "shap.TreeExplainer"
    assert d["explainer_version"] == shap.__version__
    assert d["output"] == "probability" and d["background_rows"] == 30
    assert len(d["baseline_hash"]) == 64
    assert list(d["importance"]) == list(e.importance())
    # the hash identifies the background: same values, same hash; other rows, another
    again = explain(models["xgboost"], credit, background=credit[FEATURES].iloc[:30])
    other = explain(models["xgboost"], credit, background=credit[FEATURES].iloc[1:31])
    assert again.baseline_hash == e.baseline_hash != other.baseline_hash


def test_top_k_agreement() -> None:
    a = np.array([[3.0, -2.0, 1.0], [1.0, 1.0, 0.0]])
    assert top_k_agreement(a, a, 2) == 1.0
    assert top_k_agreement(a[:1], np.array([[1.0, 2.0, 3.0]]), 2) == 0.5
    assert top_k_agreement(a, -a, 5) == 1.0  # k capped at p; sign does not matter


def test_stability_is_one_for_identical_runs_and_in_unit_interval(
    credit: pd.DataFrame, models: dict[str, object]
) -> None:
    same = explanation_stability(models["gbm"], credit.iloc[:60], noise=0.0, repeats=2)
    assert same.across_seeds == same.under_perturbation == 1.0
    moved = explanation_stability(models["gbm"], credit.iloc[:60], noise=0.2, repeats=2)
    assert 0.0 <= moved.under_perturbation <= 1.0 and moved.across_seeds == 1.0
    sampled = explanation_stability(
        models["pipeline"], credit.iloc[:10], k=2, repeats=2, budget=50, method="kernel"
    )
    assert 0.0 <= sampled.across_seeds <= 1.0 and 0.0 <= sampled.under_perturbation <= 1.0
    assert json.dumps(sampled.to_dict())


def test_lime_explains_the_favourable_class(
    credit: pd.DataFrame, models: dict[str, object]
) -> None:
    model = models["logistic"]
    p = model.predict_proba(credit[FEATURES])[:, 1]  # type: ignore[attr-defined]
    order = np.argsort(p)
    rows = credit.iloc[[*order[:2], *order[-2:]]]  # two least and two most likely approved
    e = explain(model, rows, background=credit[FEATURES], method="lime", budget=400)
    assert (e.method, e.output, e.explainer) == (
        "lime",
        "probability",
        "lime.lime_tabular.LimeTabularExplainer",
    )
    assert e.values.shape == (4, len(FEATURES)) and np.isfinite(e.values).all()
    # the local surrogate predicts P(approved): low for the first two rows, high for the others
    local = e.values.sum(axis=1) + e.base_values
    assert local[:2].max() < 0.5 < local[2:].min()
    again = explain(model, rows, background=credit[FEATURES], method="lime", budget=400)
    assert np.array_equal(e.values, again.values)


# -- reason codes end to end ---------------------------------------------------


def test_attributions_feed_principal_reasons(
    credit: pd.DataFrame, models: dict[str, object]
) -> None:
    model = models["lightgbm"]
    e = explain(model, credit, background=credit[FEATURES].iloc[:50])
    dictionary = ReasonDictionary(
        "2026-11",
        {f: (f"R{i:02d}", f"Reason about {f}") for i, f in enumerate(FEATURES) if f != "age"},
    )
    denied = int(np.argmin(model.predict_proba(credit[FEATURES])[:, 1]))  # type: ignore[attr-defined]
    found = principal_reasons(e.attributions(denied), dictionary=dictionary, prohibited=["age"])
    assert 1 <= len(found.reasons) <= 4
    assert all(r.contribution < 0 for r in found.reasons)
    assert set(found.concept_attributions) == set(FEATURES)
    assert sum(found.concept_attributions.values()) == pytest.approx(
        model.predict_proba(credit[FEATURES])[denied, 1] - e.base_values[denied]  # type: ignore[attr-defined]
    )


# -- plots ---------------------------------------------------------------------


def test_plots_are_svg(credit: pd.DataFrame, models: dict[str, object]) -> None:
    e = explain(models["gbm"], credit)
    bar, swarm = e.plot_bar(), e.plot_beeswarm()
    assert bar.lstrip().startswith("<?xml") and "<svg" in bar and "zip_score" in bar
    assert "<svg" in swarm
    assert e.plot_bar() == bar  # deterministic bytes for reports


# -- bad input -----------------------------------------------------------------


def test_model_without_predict_proba(credit: pd.DataFrame) -> None:
    svm = LinearSVC().fit(credit[FEATURES], credit["approved"])
    with pytest.raises(InputError, match=r"LinearSVC.*predict_proba"):
        explain(svm, credit.iloc[:5], budget=50)


def test_feature_names_that_do_not_match(credit: pd.DataFrame, models: dict[str, object]) -> None:
    names = [*FEATURES[:2], "salary", *FEATURES[3:]]
    with pytest.raises(InputError, match="'salary' at position 2"):
        explain(models["gbm"], credit, feature_names=names)
    with pytest.raises(MissingColumnError, match="feature column 'zip_score'"):
        explain(models["gbm"], credit.drop(columns="zip_score"))
    assert explain(models["gbm"], credit.iloc[:5]).matched_by == "name"
    with pytest.raises(InputError, match="5 feature names for 6 columns"):
        explain(LinearSVC(), credit[FEATURES].to_numpy(), feature_names=FEATURES[:5])


def test_a_model_without_feature_names_is_matched_by_position(credit: pd.DataFrame) -> None:
    X = credit[FEATURES].to_numpy()
    unnamed = LogisticRegression(max_iter=1000).fit(X, credit["approved"])
    e = explain(unnamed, credit, feature_names=FEATURES)
    assert e.matched_by == "position" and e.to_dict()["features_matched_by"] == "position"
    assert np.allclose(e.values, explain(unnamed, X).values)
    with pytest.raises(InputError, match="7 feature columns for the model's 6 inputs"):
        explain(unnamed, credit, feature_names=[*FEATURES, "repaid"])
    with pytest.raises(InputError, match="5 feature columns for the model's 6 inputs"):
        explain(unnamed, X[:, :5])
    with pytest.raises(InputError, match="the first extra is 'repaid'"):
        explain(unnamed, credit[[*FEATURES, "repaid"]])


def test_missing_values_name_the_feature(credit: pd.DataFrame, models: dict[str, object]) -> None:
    rows = credit.iloc[:5].copy()
    rows.loc[rows.index[1], "income"] = np.nan
    with pytest.raises(MissingValuesError, match="'income' has 1 missing"):
        explain(models["logistic"], rows)
    with pytest.raises(MissingValuesError, match="'income'"):
        explain(models["gbm"], rows)
    assert np.isfinite(explain(models["lightgbm"], rows).values).all()  # LightGBM takes NaN


def test_empty_and_non_numeric_data(credit: pd.DataFrame, models: dict[str, object]) -> None:
    with pytest.raises(EmptyDataError, match="no rows"):
        explain(models["gbm"], credit.iloc[:0])
    lin = LinearRegression().fit(credit[FEATURES], credit["income"])
    rows = credit[FEATURES].astype(object).iloc[:3]
    rows.loc[rows.index[0], "age"] = "old"
    with pytest.raises(InputError, match="'age' is not numeric"):
        explain(lin, rows)


def test_unsupported_requests(credit: pd.DataFrame, models: dict[str, object]) -> None:
    with pytest.raises(UnsupportedError, match="method='linear'"):
        explain(models["gbm"], credit, method="linear")
    with pytest.raises(ValueError, match="method must be one of"):
        explain(models["gbm"], credit, method="deep")
    three = LogisticRegression().fit(credit[FEATURES], credit["race"].isin(["A", "B"]) + 0)
    assert explain(three, credit.iloc[:3]).output == "log_odds"
    multi = LogisticRegression(max_iter=500).fit(credit[FEATURES], credit["race"])
    with pytest.raises(UnsupportedError, match="5 classes"):
        explain(multi, credit.iloc[:3])


def test_trustops_explain_is_callable_however_it_is_imported() -> None:
    import trustops
    import trustops.explain as module

    assert callable(trustops.explain) and callable(module)
    assert isinstance(module.explain, type(explain))
