"""Detect drift between a reference and current data: ``trustops.detect_drift``.

Three modes:

- **profile** (default): both sides become profiles (or are profiles
  already); the current data is binned on the reference's edges; every
  statistic is computed from the profiles
  (:mod:`trustops.core.drift.profiles`). Works at any scale, on Spark, and
  with a stored reference profile.
- **exact** (``exact=True``): both raw samples are read into memory and the
  statistics are computed on every value (SciPy's ``ks_2samp`` and
  ``wasserstein_distance``; PSI on the reference's exact deciles).
- **compatibility** (``compat="evidently"`` or ``"nannyml"``): raw samples,
  each peer's own test choice, binning and thresholds
  (:mod:`trustops.core.drift.compat`), so a team migrating from either gets
  the verdicts it is used to.

Example:
    >>> import numpy as np, pyarrow as pa
    >>> rng = np.random.default_rng(0)
    >>> ref = pa.table({"x": rng.normal(0, 1, 5000), "c": rng.choice(["a", "b"], 5000)})
    >>> cur = pa.table({"x": rng.normal(1, 1, 5000), "c": rng.choice(["a", "b"], 5000)})
    >>> report = detect_drift(ref, cur)
    >>> [(c.column, c.method, c.drift_detected) for c in report.columns]
    [('x', 'ks', True), ('c', 'z', False)]
    >>> report.share_drifted
    0.5
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa

from trustops.core.drift.compat import (
    EVIDENTLY_METHODS,
    NANNYML_METHODS,
    Kind,
    evidently_drift,
    nannyml_drift,
)
from trustops.core.drift.profiles import compare_profiles, compare_samples
from trustops.core.drift.report import METHODS, ColumnDrift, DriftReport
from trustops.core.profiles import DatasetProfile, NumericProfile, TypeChangedError, column_kind
from trustops.core.profiles.dataset import numeric_values
from trustops.engines.sources import open_source
from trustops.errors import InputError, MissingColumnError, UnsupportedError, UsageError
from trustops.profiling import Progress, profile

__all__ = ["COMPAT_MODES", "DOMAIN_AUC_THRESHOLD", "detect_drift", "domain_classifier"]

COMPAT_MODES = ("evidently", "nannyml")

# Our method names in each peer's vocabulary (None: the peer has no such test).
_EVIDENTLY_NAMES = {
    "psi": "psi",
    "ks": "ks",
    "chi2": "chisquare",
    "z": "z",
    "jensenshannon": "jensenshannon",
    "wasserstein": "wasserstein",
    "hellinger": "hellinger",
    "kl": "kl_div",
}
_NANNYML_NAMES = {
    "ks": "kolmogorov_smirnov",
    "chi2": "chi2",
    "jensenshannon": "jensen_shannon",
    "wasserstein": "wasserstein",
    "hellinger": "hellinger",
}


def detect_drift(
    reference: Any,
    current: Any,
    *,
    method: str = "auto",
    exact: bool = False,
    compat: str | None = None,
    columns: Sequence[str] | None = None,
    threshold: float | Mapping[str, float] | None = None,
    prediction: str | None = None,
    target: str | None = None,
    drift_share: float = 0.5,
    progress: Progress | None = None,
    multivariate: bool = False,
    seed: int = 0,
    js_base: float | None = None,
) -> DriftReport:
    """Compare ``current`` with ``reference``, column by column.

    Args:
        reference: a reference profile, or data of any supported source.
        current: data of any supported source, or a profile made with
            ``reference=`` (profile mode only).
        method: ``auto`` or one of ``psi``, ``ks``, ``chi2``, ``z``,
            ``jensenshannon``, ``wasserstein``, ``hellinger``, ``kl``.
        exact: compute on raw values instead of profiles (both sides in memory).
        compat: ``"evidently"`` or ``"nannyml"``: reproduce that tool (implies exact).
        columns: compare only these columns (default: all but datetime columns).
        threshold: one threshold for every column, or a mapping column → threshold.
        prediction, target: the model's prediction and label columns, reported
            as prediction drift and target drift.
        drift_share: dataset drift when at least this share of features drift.
        progress: called with rows read (profile mode), for a progress bar.
        multivariate: also train a domain classifier to tell reference rows
            from current rows (raw data needed; scikit-learn); its
            cross-validated ROC AUC is in ``report.details["multivariate"]``.
        seed: the domain classifier's sampling and fitting seed.
        js_base: the logarithm's base of the Jensen–Shannon distance (default
            e, as Evidently; 2 gives a distance in [0, 1], as NannyML).

    Raises:
        MissingColumnError: a named column is absent on either side.
        InputError: a column's type differs between reference and current.
        UsageError: an unknown method or mode, or a profile where raw data is needed.
    """
    if method not in METHODS:
        raise UsageError(
            f"unknown drift method {method!r}", hint=f"use one of: {', '.join(METHODS)}"
        )
    if compat is not None and compat not in COMPAT_MODES:
        raise UsageError(f"unknown compatibility mode {compat!r}", hint="use evidently or nannyml")
    if multivariate:
        report = detect_drift(
            reference,
            current,
            method=method,
            exact=exact,
            compat=compat,
            columns=columns,
            threshold=threshold,
            prediction=prediction,
            target=target,
            drift_share=drift_share,
            progress=progress,
            js_base=js_base,
        )
        names = [c.column for c in report.features]
        details = {
            **report.details,
            "multivariate": domain_classifier(reference, current, names, seed),
        }
        return replace(report, details=details)
    if not exact and compat is None:
        ref = profile(reference, columns=columns, progress=progress)
        cur = current
        if not isinstance(cur, DatasetProfile):
            cur = profile(
                current,
                reference=ref,
                columns=columns,
                progress=progress,
                sketches=current_needs_sketches(ref, method),
            )
        return compare_profiles(
            ref,
            cur,
            method=method,
            threshold=threshold,
            columns=columns,
            prediction=prediction,
            target=target,
            drift_share=drift_share,
            js_base=js_base,
        )
    for side, data in (("reference", reference), ("current", current)):
        if isinstance(data, DatasetProfile):
            raise UsageError(
                f"the {side} is a profile; exact and compatibility modes need raw data",
                hint="pass the data itself, or drop exact=/compat= to compare profiles",
            )
    ref_table = _read(reference, columns)
    cur_table = _read(current, columns)
    names = _names(ref_table, cur_table, columns)
    roles = {n: "feature" for n in names}
    for role, col in (("prediction", prediction), ("target", target)):
        if col is not None:
            if col not in ref_table.column_names:
                raise MissingColumnError(col, available=ref_table.column_names, role=role)
            if col not in roles:
                names.append(col)
            roles[col] = role
    results = []
    for name in names:
        kind = _kind(name, ref_table, cur_table)
        results.append(
            _exact_column(
                name,
                kind,
                ref_table,
                cur_table,
                method,
                compat,
                threshold,
                roles[name],
                columns is not None,
                js_base,
            )
        )
    return DriftReport(
        tuple(results),
        mode=compat or "exact",
        method=method,
        drift_share=drift_share,
        reference_rows=ref_table.num_rows,
        current_rows=cur_table.num_rows,
    )


def current_needs_sketches(reference: DatasetProfile, method: str) -> bool:
    """Whether comparing with ``method`` uses the current data's quantile sketches.

    Wasserstein reads both quantile functions. KS is bounded by the exact
    histograms; the sketches narrow it only when they hold every value
    (rank error 0), i.e. when the reference is small. Nothing else reads them,
    and they are most of the cost of profiling a numeric column.
    """
    if method == "wasserstein":
        return True
    return all(
        col.rank_error == 0.0
        for col in reference.columns.values()
        if isinstance(col, NumericProfile) and col.sketch is not None
    )


def _read(data: Any, columns: Sequence[str] | None) -> pa.Table:
    source = open_source(data)
    if columns is not None:
        source = source.select(list(columns))
    return pa.Table.from_batches(list(source.batches()), schema=source.schema)


def _names(ref: pa.Table, cur: pa.Table, columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    for name in ref.column_names:
        if name not in cur.column_names:
            raise MissingColumnError(name, available=cur.column_names, role="current")
    return [n for n in ref.column_names if column_kind(ref.schema.field(n).type) != "datetime"]


def _kind(name: str, ref: pa.Table, cur: pa.Table) -> str:
    if name not in cur.column_names:
        raise MissingColumnError(name, available=cur.column_names, role="current")
    rt, ct = ref.schema.field(name).type, cur.schema.field(name).type
    rk, ck = column_kind(rt), column_kind(ct)
    if rk != ck and "null" not in (rk, ck):
        raise TypeChangedError(name, f"{rk} ({rt})", f"{ck} ({ct})", where="in the reference")
    return rk if rk != "null" else ck


def _values(table: pa.Table, name: str, kind: str) -> np.ndarray:
    """The column's non-null values: floats (datetimes in seconds) or Python objects."""
    col = _decoded(table.column(name)).drop_null()
    if kind in ("numeric", "datetime"):
        return numeric_values(kind, col)
    return np.asarray(col.to_pylist(), dtype=object)


