"""A comparison run: every mitigation method on the same split, scored on the same held-out rows.

:func:`compare_methods` splits the data once (stratified by the label),
fits each method on the training rows and scores its decisions on the test
rows: accuracy, balanced accuracy, and the fairness metrics of
:mod:`trustops.core.fairness` — the impact ratio (lowest selection rate over
the highest, across the groups of every sensitive attribute), the demographic
parity difference and the equalized odds difference. With a policy, each
method's fairness evidence (the report's ``to_dict()``) is evaluated and the
outcome kept in ``MethodResult.policy_outcome`` (nothing is stored: to gate
a model, register the chosen method's fit and use ``Registry.evaluate_policy``).
Methods whose decisions depend on the protected attribute
(``uses_protected_attribute_at_decision``: the ThresholdOptimizer) are flagged
"disparate treatment: unlawful in some uses"; the policy context lists the
inputs each method decides on (``model.features``), so a
``prohibited_inputs`` rule forbids them.

Methods: ``none`` (the estimator as is), ``reweighing``, ``resampling``,
``exponentiated_gradient``, ``grid_search``, ``threshold``; :func:`mitigator`
builds the estimator of one, e.g. to refit the chosen method and register it.

:meth:`Comparison.pareto` marks the methods no other beats on both accuracy
and demographic parity difference; :meth:`Comparison.plot_svg` draws them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from trustops.core.fairness import FairnessReport, build_report, count_classification
from trustops.core.policy import Context, EvidenceItem, Policy, evaluate
from trustops.engines.columns import column_names, encode_groups, get_column, to_numpy
from trustops.engines.labels import encode_binary
from trustops.errors import InputError, MissingValuesError, UsageError

__all__ = [
    "DISPARATE_TREATMENT",
    "METHODS",
    "Comparison",
    "MethodResult",
    "compare_methods",
    "mitigator",
]

METHODS = (
    "none",
    "reweighing",
    "resampling",
    "exponentiated_gradient",
    "grid_search",
    "threshold",
)
DEFAULT_METHODS = ("none", "reweighing", "resampling", "exponentiated_gradient", "threshold")
DISPARATE_TREATMENT = "disparate treatment: unlawful in some uses"


@dataclass(frozen=True, slots=True)
class MethodResult:
    """One method's scores on the held-out rows."""

    method: str
    accuracy: float
    balanced_accuracy: float
    impact_ratio: float | None
    demographic_parity_difference: float | None
    equalized_odds_difference: float | None
    uses_protected_attribute_at_decision: bool
    decision_inputs: tuple[str, ...]
    policy_outcome: str | None = None
    pareto_optimal: bool = False

    @property
    def flag(self) -> str | None:
        """``DISPARATE_TREATMENT`` when the method decides on the protected attribute."""
        return DISPARATE_TREATMENT if self.uses_protected_attribute_at_decision else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "impact_ratio": self.impact_ratio,
            "demographic_parity_difference": self.demographic_parity_difference,
            "equalized_odds_difference": self.equalized_odds_difference,
            "uses_protected_attribute_at_decision": self.uses_protected_attribute_at_decision,
            "decision_inputs": list(self.decision_inputs),
            "flag": self.flag,
            "policy_outcome": self.policy_outcome,
            "pareto_optimal": self.pareto_optimal,
        }


def pareto_front(points: Sequence[tuple[float, float]]) -> list[bool]:
    """Which ``(accuracy, disparity)`` points no other point dominates.

    ``b`` dominates ``a`` when ``b`` is at least as accurate and at most as
    disparate, and strictly better on one of them.

    >>> pareto_front([(0.8, 0.3), (0.7, 0.1), (0.7, 0.2), (0.9, 0.3)])
    [False, True, False, True]
    """
    marks = []
    for i, (acc, disp) in enumerate(points):
        dominated = any(
            a >= acc and d <= disp and (a > acc or d < disp)
            for j, (a, d) in enumerate(points)
            if j != i
        )
        marks.append(not dominated)
    return marks


