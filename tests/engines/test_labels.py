"""Label sets are checked across y_true and y_pred together; classes are coded correctly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import recall_score

import trustops
from trustops.errors import LabelError, UsageError

G = np.array(list("aaabbb"))


def test_multiclass_with_int_and_float_labels_agrees_with_sklearn() -> None:
    yt, yp = np.array([1, 2, 3, 1, 2, 3]), np.array([1.0, 2, 3, 5, 2, 3])
    r = trustops.assess_fairness(y_true=yt, y_pred=yp, sensitive=G, task="multiclass")
    assert r.counts.classes == (1, 2, 3, 5)
    expected = recall_score(yt, yp, labels=[1], average=None)[0]
    assert r.overall["true_positive_rate[1]"] == pytest.approx(expected)
    assert r.overall["true_positive_rate[5]"] is None  # class 5 never occurs in y_true


def test_multiclass_mixing_numbers_and_text_is_refused() -> None:
    with pytest.raises(LabelError, match="mix numbers and text"):
        trustops.assess_fairness(
            y_true=np.array([0, 1, 2] * 2),
            y_pred=np.array(["0", "1", "x"] * 2, dtype=object),
            sensitive=G,
            task="multiclass",
        )


def test_binary_counts_labels_across_both_columns() -> None:
    with pytest.raises(LabelError, match="found 3"):
        trustops.assess_fairness(
            y_true=np.array(["a", "b"] * 3),
            y_pred=np.array(["a", "c"] * 3),
            sensitive=G,
            task="binary",
            pos_label="a",
        )


def test_text_labels_without_pos_label_are_refused() -> None:
    with pytest.raises(LabelError, match="pos_label 1"):
        trustops.assess_fairness(
            y_true=np.array(["a"] * 6), y_pred=np.array(["a"] * 6), sensitive=G
        )


def test_pos_label_given_as_text_matches_booleans_and_digit_strings() -> None:
    r = trustops.assess_fairness(
        y_true=np.array([True, False] * 3),
        y_pred=np.array([True, True, False] * 2),
        sensitive=G,
        pos_label="true",
    )
    assert r.overall["selection_rate"] == pytest.approx(4 / 6)
    s = trustops.assess_fairness(
        y_true=np.array(["0", "1"] * 3, dtype=object),
        y_pred=np.array(["1"] * 6, dtype=object),
        sensitive=G,
        pos_label=1,
    )
    assert s.overall["selection_rate"] == 1.0


def test_score_outside_binary_tasks_is_refused() -> None:
    with pytest.raises(UsageError, match="binary tasks only"):
        trustops.assess_fairness(
            y_true=np.array([0, 1, 2] * 2),
            y_pred=np.array([0, 1, 2] * 2),
            score=np.full(6, 0.5),
            sensitive=G,
        )


def test_many_integer_labels_are_regression_and_infinite_values_refused() -> None:
    yt = np.arange(600) % 300
    r = trustops.assess_fairness(y_true=yt, y_pred=yt + 1, sensitive=np.tile(G, 100))
    assert r.task == "regression" and r.overall["mean_error"] == pytest.approx(1.0)
    with pytest.raises(LabelError, match="infinite"):
        trustops.assess_fairness(
            y_true=np.array([0.5, 1.5, np.inf, 1, 2, 3]), y_pred=np.linspace(0, 1, 6), sensitive=G
        )
