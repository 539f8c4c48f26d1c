"""Matching a frame's or an array's columns to a fitted model's inputs: by name, or by
position with the count checked; errors name the feature or the counts."""

from __future__ import annotations

import lightgbm
import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from trustops.engines.model_inputs import (
    feature_matrix,
    model_feature_names,
    model_input_count,
    positive_probability,
)
from trustops.errors import InputError, MissingColumnError

FRAME = pd.DataFrame(
    {"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0], "c": [5.0, 6.0, 7.0, 8.0]}
)
LABELS = [0, 0, 1, 1]


@pytest.fixture(scope="module")
def named() -> LogisticRegression:
    return LogisticRegression().fit(FRAME[["a", "b"]], LABELS)


@pytest.fixture(scope="module")
def unnamed() -> LogisticRegression:
    return LogisticRegression().fit(FRAME[["a", "b"]].to_numpy(), LABELS)


def test_a_named_model_takes_its_columns_by_name(named: LogisticRegression) -> None:
    m = feature_matrix(FRAME[["c", "b", "a"]], named)
    assert m.names == ("a", "b") and m.matched_by == "name" and m.backend == "pandas"
    assert m.values.tolist() == FRAME[["a", "b"]].to_numpy().tolist()
    assert feature_matrix(pl.from_pandas(FRAME), named).backend == "polars"


def test_a_named_model_missing_a_feature_is_named(named: LogisticRegression) -> None:
    with pytest.raises(MissingColumnError, match="'b'"):
        feature_matrix(FRAME[["a", "c"]], named)
    with pytest.raises(InputError, match="feature 'c' at position 1 is 'b' in the model"):
        feature_matrix(FRAME, named, ["a", "c"])
    with pytest.raises(InputError, match="the model's feature 'b' is missing"):
        feature_matrix(FRAME, named, ["a"])


def test_an_unnamed_model_is_matched_by_position(unnamed: LogisticRegression) -> None:
    m = feature_matrix(FRAME, unnamed, ["c", "a"])
    assert m.names == ("c", "a") and m.matched_by == "position"
    assert m.values[:, 0].tolist() == FRAME["c"].tolist()
    array = feature_matrix(FRAME[["a", "b"]].to_numpy(), unnamed)
    assert array.names == ("x0", "x1") and array.matched_by == "position"


@pytest.mark.parametrize(
    ("rows", "names", "message"),
    [
        (FRAME, None, "3 feature columns for the model's 2 inputs; the first extra is 'c'"),
        (FRAME, ["a"], "1 feature columns for the model's 2 inputs \\(the model names no"),
        (FRAME.to_numpy(), None, "3 feature columns for the model's 2 inputs"),
        ({"a": [1.0]}, None, "1 feature columns for the model's 2 inputs"),
    ],
)
def test_an_unnamed_model_refuses_another_count(
    unnamed: LogisticRegression, rows: object, names: list[str] | None, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        feature_matrix(rows, unnamed, names, "applicants")


def test_lightgbm_names_and_count() -> None:
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 3)), columns=["p", "q", "r"])
    model = lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(X, X["p"] > 0)
    assert model_feature_names(model) == ("p", "q", "r") and model_input_count(model) == 3
    with pytest.raises(MissingColumnError, match="'r'"):
        feature_matrix(X[["p", "q"]], model)


def test_an_unfitted_model_has_no_count() -> None:
    assert model_input_count(LogisticRegression()) is None
    assert feature_matrix(FRAME, LogisticRegression()).names == ("a", "b", "c")


def test_positive_probability_needs_predict_proba(named: LogisticRegression) -> None:
    m = feature_matrix(FRAME, named)
    p = positive_probability(named, m.names, m.backend)(m.values)
    assert np.allclose(p, named.predict_proba(FRAME[["a", "b"]])[:, 1])
    regression = LinearRegression().fit(FRAME[["a", "b"]], [0.0, 1.0, 2.0, 3.0])
    with pytest.raises(InputError, match=r"LinearRegression\) has no predict_proba"):
        positive_probability(regression, ("a", "b"), "pandas")
