"""The compatibility modes equal Evidently 0.7.23 and NannyML 0.13.1 (to 1e-9).

Each case runs the peer's own code on pandas Series (Evidently: its
registry's test after its NaN/inf cleaning; NannyML: its method class fitted
on the reference and evaluated on the current chunk) and the trustops
function on NumPy arrays.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.core.drift.peers import (
    ColumnType,
    DataDefinition,
    Dataset,
    DefaultChunker,
    FeatureType,
    MethodFactory,
    Report,
    StandardDeviationThreshold,
    ValueDrift,
    evidently_stattests,
    nannyml,
)
from trustops.core.drift import (
    CompatResult,
    evidently_default_method,
    evidently_drift,
    nannyml_drift,
)
from trustops.core.drift.compat import EVIDENTLY_METHODS
from trustops.errors import EmptyDataError, InputError, UsageError

TOL = 1e-9

# The peers' own warnings on the edge cases (ours raise none: see test_we_do_not_warn).
pytestmark = [
    pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:The resulting number of chunks is too low:UserWarning"),
]


def _numeric_data() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(11)
    with_gaps = rng.normal(0, 1, 400)
    with_gaps[[3, 50]] = np.nan
    with_gaps[7] = np.inf
    cur_gaps = rng.normal(0.2, 1, 300)
    cur_gaps[[1, 2]] = [np.nan, -np.inf]
    return {
        "normal-small-shift": (rng.normal(0, 1, 300), rng.normal(0.5, 1, 250)),
        "normal-small-same": (rng.normal(0, 1, 600), rng.normal(0, 1, 500)),
        "normal-large": (rng.normal(0, 1, 3_000), rng.normal(0.05, 1.1, 2_000)),
        "lognormal-large": (rng.lognormal(0, 1, 2_500), rng.lognormal(0.3, 1, 2_500)),
        "nan-and-inf": (with_gaps, cur_gaps),
        "int-15-values": (
            rng.integers(0, 15, 500).astype(float),
            rng.integers(2, 15, 400).astype(float),
        ),
        "int-15-values-large": (
            rng.integers(0, 15, 2_000).astype(float),
            rng.integers(0, 16, 1_500).astype(float),
        ),
        "four-values": (
            rng.integers(0, 4, 300).astype(float),
            rng.integers(0, 4, 200).astype(float),
        ),
        "two-values": (
            rng.integers(0, 2, 300).astype(float),
            rng.binomial(1, 0.6, 250).astype(float),
        ),
        "five-values-large": (
            rng.integers(0, 5, 1_500).astype(float),
            rng.integers(0, 5, 900) * 1.0,
        ),
        "constant-same": (np.full(100, 3.0), np.full(80, 3.0)),
        "constant-differs": (np.full(100, 3.0), np.full(80, 4.0)),
    }


def _categorical_data() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(12)
    cats = np.array(list("abcde"))
    with_none = rng.choice(cats, 300).astype(object)
    with_none[[0, 9]] = None
    with_none[4] = np.nan
    return {
        "five-small": (rng.choice(cats, 400, p=[0.3, 0.3, 0.2, 0.1, 0.1]), rng.choice(cats, 300)),
        "five-large": (
            rng.choice(cats, 2_000),
            rng.choice(cats, 1_500, p=[0.1, 0.1, 0.2, 0.3, 0.3]),
        ),
        "new-category": (rng.choice(cats[:3], 300), rng.choice(cats, 200)),
        "lost-category": (rng.choice(cats, 300), rng.choice(cats[:3], 250)),
        "two-categories": (rng.choice(cats[:2], 500), rng.choice(cats[:2], 400, p=[0.6, 0.4])),
        "one-category": (np.array(["a"] * 50), np.array(["a"] * 40)),
        "missing-values": (with_none, rng.choice(cats, 250).astype(object)),
        "integer-codes": (rng.integers(0, 6, 700), rng.integers(1, 7, 600)),
    }


NUMERIC = _numeric_data()
CATEGORICAL = _categorical_data()
NUMERIC_METHODS = ["auto", "psi", "jensenshannon", "kl_div", "wasserstein", "hellinger", "ks"]
CATEGORICAL_METHODS = ["auto", "psi", "jensenshannon", "kl_div", "hellinger", "chisquare", "z"]
EVIDENTLY_CASES = [
    pytest.param("numeric", name, method, id=f"numeric-{name}-{method}")
    for name in NUMERIC
    for method in NUMERIC_METHODS
] + [
    pytest.param("categorical", name, method, id=f"categorical-{name}-{method}")
    for name in CATEGORICAL
    for method in CATEGORICAL_METHODS
]


def _data(kind: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    return NUMERIC[name] if kind == "numeric" else CATEGORICAL[name]


def _evidently(
    ref: np.ndarray, cur: np.ndarray, kind: str, method: str, threshold: float | None = None
) -> tuple[str, float, bool, float]:
    """Evidently's own path: its cleaning, its default choice, its registered test."""
    column_type = ColumnType.Numerical if kind == "numeric" else ColumnType.Categorical
    r = pd.Series(ref).replace([-np.inf, np.inf], np.nan).dropna()
    c = pd.Series(cur).replace([-np.inf, np.inf], np.nan).dropna()
    test = evidently_stattests.get_stattest(r, c, column_type, None if method == "auto" else method)
    res = test(r, c, column_type, threshold)
    return test.name, float(res.drift_score), bool(res.drifted), float(res.actual_threshold)


