"""The four-fifths rule, with significance and shortfall, never a bare pass/fail.

For each group g, against the group h with the highest selection rate
(EEOC Uniform Guidelines, 29 CFR 1607.4(D)):

- impact ratio ``IR_g = SR_g / SR_h`` (SR from weights when given);
- two-proportion pooled z-test on row counts: ``p = (s_g + s_h)/(n_g + n_h)``,
  ``z = (s_g/n_g − s_h/n_h) / √(p(1 − p)(1/n_g + 1/n_h))``, two-sided p-value
  ``2·(1 − Φ(|z|))``; undefined when ``p`` is 0 or 1;
- Fisher's exact test (two-sided, ``scipy.stats.fisher_exact``) on
  ``[[s_g, n_g − s_g], [s_h, n_h − s_h]]``, reliable for small counts;
- shortfall: the fewest extra selections of g (in rows) that bring its rate
  to ``threshold · SR_h``: ``max(0, ⌈(threshold · SR_h − SR_g) · n_g⌉)``
  (with no weights, SR_g · n_g = s_g).

With sample weights the impact ratio and shortfall use the weighted rates,
and both tests use Kish's effective sample size n_eff = (Σw)² / Σw² per
group (Kish 1965) with rate × n_eff selections (Fisher's test on their
rounded values): an approximation, said so in each row's ``reason``.

Example:
    >>> import numpy as np
    >>> rows = four_fifths_rows(np.array([10, 50]), np.array([100, 100]),
    ...                         np.array([0.1, 0.5]), threshold=0.8)
    >>> rows[0]["impact_ratio"], rows[0]["shortfall"]
    (0.2, 30)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["four_fifths_rows"]


def four_fifths_rows(
    selected: np.ndarray,
    counts: np.ndarray,
    rates: np.ndarray,
    *,
    threshold: float = 0.8,
    include: np.ndarray | None = None,
    effective_counts: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """One dict per group: impact ratio, z-test, Fisher test and shortfall.

    ``selected`` and ``counts`` are row counts per group, ``rates`` the
    (possibly weighted) selection rates. With sample weights pass
    ``effective_counts`` (Kish's n_eff per group): the tests then use n_eff
    trials and rate × n_eff selections. Groups outside ``include`` get
    ``None`` values with a reason.
    """
    g = len(counts)
    include = np.ones(g, dtype=bool) if include is None else include
    candidates = np.where(include & ~np.isnan(rates), rates, -np.inf)
    top = int(np.argmax(candidates)) if np.isfinite(candidates).any() else None
    out: list[dict[str, Any]] = []
    for i in range(g):
        row: dict[str, Any] = {
            "selected": int(selected[i]),
            "count": int(counts[i]),
            "selection_rate": None if np.isnan(rates[i]) else float(rates[i]),
            "impact_ratio": None,
            "z_statistic": None,
            "z_p_value": None,
            "fisher_p_value": None,
            "shortfall": None,
            "below_threshold": None,
            "is_reference": top == i,
            "reason": None,
        }
        if effective_counts is not None:
            n_eff = float(effective_counts[i])
            row["effective_count"] = n_eff if math.isfinite(n_eff) else None
        out.append(row)
        if not include[i]:
            row["reason"] = "group smaller than min_group_size"
            continue
        if top is None or np.isnan(rates[i]):
            row["reason"] = "selection rate undefined"
            continue
        top_rate = float(rates[top])
        if top_rate == 0:
            row["reason"] = "no group has any selection (highest selection rate is 0)"
            continue
        ratio = float(rates[i]) / top_rate
        row["impact_ratio"] = ratio
        row["below_threshold"] = ratio < threshold
        # In rows at the group's own (possibly weighted) rate, so IR ≥ threshold ⇔ shortfall 0.
        row["shortfall"] = max(
            0, math.ceil((threshold * top_rate - float(rates[i])) * int(counts[i]) - 1e-9)
        )
        if i == top:
            row["reason"] = "reference group (highest selection rate)"
            continue
        if effective_counts is None:
            n_g, s_g = float(counts[i]), float(selected[i])
            n_h, s_h = float(counts[top]), float(selected[top])
        else:
            row["reason"] = "sample weights: tests use Kish's effective sample size"
            n_g, n_h = float(effective_counts[i]), float(effective_counts[top])
            s_g, s_h = float(rates[i]) * n_g, top_rate * n_h
        pooled = (s_g + s_h) / (n_g + n_h)
        if 0 < pooled < 1:
            se = math.sqrt(pooled * (1 - pooled) * (1 / n_g + 1 / n_h))
            z = (s_g / n_g - s_h / n_h) / se
            row["z_statistic"] = z
            row["z_p_value"] = math.erfc(abs(z) / math.sqrt(2))  # 2·(1 − Φ(|z|)), exact in tails
        else:
            row["reason"] = "z-test undefined: pooled selection rate is 0 or 1"
        from scipy.stats import fisher_exact  # scipy.stats costs ~1 s to import: only when used

        table = [[round(s_g), round(n_g - s_g)], [round(s_h), round(n_h - s_h)]]
        row["fisher_p_value"] = float(fisher_exact(table, alternative="two-sided")[1])
    return out
