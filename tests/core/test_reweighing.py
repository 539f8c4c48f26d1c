"""Kamiran & Calders reweighing and resampling in the pure core: formulas, properties, edges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from trustops.core.mitigation import (
    count_cells,
    preferential_resample,
    reweighing_weights,
    uniform_resample,
)
from trustops.errors import EmptyDataError, InputError, UsageError

# groups, labels, sample weights, expected weights (worked by hand from W_g·W_y / (W·W_gy))
CASES = [
    pytest.param(
        [0, 0, 0, 1, 1, 1], [1, 1, 0, 1, 0, 0], None, [0.75, 0.75, 1.5, 1.5, 0.75, 0.75], id="2x2"
    ),
    pytest.param(
        [0, 0, 1, 1], [1, 0, 1, 1], [1.0, 1.0, 2.0, 0.0], [1.5, 0.5, 1.5, 0.0], id="weighted"
    ),
    # three groups, three labels: W=6, W_g=(2,2,2), W_y=(2,2,2), every cell 2·2/6 / W_gy
    pytest.param(
        [0, 0, 1, 1, 2, 2],
        [0, 0, 1, 2, 1, 2],
        None,
        [1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3],
        id="3x3",
    ),
    pytest.param([0, 0, 0], [1, 0, 1], None, [1.0, 1.0, 1.0], id="one-group"),
    pytest.param([0, 1, 1], [1, 1, 1], [2.0, 1.0, 3.0], [2.0, 1.0, 3.0], id="one-label"),
    # group 1 has no negative: its rows still get W_g·W_y / (W·W_gy) = 2·3 / (4·2)
    pytest.param([0, 0, 1, 1], [1, 0, 1, 1], None, [1.5, 0.5, 0.75, 0.75], id="empty-cell"),
]


@pytest.mark.parametrize(("groups", "labels", "weights", "expected"), CASES)
def test_weights_on_small_literals(
    groups: list[int], labels: list[int], weights: list[float] | None, expected: list[float]
) -> None:
    w = None if weights is None else np.array(weights)
    got = reweighing_weights(np.array(groups), np.array(labels), sample_weight=w)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)


def test_cell_counts_expected_and_factors() -> None:
    c = count_cells(np.array([0, 0, 0, 1, 1, 1]), np.array([1, 1, 0, 1, 0, 0]))
    np.testing.assert_array_equal(c.observed, [[1, 2], [2, 1]])
    np.testing.assert_array_equal(c.expected, [[1.5, 1.5], [1.5, 1.5]])
    np.testing.assert_array_equal(c.factors, [[1.5, 0.75], [0.75, 1.5]])
    c = count_cells(np.array([0, 0, 1, 1]), np.array([1, 0, 1, 1]))
    assert np.isnan(c.factors[1, 0])  # no row in the cell: no factor


@pytest.mark.parametrize(
    ("groups", "labels", "weights", "error"),
    [
        ([], [], None, EmptyDataError),
        ([0, 1], [1], None, InputError),
        ([0.5, 1.0], [1, 0], None, InputError),
        ([-1, 0], [1, 0], None, InputError),
        ([0, 1], [1, 0], [1.0, -1.0], InputError),
        ([0, 1], [1, 0], [1.0, np.nan], InputError),
        ([0, 1], [1, 0], [0.0, 0.0], EmptyDataError),
        ([0, 1], [1, 0], [1.0], InputError),
    ],
)
def test_bad_input_is_a_clear_error(
    groups: list[float], labels: list[int], weights: list[float] | None, error: type
) -> None:
    w = None if weights is None else np.array(weights)
    with pytest.raises(error):
        reweighing_weights(np.array(groups), np.array(labels), sample_weight=w)


@st.composite
def cells(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    n_groups = draw(st.integers(1, 4))
    n_labels = draw(st.integers(1, 3))
    n = draw(st.integers(n_groups * n_labels, 60))
    groups = np.array(draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)))
    labels = np.array(draw(st.lists(st.integers(0, n_labels - 1), min_size=n, max_size=n)))
    weights = None
    if draw(st.booleans()):
        weights = np.array(draw(st.lists(st.floats(0.1, 10.0), min_size=n, max_size=n)))
    return groups, labels, weights


@given(cells())
def test_weighted_label_is_independent_of_group_and_total_weight_is_kept(
    data: tuple[np.ndarray, np.ndarray, np.ndarray | None],
) -> None:
    groups, labels, weights = data
    n_g, n_y = int(groups.max()) + 1, int(labels.max()) + 1
    rows = np.zeros((n_g, n_y), dtype=int)
    np.add.at(rows, (groups, labels), 1)
    present = rows.sum(axis=1) > 0
    assume((rows[present] > 0).all())  # every group that occurs has every label
    w = reweighing_weights(groups, labels, sample_weight=weights)
    initial = np.ones(len(groups)) if weights is None else weights
    assert w.sum() == pytest.approx(initial.sum(), rel=1e-12)
    table = np.zeros((n_g, n_y))
    np.add.at(table, (groups, labels), w)
    by_group = table[present] / table[present].sum(axis=1, keepdims=True)
    overall = table.sum(axis=0) / table.sum()
    np.testing.assert_allclose(by_group, np.broadcast_to(overall, by_group.shape), atol=1e-12)
    # P(y) itself is unchanged by reweighing
    before = np.bincount(labels, weights=initial, minlength=n_y) / initial.sum()
    np.testing.assert_allclose(overall, before, atol=1e-12)


# --- resampling ------------------------------------------------------------------------

G8 = np.array([0, 0, 0, 0, 1, 1, 1, 1])
Y8 = np.array([1, 1, 1, 0, 1, 0, 0, 0])
S8 = np.array([0.9, 0.8, 0.3, 0.5, 0.6, 0.7, 0.2, 0.1])


def _cell_sizes(groups: np.ndarray, labels: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return count_cells(groups[idx], labels[idx], n_groups=2, n_labels=2).rows


def test_uniform_resample_gives_each_cell_its_expected_size() -> None:
    idx = uniform_resample(G8, Y8, seed=3)
    np.testing.assert_array_equal(_cell_sizes(G8, Y8, idx), [[2, 2], [2, 2]])
    assert (np.diff(idx) >= 0).all()
    # cells that grow keep every original row
    assert {3, 4} <= set(idx.tolist())


def test_uniform_resample_is_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(0)
    g = rng.integers(0, 3, 500)
    y = (rng.random(500) < 0.3 + 0.2 * g).astype(int)  # the label depends on the group
    a, b = uniform_resample(g, y, seed=11), uniform_resample(g, y, seed=11)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, uniform_resample(g, y, seed=12))
    sizes = count_cells(g[a], y[a]).rows
    np.testing.assert_array_equal(sizes, count_cells(g, y).target_sizes())


def test_preferential_resample_changes_rows_nearest_the_boundary() -> None:
    idx = preferential_resample(G8, Y8, S8)
    # positives of group 0: drop the lowest score (row 2); negatives of group 1: drop the
    # highest (row 5); the single rows of growing cells are duplicated.
    assert idx.tolist() == [0, 1, 3, 3, 4, 4, 6, 7]


def test_preferential_resample_cycles_when_a_cell_more_than_doubles() -> None:
    g = np.array([0] * 10 + [1] * 10)
    y = np.array([1] * 9 + [0] + [1] + [0] * 9)  # E = 5 per cell: the lone rows need 5 copies
    s = np.linspace(0, 1, 20)
    idx = preferential_resample(g, y, s)
    np.testing.assert_array_equal(_cell_sizes(g, y, idx), [[5, 5], [5, 5]])
    assert np.count_nonzero(idx == 9) == 5 and np.count_nonzero(idx == 10) == 5


def test_preferential_ties_are_broken_by_the_seed() -> None:
    g = np.array([0] * 6 + [1] * 6)
    y = np.array([1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0])
    s = np.full(12, 0.5)
    a = preferential_resample(g, y, s, seed=1)
    np.testing.assert_array_equal(a, preferential_resample(g, y, s, seed=1))
    seen = {tuple(preferential_resample(g, y, s, seed=k).tolist()) for k in range(10)}
    assert len(seen) > 1


def test_resampling_an_empty_cell_is_an_error() -> None:
    g, y = np.array([0, 0, 1, 1]), np.array([1, 0, 1, 1])
    with pytest.raises(EmptyDataError, match="group code 1 has no row with label code 0"):
        uniform_resample(g, y, seed=0)
    with pytest.raises(EmptyDataError):
        preferential_resample(g, y, np.zeros(4))


def test_preferential_needs_binary_labels_and_a_finite_score() -> None:
    with pytest.raises(UsageError):
        preferential_resample(np.array([0, 0, 1]), np.array([0, 2, 1]), np.zeros(3))
    with pytest.raises(InputError):
        preferential_resample(G8, Y8, np.full(8, np.nan))
    with pytest.raises(InputError):
        preferential_resample(G8, Y8, np.zeros(3))


def test_one_group_resamples_to_itself() -> None:
    g, y = np.zeros(5, dtype=int), np.array([1, 0, 1, 1, 0])
    np.testing.assert_array_equal(uniform_resample(g, y, seed=0), np.arange(5))
    np.testing.assert_array_equal(preferential_resample(g, y, np.zeros(5)), np.arange(5))