@dataclass(frozen=True, slots=True)
class Comparison:
    """The methods' results on one split, in the order run."""

    results: tuple[MethodResult, ...]
    y: str
    sensitive: tuple[str, ...]
    features: tuple[str, ...]
    n_train: int
    n_test: int
    seed: int
    constraint: str
    policy: str | None = None

    def __getitem__(self, method: str) -> MethodResult:
        for r in self.results:
            if r.method == method:
                return r
        raise KeyError(method)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "mitigation_comparison",
            "y": self.y,
            "sensitive": list(self.sensitive),
            "features": list(self.features),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "seed": self.seed,
            "constraint": self.constraint,
            "policy": self.policy,
            "methods": [r.to_dict() for r in self.results],
        }

    def best(self, policy_pass: bool = True, *, allow_disparate_treatment: bool = True) -> str:
        """The most accurate method (of those the policy passes, with ``policy_pass``).

        Raises :class:`~trustops.errors.UsageError` when no method qualifies.
        """
        if policy_pass and self.policy is None:
            raise UsageError("best(policy_pass=True) needs a comparison run with a policy")
        candidates = [
            r
            for r in self.results
            if (not policy_pass or r.policy_outcome in ("pass", "warn"))
            and (allow_disparate_treatment or not r.uses_protected_attribute_at_decision)
        ]
        if not candidates:
            raise UsageError(
                f"no method passes policy {self.policy}" if policy_pass else "no method qualifies"
            )
        return max(candidates, key=lambda r: r.accuracy).method

    def rich_table(self) -> Any:
        """A Rich table: one row per method; Pareto-optimal rows marked ``*``."""
        from rich.table import Table

        table = Table(title=f"Mitigation on {self.n_test} held-out rows ({self.y})")
        for name in ("method", "accuracy", "bal. acc.", "impact ratio", "DP diff", "EO diff"):
            table.add_column(name, justify="left" if name == "method" else "right")
        if self.policy:
            table.add_column(self.policy)
        table.add_column("Pareto")
        table.add_column("flag")
        for r in self.results:
            row = [
                r.method,
                _fmt(r.accuracy),
                _fmt(r.balanced_accuracy),
                _fmt(r.impact_ratio),
                _fmt(r.demographic_parity_difference),
                _fmt(r.equalized_odds_difference),
            ]
            if self.policy:
                row.append(r.policy_outcome or "")
            row += ["*" if r.pareto_optimal else "", r.flag or ""]
            table.add_row(*row)
        return table

    def plot_svg(self) -> str:
        """SVG of accuracy against demographic parity difference; Pareto-optimal points in red."""
        try:
            import matplotlib

            matplotlib.use("Agg", force=False)
            from matplotlib.figure import Figure
        except ImportError:
            from trustops.errors import UnsupportedError

            raise UnsupportedError(
                "the Pareto plot needs matplotlib", hint="pip install matplotlib"
            ) from None
        fig = Figure(figsize=(6, 4.5))
        ax = fig.add_subplot()
        shown = [r for r in self.results if r.demographic_parity_difference is not None]
        for r in shown:
            assert r.demographic_parity_difference is not None
            color = "tab:red" if r.pareto_optimal else "tab:gray"
            marker = "s" if r.uses_protected_attribute_at_decision else "o"
            ax.scatter(r.demographic_parity_difference, r.accuracy, color=color, marker=marker)
            ax.annotate(
                r.method + (" (DT)" if r.uses_protected_attribute_at_decision else ""),
                (r.demographic_parity_difference, r.accuracy),
                textcoords="offset points",
                xytext=(5, 4),
                fontsize=8,
            )
        front = sorted(
            (r.demographic_parity_difference, r.accuracy) for r in shown if r.pareto_optimal
        )
        if len(front) > 1:
            xs, ys = zip(*front, strict=True)
            ax.plot(xs, ys, color="tab:red", linewidth=1, linestyle="--", label="Pareto front")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xlabel("demographic parity difference (lower is fairer)")
        ax.set_ylabel("accuracy")
        ax.set_title("Accuracy against disparity; red: Pareto-optimal, square: disparate treatment")
        ax.title.set_fontsize(8)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        return buffer.getvalue()


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _frame(data: Any) -> Any:
    import pandas as pd

    kind = type(data).__module__.split(".")[0]
    if kind == "pandas":
        return data.reset_index(drop=True)
    if kind in ("polars", "pyarrow"):
        return data.to_pandas()
    if isinstance(data, dict):
        return pd.DataFrame(data)
    raise UsageError(f"data must be a pandas, Polars or PyArrow table or a dict, got {kind}")


def fairness_report(y_true: Any, y_pred: Any, sensitive: Any) -> FairnessReport:
    """The fairness report of binary decisions (``y_pred``) against labels, per sensitive column.

    ``sensitive`` is a pandas frame of the sensitive columns. The same report
    as :func:`trustops.assess_fairness` gives for these arrays.
    """
    names = [str(c) for c in sensitive.columns]
    encoded = [encode_groups(sensitive[n], n) for n in names]
    t, p, classes = encode_binary(np.asarray(y_true), np.asarray(y_pred), 1, ("y", "y_pred"))
    counts = count_classification(
        [e.codes for e in encoded],
        [e.levels for e in encoded],
        tuple(names),
        t,
        p,
        2,
        classes=classes,
        task="binary",
    ).sorted_levels()
    return build_report(counts, pos_label=1)