def _decoded(col: pa.ChunkedArray) -> pa.Array:
    array = col.combine_chunks()
    return array.dictionary_decode() if pa.types.is_dictionary(array.type) else array


def _exact_column(
    name: str,
    kind: str,
    ref_table: pa.Table,
    cur_table: pa.Table,
    method: str,
    compat: str | None,
    threshold: float | Mapping[str, float] | None,
    role: str,
    explicit: bool,
    js_base: float | None = None,
) -> ColumnDrift:
    if kind in ("null", "other"):
        return ColumnDrift(
            name, kind, method, None, None, None, None, role=role, note="not compared"
        )
    ref, cur = _values(ref_table, name, kind), _values(cur_table, name, kind)
    numeric = kind in ("numeric", "datetime")
    if compat is None:
        if numeric:
            ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
        return compare_samples(
            name,
            kind,
            ref,
            cur,
            method=method,
            threshold=threshold,
            role=role,
            explicit=explicit,
            js_base=js_base,
        )
    peer_kind: Kind = "numeric" if numeric else "categorical"
    limit = threshold.get(name) if isinstance(threshold, Mapping) else threshold
    if compat == "evidently":
        peer_method = "auto" if method == "auto" else _EVIDENTLY_NAMES[method]
        if peer_method != "auto" and peer_kind not in EVIDENTLY_METHODS[peer_method][0]:
            raise UsageError(
                f"Evidently's {peer_method!r} does not take the {kind} column {name!r}"
            )
        res = evidently_drift(ref, cur, kind=peer_kind, method=peer_method, threshold=limit)
    else:
        if numeric:
            ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
        peer = _NANNYML_NAMES.get(method) if method != "auto" else "jensen_shannon"
        if peer is None:
            raise UsageError(
                f"NannyML has no {method!r} method",
                hint="use ks, chi2, jensenshannon, wasserstein or hellinger",
            )
        if peer_kind not in NANNYML_METHODS[peer]:
            raise UsageError(f"NannyML's {peer!r} does not take the {kind} column {name!r}")
        res = nannyml_drift(ref, cur, kind=peer_kind, method=peer, threshold=limit)
    return ColumnDrift(
        column=name,
        kind=kind,
        method=res.method,
        statistic=res.statistic,
        p_value=res.p_value,
        threshold=res.threshold,
        drift_detected=res.drift_detected,
        role=role,
        reference_count=len(ref),
        current_count=len(cur),
        note=None
        if res.drift_detected is not None
        else "NannyML's threshold depends on chunking; pass threshold=",
    )


