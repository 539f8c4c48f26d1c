"""Proxy detection from a dataframe: which inputs stand in for a protected attribute.

:func:`detect_proxies` validates the input at the edge, measures for every
feature and protected attribute the mutual information (pure, in
:mod:`trustops.core.proxies`) and the cross-validated AUC of a small
classifier that predicts the attribute from the feature alone (scikit-learn,
imported when called), and combines the strength with the feature's
importance to the model. The result is evidence a policy can act on
(``kind: "proxies"``; ``features.flagged``, ``len(flagged)``, ...).

Example:
    >>> import numpy as np, trustops
    >>> rng = np.random.default_rng(0)
    >>> group = rng.choice(["a", "b"], 2000)
    >>> data = {"group": group, "noise": rng.normal(size=2000),
    ...         "postcode": rng.normal(size=2000) + 1.5 * (group == "a")}
    >>> report = trustops.detect_proxies(data, sensitive="group",
    ...     importance={"noise": 1.0, "postcode": 1.0})
    >>> report.flagged, round(report.record("postcode", "group").auc, 2)
    (['postcode'], 0.84)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from trustops.core.proxies import (
    ProxyRecord,
    ProxyReport,
    equal_frequency_codes,
    importance_shares,
    judge,
    mutual_information,
    normalised_mutual_information,
    sort_records,
)
from trustops.engines.columns import (
    check_lengths,
    column_names,
    encode_groups,
    get_column,
    to_numpy,
)
from trustops.errors import InputError, MissingValuesError, UnsupportedError, UsageError

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["ProxyReport", "detect_proxies", "rich_table"]

TREE_DEPTH = 3
"""Depth of the decision tree that predicts the attribute from one numeric feature."""


def _names(value: str | Sequence[str] | None, role: str) -> list[str] | None:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else [str(v) for v in value]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"{role} column {repeated[0]!r} is given more than once")
    return names


def _feature(col: Any, name: str, n_bins: int) -> tuple[str, np.ndarray, np.ndarray]:
    """``(kind, classifier input, MI codes)``: numeric values, or category codes."""
    values, nulls = to_numpy(col, name)
    present = values[~nulls]
    if present.dtype == object and len(present):
        try:
            present = np.asarray(present.tolist())
        except (ValueError, TypeError):
            present = present.astype(object)
    if present.dtype.kind in "iuf" and len(present):
        if nulls.any():
            raise MissingValuesError(
                name,
                int(nulls.sum()),
                hint="impute or drop those rows (missing values of a categorical feature "
                "are their own category)",
            )
        x = values.astype(np.float64)
        if not np.isfinite(x).all():
            raise InputError(f"column {name!r} holds infinite values")
        return "numeric", x, equal_frequency_codes(x, n_bins)
    codes = encode_groups(col, name, missing="group").codes
    return "categorical", codes, codes


def _classifier(kind: str, n_categories: int, seed: int) -> Any:
    if kind == "numeric":
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(max_depth=TREE_DEPTH, random_state=seed)
    from sklearn.naive_bayes import CategoricalNB

    # One categorical feature: the smoothed frequency of each level per category.
    return CategoricalNB(alpha=1.0, min_categories=n_categories)


def _auc(
    kind: str, x: np.ndarray, attr: np.ndarray, n_levels: int, folds: list[Any], seed: int
) -> tuple[float, float, list[float]]:
    """Mean and standard deviation over folds of the (macro one-vs-rest) AUC, and per level."""
    from sklearn.metrics import roc_auc_score

    n_categories = int(x.max()) + 1 if kind == "categorical" else 0
    totals, per_level = [], []
    for train, test in folds:
        model = _classifier(kind, n_categories, seed).fit(x[train, None], attr[train])
        proba = np.zeros((len(test), n_levels))
        proba[:, model.classes_] = model.predict_proba(x[test, None])
        truth = attr[test]
        if n_levels == 2:
            totals.append(float(roc_auc_score(truth, proba[:, 1])))
        else:
            totals.append(
                float(
                    roc_auc_score(
                        truth, proba, multi_class="ovr", average="macro", labels=range(n_levels)
                    )
                )
            )
        per_level.append([float(roc_auc_score(truth == k, proba[:, k])) for k in range(n_levels)])
    return float(np.mean(totals)), float(np.std(totals)), np.mean(per_level, axis=0).tolist()


def _attribute(data: Any, name: str, cv: int) -> tuple[np.ndarray, list[str]]:
    """Codes in sorted order of the levels' text, and the levels."""
    enc = encode_groups(get_column(data, name, "sensitive"), name, missing="error")
    order = sorted(range(len(enc.levels)), key=lambda i: str(enc.levels[i]))
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    codes = remap[enc.codes]
    levels = [str(enc.levels[i]) for i in order]
    if len(levels) < 2:
        raise InputError(
            f"sensitive column {name!r} is constant ({levels[0]!r}): nothing can be a proxy of it"
        )
    counts = np.bincount(codes, minlength=len(levels))
    rare = int(np.argmin(counts))
    if counts[rare] < cv:
        raise InputError(
            f"sensitive column {name!r}: level {levels[rare]!r} has {counts[rare]} row(s), "
            f"fewer than the {cv} cross-validation folds",
            hint="merge rare levels or lower cv",
        )
    return codes, levels


