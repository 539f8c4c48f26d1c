"""Proxy detection's pure parts: binning, entropy, mutual information, the combination rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import mutual_info_score

from trustops.core.proxies import (
    ProxyRecord,
    ProxyReport,
    entropy,
    equal_frequency_codes,
    importance_shares,
    judge,
    mutual_information,
    normalised_mutual_information,
    sort_records,
)
from trustops.errors import UsageError


@pytest.mark.parametrize(
    ("values", "n_bins", "codes"),
    [
        ([5.0, 1.0, 2.0, 8.0, 3.0, 9.0], 3, [1, 0, 0, 2, 1, 2]),
        ([0, 0, 1, 0, 1], 10, [0, 0, 1, 0, 1]),  # few distinct values: one bin each
        ([3, 1, 2], 2, [1, 0, 0]),  # the median 2 is an edge: it goes below
        ([1, 2, 3, 4, 4, 4, 4, 4, 4, 4], 3, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]),  # a point mass
        ([1, 1, 1, 1, 1, 1, 1, 2, 3, 4], 3, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]),  # ties merge edges
        ([7.0, 7.0], 2, [0, 0]),
    ],
)
def test_equal_frequency_codes(values: list[float], n_bins: int, codes: list[int]) -> None:
    assert equal_frequency_codes(np.array(values), n_bins).tolist() == codes


def test_equal_frequency_bins_hold_equal_counts() -> None:
    x = np.random.default_rng(0).normal(size=10_000)
    assert np.bincount(equal_frequency_codes(x, 10)).tolist() == [1000] * 10


def test_equal_frequency_codes_refuses_one_bin() -> None:
    with pytest.raises(UsageError, match="n_bins"):
        equal_frequency_codes(np.array([1.0, 2.0]), 1)


def test_entropy_and_mutual_information_on_literals() -> None:
    # x = [0,0,1,1,2,2], a = [0,0,1,1,1,1]: a is a function of x, so I = H(a)
    x, a = np.array([0, 0, 1, 1, 2, 2]), np.array([0, 0, 1, 1, 1, 1])
    h = -(1 / 3) * math.log(1 / 3) - (2 / 3) * math.log(2 / 3)
    assert entropy(a) == pytest.approx(h, abs=1e-15)
    assert mutual_information(x, a) == pytest.approx(h, abs=1e-15)
    # a 2×2 table [[3, 1], [1, 3]] of 8 rows
    x, a = np.array([0, 0, 0, 0, 1, 1, 1, 1]), np.array([0, 0, 0, 1, 0, 1, 1, 1])
    by_hand = 2 * (3 / 8) * math.log(3 / 8 / 0.25) + 2 * (1 / 8) * math.log(1 / 8 / 0.25)
    assert mutual_information(x, a) == pytest.approx(by_hand, abs=1e-15)
    assert mutual_information(np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])) == 0.0


@given(
    st.integers(1, 12),
    st.integers(1, 6),
    st.integers(1, 400),
    st.integers(0, 2**32 - 1),
)
def test_mutual_information_equals_scikit_learn(kx: int, ka: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, kx, n) * 7  # codes need not be contiguous
    a = (x + rng.integers(0, ka, n)) % max(ka, 1)
    assert abs(mutual_information(x, a) - mutual_info_score(x, a)) <= 1e-12


def test_normalised_mutual_information() -> None:
    x = np.array([0, 0, 1, 1])
    # determined: (ln 2 − (2−1)(2−1)/(2·4)) / ln 2
    assert normalised_mutual_information(x, x) == pytest.approx(1 - 0.125 / math.log(2))
    # independent: the plug-in MI is 0, the correction would take it below 0: clipped
    assert normalised_mutual_information(np.array([0, 1, 0, 1]), x) == 0.0
    assert normalised_mutual_information(x, np.zeros(4, dtype=int)) == 0.0  # nothing to predict
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, 100_000)
    assert normalised_mutual_information(a, a) == pytest.approx(1.0, abs=1e-3)
    noise = rng.integers(0, 10, 100_000)
    assert normalised_mutual_information(noise, a) < 1e-3
    assert mutual_information(noise, a) > normalised_mutual_information(noise, a)


def test_importance_shares() -> None:
    assert importance_shares({"a": 1, "b": 3, "c": 0}) == {"a": 0.25, "b": 0.75, "c": 0.0}
    with pytest.raises(UsageError, match=r"'b'.*non-negative"):
        importance_shares({"a": 1.0, "b": -0.5})
    with pytest.raises(UsageError, match="'b'"):
        importance_shares({"a": 1.0, "b": float("nan")})
    with pytest.raises(UsageError, match="'b' is not a number"):
        importance_shares({"a": 1.0, "b": "high"})  # type: ignore[dict-item]
    with pytest.raises(UsageError, match="sum to 0"):
        importance_shares({"a": 0.0})


RULE = {"auc_threshold": 0.7, "mi_threshold": 0.01, "importance_share": 0.05}


@pytest.mark.parametrize(
    ("auc", "nmi", "share", "strong", "flagged", "says"),
    [
        (0.80, 0.00, 0.20, True, True, "strong proxy (AUC 0.800 ≥ 0.70"),
        (0.56, 0.02, 0.20, True, True, "normalised MI 0.0200 ≥ 0.0100) and important"),
        (0.70, 0.00, 0.05, True, True, "share 0.050 ≥ 0.050"),  # thresholds are inclusive
        (0.90, 0.50, 0.01, True, False, "but not important (share 0.010 < 0.050)"),
        (0.55, 0.005, 0.90, False, False, "weak proxy"),
        (0.95, 0.50, None, True, False, "no model importance given: not flagged"),
    ],
)
def test_the_combination_rule(
    auc: float, nmi: float, share: float | None, strong: bool, flagged: bool, says: str
) -> None:
    got = judge(auc=auc, normalised_mi=nmi, share=share, **RULE)
    assert got[:2] == (strong, flagged)
    assert says in got[2]


def _record(column: str, attribute: str, auc: float, flagged: bool) -> ProxyRecord:
    return ProxyRecord(
        column=column,
        attribute=attribute,
        kind="numeric",
        bins=10,
        mutual_information=0.1,
        normalised_mi=0.05,
        auc=auc,
        auc_std=0.01,
        auc_by_level={"a": auc, "b": auc},
        importance_share=0.1,
        strong=True,
        flagged=flagged,
        reason="",
    )


def test_report_order_flagged_list_and_round_trip() -> None:
    records = sort_records(
        [
            _record("b", "sex", 0.9, False),
            _record("z", "race", 0.7, True),
            _record("a", "sex", 0.9, False),
            _record("z", "sex", 0.75, True),
        ]
    )
    assert [(r.column, r.attribute) for r in records] == [
        ("z", "sex"),
        ("z", "race"),
        ("a", "sex"),
        ("b", "sex"),
    ]
    report = ProxyReport(
        records=records,
        attributes=("race", "sex"),
        n_rows=10,
        importance_given=True,
        thresholds={"auc": 0.7},
    )
    assert report.flagged == ["z"]
    d = report.to_dict()
    assert d["kind"] == "proxies" and d["flagged"] == ["z"] and d["note"] is None
    assert ProxyReport.from_dict(d) == report
    assert report.record("a", "sex").auc == 0.9
    with pytest.raises(KeyError):
        report.record("a", "race")
