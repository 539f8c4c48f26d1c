"""What a policy rule can measure: the metrics of each evidence kind, and how to read them.

A metric is a dotted path into an evidence record's JSON (its ``to_dict()``):
``four_fifths.impact_ratio`` reads ``impact_ratio`` from every row of the
fairness report's ``four_fifths`` list, ``overall.accuracy`` one number,
``columns.drift_detected`` one value per column of a drift report,
``len(pii_columns)`` the length of a list. Where the path crosses a list of
records, each record becomes one *observation* labelled by what identifies it
— a group (``race=C``), a category (LL144), a column, a rule — with its
sample size (``count``, ``applicants``, ``current_count``) and p-value when the
record has them.

``CATALOGUE`` lists, per evidence kind, the metric paths a policy may name and
the range of their values, so an unknown metric or an impossible threshold
(an impact ratio below 0, a rate above 1) is refused when the policy is
loaded, not when it is evaluated.

Example:
    >>> content = {"four_fifths": [
    ...     {"group": {"race": "A"}, "count": 50, "impact_ratio": 1.0, "fisher_p_value": None},
    ...     {"group": {"race": "C"}, "count": 32, "impact_ratio": 0.64, "fisher_p_value": 0.03}]}
    >>> [(o.label, o.value, o.n) for o in observations(content, "four_fifths.impact_ratio")]
    [('impact_ratio[race=A]', 1.0, 50), ('impact_ratio[race=C]', 0.64, 32)]
    >>> metric_range("fairness", "four_fifths.impact_ratio")
    (0.0, inf)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CATALOGUE",
    "DOCUMENT_KINDS",
    "Observation",
    "known_metrics",
    "metric_range",
    "observations",
]

_INF = math.inf
RATE = (0.0, 1.0)
NONNEG = (0.0, _INF)
ANY = (-_INF, _INF)
BOOL = "bool"
TEXT = "text"

_RATES = [
    "base_rate",
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "true_negative_rate",
    "false_negative_rate",
    "precision",
    "negative_predictive_value",
    "false_discovery_rate",
    "false_omission_rate",
    "accuracy",
    "f1",
    "balanced_accuracy",
    "roc_auc",
    "brier_score",
    "expected_calibration_error",
]
_GROUP_VALUES = {
    **dict.fromkeys(_RATES, RATE),
    "count": NONNEG,
    "theil_index": NONNEG,
    "generalized_entropy_index": NONNEG,
    "mean_score": ANY,
    "mean_prediction": ANY,
    "mean_error": ANY,
    "mean_absolute_error": NONNEG,
    "root_mean_squared_error": NONNEG,
    "r2_score": (-_INF, 1.0),
}
_CONVENTIONS = [
    "difference",
    "ratio",
    "difference_to_overall",
    "ratio_to_overall",
    "difference_to_reference",
    "ratio_to_reference",
    "difference_unprivileged_minus_privileged",
    "ratio_unprivileged_to_privileged",
]
_AGGREGATES = {
    "demographic_parity_difference": ANY,
    "demographic_parity_ratio": NONNEG,
    "equalized_odds_difference": ANY,
    "equalized_odds_ratio": NONNEG,
    "equal_opportunity_difference": ANY,
    "equal_opportunity_ratio": NONNEG,
    "predictive_parity_difference": ANY,
    "theil_index": NONNEG,
    "generalized_entropy_index": NONNEG,
    "statistical_parity_difference": ANY,
    "disparate_impact": NONNEG,
    "aif360_equal_opportunity_difference": ANY,
    "average_odds_difference": ANY,
    "average_abs_odds_difference": NONNEG,
    "aif360_predictive_parity_difference": ANY,
}
_FOUR_FIFTHS = {
    "impact_ratio": NONNEG,
    "selection_rate": RATE,
    "shortfall": NONNEG,
    "selected": NONNEG,
    "count": NONNEG,
    "z_statistic": ANY,
    "z_p_value": RATE,
    "fisher_p_value": RATE,
    "below_threshold": BOOL,
}


def _alts(names: Any) -> str:
    return "(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + ")"


def _fairness() -> list[tuple[str, Any, str]]:
    out: list[tuple[str, Any, str]] = [
        (f"four_fifths\\.{name}", rng, f"four_fifths.{name}") for name, rng in _FOUR_FIFTHS.items()
    ]
    for name, rng in _GROUP_VALUES.items():
        out.append((f"(by_group|overall)\\.{name}", rng, f"by_group.{name}, overall.{name}"))
    groups = _alts(_GROUP_VALUES)
    out.append(
        (f"disparities\\.{groups}\\.{_alts(_CONVENTIONS)}", ANY, "disparities.METRIC.CONVENTION")
    )
    out += [
        (f"aggregates\\.{name}", rng, f"aggregates.{name}") for name, rng in _AGGREGATES.items()
    ]
    out.append(("n_rows", NONNEG, "n_rows"))
    return out


#: Per evidence kind: (regex of the metric path, value range or BOOL/TEXT, how the docs name it).
CATALOGUE: dict[str, list[tuple[str, Any, str]]] = {
    "fairness": _fairness(),
    "drift": [
        ("share_drifted", RATE, "share_drifted"),
        ("dataset_drift", BOOL, "dataset_drift"),
        ("len\\(drifted_columns\\)", NONNEG, "len(drifted_columns)"),
        ("columns\\.drift_detected", BOOL, "columns.drift_detected"),
        ("columns\\.statistic", ANY, "columns.statistic"),
        ("columns\\.p_value", RATE, "columns.p_value"),
        ("(prediction_drift|target_drift)", BOOL, "prediction_drift, target_drift"),
    ],
    "quality": [
        ("passed", BOOL, "passed"),
        ("results\\.status", TEXT, "results.status"),
        (
            "counts\\.(total|pass|fail|error|not_evaluable|blocking|warnings)",
            NONNEG,
            "counts.fail, counts.blocking, ...",
        ),
    ],
    "pii": [
        ("len\\((pii_columns|protected_columns)\\)", NONNEG, "len(pii_columns)"),
        ("columns\\.non_null", NONNEG, "columns.non_null"),
    ],
    "ll144": [
        ("(sex|race|intersectional)\\.rows\\.impact_ratio", NONNEG, "sex.rows.impact_ratio"),
        ("(sex|race|intersectional)\\.rows\\.rate", RATE, "race.rows.rate"),
        ("(sex|race|intersectional)\\.rows\\.(applicants|selected)", NONNEG, "rows.applicants"),
        ("(sex|race|intersectional)\\.rows\\.share", RATE, "race.rows.share"),
        ("(sex|race|intersectional)\\.(unknown|known)", NONNEG, "sex.unknown"),
    ],
    "performance": [("[a-z_][a-z0-9_]*", ANY, "any metric recorded, e.g. auc")],
    "proxies": [
        ("features\\.flagged", BOOL, "features.flagged"),
        ("features\\.(auc|normalised_mi|importance_share)", RATE, "features.auc"),
        ("features\\.(mutual_information|auc_std)", NONNEG, "features.mutual_information"),
        ("len\\(flagged\\)", NONNEG, "len(flagged)"),
    ],
}
# An erasure request (GDPR Art. 17) marks the model versions trained on the people it names.
CATALOGUE["erasure"] = [
    ("retraining_required", BOOL, "retraining_required"),
    ("subjects_found", NONNEG, "subjects_found"),
]
# The validation and PII reports call their own kinds data_quality and pii_scan.
CATALOGUE["data_quality"] = CATALOGUE["quality"]
CATALOGUE["pii_scan"] = CATALOGUE["pii"]

#: Evidence kinds that are documents or records (requirement rules name them; no metrics).
DOCUMENT_KINDS = (
    "intended_use",
    "considerations",
    "system_description",
    "design",
    "predetermined_changes",
    "performance_metrics",
    "standards",
    "declaration_of_conformity",
    "datasheet",
    "processing_record",
    "risk_management",
    "data_governance",
    "technical_documentation",
    "instructions_for_use",
    "logging",
    "human_oversight",
    "accuracy",
    "robustness",
    "cybersecurity",
    "post_market_monitoring_plan",
    "impact_assessment",
    "report",
    "policy_decision",
    "explanation",
    "reason_codes",
)


def known_metrics(kind: str) -> list[str]:
    """How the docs name the metrics of evidence ``kind``."""
    return [name for _, _, name in CATALOGUE.get(kind, [])]


def metric_range(kind: str, metric: str) -> Any:
    """The range ``(low, high)`` (or ``"bool"``/``"text"``) of ``metric``; KeyError if unknown."""
    for pattern, rng, _ in CATALOGUE.get(kind, []):
        if re.fullmatch(pattern, metric):
            return rng
    raise KeyError(metric)


@dataclass(frozen=True)
class Observation:
    """One value a rule compares: its label, value, sample size, p-value and scope."""

    label: str
    value: Any
    n: int | None = None
    p_values: Mapping[str, float | None] = field(default_factory=dict)
    group: Mapping[str, str] | None = None
    column: str | None = None
    is_reference: bool = False
    excluded: bool = False


_ID_KEYS = ("group", "category")
_N_KEYS = ("count", "applicants", "current_count", "non_null")
_P_KEYS = ("fisher_p_value", "z_p_value", "p_value")


def _record_scope(record: Mapping[str, Any]) -> dict[str, Any]:
    group = next((record[k] for k in _ID_KEYS if isinstance(record.get(k), Mapping)), None)
    column = record.get("column") if isinstance(record.get("column"), str) else None
    if column is None and isinstance(record.get("rule"), str):
        column = record["rule"] + (f":{record['column']}" if record.get("column") else "")
    n = next((record[k] for k in _N_KEYS if isinstance(record.get(k), int | float)), None)
    return {
        "group": {str(k): str(v) for k, v in group.items()} if group is not None else None,
        "column": column,
        "n": int(n) if n is not None else None,
        "p_values": {k: record[k] for k in _P_KEYS if k in record},
        "is_reference": bool(record.get("is_reference")),
        "excluded": bool(record.get("excluded")),
    }


def _label(leaf: str, scope: Mapping[str, Any], prefix: str) -> str:
    if scope.get("group"):
        inside = ", ".join(f"{k}={v}" for k, v in scope["group"].items())
        return f"{leaf}[{inside}]"
    if scope.get("column"):
        return f"{leaf}[{scope['column']}]"
    return prefix


def observations(content: Mapping[str, Any], metric: str) -> list[Observation]:
    """Every value ``metric`` names in ``content`` (see the module docstring)."""
    length = re.fullmatch(r"len\((.+)\)", metric)
    path = (length.group(1) if length else metric).split(".")
    out: list[Observation] = []

    def walk(value: Any, rest: list[str], scope: dict[str, Any]) -> None:
        if isinstance(value, list) and rest and all(isinstance(v, Mapping) for v in value):
            for record in value:
                walk(record, rest, {**scope, **_record_scope(record)})
            return
        if not rest:
            if length:
                value = len(value) if isinstance(value, list | Mapping) else None
            out.append(
                Observation(
                    label=_label(path[-1], scope, metric),
                    value=value,
                    n=scope.get("n"),
                    p_values=scope.get("p_values", {}),
                    group=scope.get("group"),
                    column=scope.get("column"),
                    is_reference=scope.get("is_reference", False),
                    excluded=scope.get("excluded", False),
                )
            )
            return
        if isinstance(value, Mapping) and rest[0] in value:
            walk(value[rest[0]], rest[1:], scope)

    walk(content, path, {})
    return out
