"""Histogram edges at a reference's quantiles, as a pure function of its values.

A reference's histogram edges sit at its quantiles. Taking them from the KLL
sketch would make them random (KLL compacts with coin flips), so two runs on
the same data, or the same data on pandas and on Spark, would bin differently.
Instead the edges come from exact counts on grids, so they depend on the
multiset of values only, never on batching, partitioning or order:

1. a grid of ``G = 4096`` equal cells over ``[min, max]`` (exact extrema from
   the first pass) is counted exactly:
   ``cell(x) = ⌊(x − min) · G / (max − min)⌋``, clipped to ``[0, G − 1]``;
2. for the target ranks ``r_k = k · n / B`` (``k = 1 … B − 1``), take the cell
   where the cumulative count first reaches ``r_k``. A cell holding more than
   ``n / (8B)`` values (mass squeezed into a few cells by far outliers, or one
   repeated value) is split into ``G`` equal sub-cells, counted exactly in one
   more pass over the data; this repeats at most :data:`MAX_REFINEMENTS` times
   (resolution ``(max − min) / 4096^3``);
3. edge ``k`` is the lower end of the cell where the cumulative count reaches
   ``r_k``; the edges are the distinct ones, ``min`` first, plus one edge just
   above ``max``.

An integer column spanning fewer than 65,536 values gets one cell per
integer instead: its exact distribution in one read, edges on its values.

Every step sums per-batch counts, so it runs over a stream or inside Spark
like the rest of a profile, and gives the same edges however the data is split.

Example:
    >>> import numpy as np
    >>> x = np.arange(1000.0)
    >>> grid = QuantileGrid.start(0.0, 999.0, grid_counts(x, 0.0, 999.0))
    >>> grid.to_refine(bins=4).size          # 4096 cells for 1000 values: none is heavy
    0
    >>> [round(float(e), 3) for e in grid.edges(bins=4)]
    [0.0, 248.774, 498.768, 748.762, 999.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "GRID",
    "INTEGER_SPAN",
    "MAX_REFINEMENTS",
    "QuantileGrid",
    "constant_edges",
    "grid_counts",
    "integer_grid",
]

GRID = 4096
MAX_REFINEMENTS = 2
INTEGER_SPAN = 1 << 16
_REFINE_SHARE = 8  # split a cell holding more than 1/8 of a bin's values


def _cells(values: np.ndarray, lo: float, width: float, size: int) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        position = (values - lo) / width
    np.clip(position, 0.0, size - 1, out=position)
    return position.astype(np.int64)


def constant_edges(value: float) -> np.ndarray:
    """Edges of a column with one value: one bin holding exactly that value."""
    return np.array([value, np.nextafter(value, math.inf)])


def integer_grid(lo: float, hi: float) -> bool:
    """Whether an integer column spans few enough values to count each one (one cell per value)."""
    return hi - lo < INTEGER_SPAN


def grid_counts(values: np.ndarray, lo: float, hi: float, *, integer: bool = False) -> np.ndarray:
    """Exact counts of finite ``values`` in ``[lo, hi]`` on the first grid.

    For an integer column spanning fewer than :data:`INTEGER_SPAN` values,
    one cell per integer: the counts are the exact distribution, so no
    refinement is ever needed.
    """
    if not hi > lo:
        return np.array([len(values)], dtype=np.int64)
    if integer and integer_grid(lo, hi):
        span = int(hi - lo) + 1
        return np.bincount((values - lo).astype(np.int64), minlength=span).astype(np.int64)
    width = (hi - lo) / GRID
    return np.bincount(_cells(values, lo, width, GRID), minlength=GRID).astype(np.int64)


def _targets(n: int, bins: int) -> np.ndarray:
    return np.arange(1, bins) * (n / bins)


@dataclass(frozen=True, slots=True, eq=False)
class QuantileGrid:
    """Cells ``[start, start + width)`` covering ``[lo, hi]``, sorted, with exact counts."""

    lo: float
    hi: float
    starts: np.ndarray
    widths: np.ndarray
    counts: np.ndarray
    depth: int = 0
    atomic: np.ndarray | None = None  # cells whose parent's values all fell in them

    @staticmethod
    def start(lo: float, hi: float, counts: np.ndarray, *, integer: bool = False) -> QuantileGrid:
        """The first grid, from :func:`grid_counts` summed over every batch."""
        if not hi > lo:
            return QuantileGrid(lo, hi, np.array([lo]), np.array([0.0]), counts)
        if integer and integer_grid(lo, hi):
            n = len(counts)
            atomic = np.ones(n, dtype=bool)  # one value per cell: nothing to split
            return QuantileGrid(
                lo, hi, lo + np.arange(n, dtype=np.float64), np.ones(n), counts, 0, atomic
            )
        width = (hi - lo) / GRID
        starts = lo + np.arange(GRID) * width
        return QuantileGrid(lo, hi, starts, np.full(GRID, width), counts)

    def _cell_of_targets(self, bins: int) -> np.ndarray:
        cum = np.cumsum(self.counts)
        cells = np.searchsorted(cum, _targets(int(cum[-1]), bins), side="left")
        return cells[cells < len(self.counts)]

    def to_refine(self, bins: int) -> np.ndarray:
        """Indices of cells to split: they hold a target rank and too many values."""
        n = int(self.counts.sum())
        if n == 0 or not self.hi > self.lo or self.depth >= MAX_REFINEMENTS:
            return np.empty(0, dtype=np.int64)
        cells = np.unique(self._cell_of_targets(bins))
        heavy = self.counts[cells] * bins * _REFINE_SHARE > n
        if self.atomic is not None:  # a repeated value: splitting again cannot help
            heavy &= ~self.atomic[cells]
        return cells[heavy & (self.widths[cells] > 0)].astype(np.int64)

    def sub_counts(self, values: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Exact counts of ``values`` on ``GRID`` sub-cells of each of ``cells`` (flattened)."""
        out = np.zeros(len(cells) * GRID, dtype=np.int64)
        if len(cells) == 0 or len(values) == 0:
            return out
        starts, widths = self.starts[cells], self.widths[cells]
        which = np.searchsorted(starts, values, side="right") - 1
        valid = which >= 0
        which = np.where(valid, which, 0)
        inside = valid & (values <= starts[which] + widths[which])
        if not inside.any():
            return out
        owner = which[inside]
        with np.errstate(over="ignore", invalid="ignore"):
            position = (values[inside] - starts[owner]) / (widths[owner] / GRID)
        np.clip(position, 0.0, GRID - 1, out=position)
        flat = owner * GRID + position.astype(np.int64)
        return np.bincount(flat, minlength=len(cells) * GRID).astype(np.int64)

    def refined(self, cells: np.ndarray, sub_counts: np.ndarray) -> QuantileGrid:
        """This grid with each of ``cells`` replaced by its counted sub-cells."""
        starts, widths, counts, atomic = [], [], [], []
        old_atomic = self.atomic if self.atomic is not None else np.zeros(len(self.counts), bool)
        split = {int(c): i for i, c in enumerate(cells)}
        previous = 0
        for cell in sorted(split):
            starts.append(self.starts[previous:cell])
            widths.append(self.widths[previous:cell])
            counts.append(self.counts[previous:cell])
            atomic.append(old_atomic[previous:cell])
            w = self.widths[cell] / GRID
            starts.append(self.starts[cell] + np.arange(GRID) * w)
            widths.append(np.full(GRID, w))
            i = split[cell]
            part = sub_counts[i * GRID : (i + 1) * GRID]
            counts.append(part)
            atomic.append((part == part.sum()) & (part > 0))
            previous = cell + 1
        starts.append(self.starts[previous:])
        widths.append(self.widths[previous:])
        counts.append(self.counts[previous:])
        atomic.append(old_atomic[previous:])
        return QuantileGrid(
            self.lo,
            self.hi,
            np.concatenate(starts),
            np.concatenate(widths),
            np.concatenate(counts),
            self.depth + 1,
            np.concatenate(atomic),
        )

    def edges(self, bins: int) -> np.ndarray:
        """The histogram edges (see the module docstring)."""
        if not self.hi > self.lo:
            return constant_edges(self.lo)
        chosen = np.concatenate([[self.lo], self.starts[self._cell_of_targets(bins)]])
        edges = np.unique(chosen)
        edges = edges[(edges >= self.lo) & (edges <= self.hi)]
        return np.append(edges, np.nextafter(self.hi, math.inf))
