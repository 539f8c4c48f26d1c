"""In-processing adapters, the comparison run and ``trustops mitigate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from trustops.cli import app
from trustops.datasets import make_credit
from trustops.errors import InputError, MissingColumnError, UsageError
from trustops.mitigation import (
    Comparison,
    ExponentiatedGradientClassifier,
    GridSearchClassifier,
    ResamplingClassifier,
    ReweighingClassifier,
    ThresholdOptimizer,
    compare_methods,
    mitigator,
)
from trustops.mitigation.compare import DISPARATE_TREATMENT, METHODS, pareto_front
from trustops.policy import load_policy, load_policy_text

pytestmark = pytest.mark.filterwarnings("ignore:Generating a grid")

FEATURES = ["income", "debt_ratio", "credit_history_years", "late_payments", "age", "zip_score"]
DROP = ["applicant_id", "sex", "repaid"]


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    return pd.DataFrame(make_credit(4000, seed=0))


@pytest.fixture(scope="module")
def run(credit: pd.DataFrame) -> Comparison:
    return compare_methods(
        credit,
        y="approved",
        sensitive="race",
        estimator=LogisticRegression(max_iter=1000),
        methods=METHODS,
        policy=load_policy("eeoc-four-fifths"),
        drop=DROP,
    )


def _impact_ratio(pred: np.ndarray, groups: pd.Series) -> float:
    rates = [pred[(groups == g).to_numpy()].mean() for g in sorted(groups.unique())]
    return min(rates) / max(rates)


@pytest.mark.parametrize("adapter", [ExponentiatedGradientClassifier, GridSearchClassifier])
def test_adapter_is_cloneable_and_raises_the_impact_ratio(
    adapter: Any, credit: pd.DataFrame
) -> None:
    kwargs = {"grid_size": 50, "constraint_weight": 0.9} if adapter is GridSearchClassifier else {}
    model = adapter(LogisticRegression(max_iter=1000), sensitive="race", **kwargs)
    fitted = clone(model).fit(credit[[*FEATURES, "race"]], credit["approved"])
    assert clone(model).get_params(deep=False).keys() == model.get_params(deep=False).keys()
    assert repr(clone(model)) == repr(model)
    base = LogisticRegression(max_iter=1000).fit(credit[FEATURES], credit["approved"])
    before = _impact_ratio(base.predict(credit[FEATURES]), credit["race"])
    after = _impact_ratio(fitted.predict(credit[FEATURES]), credit["race"])
    assert after > before + 0.05
    assert list(fitted.classes_) == [0, 1]
    assert fitted.predict_proba(credit[FEATURES]).shape == (len(credit), 2)
    # the sensitive column is dropped when present, not used
    np.testing.assert_array_equal(
        fitted.predict(credit[[*FEATURES, "race"]]), fitted.predict(credit[FEATURES])
    )


def test_decision_time_use_is_declared() -> None:
    assert ExponentiatedGradientClassifier.uses_protected_attribute_at_decision is False
    assert GridSearchClassifier.uses_protected_attribute_at_decision is False
    assert ThresholdOptimizer.uses_protected_attribute_at_decision is True
    for cls in (ReweighingClassifier, ResamplingClassifier):
        assert not getattr(cls, "uses_protected_attribute_at_decision", False)


@pytest.mark.parametrize(
    ("name", "moment"),
    [
        ("demographic_parity", "DemographicParity"),
        ("equalized_odds", "EqualizedOdds"),
        ("equal_opportunity", "TruePositiveRateParity"),
        ("true_positive_rate_parity", "TruePositiveRateParity"),
    ],
)
def test_constraint_names_map_to_fairlearn(name: str, moment: str, credit: pd.DataFrame) -> None:
    small = credit.iloc[:600]
    model = ExponentiatedGradientClassifier(
        LogisticRegression(max_iter=1000), sensitive="race", constraint=name, max_iter=5
    ).fit(small[[*FEATURES, "race"]], small["approved"])
    assert type(model.estimator_.constraints).__name__ == moment


def test_adapter_errors(credit: pd.DataFrame) -> None:
    X = credit[[*FEATURES, "race"]]
    with pytest.raises(UsageError, match="constraint must be one of"):
        ExponentiatedGradientClassifier(LogisticRegression(), sensitive="race", constraint="x").fit(
            X, credit["approved"]
        )
    with pytest.raises(MissingColumnError, match="gender"):
        GridSearchClassifier(LogisticRegression(), sensitive="gender").fit(X, credit["approved"])


def test_comparison_has_every_method_with_numbers_and_the_flag(run: Comparison) -> None:
    assert [r.method for r in run.results] == list(METHODS)
    for r in run.results:
        assert 0.5 < r.accuracy < 1 and 0.5 < r.balanced_accuracy < 1
        assert r.impact_ratio is not None and 0 < r.impact_ratio <= 1
        assert r.demographic_parity_difference is not None
        assert r.equalized_odds_difference is not None
        assert r.flag == (DISPARATE_TREATMENT if r.method == "threshold" else None)
        assert ("race" in r.decision_inputs) == (r.method == "threshold")
    data = run.to_dict()
    assert [m["method"] for m in data["methods"]] == list(METHODS)
    assert json.loads(json.dumps(data)) == data
    assert run.n_test == 1200 and "race" not in run.features


def test_mitigation_raises_the_impact_ratio(run: Comparison) -> None:
    none = run["none"].impact_ratio
    assert none is not None
    for method in ("reweighing", "resampling", "exponentiated_gradient", "threshold"):
        ratio = run[method].impact_ratio
        assert ratio is not None and ratio > none


def test_four_fifths_pack_passes_a_mitigated_method_where_none_fails(run: Comparison) -> None:
    assert run["none"].policy_outcome == "fail"
    passing = [r.method for r in run.results if r.policy_outcome == "pass"]
    assert {"reweighing", "exponentiated_gradient"} <= set(passing)
    assert run.best(policy_pass=True) in passing
    assert run.best(policy_pass=True, allow_disparate_treatment=False) != "threshold"


def test_pareto_marks_on_a_hand_example() -> None:
    points = [(0.80, 0.30), (0.70, 0.10), (0.70, 0.20), (0.90, 0.30), (0.75, 0.10)]
    assert pareto_front(points) == [False, False, False, True, True]
    assert pareto_front([(0.8, 0.1), (0.8, 0.1)]) == [True, True]


def test_pareto_marks_match_the_results(run: Comparison) -> None:
    """No marked result is dominated, every unmarked one is, and the most accurate is marked."""
    results = [r for r in run.results if r.demographic_parity_difference is not None]

    def dominates(b: Any, a: Any) -> bool:
        ba, bd = b.accuracy, b.demographic_parity_difference
        aa, ad = a.accuracy, a.demographic_parity_difference
        return ba >= aa and bd <= ad and (ba > aa or bd < ad)

    for a in results:
        assert a.pareto_optimal == (not any(dominates(b, a) for b in results if b is not a))
    best = max(results, key=lambda r: (r.accuracy, -r.demographic_parity_difference))
    assert best.pareto_optimal


def test_table_and_plot(run: Comparison) -> None:
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(run.rich_table())
    text = console.export_text()
    for r in run.results:
        assert r.method in text
    assert DISPARATE_TREATMENT in text
    svg = run.plot_svg()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_forbid_disparate_treatment_and_a_policy_forbidding_it(credit: pd.DataFrame) -> None:
    common: dict[str, Any] = {
        "y": "approved",
        "sensitive": "race",
        "estimator": LogisticRegression(max_iter=1000),
        "methods": ["none", "threshold"],
        "drop": DROP,
    }
    forbidden = compare_methods(credit, forbid_disparate_treatment=True, **common)
    assert [r.method for r in forbidden.results] == ["none"]
    ecoa = load_policy("ecoa-adverse-action")
    credit_system = {"use_case": "credit"}
    # age is a prohibited basis under ECOA too: leave it out to see race alone
    without_age = {**common, "drop": [*DROP, "age"]}
    decided = compare_methods(credit, policy=ecoa, system=credit_system, **without_age)
    assert decided["threshold"].policy_outcome == "fail"
    assert decided["none"].policy_outcome != "fail"
    no_race = load_policy_text(
        "policy: no-race\nrules:\n  - id: no-race\n    kind: prohibited_inputs\n"
        "    attributes: [race]\n"
    )
    decided = compare_methods(credit, policy=no_race, **common)
    assert [r.policy_outcome for r in decided.results] == ["pass", "fail"]


@pytest.mark.parametrize(
    ("method", "kind"),
    [
        ("none", "LogisticRegression"),
        ("reweighing", "ReweighingClassifier"),
        ("resampling", "ResamplingClassifier"),
        ("exponentiated_gradient", "ExponentiatedGradientClassifier"),
        ("grid_search", "GridSearchClassifier"),
        ("threshold", "ThresholdOptimizer"),
    ],
)
def test_mitigator_builds_the_method_a_comparison_runs(method: str, kind: str) -> None:
    built = mitigator(method, LogisticRegression(), sensitive=["race"], seed=3)
    assert type(built).__name__ == kind
    assert bool(getattr(built, "uses_protected_attribute_at_decision", False)) == (
        method == "threshold"
    )


def test_mitigator_refuses_unknown_names() -> None:
    with pytest.raises(UsageError, match="unknown mitigation method 'magic'"):
        mitigator("magic", LogisticRegression(), sensitive="race")
    with pytest.raises(UsageError, match="constraint must be one of"):
        mitigator("grid_search", LogisticRegression(), sensitive="race", constraint="parity")


def test_bad_input(credit: pd.DataFrame) -> None:
    est = LogisticRegression()
    with pytest.raises(MissingColumnError, match="gender"):
        compare_methods(credit, y="approved", sensitive="gender", estimator=est, drop=DROP)
    with pytest.raises(UsageError, match="unknown mitigation method 'magic'"):
        compare_methods(credit, y="approved", sensitive="race", estimator=est, methods=["magic"])
    with pytest.raises(InputError, match="'sex' is not numeric"):
        compare_methods(credit, y="approved", sensitive="race", estimator=est)


@pytest.fixture(scope="module")
def credit_csv(tmp_path_factory: pytest.TempPathFactory, credit: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("mitigate") / "credit.csv"
    credit.to_csv(path, index=False)
    return path


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


BASE = ["mitigate", "--y", "approved", "--sensitive", "race"]
DROPS = ["--drop", "applicant_id", "--drop", "sex", "--drop", "repaid"]


def test_cli_json_table_and_plot(credit_csv: Path, tmp_path: Path) -> None:
    out = _cli(
        *BASE, "--data", str(credit_csv), *DROPS, "--methods", "none,threshold",
        "--format", "json", "--policy", "eeoc-four-fifths",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert [m["method"] for m in data["methods"]] == ["none", "threshold"]
    assert data["methods"][1]["flag"] == DISPARATE_TREATMENT
    plot, table = tmp_path / "pareto.svg", tmp_path / "table.txt"
    out = _cli(
        *BASE, "--data", str(credit_csv), *DROPS, "--methods", "none,reweighing",
        "-o", str(table), "--plot", str(plot), "--estimator", "gbm",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "reweighing" in table.read_text() and "<svg" in plot.read_text()
    out = _cli(
        *BASE, "--data", str(credit_csv), *DROPS, "--methods", "none,threshold",
        "--forbid-disparate-treatment", "--format", "json",
    )  # fmt: skip
    assert [m["method"] for m in json.loads(out.stdout)["methods"]] == ["none"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sensitive", "gender", *DROPS], "gender"),
        ([*DROPS, "--drop", "nope"], "nope"),
        (["--drop", "applicant_id"], "sex"),
        ([*DROPS, "--methods", "none,magic"], "magic"),
    ],
)
def test_cli_bad_input_exits_2_naming_it(credit_csv: Path, args: list[str], message: str) -> None:
    out = _cli(*BASE, "--data", str(credit_csv), *args)
    assert out.exit_code == 2
    assert message in out.stderr and "Traceback" not in out.output
