"""Disparities between groups, in every convention users compare against.

All functions take metric values of shape ``(..., G)`` (NaN where undefined)
and reduce the group axis, so the same code serves point estimates and
bootstrap resamples. Groups excluded by ``include`` (smaller than
``min_group_size``) and undefined values take no part.

===================  =====================================  ==================
name                 formula                                 convention
===================  =====================================  ==================
difference           max_g m_g − min_g m_g                   Fairlearn
                                                             ``between_groups``
ratio                min_g m_g / max_g m_g                   Fairlearn
                                                             ``between_groups``
difference_to_       max_g |m_g − m_overall|                 Fairlearn
overall                                                      ``to_overall``
ratio_to_overall     min_g min(r_g, 1/r_g), r_g = m_g/m_all  Fairlearn
                                                             ``to_overall``
difference_to_       max_g |m_g − m_ref|                     Aequitas-style,
reference                                                    reference group
ratio_to_reference   min_g min(r_g, 1/r_g), r_g = m_g/m_ref  Aequitas-style
===================  =====================================  ==================

AIF360's convention (unprivileged − privileged, unprivileged / privileged,
signed, with every non-privileged row pooled) compares two pooled groups and
is computed from pooled counts in :mod:`trustops.core.fairness.report`.

Example:
    >>> import numpy as np
    >>> d = disparity_values(np.array([0.5, 0.0]), np.array(0.25))
    >>> float(d["difference"]), float(d["ratio"]), float(d["difference_to_overall"])
    (0.5, 0.0, 0.25)
"""

from __future__ import annotations

import numpy as np

from trustops.core.fairness.metrics import divide

__all__ = ["disparity_values", "nanmax", "nanmin"]


def nanmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Max ignoring NaN; NaN (no warning) where every value is NaN."""
    filled = np.where(np.isnan(x), -np.inf, x)
    out = filled.max(axis=axis, initial=-np.inf)
    return np.where(np.isneginf(out) & np.isnan(x).all(axis=axis), np.nan, out)


def nanmin(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Min ignoring NaN; NaN (no warning) where every value is NaN."""
    return -nanmax(-x, axis=axis)


def _symmetric(r: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r > 1, 1.0 / r, r)


def disparity_values(
    values: np.ndarray,
    overall: np.ndarray,
    *,
    include: np.ndarray | None = None,
    reference: int | None = None,
) -> dict[str, np.ndarray]:
    """All disparity kinds for one metric.

    Args:
        values: per-group values, shape ``(..., G)``, NaN where undefined.
        overall: the metric on all rows, shape ``(...)``.
        include: boolean mask ``(G,)`` of groups that take part.
        reference: index of the reference group, or ``None``.
    """
    values = np.asarray(values, dtype=np.float64)
    if include is not None:
        values = np.where(include, values, np.nan)
    hi, lo = nanmax(values), nanmin(values)
    overall = np.asarray(overall, dtype=np.float64)
    out = {
        "difference": hi - lo,
        "ratio": divide(lo, hi),
        "difference_to_overall": nanmax(np.abs(values - overall[..., None])),
        "ratio_to_overall": nanmin(_symmetric(divide(values, overall[..., None]))),
    }
    if reference is not None:
        ref = values[..., reference]
        others = values.copy()
        others[..., reference] = np.nan
        out["difference_to_reference"] = nanmax(np.abs(others - ref[..., None]))
        out["ratio_to_reference"] = nanmin(_symmetric(divide(others, ref[..., None])))
    return out