def detect_proxies(
    data: Any,
    *,
    sensitive: str | Sequence[str],
    features: Sequence[str] | None = None,
    importance: Mapping[str, float] | None = None,
    mi_threshold: float = 0.01,
    auc_threshold: float = 0.7,
    importance_share: float = 0.05,
    n_bins: int = 10,
    cv: int = 5,
    seed: int = 0,
) -> ProxyReport:
    """Find the features that stand in for a protected attribute and matter to the model.

    For each feature and each protected attribute: the mutual information
    (nats) and its bias-corrected normalised value (formulas in
    :mod:`trustops.core.proxies`), and the AUC of a classifier predicting the
    attribute from that feature alone — a depth-3 decision tree on a numeric
    feature, a one-feature categorical naive Bayes (smoothed frequencies) on a
    categorical one — over ``cv`` stratified, shuffled folds (mean and standard
    deviation over folds; one-vs-rest macro AUC for a multi-valued attribute,
    with each level's one-vs-rest AUC beside it). A feature is *strong* when
    the larger of ``auc`` and its best level's AUC (for an attribute of more than
    two levels: a proxy for one group) reaches ``auc_threshold``, or
    ``normalised_mi ≥ mi_threshold``, and
    **flagged** when it is strong and its share of the model's importance is
    ``≥ importance_share``. Without ``importance`` nothing is flagged.

    Args:
        data: a pandas/Polars/PyArrow table or a dict of arrays.
        sensitive: the protected attribute column(s); nulls are refused.
        features: the model's input columns. Default: the keys of
            ``importance`` if given, else every column that is not sensitive.
        importance: feature → non-negative importance (e.g. mean |SHAP|);
            shares are taken over all its entries. It must cover every feature.
        mi_threshold: normalised MI from which a feature is a strong proxy.
        auc_threshold: AUC from which a feature is a strong proxy.
        importance_share: share of importance from which a feature is important.
        n_bins: equal-frequency bins of a numeric feature for MI.
        cv: cross-validation folds (each attribute level needs ``cv`` rows).
        seed: seeds the folds and the classifiers: same seed, same report.

    Numeric features with missing values are refused (naming the column);
    missing values of a categorical feature are their own category.
    """
    if not 0.5 <= auc_threshold <= 1:
        raise UsageError(f"auc_threshold must lie in [0.5, 1], got {auc_threshold}")
    for label, value in (("mi_threshold", mi_threshold), ("importance_share", importance_share)):
        if not 0 <= value <= 1:
            raise UsageError(f"{label} must lie in [0, 1], got {value}")
    if cv < 2:
        raise UsageError(f"cv must be at least 2, got {cv}")
    if n_bins < 2:
        raise UsageError(f"n_bins must be at least 2, got {n_bins}")
    attributes = _names(sensitive, "sensitive") or []
    if not attributes:
        raise UsageError("sensitive must name at least one column")
    available = column_names(data)
    shares = importance_shares(importance) if importance is not None else None
    if features is None:
        chosen = list(shares) if shares is not None else None
        features = chosen or [c for c in available if c not in attributes]
    names = _names(features, "feature") or []
    if not names:
        raise UsageError("there are no features to examine")
    both = [n for n in names if n in attributes]
    if both:
        raise UsageError(
            f"sensitive column {both[0]!r} is also listed as a feature",
            hint="a protected attribute used as an input is a prohibited basis, not a proxy; "
            "leave it out of features",
        )
    if shares is not None:
        lacking = [n for n in names if n not in shares]
        if lacking:
            raise UsageError(
                f"importance has no entry for feature {lacking[0]!r}",
                hint="give every feature an importance (0 if the model does not use it)",
            )
    columns = {n: get_column(data, n, "feature") for n in names}
    attr_columns = {n: get_column(data, n, "sensitive") for n in attributes}
    n_rows = check_lengths({**columns, **attr_columns})
    try:
        from sklearn.model_selection import StratifiedKFold
    except ImportError:
        raise UnsupportedError(
            "proxy detection needs scikit-learn for its classifier",
            hint="pip install scikit-learn (or 'trustops[demo]')",
        ) from None

    encoded = {n: _feature(columns[n], n, n_bins) for n in names}
    records: list[ProxyRecord] = []
    for attribute in attributes:
        codes, levels = _attribute(data, attribute, cv)
        splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
        folds = list(splitter.split(np.zeros((n_rows, 1)), codes))
        for name in names:
            kind, x, mi_codes = encoded[name]
            auc, auc_std, by_level = _auc(kind, x, codes, len(levels), folds, seed)
            nmi = normalised_mutual_information(mi_codes, codes)
            share = shares[name] if shares is not None else None
            # a feature that singles out one group is a proxy for it even when the
            # macro average over every group hides it: judge on the larger AUC
            strongest = max([auc, *by_level]) if len(by_level) > 2 else auc
            strong, flagged, reason = judge(
                auc=strongest,
                normalised_mi=nmi,
                share=share,
                auc_threshold=auc_threshold,
                mi_threshold=mi_threshold,
                importance_share=importance_share,
            )
            records.append(
                ProxyRecord(
                    column=name,
                    attribute=attribute,
                    kind=kind,
                    bins=int(mi_codes.max()) + 1,
                    mutual_information=mutual_information(mi_codes, codes),
                    normalised_mi=nmi,
                    auc=auc,
                    auc_std=auc_std,
                    auc_by_level=dict(zip(levels, by_level, strict=True)),
                    importance_share=share,
                    strong=strong,
                    flagged=flagged,
                    reason=reason,
                )
            )
    return ProxyReport(
        records=sort_records(records),
        attributes=tuple(attributes),
        n_rows=n_rows,
        importance_given=shares is not None,
        thresholds={
            "auc": auc_threshold,
            "normalised_mi": mi_threshold,
            "importance_share": importance_share,
        },
        method={
            "mutual_information": f"plug-in, nats; numeric features in {n_bins} "
            "equal-frequency bins; normalised: Miller-Madow corrected, divided by H(attribute)",
            "classifier": f"depth-{TREE_DEPTH} decision tree (numeric), categorical naive "
            "Bayes (categorical), one feature at a time",
            "auc": "mean and standard deviation over folds; one-vs-rest macro for "
            "multi-valued attributes",
            "cv": cv,
            "seed": seed,
        },
    )


def rich_table(report: ProxyReport) -> Table:
    """The report as a terminal table, flagged features in bold red, strong proxies in bold."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    title = f"Proxies of {', '.join(report.attributes)} ({report.n_rows:,} rows)"
    table = Table(title=escape(title), caption=report.note, box=box.SIMPLE_HEAD)
    for header in ("feature", "attribute", "MI (nats)", "normalised MI", "AUC", "share"):
        table.add_column(header, justify="left" if header in ("feature", "attribute") else "right")
    table.add_column("flagged", justify="center")
    for r in report.records:
        share = "—" if r.importance_share is None else f"{r.importance_share:.3f}"
        style = "bold red" if r.flagged else ("bold" if r.strong else None)
        table.add_row(
            escape(r.column),
            escape(r.attribute),
            f"{r.mutual_information:.4f}",
            f"{r.normalised_mi:.4f}",
            f"{r.auc:.3f} ± {r.auc_std:.3f}",
            share,
            "yes" if r.flagged else "",
            style=style,
        )
    return table