def _same(ours: float, theirs: float) -> bool:
    if np.isnan(theirs):
        return bool(np.isnan(ours))
    return ours == pytest.approx(theirs, rel=TOL, abs=TOL)


# -- Evidently ------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "name", "method"), EVIDENTLY_CASES)
def test_evidently_parity(kind: str, name: str, method: str) -> None:
    ref, cur = _data(kind, name)
    want_name, want_score, want_drift, want_threshold = _evidently(ref, cur, kind, method)
    ours = evidently_drift(ref, cur, kind=kind, method=method)  # type: ignore[arg-type]
    assert ours.method == want_name
    assert _same(ours.score, want_score), (ours, want_score)
    assert ours.drift_detected == want_drift
    assert ours.threshold == want_threshold


@pytest.mark.parametrize(
    ("kind", "name", "method", "threshold"),
    [
        ("numeric", "normal-small-shift", "ks", 0.001),
        ("numeric", "normal-large", "wasserstein", 0.01),
        ("numeric", "lognormal-large", "psi", 0.05),
        ("categorical", "five-small", "chisquare", 0.2),
        ("categorical", "two-categories", "z", 0.5),
        ("categorical", "five-large", "jensenshannon", 0.2),
    ],
)
def test_evidently_parity_with_custom_threshold(
    kind: str, name: str, method: str, threshold: float
) -> None:
    ref, cur = _data(kind, name)
    _, want_score, want_drift, want_threshold = _evidently(ref, cur, kind, method, threshold)
    ours = evidently_drift(ref, cur, kind=kind, method=method, threshold=threshold)  # type: ignore[arg-type]
    assert _same(ours.score, want_score)
    assert (ours.drift_detected, ours.threshold) == (want_drift, want_threshold)


