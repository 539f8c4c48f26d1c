"""Reweighing and resampling (Kamiran & Calders): make the label independent of the group.

Reference: F. Kamiran and T. Calders, "Data preprocessing techniques for
classification without discrimination", *Knowledge and Information Systems*
33(1), 1–33, 2012 (doi:10.1007/s10115-011-0463-8). The same weights are
AIF360's ``Reweighing`` (``aif360.algorithms.preprocessing``).

Every row belongs to one cell ``(g, y)``: its group ``g`` (one sensitive
column, or the intersection of several) and its label ``y``. With ``W`` the
(weighted) number of rows, ``W_g``, ``W_y`` and ``W_gy`` the weights of the
group, the label and the cell, the cell's expected weight if label and group
were independent is ``E_gy = W_g·W_y / W``, and the reweighing factor is

    w(g, y) = P(g)·P(y) / P(g, y) = E_gy / W_gy = W_g·W_y / (W·W_gy).

After multiplying each row's weight by its cell's factor, every cell weighs
exactly ``E_gy``, so the weighted ``P(y | g) = W_y / W`` is the same in every
group and the total weight ``W`` is unchanged.

Relation to AIF360: its classic ``Reweighing`` knows two groups only, the rows
matching ``privileged_groups`` and those matching ``unprivileged_groups``; with
exactly these two groups our factors are AIF360's (``w_p_fav = n_fav·n_p /
(n·n_p_fav)`` and so on). With more groups (several values, or intersections
of several columns) ours reweighs every group towards the overall label
distribution; AIF360's sklearn ``Reweighing`` does the same. To reproduce the
classic two-group weights on a many-valued column, pass the privileged
indicator (``race == "A"``) as the group.

Example:
    >>> import numpy as np
    >>> groups = np.array([0, 0, 0, 1, 1, 1])
    >>> labels = np.array([1, 1, 0, 1, 0, 0])
    >>> reweighing_weights(groups, labels).tolist()
    [0.75, 0.75, 1.5, 1.5, 0.75, 0.75]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustops.errors import EmptyDataError, InputError, UsageError

__all__ = [
    "CellCounts",
    "count_cells",
    "preferential_resample",
    "reweighing_weights",
    "uniform_resample",
]


@dataclass(frozen=True, slots=True)
class CellCounts:
    """Observed weight of every (group, label) cell and what independence expects.

    Attributes:
        observed: ``W_gy``, shape ``(n_groups, n_labels)``; row counts when
            there are no sample weights.
        rows: number of rows in each cell (unweighted).
    """

    observed: np.ndarray
    rows: np.ndarray

    @property
    def total(self) -> float:
        """``W``, the total weight."""
        return float(self.observed.sum())

    @property
    def expected(self) -> np.ndarray:
        """``E_gy = W_g·W_y / W``: each cell's weight if label and group were independent."""
        w_g = self.observed.sum(axis=1)
        w_y = self.observed.sum(axis=0)
        return np.outer(w_g, w_y) / self.total

    @property
    def factors(self) -> np.ndarray:
        """``w(g, y) = W_g·W_y / (W·W_gy)``; NaN for a cell of zero weight (no row uses it).

        The operations are AIF360's, in its order, so the numbers agree to the
        last bits.
        """
        w_g = self.observed.sum(axis=1)
        w_y = self.observed.sum(axis=0)
        numerator = w_y[None, :] * w_g[:, None]
        denominator = self.total * self.observed
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.observed > 0, numerator / denominator, np.nan)

    def target_sizes(self) -> np.ndarray:
        """Row counts a resample gives each cell: ``⌊E_gy + ½⌋`` of the unweighted counts.

        Rounding each cell makes the resampled total differ from the number of
        rows by at most half the number of cells.
        """
        rows = self.rows.astype(np.float64)
        expected = np.outer(rows.sum(axis=1), rows.sum(axis=0)) / rows.sum()
        return np.floor(expected + 0.5).astype(np.int64)