def mitigator(
    method: str,
    estimator: Any,
    *,
    sensitive: str | Sequence[str],
    constraint: str = "demographic_parity",
    seed: int = 0,
) -> Any:
    """The unfitted estimator a comparison runs for ``method`` (one of :data:`METHODS`).

    Fit it as :func:`compare_methods` does: ``threshold`` with
    ``fit(X, y, sensitive_features=S)`` and ``predict(X, sensitive_features=S)``;
    ``none`` on the features alone; the others on the features and the
    ``sensitive`` columns, predicting from the features alone.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> type(mitigator("reweighing", LogisticRegression(), sensitive="race")).__name__
        'ReweighingClassifier'
    """
    from sklearn.base import clone

    from trustops.mitigation.inprocessing import (
        CONSTRAINT_NAMES,
        ExponentiatedGradientClassifier,
        GridSearchClassifier,
    )
    from trustops.mitigation.preprocessing import ResamplingClassifier, ReweighingClassifier
    from trustops.mitigation.thresholds import ThresholdOptimizer

    _check_methods([method])
    if constraint not in CONSTRAINT_NAMES:
        raise UsageError(
            f"constraint must be one of {', '.join(CONSTRAINT_NAMES)}, got {constraint!r}"
        )
    sens = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    if method == "none":
        return clone(estimator)
    if method == "reweighing":
        return ReweighingClassifier(estimator, sensitive=sens)
    if method == "resampling":
        return ResamplingClassifier(estimator, sensitive=sens, random_state=seed)
    if method == "exponentiated_gradient":
        return ExponentiatedGradientClassifier(
            estimator, sensitive=sens, constraint=constraint, random_state=seed
        )
    if method == "grid_search":
        return GridSearchClassifier(estimator, sensitive=sens, constraint=constraint)
    threshold_constraint = (
        "equal_opportunity" if constraint == "true_positive_rate_parity" else constraint
    )
    return ThresholdOptimizer(estimator, constraint=threshold_constraint, random_state=seed)


def _check_methods(methods: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(methods))
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise UsageError(
            f"unknown mitigation method {unknown[0]!r}", hint=f"methods: {', '.join(METHODS)}"
        )
    if not chosen:
        raise UsageError("name at least one method", hint=f"methods: {', '.join(METHODS)}")
    return chosen