@pytest.mark.parametrize(
    ("kind", "name"), [("numeric", n) for n in NUMERIC] + [("categorical", n) for n in CATEGORICAL]
)
def test_evidently_default_choice(kind: str, name: str) -> None:
    ref, cur = _data(kind, name)
    assert evidently_default_method(ref, cur, kind=kind) == _evidently(ref, cur, kind, "auto")[0]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "name", "method"),
    [
        ("numeric", "normal-small-shift", None),
        ("numeric", "nan-and-inf", "psi"),
        ("numeric", "normal-large", None),
        ("categorical", "missing-values", None),
        ("categorical", "five-large", "hellinger"),
    ],
)
def test_evidently_report_api_agrees(kind: str, name: str, method: str | None) -> None:
    """The Evidently 0.7 Report API (ValueDrift) reports the same drift score."""
    ref, cur = _data(kind, name)
    columns = {"numerical_columns": ["x"]} if kind == "numeric" else {"categorical_columns": ["x"]}
    definition = DataDefinition(**columns)
    snapshot = Report([ValueDrift(column="x", method=method)]).run(
        Dataset.from_pandas(pd.DataFrame({"x": cur}), data_definition=definition),
        Dataset.from_pandas(pd.DataFrame({"x": ref}), data_definition=definition),
    )
    value = float(snapshot.dict()["metrics"][0]["value"])
    ours = evidently_drift(ref, cur, kind=kind, method=method or "auto")  # type: ignore[arg-type]
    assert ours.score == pytest.approx(value, rel=TOL, abs=TOL)


def test_evidently_statistics_besides_the_score() -> None:
    from scipy.stats import ks_2samp

    ref, cur = NUMERIC["normal-small-shift"]
    res = evidently_drift(ref, cur, kind="numeric", method="ks")
    assert (res.statistic, res.p_value) == tuple(ks_2samp(ref, cur)[:2])
    res = evidently_drift(*CATEGORICAL["new-category"], kind="categorical", method="chisquare")
    assert (res.statistic, res.p_value, res.drift_detected) == (np.inf, 0.0, True)
    res = evidently_drift(*CATEGORICAL["one-category"], kind="categorical", method="chisquare")
    assert np.isnan(res.p_value) and res.drift_detected is False  # SciPy's NaN, kept
    res = evidently_drift(*CATEGORICAL["one-category"], kind="categorical", method="z")
    assert (res.statistic, res.p_value, res.drift_detected) == (0.0, 1.0, False)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", ["new-category", "one-category", "missing-values"])
def test_we_do_not_warn(name: str) -> None:
    ref, cur = CATEGORICAL[name]
    for method in CATEGORICAL_METHODS:
        evidently_drift(ref, cur, kind="categorical", method=method)
    for method in ("jensen_shannon", "hellinger", "chi2", "l_infinity"):
        nannyml_drift(ref, cur, kind="categorical", method=method)
    evidently_drift(*NUMERIC["nan-and-inf"], kind="numeric", method="psi")


def test_evidently_registry_restrictions() -> None:
    # Evidently's registry refuses these explicitly, though "auto" uses them on numbers.
    ref, cur = NUMERIC["four-values"]
    assert evidently_drift(ref, cur, kind="numeric").method == "chisquare"
    for method in ("chisquare", "z"):
        with pytest.raises(UsageError):
            evidently_drift(ref, cur, kind="numeric", method=method)
    with pytest.raises(UsageError):
        evidently_drift(*CATEGORICAL["five-small"], kind="categorical", method="ks")
    with pytest.raises(UsageError):
        evidently_drift(ref, cur, kind="numeric", method="anderson")
    assert set(EVIDENTLY_METHODS) == set(NUMERIC_METHODS[1:]) | set(CATEGORICAL_METHODS[1:])


def test_evidently_input_errors() -> None:
    with pytest.raises(EmptyDataError):
        evidently_drift(np.array([np.nan, np.inf]), np.array([1.0]), kind="numeric")
    with pytest.raises(EmptyDataError):
        evidently_drift(np.array(["a"]), np.array([None, np.nan], dtype=object), kind="categorical")
    with pytest.raises(InputError):
        evidently_drift(np.array(["a", "b"]), np.array(["a"]), kind="numeric")
    with pytest.raises(UsageError):
        evidently_drift(np.array([1.0]), np.array([1.0]), kind="text")  # type: ignore[arg-type]