def _check_codes(groups: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(groups)
    y = np.asarray(labels)
    if g.ndim != 1 or y.ndim != 1:
        raise InputError("groups and labels must be one-dimensional arrays of codes")
    if len(g) != len(y):
        raise InputError(f"groups has {len(g)} rows but labels has {len(y)}")
    if len(g) == 0:
        raise EmptyDataError("no rows to reweigh")
    for name, a in (("groups", g), ("labels", y)):
        if a.dtype.kind not in "iub" or (a.dtype.kind == "i" and int(a.min()) < 0):
            raise InputError(f"{name} must be non-negative integer codes, got dtype {a.dtype}")
    return g.astype(np.int64), y.astype(np.int64)


def count_cells(
    groups: np.ndarray,
    labels: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    n_groups: int | None = None,
    n_labels: int | None = None,
) -> CellCounts:
    """Count rows and weight per (group, label) cell, in one pass.

    Args:
        groups: integer group code of each row (``0 .. n_groups − 1``).
        labels: integer label code of each row (``0 .. n_labels − 1``).
        sample_weight: non-negative finite row weights (default: 1 each).

    Example:
        >>> import numpy as np
        >>> c = count_cells(np.array([0, 0, 1]), np.array([1, 0, 1]))
        >>> c.observed.tolist(), c.expected.round(3).tolist()
        ([[1.0, 1.0], [0.0, 1.0]], [[0.667, 1.333], [0.333, 0.667]])
    """
    g, y = _check_codes(groups, labels)
    n_g = int(g.max()) + 1 if n_groups is None else n_groups
    n_y = int(y.max()) + 1 if n_labels is None else n_labels
    cell = g * n_y + y
    rows = np.bincount(cell, minlength=n_g * n_y).reshape(n_g, n_y)
    if sample_weight is None:
        observed = rows.astype(np.float64)
    else:
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.shape != g.shape:
            raise InputError(f"sample_weight has shape {w.shape}, expected ({len(g)},)")
        if not np.isfinite(w).all() or (w < 0).any():
            raise InputError("sample_weight must hold finite, non-negative weights")
        weighted = np.bincount(cell, weights=w, minlength=n_g * n_y)
        observed = np.asarray(weighted, dtype=np.float64).reshape(n_g, n_y)
    if not observed.sum() > 0:
        raise EmptyDataError("the sample weights sum to zero")
    return CellCounts(observed=observed, rows=rows)


def reweighing_weights(
    groups: np.ndarray, labels: np.ndarray, *, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """Kamiran & Calders' reweighing: each row's weight times its cell's ``E_gy / W_gy``.

    ``weight_i = s_i · W_g·W_y / (W·W_gy)`` with ``s_i`` the initial sample
    weight (1 without one) and the ``W`` sums of ``s`` (module docstring).
    This is AIF360's ``Reweighing().fit_transform(ds).instance_weights`` when
    there are two groups (privileged and unprivileged).

    Documented edge cases:

    * one group, or one label: every factor is 1 and the weights come back
      unchanged (there is nothing to make independent);
    * a group without some label (an empty cell): no row needs that cell's
      factor, so the weights are defined, but that group's weighted ``P(y | g)``
      stays 0 for the missing label: independence cannot be reached;
    * rows of zero weight keep zero weight.

    Reference: Kamiran & Calders (2012), section 4.2 "Reweighing".

    Example:
        >>> import numpy as np
        >>> reweighing_weights(np.array([0, 0, 1, 1]), np.array([1, 0, 1, 1]),
        ...     sample_weight=np.array([1.0, 1.0, 2.0, 0.0])).tolist()
        [1.5, 0.5, 1.5, 0.0]
    """
    g, y = _check_codes(groups, labels)
    counts = count_cells(g, y, sample_weight=sample_weight)
    row_factor = counts.factors[g, y]
    if sample_weight is None:
        return row_factor
    w = np.asarray(sample_weight, dtype=np.float64)
    # A cell of zero weight has a NaN factor; its rows keep their zero weight.
    return np.where(w > 0, w * row_factor, 0.0)


def _targets(g: np.ndarray, y: np.ndarray) -> tuple[CellCounts, np.ndarray]:
    counts = count_cells(g, y)
    targets = counts.target_sizes()
    short = np.argwhere((counts.rows == 0) & (targets > 0))
    if len(short):
        gi, yi = (int(v) for v in short[0])
        raise EmptyDataError(
            f"group code {gi} has no row with label code {yi}, "
            f"so resampling cannot give it the {int(targets[gi, yi])} rows independence expects",
            hint="merge small groups or use reweighing, which leaves such cells empty",
        )
    return counts, targets


def _take(order: np.ndarray, size: int) -> np.ndarray:
    """``size`` rows of a cell, from the front of ``order``, cycling when more are needed.

    Fewer than the cell holds: the first ``size``. More: every row once, then
    duplicates from the front (each row at most once more per pass).
    """
    n = len(order)
    if size <= n:
        return order[:size]
    return np.concatenate([order, np.resize(order, size - n)])


def uniform_resample(groups: np.ndarray, labels: np.ndarray, *, seed: int | None) -> np.ndarray:
    """Uniform sampling (Kamiran & Calders 2012, section 4.3): row indices of a resample.

    Each cell ``(g, y)`` gets ``⌊E_gy + ½⌋`` rows (``E_gy = n_g·n_y / n`` in
    row counts): a cell with too many rows keeps a uniformly random subset
    (without replacement); a cell with too few keeps every row and adds
    uniformly random duplicates (with replacement). In the resample, ``P(y |
    g)`` equals ``P(y)`` up to the rounding of cell sizes. The same seed gives
    the same indices. Sample weights are not used: resampling works on counts.

    Returns sorted row indices (with repeats). Raises :class:`EmptyDataError`
    when a cell that should have rows has none.

    Example:
        >>> import numpy as np
        >>> g = np.array([0, 0, 0, 0, 1, 1, 1, 1]); y = np.array([1, 1, 1, 0, 1, 0, 0, 0])
        >>> idx = uniform_resample(g, y, seed=0)
        >>> len(idx), np.bincount(g[idx] * 2 + y[idx]).tolist()  # 2 rows per cell
        (8, [2, 2, 2, 2])
    """
    g, y = _check_codes(groups, labels)
    counts, targets = _targets(g, y)
    rng = np.random.default_rng(seed)
    n_y = counts.rows.shape[1]
    cell = g * n_y + y
    order = np.argsort(cell, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts.rows.ravel())])
    parts = []
    for c, target in enumerate(targets.ravel()):
        members = order[starts[c] : starts[c + 1]]
        n = len(members)
        if target <= n:
            parts.append(rng.choice(members, size=int(target), replace=False))
        else:
            parts.append(members)
            parts.append(rng.choice(members, size=int(target) - n, replace=True))
    return np.sort(np.concatenate(parts)).astype(np.int64)


