"""Synthetic datasets with known, documented properties, for demos and tests.

:func:`make_credit` generates a credit-lending dataset with a bias injected
against one group, so an assessment has something real to find.

Generator (all draws from ``numpy.random.default_rng(seed)``, so the same seed
gives the same rows on every machine):

- ``sex`` ∈ {female, male} with probability ½ each; ``race`` ∈ {A, B, C, D, E}
  with probabilities .55/.2/.12/.08/.05 (unequal, like real populations).
- ``income`` (thousands) ~ LogNormal(ln 45, 0.45); ``debt_ratio`` ~ Beta(2, 5);
  ``credit_history_years`` ~ Gamma(4, 2.5) capped at 40; ``late_payments`` ~
  Poisson(0.6); ``age`` ~ 21 + Gamma(4, 6) capped at 80.
- ``zip_score`` is a proxy: N(0, 1) shifted by −0.8 for the disadvantaged
  group, so a model can learn the group from it.
- Creditworthiness ``z = 0.9·ln(income/45) − 2.2·debt_ratio +
  0.05·credit_history_years − 0.45·late_payments + 0.25·zip_score + 0.6 + ε``,
  ε ~ N(0, 0.8). ``repaid`` (the ground truth, 1 = would repay) is ``z > 0``.
- **Injected bias:** the historical decision ``approved`` is
  ``z − bias·[race = disadvantaged] + η > 0.35``, η ~ N(0, 0.3): members of the
  disadvantaged group (``"C"`` by default) needed more creditworthiness to be
  approved. A model trained on ``approved`` learns that bias.

Example:
    >>> data = make_credit(1000, seed=7)
    >>> sorted(data)[:4]
    ['age', 'applicant_id', 'approved', 'credit_history_years']
    >>> len(data["race"])
    1000
"""

from __future__ import annotations

import numpy as np

__all__ = ["CREDIT_FEATURES", "make_credit"]

CREDIT_FEATURES = (
    "income",
    "debt_ratio",
    "credit_history_years",
    "late_payments",
    "age",
    "zip_score",
)
RACES = ("A", "B", "C", "D", "E")
RACE_P = (0.55, 0.2, 0.12, 0.08, 0.05)


def make_credit(
    n_rows: int = 20_000, *, seed: int = 0, bias: float = 0.9, disadvantaged: str = "C"
) -> dict[str, np.ndarray]:
    """Generate the synthetic credit-lending dataset described in the module docstring.

    Returns a dict of NumPy arrays (column name → values), ready for
    ``pandas.DataFrame(...)``, ``polars.DataFrame(...)`` or ``pyarrow.table(...)``.
    """
    if n_rows <= 0:
        raise ValueError(f"n_rows must be positive, got {n_rows}")
    if disadvantaged not in RACES:
        raise ValueError(f"disadvantaged must be one of {RACES}, got {disadvantaged!r}")
    rng = np.random.default_rng(seed)
    sex = np.where(rng.random(n_rows) < 0.5, "female", "male")
    race = np.asarray(RACES)[rng.choice(len(RACES), size=n_rows, p=RACE_P)]
    is_target = race == disadvantaged
    income = np.round(np.exp(rng.normal(np.log(45), 0.45, n_rows)), 1)
    debt_ratio = np.round(rng.beta(2, 5, n_rows), 3)
    history = np.round(np.minimum(rng.gamma(4, 2.5, n_rows), 40), 1)
    late = rng.poisson(0.6, n_rows)
    age = np.minimum(21 + rng.gamma(4, 6, n_rows), 80).astype(np.int64)
    zip_score = np.round(rng.normal(0, 1, n_rows) - 0.8 * is_target, 3)
    z = (
        0.9 * np.log(income / 45)
        - 2.2 * debt_ratio
        + 0.05 * history
        - 0.45 * late
        + 0.25 * zip_score
        + 0.6
        + rng.normal(0, 0.8, n_rows)
    )
    repaid = (z > 0).astype(np.int64)
    approved = (z - bias * is_target + rng.normal(0, 0.3, n_rows) > 0.35).astype(np.int64)
    return {
        "applicant_id": np.arange(1, n_rows + 1),
        "sex": sex,
        "race": race,
        "income": income,
        "debt_ratio": debt_ratio,
        "credit_history_years": history,
        "late_payments": late,
        "age": age,
        "zip_score": zip_score,
        "repaid": repaid,
        "approved": approved,
    }