def compare_methods(
    data: Any,
    *,
    y: str,
    sensitive: str | Sequence[str],
    estimator: Any,
    methods: Sequence[str] = DEFAULT_METHODS,
    policy: Policy | None = None,
    test_size: float = 0.3,
    seed: int = 0,
    drop: Sequence[str] = (),
    constraint: str = "demographic_parity",
    forbid_disparate_treatment: bool = False,
    system: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Comparison:
    """Fit each method on the same training rows and score it on the same held-out rows.

    Args:
        data: a pandas/Polars/PyArrow table or a dict of arrays. Every column
            but ``y``, ``sensitive`` and ``drop`` is a feature (numeric, no nulls).
        y: the binary label column (1 is favourable).
        sensitive: the protected column(s): never a feature of the model;
            used at fit time by the mitigators, and at decision time by
            ``threshold`` only.
        estimator: an unfitted scikit-learn classifier whose ``fit`` accepts
            ``sample_weight`` (reweighing and the reductions need it).
        methods: names from :data:`METHODS`.
        policy: a :class:`~trustops.core.policy.Policy` (``trustops.load_policy``)
            evaluated on each method's fairness evidence; ``model.features`` of
            its context are the inputs the method decides on.
        test_size: the held-out share of rows.
        seed: the split's and the randomised methods' seed.
        drop: columns that are neither features nor sensitive (ids, other labels).
        constraint: the fairness constraint of the reductions and the
            threshold optimiser.
        forbid_disparate_treatment: leave out methods that decide on the
            protected attribute.
        system: the AI system for the policy's ``applies_to``
            (e.g. ``{"use_case": "credit"}``).
        now: the evidence time for the policy's freshness rules (default: now).

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> from trustops.datasets import make_credit
        >>> data = make_credit(2000, seed=1)
        >>> run = compare_methods(data, y="approved", sensitive="race",
        ...     estimator=LogisticRegression(max_iter=1000), methods=["none", "threshold"],
        ...     drop=["applicant_id", "sex", "repaid"])
        >>> run["threshold"].flag
        'disparate treatment: unlawful in some uses'
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.model_selection import train_test_split

    chosen = _check_methods(methods)
    if not 0 < test_size < 1:
        raise UsageError(f"test_size must be between 0 and 1, got {test_size}")
    from trustops.mitigation.inprocessing import CONSTRAINT_NAMES

    if constraint not in CONSTRAINT_NAMES:
        raise UsageError(
            f"constraint must be one of {', '.join(CONSTRAINT_NAMES)}, got {constraint!r}"
        )
    sens = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    if not sens:
        raise UsageError("sensitive must name at least one column")
    names = column_names(data) if not isinstance(data, dict) else [str(k) for k in data]
    for name, role in [
        (y, "label"),
        *((s, "sensitive") for s in sens),
        *((d, "drop") for d in drop),
    ]:
        get_column(data, name, role)
    overlap = sorted(set(sens) & ({y} | set(drop)))
    if overlap:
        raise UsageError(f"column {overlap[0]!r} is given as sensitive and as label or drop")
    frame = _frame(data)
    features = [c for c in names if c not in {y, *sens, *drop}]
    if not features:
        raise UsageError("no feature columns left", hint="drop fewer columns")
    for column in [y, *features, *sens]:
        _, nulls = to_numpy(frame[column], column)
        if nulls.any():
            raise MissingValuesError(column, int(nulls.sum()), hint="drop or impute those rows")
    for column in features:
        if frame[column].dtype.kind not in "biuf":
            raise InputError(
                f"feature column {column!r} is not numeric ({frame[column].dtype})",
                hint=f"encode it, or leave it out with drop=[{column!r}] (--drop {column})",
            )
    labels = frame[y].to_numpy()
    if set(np.unique(labels).tolist()) - {0, 1}:
        raise InputError(f"label column {y!r} must hold 0 and 1", hint="1 is favourable")
    if len(np.unique(labels)) < 2:
        raise InputError(f"label column {y!r} has one class")
    train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=labels)
    when = now or datetime.now(UTC)
    results = []
    for name in chosen:
        model = mitigator(name, estimator, sensitive=sens, constraint=constraint, seed=seed)
        at_decision = bool(getattr(model, "uses_protected_attribute_at_decision", False))
        if at_decision and forbid_disparate_treatment:
            continue
        if name == "threshold":
            model.fit(train[features], train[y], sensitive_features=train[sens])
            pred = model.predict(test[features], sensitive_features=test[sens])
        elif name == "none":
            pred = model.fit(train[features], train[y]).predict(test[features])
        else:
            pred = model.fit(train[features + sens], train[y]).predict(test[features])
        pred = np.asarray(pred).astype(np.int64)
        report = fairness_report(test[y], pred, test[sens])
        aggregates = report.aggregates
        inputs = tuple(features + sens) if at_decision else tuple(features)
        outcome = None
        if policy is not None:
            evidence = [EvidenceItem("fairness", report.to_dict(), created_at=when.isoformat())]
            context = Context(
                system=system,
                model={"name": name, "features": list(inputs)},
                now=when,
                subject=f"method:{name}",
            )
            outcome = evaluate(policy, evidence, context).outcome
        results.append(
            MethodResult(
                method=name,
                accuracy=float(accuracy_score(test[y], pred)),
                balanced_accuracy=float(balanced_accuracy_score(test[y], pred)),
                impact_ratio=report.ratio("selection_rate"),
                demographic_parity_difference=aggregates["demographic_parity_difference"],
                equalized_odds_difference=aggregates["equalized_odds_difference"],
                uses_protected_attribute_at_decision=at_decision,
                decision_inputs=inputs,
                policy_outcome=outcome,
            )
        )
    marks = pareto_front(
        [
            (
                r.accuracy,
                np.inf
                if r.demographic_parity_difference is None
                else r.demographic_parity_difference,
            )
            for r in results
        ]
    )
    results = [_marked(r, m) for r, m in zip(results, marks, strict=True)]
    return Comparison(
        results=tuple(results),
        y=y,
        sensitive=tuple(sens),
        features=tuple(features),
        n_train=len(train),
        n_test=len(test),
        seed=seed,
        constraint=constraint,
        policy=policy.name if policy is not None else None,
    )


def _marked(result: MethodResult, optimal: bool) -> MethodResult:
    from dataclasses import replace

    return replace(result, pareto_optimal=optimal)