def preferential_resample(
    groups: np.ndarray,
    labels: np.ndarray,
    score: np.ndarray,
    *,
    positive: int = 1,
    seed: int | None = 0,
) -> np.ndarray:
    """Preferential sampling (Kamiran & Calders 2012, section 4.4): row indices of a resample.

    ``score`` ranks rows by how likely the ``positive`` label is (e.g. a
    ranker's ``predict_proba``). Each cell ``(g, y)`` gets ``⌊E_gy + ½⌋`` rows,
    changing the rows *nearest the decision boundary* first: positives with the
    lowest scores, negatives with the highest. A cell with too many rows drops
    those; a cell with too few keeps every row and duplicates those (cycling
    from the nearest again when more than the cell's size is needed). Ties of
    the score are broken by a permutation drawn from ``seed``, so the result
    is deterministic for a seed.

    Labels must be binary codes (``positive`` and one other). Returns sorted
    row indices (with repeats).

    Example:
        >>> import numpy as np
        >>> g = np.array([0, 0, 0, 0, 1, 1, 1, 1]); y = np.array([1, 1, 1, 0, 1, 0, 0, 0])
        >>> s = np.array([0.9, 0.8, 0.3, 0.5, 0.6, 0.7, 0.2, 0.1])
        >>> preferential_resample(g, y, s).tolist()  # drops rows 2 and 5, doubles 3 and 4
        [0, 1, 3, 3, 4, 4, 6, 7]
    """
    g, y = _check_codes(groups, labels)
    s = np.asarray(score, dtype=np.float64)
    if s.shape != g.shape:
        raise InputError(f"score has shape {s.shape}, expected ({len(g)},)")
    if not np.isfinite(s).all():
        raise InputError("score must be finite")
    if int(y.max()) > 1 or positive not in (0, 1):
        raise UsageError("preferential sampling needs binary labels coded 0 and 1")
    counts, targets = _targets(g, y)
    rng = np.random.default_rng(seed)
    tie_break = rng.permutation(len(g))
    # Nearest the boundary first: positives by ascending score, negatives by descending.
    closeness = np.where(y == positive, s, -s)
    n_y = counts.rows.shape[1]
    cell = g * n_y + y
    order = np.lexsort((tie_break, closeness, cell))
    starts = np.concatenate([[0], np.cumsum(counts.rows.ravel())])
    parts = []
    for c, target in enumerate(targets.ravel()):
        members = order[starts[c] : starts[c + 1]]
        n = len(members)
        if target <= n:
            parts.append(members[n - int(target) :])  # drop the nearest n − target
        else:
            parts.append(_take(members, int(target)))
    return np.sort(np.concatenate(parts)).astype(np.int64)