def test_evidently_does_not_touch_the_inputs() -> None:
    ref = np.array([1.0, np.nan, 2.0, np.inf] * 10)
    before = ref.copy()
    evidently_drift(ref, ref, kind="numeric", method="hellinger")
    np.testing.assert_array_equal(ref, before)


# -- NannyML --------------------------------------------------------------------


def _nannyml(
    ref: np.ndarray, cur: np.ndarray, kind: str, method: str, **params: Any
) -> tuple[float, Any]:
    feature_type = FeatureType.CONTINUOUS if kind == "numeric" else FeatureType.CATEGORICAL
    kwargs: dict[str, Any] = {
        "chunker": DefaultChunker(),
        "threshold": StandardDeviationThreshold(),
    }
    if params:
        # NannyML 0.13.1 reads these at the top level of computation_params once the
        # method's own key is present (the nested dict it documents is ignored).
        kwargs["computation_params"] = {method: {}, **params}
    m = MethodFactory.create(key=method, feature_type=feature_type, **kwargs)
    m.fit(pd.Series(ref, name="x"))
    return float(m.calculate(pd.Series(cur, name="x"))), m


def _nannyml_numeric() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(21)
    return {
        "normal-small": (rng.normal(0, 1, 800), rng.normal(0.3, 1.2, 500)),
        "outside-range": (rng.uniform(0, 1, 1_000), rng.uniform(-0.5, 1.5, 600)),
        "skewed": (rng.exponential(2.0, 3_000), rng.exponential(2.5, 800)),
        "integers": (rng.integers(0, 9, 900).astype(float), rng.integers(0, 12, 700).astype(float)),
        "large": (rng.normal(0, 1, 12_000), rng.normal(0.1, 1, 2_000)),
        "large-outside": (rng.uniform(0, 1, 10_000), rng.uniform(-0.2, 1.3, 1_000)),
        "identical": (np.linspace(0, 1, 300), np.linspace(0, 1, 300)),
        "with-nan": (
            np.append(rng.normal(0, 1, 400), [np.nan] * 3),
            np.append([np.nan], rng.normal(0, 1, 300)),
        ),
    }


NANNYML_NUMERIC = _nannyml_numeric()
NANNYML_CATEGORICAL = {k: v for k, v in CATEGORICAL.items() if k != "integer-codes"}
NANNYML_CASES = [
    pytest.param("numeric", name, method, id=f"numeric-{name}-{method}")
    for name in NANNYML_NUMERIC
    for method in ("jensen_shannon", "hellinger", "kolmogorov_smirnov", "wasserstein")
] + [
    pytest.param("categorical", name, method, id=f"categorical-{name}-{method}")
    for name in NANNYML_CATEGORICAL
    for method in ("jensen_shannon", "hellinger", "chi2", "l_infinity")
]


