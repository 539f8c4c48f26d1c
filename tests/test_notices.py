"""trustops.notices: adverse-action notices from a model, applicants and a dictionary."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from trustops.core.explain import ReasonDictionary
from trustops.datasets import CREDIT_FEATURES, make_credit
from trustops.errors import InputError
from trustops.notices import adverse_action_notices, check_inputs, model_features

FEATURES = list(CREDIT_FEATURES)
CODES = ReasonDictionary.from_dict(
    {
        "version": "t-1",
        "reasons": {f: {"code": f"R{i}", "text": f"{f} text"} for i, f in enumerate(FEATURES)},
    }
)
TIME = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    return pd.DataFrame(make_credit(400, seed=3))


@pytest.fixture(scope="module")
def unnamed(credit: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression(max_iter=1000).fit(credit[FEATURES].to_numpy(), credit.approved)


def notices(model: object, rows: object, features: list[str], **more: object) -> list[dict]:
    return adverse_action_notices(
        model, rows, features=features, dictionary=CODES, background=rows,
        model_sha256="0" * 64, time=TIME, **more,  # type: ignore[arg-type]
    )  # fmt: skip


def test_only_denied_applicants_get_reasons_from_the_dictionary(
    credit: pd.DataFrame, unnamed: LogisticRegression
) -> None:
    out = notices(unnamed, credit.iloc[:60], FEATURES, proxies=["zip_score"], max_reasons=2)
    assert out == notices(unnamed, credit.iloc[:60], FEATURES, proxies=["zip_score"], max_reasons=2)
    denied = [n for n in out if n["decision"] == "denied"]
    assert denied and len(denied) < len(out)
    for n in denied:
        assert n["score"] < 0.5 and 1 <= len(n["reasons"]) <= 2
        assert {r["concept"] for r in n["reasons"]} <= set(FEATURES) - {"zip_score"}
        assert n["dictionary_version"] == "t-1" and n["baseline_hash"]
    assert all("reasons" not in n for n in out if n["decision"] == "approved")


def test_an_unnamed_model_is_matched_by_position_with_the_count_checked(
    credit: pd.DataFrame, unnamed: LogisticRegression
) -> None:
    with pytest.raises(InputError, match="7 feature columns for the model's 6 inputs"):
        notices(unnamed, credit.iloc[:20], [*FEATURES, "repaid"])
    with pytest.raises(InputError, match="the first extra is 'race'"):
        model_features(unnamed, [*FEATURES, "race"])
    assert model_features(unnamed, ["id", *FEATURES], exclude=["id"]).from_model is False


def test_a_named_model_lacking_a_column_is_named(credit: pd.DataFrame) -> None:
    named = LogisticRegression(max_iter=1000).fit(credit[FEATURES], credit.approved)
    assert model_features(named, ["race", *FEATURES]).names == tuple(FEATURES)
    with pytest.raises(InputError, match="'income' is not in the data"):
        model_features(named, FEATURES[1:])


def test_prohibited_inputs_and_dictionary_gaps_are_refused_before_explaining() -> None:
    with pytest.raises(InputError, match="'sex' is a prohibited basis"):
        check_inputs([*FEATURES, "sex"], dictionary=CODES, concepts={},
                     prohibited=["sex"], proxies=[])  # fmt: skip
    check_inputs([*FEATURES, "sex"], dictionary=CODES, concepts={}, prohibited=["sex"],
                 proxies=[], allow=["sex"])  # fmt: skip
    with pytest.raises(InputError, match="'tenure'"):
        check_inputs([*FEATURES, "tenure"], dictionary=CODES, concepts={},
                     prohibited=[], proxies=[])  # fmt: skip


def test_an_approved_baseline_measures_from_approved_applicants(
    credit: pd.DataFrame, unnamed: LogisticRegression
) -> None:
    rows = credit.iloc[:80]
    every = notices(unnamed, rows, FEATURES)
    approved = notices(unnamed, rows, FEATURES, baseline="approved")
    denied = [(a, b) for a, b in zip(every, approved, strict=True) if a["decision"] == "denied"]
    assert denied
    for a, b in denied:
        assert a["baseline"] == "all" and b["baseline"] == "approved"
        assert b["background_rows"] < a["background_rows"]
        assert b["baseline_hash"] != a["baseline_hash"]
        # linear SHAP measures from the baseline's mean log-odds: approved ones score higher
        assert b["base_value"] > a["base_value"]
        assert sum(b["attributions"].values()) < sum(a["attributions"].values())
    with pytest.raises(InputError, match="none of the 5 background rows is approved"):
        adverse_action_notices(
            unnamed, rows, features=FEATURES, dictionary=CODES, model_sha256="0" * 64,
            time=TIME, background=rows.iloc[:5], threshold=0.99, baseline="approved",
        )  # fmt: skip