#: Rows sampled from each side for the domain classifier.
DOMAIN_SAMPLE = 50_000
#: Cross-validation folds of the domain classifier.
DOMAIN_FOLDS = 3
#: ROC AUC above which the classifier's separation counts as drift.
DOMAIN_AUC_THRESHOLD = 0.55


def domain_classifier(
    reference: Any, current: Any, columns: Sequence[str], seed: int = 0
) -> dict[str, Any]:
    """Multivariate drift: can a classifier tell current rows from reference rows?

    Up to :data:`DOMAIN_SAMPLE` rows of each side (uniformly sampled with
    ``seed``) are labelled 0 (reference) and 1 (current); a gradient-boosted
    tree model (scikit-learn's ``HistGradientBoostingClassifier``: missing
    values and categories handled natively) is scored by 3-fold
    cross-validated ROC AUC. An AUC of 0.5 means the two samples are
    indistinguishable; drift is flagged above :data:`DOMAIN_AUC_THRESHOLD`.
    This sees changes no single column shows (a correlation that broke), as
    in the "domain classifier" checks of Evidently and NannyML. The features
    the model relies on most (permutation importance on a held-out fold) say
    where the difference lies.

    Example:
        >>> import numpy as np, pyarrow as pa
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=4000)
        >>> ref = pa.table({"a": x, "b": x + rng.normal(0, 0.1, 4000)})
        >>> cur = pa.table({"a": x, "b": -x + rng.normal(0, 0.1, 4000)})  # same marginals
        >>> r = domain_classifier(ref, cur, ["a", "b"])
        >>> r["drift_detected"], r["auc"] > 0.9
        (True, True)
    """
    for side, data in (("reference", reference), ("current", current)):
        if isinstance(data, DatasetProfile):
            raise UsageError(
                f"the {side} is a profile; the domain classifier needs raw rows",
                hint="pass the data itself with multivariate=True",
            )
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.inspection import permutation_importance
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold, cross_val_predict
    except ImportError:
        raise UnsupportedError(
            "multivariate drift needs scikit-learn", hint="pip install 'trustops[demo]'"
        ) from None
    if not columns:
        raise UsageError("no columns to train the domain classifier on")
    rng = np.random.default_rng(seed)
    parts = []
    for table in (_read(reference, columns), _read(current, columns)):
        if table.num_rows > DOMAIN_SAMPLE:
            keep = np.sort(rng.choice(table.num_rows, DOMAIN_SAMPLE, replace=False))
            table = table.take(pa.array(keep))
        parts.append(table)
    features: list[np.ndarray] = []
    categorical: list[bool] = []
    used: list[str] = []
    for name in columns:
        kind = _kind(name, parts[0], parts[1])
        if kind in ("numeric", "datetime"):
            features.append(np.concatenate([_as_float(t.column(name), kind) for t in parts]))
        elif kind in ("categorical", "boolean"):
            values = [t.column(name).combine_chunks().to_pylist() for t in parts]
            seen = dict.fromkeys(v for vs in values for v in vs if v is not None)
            if len(seen) > 250:  # beyond the model's category limit: an identifier, skip it
                continue
            levels = {v: float(i) for i, v in enumerate(seen)}
            features.append(
                np.array([levels.get(v, np.nan) for vs in values for v in vs], dtype=np.float64)
            )
        else:
            continue
        categorical.append(kind in ("categorical", "boolean"))
        used.append(name)
    if not features:
        raise UsageError("no numeric or categorical column to train the domain classifier on")
    x = np.column_stack(features)
    y = np.concatenate([np.zeros(parts[0].num_rows), np.ones(parts[1].num_rows)])
    if min(parts[0].num_rows, parts[1].num_rows) < 10:
        raise InputError("the domain classifier needs at least 10 rows on each side")
    model = HistGradientBoostingClassifier(
        max_iter=60,
        max_leaf_nodes=15,
        categorical_features=np.array(categorical),
        random_state=seed,
    )
    folds = StratifiedKFold(DOMAIN_FOLDS, shuffle=True, random_state=seed)
    scores = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(y, scores))
    train, test = next(folds.split(x, y))
    model.fit(x[train], y[train])
    importance = permutation_importance(
        model, x[test], y[test], scoring="roc_auc", n_repeats=2, random_state=seed
    ).importances_mean
    order = np.argsort(-importance)
    return {
        "method": "domain_classifier",
        "auc": auc,
        "threshold": DOMAIN_AUC_THRESHOLD,
        "drift_detected": auc > DOMAIN_AUC_THRESHOLD,
        "reference_rows": parts[0].num_rows,
        "current_rows": parts[1].num_rows,
        "top_features": [
            {"column": used[i], "importance": float(importance[i])} for i in order[:5]
        ],
    }


def _as_float(col: pa.ChunkedArray, kind: str) -> np.ndarray:
    """Every row as a float, nulls as NaN (the domain classifier handles them)."""
    array = _decoded(col)
    out = np.full(len(array), np.nan)
    valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    out[valid] = numeric_values(kind, array.drop_null())
    return out
