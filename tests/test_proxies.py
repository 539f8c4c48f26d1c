"""Proxy detection on data: make_credit's injected proxy, evidence for policies, bad input."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from rich.console import Console
from sklearn.metrics import mutual_info_score

import trustops
from trustops.core.policy import EvidenceItem, build_policy, evaluate
from trustops.core.policy.evaluate import Context
from trustops.core.proxies import ProxyReport, equal_frequency_codes
from trustops.datasets import CREDIT_FEATURES, make_credit
from trustops.errors import InputError, MissingColumnError, MissingValuesError, UsageError
from trustops.proxies import rich_table

FEATURES = [*CREDIT_FEATURES, "noise"]
# What an explanation of a model trained on make_credit might say (mean |SHAP|):
# zip_score matters (it enters creditworthiness), noise a little.
IMPORTANCE = {
    "income": 0.30,
    "debt_ratio": 0.25,
    "credit_history_years": 0.10,
    "late_payments": 0.15,
    "age": 0.02,
    "zip_score": 0.12,
    "noise": 0.06,
}


@pytest.fixture(scope="module")
def credit() -> dict[str, np.ndarray]:
    data = make_credit(20_000, seed=0)
    data["noise"] = np.random.default_rng(1).normal(size=20_000)
    return data


@pytest.fixture(scope="module")
def report(credit: dict[str, np.ndarray]) -> ProxyReport:
    return trustops.detect_proxies(credit, sensitive=["race", "sex"], importance=IMPORTANCE)


def test_the_injected_proxy_is_found_and_flagged(report: ProxyReport) -> None:
    zip_race = report.record("zip_score", "race")
    assert zip_race.flagged and zip_race.strong
    assert report.flagged == ["zip_score"]
    assert report.records[0] == zip_race  # flagged first
    # zip_score is N(0, 1) − 0.8 for race C only: C-vs-rest AUC ≈ Φ(0.8/√2) ≈ 0.71 in theory
    assert zip_race.auc_by_level["C"] > 0.67
    assert zip_race.auc > 0.55 > max(r.auc for r in report.records[1:])
    assert zip_race.normalised_mi > 0.015
    noise = report.record("noise", "race")
    assert zip_race.mutual_information > 10 * noise.mutual_information
    assert not noise.strong and not noise.flagged
    assert noise.normalised_mi < 0.002 and abs(noise.auc - 0.5) < 0.02
    assert not report.record("zip_score", "sex").strong  # a proxy of race, not of sex
    assert "strong proxy" in zip_race.reason and "important" in zip_race.reason


def test_mutual_information_equals_scikit_learn(
    credit: dict[str, np.ndarray], report: ProxyReport
) -> None:
    race = np.unique(credit["race"], return_inverse=True)[1]
    for column in ("zip_score", "noise", "late_payments"):
        codes = equal_frequency_codes(credit[column], 10)
        expected = mutual_info_score(codes, race)
        assert abs(report.record(column, "race").mutual_information - expected) <= 1e-12


def test_without_importance_nothing_is_flagged(
    credit: dict[str, np.ndarray], report: ProxyReport
) -> None:
    plain = trustops.detect_proxies(credit, sensitive=["race", "sex"], features=FEATURES)
    assert plain.flagged == [] and not plain.importance_given
    assert plain.to_dict()["note"] == plain.note and "no feature is flagged" in str(plain.note)
    zip_race = plain.record("zip_score", "race")
    assert zip_race.strong and zip_race.importance_share is None
    assert zip_race.auc == report.record("zip_score", "race").auc
    assert "no model importance given" in zip_race.reason


def test_an_unimportant_proxy_is_not_flagged(credit: dict[str, np.ndarray]) -> None:
    importance = {**IMPORTANCE, "zip_score": 0.01}
    r = trustops.detect_proxies(credit, sensitive="race", importance=importance)
    zip_race = r.record("zip_score", "race")
    assert zip_race.strong and not zip_race.flagged and r.flagged == []
    assert zip_race.importance_share == pytest.approx(0.01 / sum(importance.values()))


def test_deterministic_with_the_seed(credit: dict[str, np.ndarray], report: ProxyReport) -> None:
    again = trustops.detect_proxies(credit, sensitive=["race", "sex"], importance=IMPORTANCE)
    assert again.to_dict() == report.to_dict()
    other = trustops.detect_proxies(
        credit, sensitive=["race", "sex"], importance=IMPORTANCE, seed=1
    )
    assert other.flagged == report.flagged
    assert other.record("zip_score", "race").auc != report.record("zip_score", "race").auc


def test_evidence_json(report: ProxyReport) -> None:
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert d["kind"] == "proxies" and d["flagged"] == ["zip_score"]
    assert d["attributes"] == ["race", "sex"] and d["n_rows"] == 20_000
    assert len(d["features"]) == len(FEATURES) * 2
    assert {
        "column",
        "attribute",
        "mutual_information",
        "normalised_mi",
        "auc",
        "auc_std",
        "importance_share",
        "flagged",
        "reason",
    } <= set(d["features"][0])
    assert ProxyReport.from_dict(d) == report


@pytest.mark.parametrize(
    ("rule", "outcome"),
    [
        (
            {
                "metric": "features.flagged",
                "op": "==",
                "threshold": False,
                "scope": {"features": ["zip_score"]},
            },
            "fail",
        ),
        ({"metric": "len(flagged)", "op": "<=", "threshold": 0}, "fail"),
        ({"metric": "features.auc", "op": "<", "threshold": 0.7}, "pass"),
        (
            {
                "metric": "features.flagged",
                "op": "==",
                "threshold": False,
                "scope": {"features": ["noise", "income"]},
            },
            "pass",
        ),
    ],
)
def test_a_policy_acts_on_the_evidence(
    report: ProxyReport, rule: dict[str, Any], outcome: str
) -> None:
    policy = build_policy(
        {"policy": "no-proxies", "rules": [{"id": "r", "evidence": "proxies", **rule}]}
    )
    decision = evaluate(policy, [EvidenceItem("proxies", report.to_dict())], Context())
    assert decision.outcome == outcome, decision.rules[0].messages


def test_every_frame_backend_gives_the_same_report(credit: dict[str, np.ndarray]) -> None:
    small = {k: v[:3000] for k, v in credit.items()}
    kwargs: dict[str, Any] = {"sensitive": "race", "features": ["zip_score", "late_payments"]}
    expected = trustops.detect_proxies(small, **kwargs).to_dict()
    for frame in (pd.DataFrame(small), pl.DataFrame(small), pa.table(small)):
        assert trustops.detect_proxies(frame, **kwargs).to_dict() == expected


def test_a_categorical_proxy_with_missing_values_as_a_category() -> None:
    rng = np.random.default_rng(0)
    race = rng.choice(["A", "B", "C"], 4000)
    # neighbourhood n1 is mostly C; one in ten values is missing
    hood = np.where(race == "C", rng.choice(["n1", "n2"], 4000, p=[0.9, 0.1]), "n2").astype(object)
    hood[rng.random(4000) < 0.1] = None
    data = pd.DataFrame({"race": race, "hood": hood, "x": rng.normal(size=4000)})
    r = trustops.detect_proxies(data, sensitive="race", importance={"hood": 1.0, "x": 1.0})
    rec = r.record("hood", "race")
    assert rec.kind == "categorical" and rec.bins == 3  # n1, n2 and missing
    assert rec.auc_by_level["C"] > 0.85 and r.flagged == ["hood"]


def test_rich_table(report: ProxyReport) -> None:
    console = Console(record=True, width=120)
    console.print(rich_table(report))
    text = console.export_text()
    assert "zip_score" in text and "yes" in text and "Proxies of race, sex" in text


def test_features_default(credit: dict[str, np.ndarray]) -> None:
    data = {k: credit[k][:2000] for k in ("race", "zip_score", "age")}
    r = trustops.detect_proxies(data, sensitive="race")
    assert sorted(rec.column for rec in r.records) == ["age", "zip_score"]
    r = trustops.detect_proxies(data, sensitive="race", importance={"age": 1.0})
    assert [rec.column for rec in r.records] == ["age"]


def _data(**extra: Any) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    return {"race": rng.choice(["A", "B"], 100), "x": rng.normal(size=100), **extra}


def test_a_missing_column_is_named() -> None:
    with pytest.raises(MissingColumnError, match="feature column 'zip'") as err:
        trustops.detect_proxies(_data(), sensitive="race", features=["x", "zip"])
    assert err.value.column == "zip"
    with pytest.raises(MissingColumnError, match="sensitive column 'sex'"):
        trustops.detect_proxies(_data(), sensitive="sex")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"features": ["x", "race"]}, UsageError, "'race' is also listed as a feature"),
        ({"importance": {"y": 1.0}, "features": ["x"]}, UsageError, "no entry for feature 'x'"),
        ({"importance": {"x": -1.0}}, UsageError, "non-negative"),
        ({"auc_threshold": 0.3}, UsageError, "auc_threshold"),
        ({"mi_threshold": 2}, UsageError, "mi_threshold"),
        ({"cv": 1}, UsageError, "cv"),
        ({"features": []}, UsageError, "no features"),
        ({"sensitive": []}, UsageError, "at least one"),
        ({"sensitive": ["race", "race"]}, UsageError, "more than once"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args: dict[str, Any] = {"sensitive": "race", **kwargs}
    with pytest.raises(error, match=match):
        trustops.detect_proxies(_data(), **args)


def test_bad_data() -> None:
    with pytest.raises(InputError, match="'race' is constant"):
        trustops.detect_proxies({"race": ["A"] * 10, "x": list(range(10))}, sensitive="race")
    x = np.arange(100.0)
    x[[3, 7]] = np.nan
    with pytest.raises(MissingValuesError, match="'x' has 2 missing") as err:
        trustops.detect_proxies(_data(x=x), sensitive="race")
    assert err.value.column == "x"
    with pytest.raises(MissingValuesError, match="'x'"):
        trustops.detect_proxies(pd.DataFrame(_data(x=x)), sensitive="race")
    race = _data()["race"].astype(object)
    race[0] = None
    with pytest.raises(MissingValuesError, match="'race'"):
        trustops.detect_proxies(_data(race=race), sensitive="race")
    rare = np.array(["A"] * 97 + ["B"] * 3)
    with pytest.raises(InputError, match="level 'B' has 3 row"):
        trustops.detect_proxies(_data(race=rare), sensitive="race")