def _nml_data(kind: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    return NANNYML_NUMERIC[name] if kind == "numeric" else NANNYML_CATEGORICAL[name]


@pytest.mark.parametrize(("kind", "name", "method"), NANNYML_CASES)
def test_nannyml_parity(kind: str, name: str, method: str) -> None:
    ref, cur = _nml_data(kind, name)
    want, fitted = _nannyml(ref, cur, kind, method)
    ours = nannyml_drift(ref, cur, kind=kind, method=method)  # type: ignore[arg-type]
    assert _same(ours.statistic, want), (ours, want)
    assert ours.score == ours.statistic
    if method == "chi2":
        assert ours.p_value == pytest.approx(fitted._p_value, rel=TOL, abs=TOL)
        assert ours.drift_detected == bool(fitted.alert(want))
    else:
        assert (ours.p_value, ours.threshold, ours.drift_detected) == (None, None, None)


@pytest.mark.parametrize("method", ["kolmogorov_smirnov", "wasserstein"])
@pytest.mark.parametrize("calculation_method", ["exact", "estimated"])
@pytest.mark.parametrize("name", ["normal-small", "outside-range", "large-outside"])
def test_nannyml_calculation_methods(method: str, calculation_method: str, name: str) -> None:
    ref, cur = NANNYML_NUMERIC[name]
    want, fitted = _nannyml(
        ref, cur, "numeric", method, calculation_method=calculation_method, n_bins=500
    )
    assert fitted.calculation_method == calculation_method
    ours = nannyml_drift(
        ref,
        cur,
        kind="numeric",
        method=method,
        calculation_method=calculation_method,
        n_bins=500,  # type: ignore[arg-type]
    )
    assert ours.statistic == pytest.approx(want, rel=TOL, abs=TOL)


def test_nannyml_calculator_single_chunk_agrees() -> None:
    """The full UnivariateDriftCalculator, one analysis chunk, gives the method values."""
    ref, cur = NANNYML_NUMERIC["skewed"]
    cref, ccur = CATEGORICAL["new-category"]
    calc = nannyml.UnivariateDriftCalculator(
        column_names=["x", "g"],
        treat_as_categorical=["g"],
        continuous_methods=["jensen_shannon", "wasserstein"],
        categorical_methods=["jensen_shannon", "chi2"],
        chunk_number=1,
    )
    calc.fit(pd.DataFrame({"x": ref[: len(cref)], "g": cref}))
    table = (
        calc.calculate(pd.DataFrame({"x": cur[: len(ccur)], "g": ccur}))
        .filter(period="analysis")
        .to_df()
    )
    for column, kind, method, r, c in [
        ("x", "numeric", "jensen_shannon", ref[: len(cref)], cur[: len(ccur)]),
        ("x", "numeric", "wasserstein", ref[: len(cref)], cur[: len(ccur)]),
        ("g", "categorical", "jensen_shannon", cref, ccur),
        ("g", "categorical", "chi2", cref, ccur),
    ]:
        want = float(table[(column, method, "value")].iloc[0])
        got = nannyml_drift(r, c, kind=kind, method=method).statistic  # type: ignore[arg-type]
        assert got == pytest.approx(want, rel=TOL, abs=TOL), (column, method)


def test_nannyml_thresholds() -> None:
    ref, cur = NANNYML_NUMERIC["normal-small"]
    res = nannyml_drift(ref, cur, kind="numeric", method="jensen_shannon", threshold=0.05)
    assert (res.threshold, res.drift_detected) == (0.05, res.statistic > 0.05)
    with pytest.raises(UsageError):
        nannyml_drift(*CATEGORICAL["five-small"], kind="categorical", method="chi2", threshold=0.1)


def test_nannyml_errors() -> None:
    ref, cur = NANNYML_NUMERIC["normal-small"]
    with pytest.raises(UsageError):
        nannyml_drift(ref, cur, kind="numeric", method="chi2")
    with pytest.raises(UsageError):
        nannyml_drift(ref, cur, kind="numeric", method="psi")
    with pytest.raises(UsageError):
        nannyml_drift(ref, cur, kind="numeric", method="wasserstein", calculation_method="fast")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        nannyml_drift(np.append(ref, np.inf), cur, kind="numeric", method="jensen_shannon")
    with pytest.raises(EmptyDataError):
        nannyml_drift(ref, np.array([np.nan]), kind="numeric", method="wasserstein")
    with pytest.raises(InputError):
        nannyml_drift(
            np.array([1, "a"], dtype=object),
            np.array(["a"]),
            kind="categorical",
            method="hellinger",
        )


def test_compat_result_round_trips() -> None:
    res = evidently_drift(*NUMERIC["normal-small-shift"], kind="numeric")
    assert CompatResult.from_dict(json.loads(json.dumps(res.to_dict()))) == res
    res = nannyml_drift(*NANNYML_NUMERIC["normal-small"], kind="numeric", method="hellinger")
    assert CompatResult.from_dict(res.to_dict()) == res
