"""Per-group outcome counts: the one counting pass every fairness number comes from.

A :class:`GroupCounts` is a table with one axis per sensitive attribute (its
levels, in the order given) and, for classification, two more axes for the
true and the predicted class. Each cell holds the number of rows and the sum
of their weights. Every group metric, disparity, test and interval is a
function of this table; nothing goes back to the rows.

The table is a monoid: :meth:`GroupCounts.merge` adds two tables over the
same levels, so counting partitions and merging equals counting the whole.
Breaking down by one attribute, or by every combination of them, is a sum
over the other axes (:meth:`GroupCounts.marginal`).

With scores (binary tasks), a sparse histogram of the distinct score values
per group and true label is kept beside the table: exact ROC AUC, Brier score
and calibration come from it. For regression, per-group sufficient statistics
(weights, sums, and the centred sum of squares of ``y_true``, merged with
Chan et al.'s parallel formula) take the place of the confusion axes.

Example:
    >>> import numpy as np
    >>> counts = count_classification(
    ...     group_codes=[np.array([0, 0, 1, 1])], levels=[("a", "b")],
    ...     attributes=("sf",), y_true=np.array([0, 1, 0, 1]),
    ...     y_pred=np.array([0, 0, 0, 1]), n_classes=2)
    >>> counts.rows[..., 1, :].sum(axis=-1).tolist()  # actual positives per group
    [1, 1]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trustops.errors import UsageError

__all__ = [
    "GroupCounts",
    "HistogramPlan",
    "RegressionSums",
    "ScoreHistogram",
    "count_classification",
    "count_regression",
    "count_scores",
    "level_sort_key",
]

# Regression statistics, last axis of RegressionSums.values.
REG_N, REG_W, REG_SUM_PRED, REG_SUM_ERR, REG_SUM_ABS, REG_SUM_SQ, REG_MEAN_Y, REG_M2_Y = range(8)


@dataclass(frozen=True, slots=True)
class ScoreHistogram:
    """Sparse per-group histogram of distinct score values, split by true label.

    ``group`` holds flat group codes (C order over the attribute axes),
    ``value`` the distinct scores, and ``weight``/``rows`` have shape (m, 2)
    for negatives and positives. Rows are sorted by (group, value) and unique.
    """

    group: np.ndarray
    value: np.ndarray
    weight: np.ndarray
    rows: np.ndarray

    def regroup(self, new_group: np.ndarray) -> ScoreHistogram:
        """Map each flat group code through ``new_group`` and re-aggregate."""
        return _aggregate_scores(new_group[self.group], self.value, self.weight, self.rows)

    def merge(self, other: ScoreHistogram) -> ScoreHistogram:
        return _aggregate_scores(
            np.concatenate([self.group, other.group]),
            np.concatenate([self.value, other.value]),
            np.concatenate([self.weight, other.weight]),
            np.concatenate([self.rows, other.rows]),
        )


def _pool(v: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Pool regression statistics ``v (..., 8)`` along ``axes`` (Chan et al. 1979)."""
    additive = v[..., :REG_MEAN_Y].sum(axis=axes)
    w = v[..., REG_W]
    total_w = w.sum(axis=axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled_mean = np.where(total_w > 0, (w * v[..., REG_MEAN_Y]).sum(axis=axes) / total_w, 0.0)
    expanded = np.expand_dims(pooled_mean, axes)
    m2 = (v[..., REG_M2_Y] + w * (v[..., REG_MEAN_Y] - expanded) ** 2).sum(axis=axes)
    return np.concatenate([additive, pooled_mean[..., None], m2[..., None]], -1)


@dataclass(frozen=True, slots=True)
class RegressionSums:
    """Per-group sufficient statistics for regression metrics.

    ``values`` has shape ``(*levels, 8)``: rows, weight, Σw·ŷ, Σw·e, Σw·|e|,
    Σw·e² (with e = ŷ − y), the weighted mean of y, and Σw·(y − ȳ_group)².
    ``resamples``, when a bootstrap was asked for at counting time, holds the
    same statistics for B Poisson-bootstrap resamples: ``(B, *levels, 8)``.
    Both pool and merge the same way, so partitions merge to the whole.
    """

    values: np.ndarray
    resamples: np.ndarray | None = None

    def _both(self, f: Any) -> RegressionSums:
        """Apply ``f(array, offset)`` to the values (offset 0) and resamples (offset 1)."""
        resamples = f(self.resamples, 1) if self.resamples is not None else None
        return RegressionSums(f(self.values, 0), resamples)

    def sum_over(self, axes: tuple[int, ...]) -> RegressionSums:
        """Pool groups along the level ``axes``."""
        if not axes:
            return self
        return self._both(lambda v, o: _pool(v, tuple(a + o for a in axes)))

    def transpose(self, perm: list[int]) -> RegressionSums:
        """Reorder the level axes."""
        return self._both(lambda v, o: v.transpose([*range(o), *(p + o for p in perm), v.ndim - 1]))

    def take(self, indices: list[int], axis: int) -> RegressionSums:
        return self._both(lambda v, o: np.take(v, indices, axis=axis + o))

    def reindexed(self, positions: list[np.ndarray], shape: tuple[int, ...]) -> RegressionSums:
        """Laid out over larger levels: level ``i`` of axis ``a`` goes to ``positions[a][i]``."""

        def place(v: np.ndarray, o: int) -> np.ndarray:
            out = np.zeros((*v.shape[:o], *shape, v.shape[-1]))
            lead = [np.arange(n) for n in v.shape[:o]]
            out[np.ix_(*lead, *positions, np.arange(v.shape[-1]))] = v
            return out

        return self._both(place)

    def merge(self, other: RegressionSums) -> RegressionSums:
        if (self.resamples is None) != (other.resamples is None) or (
            self.resamples is not None
            and other.resamples is not None
            and self.resamples.shape[0] != other.resamples.shape[0]
        ):
            raise UsageError("cannot merge regression counts with different bootstrap resamples")
        resamples = None
        if self.resamples is not None and other.resamples is not None:
            resamples = _pool(np.stack([self.resamples, other.resamples]), (0,))
        return RegressionSums(_pool(np.stack([self.values, other.values]), (0,)), resamples)


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """Outcome counts per combination of sensitive-attribute levels.

    Attributes:
        attributes: names of the sensitive attributes, one table axis each.
        levels: the values of each attribute, in axis order (``None`` is the
            explicit "missing" group).
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        classes: class labels along the confusion axes; for binary tasks
            ``(negative, positive)`` where negative stands for "not pos_label".
        rows: int64 row counts, shape ``(*levels, k, k)`` (true, predicted);
            for regression shape ``(*levels,)``.
        weights: float64 sums of sample weights, same shape as ``rows``.
        scores: score histogram (binary tasks with a score), else ``None``.
        regression: regression statistics (regression tasks), else ``None``.
        weighted: whether sample weights were given.
        squared_weights: sums of squared weights per cell (weighted tables), for
            Kish's effective sample size; ``None`` when unweighted.
    """

    attributes: tuple[str, ...]
    levels: tuple[tuple[Any, ...], ...]
    task: str
    classes: tuple[Any, ...]
    rows: np.ndarray
    weights: np.ndarray
    scores: ScoreHistogram | None = None
    regression: RegressionSums | None = None
    weighted: bool = False
    squared_weights: np.ndarray | None = None

    @property
    def weights_squared(self) -> np.ndarray:
        """Σw² per cell (equal to the weights when every weight is 1)."""
        return self.squared_weights if self.squared_weights is not None else self.weights

    @property
    def n_rows(self) -> int:
        return int(self.rows.sum())

    @property
    def group_shape(self) -> tuple[int, ...]:
        return tuple(len(lv) for lv in self.levels)

    def merge(self, other: GroupCounts) -> GroupCounts:
        """Add two tables over the same attributes; levels and classes are united.

        Partitions of one dataset rarely see the same levels (a small partition
        may miss a group), so both tables are first re-indexed onto the union of
        their levels (and classes) — cells only, no rows. This makes counting
        partitions and merging equal to counting the whole, in any order.

        Example:
            >>> import numpy as np
            >>> a = count_classification([np.array([0])], [("x",)], ("sf",),
            ...     np.array([1]), np.array([1]), 2)
            >>> b = count_classification([np.array([0])], [("y",)], ("sf",),
            ...     np.array([0]), np.array([1]), 2)
            >>> merged = a.merge(b)
            >>> merged.levels, merged.n_rows
            ((('x', 'y'),), 2)
        """
        if (self.attributes, self.task) != (other.attributes, other.task):
            raise UsageError(
                "cannot merge counts of different sensitive attributes or tasks: "
                f"{self.attributes}/{self.task} and {other.attributes}/{other.task}"
            )
        if (self.scores is None) != (other.scores is None):
            raise UsageError("cannot merge counts with scores and counts without scores")
        levels = tuple(
            tuple(sorted(set(a) | set(b), key=level_sort_key))
            for a, b in zip(self.levels, other.levels, strict=True)
        )
        classes = _united_classes(self, other)
        left, right = self.reindexed(levels, classes), other.reindexed(levels, classes)
        scores = None
        if left.scores is not None and right.scores is not None:
            scores = left.scores.merge(right.scores)
        regression = None
        if left.regression is not None and right.regression is not None:
            regression = left.regression.merge(right.regression)
        return GroupCounts(
            attributes=self.attributes,
            levels=levels,
            task=self.task,
            classes=classes,
            rows=left.rows + right.rows,
            weights=left.weights + right.weights,
            squared_weights=(
                left.weights_squared + right.weights_squared
                if self.weighted or other.weighted
                else None
            ),
            scores=scores,
            regression=regression,
            weighted=self.weighted or other.weighted,
        )

    def reindexed(
        self, levels: tuple[tuple[Any, ...], ...], classes: tuple[Any, ...]
    ) -> GroupCounts:
        """The same counts laid out over ``levels`` and ``classes`` (supersets of this
        table's), new cells zero."""
        if levels == self.levels and classes == self.classes:
            return self
        positions = [_positions(old, new) for old, new in zip(self.levels, levels, strict=True)]
        shape = tuple(len(lv) for lv in levels)
        tail: list[np.ndarray] = []
        if self.task == "multiclass":
            class_pos = _positions(self.classes, classes)
            tail = [class_pos, class_pos]
        elif self.task == "binary":
            tail = [np.arange(2), np.arange(2)]
        index = np.ix_(*positions, *tail)
        tail_shape = tuple(len(classes) for _ in tail)
        rows = np.zeros(shape + tail_shape, dtype=self.rows.dtype)
        weights = np.zeros(shape + tail_shape, dtype=self.weights.dtype)
        rows[index] = self.rows
        weights[index] = self.weights
        squared = None
        if self.squared_weights is not None:
            squared = np.zeros(shape + tail_shape)
            squared[index] = self.squared_weights
        regression = None
        if self.regression is not None:
            regression = self.regression.reindexed(positions, shape)
        scores = None
        if self.scores is not None:
            old = np.indices(self.group_shape).reshape(len(shape), -1)
            new = tuple(positions[a][old[a]] for a in range(len(shape)))
            scores = self.scores.regroup(np.ravel_multi_index(new, shape).astype(np.int64))
        return dataclasses.replace(
            self,
            levels=levels,
            classes=classes,
            rows=rows,
            weights=weights,
            scores=scores,
            regression=regression,
            squared_weights=squared,
        )

    def group_mapping(self, keep: Sequence[str]) -> np.ndarray:
        """For each flat group, its flat group in the breakdown by ``keep`` (none: all 0)."""
        shape = self.group_shape
        idx = np.indices(shape).reshape(len(shape), -1)
        order = [self.attributes.index(a) for a in keep]
        if not order:
            return np.zeros(idx.shape[1], dtype=np.int64)
        new_shape = tuple(shape[i] for i in order)
        return np.ravel_multi_index(tuple(idx[i] for i in order), new_shape).astype(np.int64)

    def marginal(self, keep: Sequence[str]) -> GroupCounts:
        """Counts broken down by the attributes in ``keep`` only (others summed out)."""
        keep_idx = [self.attributes.index(a) for a in keep]
        drop = tuple(i for i in range(len(self.attributes)) if i not in keep_idx)
        order = keep_idx  # keep the requested attribute order
        rows = self.rows.sum(axis=drop)
        weights = self.weights.sum(axis=drop)
        kept_sorted = sorted(keep_idx)
        perm = [kept_sorted.index(i) for i in order]
        n_conf = rows.ndim - len(kept_sorted)
        axes = perm + list(range(len(perm), len(perm) + n_conf))
        rows = rows.transpose(axes)
        weights = weights.transpose(axes)
        squared = (
            self.squared_weights.sum(axis=drop).transpose(axes)
            if self.squared_weights is not None
            else None
        )
        scores = self.scores.regroup(self.group_mapping(keep)) if self.scores is not None else None
        regression = None
        if self.regression is not None:
            regression = self.regression.sum_over(drop).transpose(perm)
        return dataclasses.replace(
            self,
            attributes=tuple(keep),
            levels=tuple(self.levels[i] for i in order),
            rows=rows,
            weights=weights,
            scores=scores,
            regression=regression,
            squared_weights=squared,
        )

    def sorted_levels(self) -> GroupCounts:
        """The same table with each attribute's levels in :func:`level_sort_key` order.

        Sorting the table's cells, not the rows' codes, keeps the counting pass
        free of any remapping, and makes results independent of row order.
        """
        levels = tuple(tuple(sorted(lv, key=level_sort_key)) for lv in self.levels)
        return self.reindexed(levels, self.classes)

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and weights with all attribute axes flattened into one group axis."""
        g = int(np.prod(self.group_shape, dtype=np.int64))
        tail = self.rows.shape[len(self.attributes) :]
        return self.rows.reshape(g, *tail), self.weights.reshape(g, *tail)

    def flat_weights_squared(self) -> np.ndarray:
        """Σw² per cell with the attribute axes flattened, like :meth:`flat`."""
        return self.weights_squared.reshape(self.flat()[1].shape)

    def group_labels(self) -> list[tuple[Any, ...]]:
        """Attribute values of each flat group, in flat (C) order."""
        return [
            tuple(self.levels[a][i] for a, i in enumerate(ix))
            for ix in np.ndindex(*self.group_shape)
        ]


def level_sort_key(value: Any) -> tuple[int, Any]:
    """Order of levels in every report: numbers, then text, then the missing group."""
    if value is None:
        return (2, "")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


def _positions(old: Sequence[Any], new: Sequence[Any]) -> np.ndarray:
    """Where each of ``old`` sits in ``new`` (a superset)."""
    where = {value: i for i, value in enumerate(new)}
    return np.array([where[value] for value in old], dtype=np.int64)


def _united_classes(a: GroupCounts, b: GroupCounts) -> tuple[Any, ...]:
    """Classes of a merged table: equal, united (multiclass), or binary with one
    side's negative class unseen (``None``)."""
    if a.classes == b.classes:
        return a.classes
    if a.task == "multiclass":
        return tuple(sorted(set(a.classes) | set(b.classes), key=level_sort_key))
    if a.task == "binary" and a.classes[1] == b.classes[1]:
        negatives = {c for c in (a.classes[0], b.classes[0]) if c is not None}
        if len(negatives) <= 1:
            return (negatives.pop() if negatives else None, a.classes[1])
    raise UsageError(f"cannot merge counts with classes {a.classes} and {b.classes}")


def _index_dtype(size: int) -> type[np.signedinteger[Any]]:
    """The smallest integer type that holds indices below ``size`` (less memory traffic)."""
    for dtype in (np.int8, np.int16, np.int32):
        if size <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def _flat_codes(
    group_codes: Sequence[np.ndarray], shape: tuple[int, ...], cells_per_group: int = 1
) -> np.ndarray:
    """One code per row for its group (C order over the attributes), times ``cells_per_group``."""
    dtype = _index_dtype(int(np.prod(shape, dtype=np.int64)) * cells_per_group)
    flat = np.asarray(group_codes[0], dtype=dtype).copy()
    for codes, size in zip(group_codes[1:], shape[1:], strict=True):
        flat *= size
        flat += codes.astype(dtype, copy=False)
    if cells_per_group != 1:
        flat *= cells_per_group
    return flat


def count_classification(
    group_codes: Sequence[np.ndarray],
    levels: Sequence[tuple[Any, ...]],
    attributes: tuple[str, ...],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    n_classes: int,
    *,
    sample_weight: np.ndarray | None = None,
    classes: tuple[Any, ...] | None = None,
    task: str = "binary",
) -> GroupCounts:
    """Count rows (and weights) per group × true class × predicted class.

    ``group_codes`` are integer codes into ``levels`` per attribute; ``y_true``
    and ``y_pred`` are class codes in ``range(n_classes)``. One ``bincount``
    over ``(group, true, predicted)`` cells does all the work.
    """
    shape = tuple(len(lv) for lv in levels)
    n_groups = int(np.prod(shape, dtype=np.int64))
    k = n_classes
    cell = _flat_codes(group_codes, shape, k * k)
    cell += np.multiply(y_true, k, dtype=cell.dtype)
    cell += np.asarray(y_pred).astype(cell.dtype, copy=False)
    size = n_groups * k * k
    rows = np.bincount(cell, minlength=size).astype(np.int64)
    weights: np.ndarray
    squared = None
    if sample_weight is None:
        weights = rows.astype(np.float64)
    else:
        w = np.asarray(sample_weight, np.float64)
        weights = np.bincount(cell, weights=w, minlength=size)
        squared = np.bincount(cell, weights=w * w, minlength=size).reshape(*shape, k, k)
    return GroupCounts(
        attributes=attributes,
        levels=tuple(tuple(lv) for lv in levels),
        task=task,
        classes=classes if classes is not None else tuple(range(k)),
        rows=rows.reshape(*shape, k, k),
        weights=weights.reshape(*shape, k, k),
        weighted=sample_weight is not None,
        squared_weights=squared,
    )


@dataclass(frozen=True, slots=True)
class HistogramPlan:
    """How to re-aggregate histogram entries into unique, sorted (group, value) cells.

    Computed once (one sort) and applied to any counts over the same entries,
    e.g. every bootstrap resample.
    """

    order: np.ndarray
    starts: np.ndarray
    group: np.ndarray
    value: np.ndarray

    @classmethod
    def of(cls, group: np.ndarray, value: np.ndarray) -> HistogramPlan:
        order = np.lexsort((value, group))
        g, v = group[order], value[order]
        start = np.ones(len(g), dtype=bool)
        start[1:] = (g[1:] != g[:-1]) | (v[1:] != v[:-1])
        starts = np.flatnonzero(start)
        return cls(order, starts, g[starts], v[starts])

    def apply(self, weight: np.ndarray, rows: np.ndarray) -> ScoreHistogram:
        if len(self.order) == 0:
            return ScoreHistogram(self.group, self.value, weight, rows)
        return ScoreHistogram(
            group=self.group,
            value=self.value,
            weight=np.add.reduceat(weight[self.order], self.starts, axis=0),
            rows=np.add.reduceat(rows[self.order], self.starts, axis=0),
        )


def _aggregate_scores(
    group: np.ndarray, value: np.ndarray, weight: np.ndarray, rows: np.ndarray
) -> ScoreHistogram:
    return HistogramPlan.of(group, value).apply(weight, rows)


def count_scores(
    group_codes: Sequence[np.ndarray],
    levels: Sequence[tuple[Any, ...]],
    y_true: np.ndarray,
    score: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
) -> ScoreHistogram:
    """Histogram of distinct scores per flat group and true label (0/1 codes)."""
    shape = tuple(len(lv) for lv in levels)
    group = _flat_codes(group_codes, shape).astype(np.int64)
    y = np.asarray(y_true, dtype=np.int64)
    n = len(y)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    weight = np.zeros((n, 2))
    weight[np.arange(n), y] = w
    rows = np.zeros((n, 2), dtype=np.int64)
    rows[np.arange(n), y] = 1
    return _aggregate_scores(group, np.asarray(score, np.float64), weight, rows)


def _regression_stats(
    g: np.ndarray, y: np.ndarray, p: np.ndarray, w: np.ndarray, k: np.ndarray, n_groups: int
) -> np.ndarray:
    """The 8 statistics of :class:`RegressionSums` per group, shape ``(n_groups, 8)``, for
    rows of weight ``w`` each taken ``k`` times: two bincount passes (sums, then squares
    centred on each group's mean)."""

    def bc(x: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=x, minlength=n_groups)

    e = p - y
    w = w * k
    wsum = bc(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_y = np.where(wsum > 0, bc(w * y) / np.where(wsum > 0, wsum, 1), 0.0)
    return np.stack(
        [
            bc(k),
            wsum,
            bc(w * p),
            bc(w * e),
            bc(w * np.abs(e)),
            bc(w * e * e),
            mean_y,
            bc(w * (y - mean_y[g]) ** 2),
        ],
        axis=-1,
    )


def count_regression(
    group_codes: Sequence[np.ndarray],
    levels: Sequence[tuple[Any, ...]],
    attributes: tuple[str, ...],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
) -> GroupCounts:
    """Per-group regression statistics, and optionally ``bootstrap`` Poisson resamples.

    Regression metrics are not functions of counts, so their bootstrap is drawn
    here, from the rows: each resample gives every row a Poisson(1) multiplicity
    (the Poisson bootstrap, Hanley & MacGibbon 2006), which is row resampling in
    the limit and, unlike it, mergeable across partitions.
    """
    shape = tuple(len(lv) for lv in levels)
    n_groups = int(np.prod(shape, dtype=np.int64))
    g = _flat_codes(group_codes, shape)
    y = np.asarray(y_true, np.float64)
    p = np.asarray(y_pred, np.float64)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    stats = _regression_stats(g, y, p, w, np.ones(len(y)), n_groups)
    resamples = None
    if bootstrap:
        rng = np.random.default_rng(None if seed is None else [seed, 2])
        resamples = np.stack(
            [
                _regression_stats(g, y, p, w, rng.poisson(1.0, len(y)).astype(np.float64), n_groups)
                for _ in range(bootstrap)
            ]
        ).reshape(bootstrap, *shape, 8)
    rows = stats[:, REG_N].astype(np.int64)
    return GroupCounts(
        attributes=attributes,
        levels=tuple(tuple(lv) for lv in levels),
        task="regression",
        classes=(),
        rows=rows.reshape(shape),
        weights=stats[:, REG_W].reshape(shape),
        regression=RegressionSums(stats.reshape(*shape, 8), resamples),
        weighted=sample_weight is not None,
    )
