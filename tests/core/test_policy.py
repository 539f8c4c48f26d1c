"""The policy core as table tests: every rule kind and operator, effects, conditions, scopes.

Each case builds a policy from a plain mapping (``build_policy``), evaluates it on
hand-written evidence with a fixed context, and checks the rule's outcome, its
effect on the decision and the exact explanation text.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.core.audit import canonical_json
from trustops.core.policy import (
    Context,
    Decision,
    EvidenceItem,
    Policy,
    RuleOutcome,
    build_policy,
    evaluate,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def make_policy(*rules: dict[str, Any], **top: Any) -> Policy:
    return build_policy({"policy": "p", "rules": list(rules), **top})


def metric(
    name: str, op: str, threshold: Any, evidence: str = "fairness", **extra: Any
) -> dict[str, Any]:
    return {
        "id": "r",
        "evidence": evidence,
        "metric": name,
        "op": op,
        "threshold": threshold,
        **extra,
    }


def outcome_of(
    rule: dict[str, Any],
    evidence: list[EvidenceItem] | None = None,
    ctx: Context | None = None,
) -> RuleOutcome:
    decision = evaluate(make_policy(rule), evidence or [], ctx or Context(now=NOW))
    assert len(decision.rules) == 1
    return decision.rules[0]


def ff_row(group: dict[str, str], count: int, ratio: float | None, **more: Any) -> dict[str, Any]:
    return {
        "attributes": sorted(group),
        "group": group,
        "count": count,
        "impact_ratio": ratio,
        **more,
    }


# Four-fifths rows as assess_fairness writes them: race, sex, and an intersection.
FAIRNESS = {
    "n_rows": 300,
    "aggregates": {"demographic_parity_difference": 0.2},
    "four_fifths": [
        ff_row({"race": "A"}, 150, 1.0, fisher_p_value=None, z_p_value=None, is_reference=True),
        ff_row({"race": "B"}, 118, 0.9, fisher_p_value=0.4, z_p_value=0.38),
        ff_row({"race": "C"}, 32, 0.64, fisher_p_value=0.03, z_p_value=0.02),
        ff_row({"sex": "female"}, 140, 0.7, fisher_p_value=0.01, z_p_value=0.009),
        ff_row({"sex": "male"}, 160, 1.0, fisher_p_value=None, z_p_value=None),
        ff_row({"race": "C", "sex": "female"}, 15, 0.5, fisher_p_value=0.04, z_p_value=0.03),
    ],
}


def fairness(content: dict[str, Any] | None = None, when: str | None = None) -> EvidenceItem:
    return EvidenceItem("fairness", content if content is not None else FAIRNESS, None, when)


# --- operators ----------------------------------------------------------------------------

DPD = "aggregates.demographic_parity_difference"


@pytest.mark.parametrize(
    ("op", "threshold", "value", "outcome", "message"),
    [
        ("<", 0.1, 0.05, "pass", f"all 1 < 0.10 (closest: {DPD} = 0.05)"),
        ("<", 0.1, 0.1, "fail", f"{DPD} = 0.10 = 0.10"),
        ("<", 0.1, 0.2, "fail", f"{DPD} = 0.20 > 0.10"),
        ("<=", 0.1, 0.1, "pass", f"all 1 ≤ 0.10 (closest: {DPD} = 0.10)"),
        ("<=", 0.1, 0.25, "fail", f"{DPD} = 0.25 > 0.10"),
        (">", -0.1, 0.0, "pass", f"all 1 > -0.10 (closest: {DPD} = 0.00)"),
        (">", -0.1, -0.1, "fail", f"{DPD} = -0.10 = -0.10"),
        (">", -0.1, -0.3, "fail", f"{DPD} = -0.30 < -0.10"),
        (">=", -0.1, -0.1, "pass", f"all 1 ≥ -0.10 (closest: {DPD} = -0.10)"),
        (">=", -0.1, -0.11, "fail", f"{DPD} = -0.11 < -0.10"),
        ("==", 0, 0, "pass", "all 1 = 0"),
        ("==", 0, 0.5, "fail", f"{DPD} = 0.50 > 0"),
        ("==", 0, -0.5, "fail", f"{DPD} = -0.50 < 0"),
        ("!=", 0, 0.5, "pass", "all 1 ≠ 0"),
        ("!=", 0, 0, "fail", f"{DPD} = 0 = 0"),
        # small and large numbers: three significant figures
        ("<", 0.001, 0.0042, "fail", f"{DPD} = 0.0042 > 0.001"),
        ("<", 1, 12345.0, "fail", f"{DPD} = 1.23e+04 > 1"),
    ],
)
def test_numeric_operators(
    op: str, threshold: float, value: float, outcome: str, message: str
) -> None:
    content = {"aggregates": {"demographic_parity_difference": value}}
    result = outcome_of(metric(DPD, op, threshold), [fairness(content)])
    assert (result.outcome, result.effect) == (outcome, "pass" if outcome == "pass" else "fail")
    assert result.messages == (message,)


@pytest.mark.parametrize(
    ("op", "threshold", "value", "outcome", "message"),
    [
        ("==", False, False, "pass", "all 1 = false"),
        ("==", False, True, "fail", "dataset_drift = true ≠ false"),
        ("!=", True, False, "pass", "all 1 ≠ true"),
        ("!=", True, True, "fail", "dataset_drift = true = true"),
    ],
)
def test_boolean_operators(
    op: str, threshold: bool, value: bool, outcome: str, message: str
) -> None:
    drift = EvidenceItem("drift", {"dataset_drift": value})
    result = outcome_of(metric("dataset_drift", op, threshold, evidence="drift"), [drift])
    assert result.outcome == outcome
    assert result.messages == (message,)


@pytest.mark.parametrize(
    ("op", "threshold", "status", "outcome", "message"),
    [
        ("==", "pass", "pass", "pass", "all 1 = pass"),
        ("==", "pass", "fail", "fail", "status[income] = fail ≠ pass"),
        ("!=", "error", "pass", "pass", "all 1 ≠ error"),
        ("!=", "error", "error", "fail", "status[income] = error = error"),
    ],
)
def test_text_operators(op: str, threshold: str, status: str, outcome: str, message: str) -> None:
    quality = EvidenceItem(
        "quality", {"results": [{"rule": "max_null_rate", "column": "income", "status": status}]}
    )
    result = outcome_of(metric("results.status", op, threshold, evidence="quality"), [quality])
    assert result.outcome == outcome
    assert result.messages == (message,)


# --- every rule kind ----------------------------------------------------------------------

PERSONAL = {"ref": "train@1", "personal_data": True, "lawful_basis": "contract"}
PUBLIC = {"ref": "eval@1", "personal_data": False}


@pytest.mark.parametrize(
    ("rule", "evidence", "ctx", "outcome", "messages"),
    [
        pytest.param(
            metric("four_fifths.impact_ratio", ">=", 0.8),
            [fairness()],
            Context(),
            "fail",
            (
                "impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.03)",
                "impact_ratio[sex=female] = 0.70 < 0.80 (n=140, p=0.01)",
                "impact_ratio[race=C, sex=female] = 0.50 < 0.80 (n=15, p=0.04)",
            ),
            id="metric-fail",
        ),
        pytest.param(
            metric("four_fifths.impact_ratio", ">=", 0.5),
            [fairness()],
            Context(),
            "pass",
            ("all 6 ≥ 0.50 (closest: impact_ratio[race=C, sex=female] = 0.50)",),
            id="metric-pass",
        ),
        pytest.param(
            metric("four_fifths.impact_ratio", ">=", 0.8),
            [],
            Context(),
            "missing",
            ("no fairness evidence recorded",),
            id="metric-no-evidence",
        ),
        pytest.param(
            metric("four_fifths.impact_ratio", ">=", 0.8),
            [fairness({"four_fifths": []})],
            Context(),
            "missing",
            ("four_fifths.impact_ratio: nothing in scope in the fairness evidence",),
            id="metric-nothing-in-scope",
        ),
        pytest.param(
            metric("four_fifths.impact_ratio", ">=", 0.8),
            [fairness({"four_fifths": [ff_row({"race": "E"}, 0, None)]})],
            Context(),
            "insufficient",
            ("impact_ratio[race=E] is undefined (n=0)",),
            id="metric-undefined-value",
        ),
        pytest.param(
            {"id": "r", "kind": "evidence", "evidence": "fairness"},
            [fairness(when="2025-05-02T00:00:00Z")],
            Context(now=NOW),
            "pass",
            ("fairness evidence recorded 2025-05-02T00:00:00Z",),
            id="evidence-recorded",
        ),
        pytest.param(
            {"id": "r", "kind": "evidence", "evidence": "risk_management"},
            [fairness()],
            Context(now=NOW),
            "missing",
            ("no risk_management evidence recorded",),
            id="evidence-missing",
        ),
        pytest.param(
            {"id": "r", "kind": "field", "field": "system.owner"},
            [],
            Context(system={"name": "s", "owner": "risk-team"}),
            "pass",
            ("system.owner = risk-team",),
            id="field-present",
        ),
        pytest.param(
            {"id": "r", "kind": "field", "field": "system.owner"},
            [],
            Context(system={"name": "s", "owner": ""}),
            "fail",
            ("system.owner is missing",),
            id="field-empty",
        ),
        pytest.param(
            {"id": "r", "kind": "approvals", "count": 1},
            [],
            Context(approvals=[{"actor": "bob", "role": "reviewer"}]),
            "pass",
            ("1 of 1 approval(s)",),
            id="approvals-pass",
        ),
        pytest.param(
            {"id": "r", "kind": "approvals", "count": 1},
            [],
            Context(),
            "fail",
            ("0 of 1 approval(s)",),
            id="approvals-none",
        ),
        pytest.param(
            {"id": "r", "kind": "prohibited_inputs", "attributes": ["race", "sex"]},
            [],
            Context(model={"features": ["income", "debt_ratio"]}),
            "pass",
            ("none of 2 prohibited bases among 2 inputs",),
            id="prohibited-pass",
        ),
        pytest.param(
            {"id": "r", "kind": "prohibited_inputs", "attributes": ["race", "sex"]},
            [],
            Context(model={"features": ["income", "race"]}),
            "fail",
            ("prohibited basis used as an input: race",),
            id="prohibited-fail",
        ),
    ],
)
def test_rule_kinds(
    rule: dict[str, Any],
    evidence: list[EvidenceItem],
    ctx: Context,
    outcome: str,
    messages: tuple[str, ...],
) -> None:
    result = outcome_of(rule, evidence, ctx)
    assert result.kind == rule.get("kind", "metric")
    assert result.outcome == outcome
    assert result.messages == messages
    # block is the default severity: anything but pass (or insufficient) fails the decision
    expected = {"pass": "pass", "insufficient": "warn"}.get(outcome, "fail")
    assert result.effect == expected


# --- severity and effects ----------------------------------------------------------------

SYSTEM = {"name": "s", "risk": "minimal", "use_case": "credit", "jurisdictions": ["US"]}


def rule_with_outcome(outcome: str, **extra: Any) -> tuple[dict[str, Any], list[EvidenceItem]]:
    """A rule and evidence that end in ``outcome`` (with Context(system=SYSTEM))."""
    scope = {"attributes": ["race"], "groups": ["race=C"]}
    base = metric("four_fifths.impact_ratio", ">=", 0.8, scope=scope, **extra)
    if outcome == "pass":
        return {**base, "threshold": 0.3}, [fairness()]
    if outcome == "fail":
        return base, [fairness()]
    if outcome == "insufficient":
        return {**base, "min_n": 1000}, [fairness()]
    if outcome == "missing":  # no drift evidence, whatever other rules bring
        return {**metric("share_drifted", "<=", 0.3, evidence="drift", **extra)}, []
    assert outcome == "not_applicable"
    return {**base, "when": {"risk": ["high"]}}, [fairness()]


OUTCOMES = ("pass", "fail", "insufficient", "missing", "not_applicable")
EFFECTS = {
    "block": ("pass", "fail", "warn", "fail", "skip"),
    "warn": ("pass", "warn", "warn", "warn", "skip"),
    "info": ("pass", "info", "info", "info", "skip"),
}


@pytest.mark.parametrize(
    ("severity", "outcome", "effect"),
    [(s, o, e) for s, effects in EFFECTS.items() for o, e in zip(OUTCOMES, effects, strict=True)],
)
def test_severity_to_effect(severity: str, outcome: str, effect: str) -> None:
    rule, evidence = rule_with_outcome(outcome, severity=severity)
    result = outcome_of(rule, evidence, Context(system=SYSTEM))
    assert (result.outcome, result.effect, result.severity) == (outcome, effect, severity)


@pytest.mark.parametrize(
    ("on_insufficient", "severity", "effect"),
    [
        ("pass", "block", "pass"),
        ("pass", "warn", "pass"),
        ("pass", "info", "pass"),
        ("warn", "block", "warn"),
        ("warn", "warn", "warn"),
        ("warn", "info", "info"),  # an info rule never warns
        ("fail", "block", "fail"),
        ("fail", "warn", "warn"),  # never more than the rule's severity
        ("fail", "info", "info"),
    ],
)
def test_on_insufficient(on_insufficient: str, severity: str, effect: str) -> None:
    rule, evidence = rule_with_outcome(
        "insufficient", severity=severity, on_insufficient=on_insufficient
    )
    result = outcome_of(rule, evidence)
    assert result.outcome == "insufficient"
    assert result.effect == effect
    assert result.messages == ("impact_ratio[race=C]: insufficient data, n=32 < 1000",)


@pytest.mark.parametrize(
    ("outcomes", "verdict"),
    [
        ((("pass", "block"),), "pass"),
        ((("pass", "block"), ("fail", "info")), "pass"),
        ((("not_applicable", "block"),), "pass"),
        ((("pass", "block"), ("fail", "warn")), "warn"),
        ((("insufficient", "block"), ("pass", "block")), "warn"),
        ((("missing", "warn"), ("fail", "info")), "warn"),
        ((("fail", "warn"), ("fail", "block")), "fail"),
        ((("missing", "block"), ("pass", "warn")), "fail"),
        ((("insufficient", "block"),), "warn"),
    ],
)
def test_decision_outcome(outcomes: tuple[tuple[str, str], ...], verdict: str) -> None:
    rules, evidence = [], []
    for i, (outcome, severity) in enumerate(outcomes):
        rule, items = rule_with_outcome(outcome, severity=severity)
        rules.append({**rule, "id": f"r{i}"})
        evidence += items
    decision = evaluate(make_policy(*rules), evidence, Context(system=SYSTEM, now=NOW))
    assert [r.outcome for r in decision.rules] == [o for o, _ in outcomes]
    assert decision.outcome == verdict
    assert decision.blocked == (verdict == "fail")


# --- significance and minimum n ----------------------------------------------------------

IR = "four_fifths.impact_ratio"


def c_row(**more: Any) -> EvidenceItem:
    rows = [ff_row({"race": "A"}, 150, 1.0, is_reference=True), ff_row({"race": "C"}, 32, 0.64)]
    rows[1].update(more)
    return fairness({"four_fifths": rows})


@pytest.mark.parametrize(
    ("significance", "row", "outcome", "messages"),
    [
        pytest.param(
            {"alpha": 0.05},
            {"fisher_p_value": 0.03},
            "fail",
            ("impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.03), significant at 0.05",),
            id="significant",
        ),
        pytest.param(
            {"alpha": 0.05},
            {"fisher_p_value": 0.3},
            "pass",
            (
                "1 of 2 ≥ 0.80 (closest: impact_ratio[race=A] = 1.00)",
                "impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.3): not significant at 0.05",
            ),
            id="not-significant",
        ),
        pytest.param(
            {"alpha": 0.05},
            {"fisher_p_value": 0.05},
            "pass",
            (
                "1 of 2 ≥ 0.80 (closest: impact_ratio[race=A] = 1.00)",
                "impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.05): not significant at 0.05",
            ),
            id="p-equal-to-alpha",
        ),
        pytest.param(
            {"alpha": 0.01},
            {"fisher_p_value": 0.03},
            "pass",
            (
                "1 of 2 ≥ 0.80 (closest: impact_ratio[race=A] = 1.00)",
                "impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.03): not significant at 0.01",
            ),
            id="stricter-alpha",
        ),
        pytest.param(
            {"alpha": 0.05},
            {"fisher_p_value": None},
            "insufficient",
            ("impact_ratio[race=C] = 0.64 < 0.80 (n=32): no p-value to test significance",),
            id="no-p-value",
        ),
        pytest.param(
            {"alpha": 0.05},
            {},
            "insufficient",
            ("impact_ratio[race=C] = 0.64 < 0.80 (n=32): no p-value to test significance",),
            id="no-p-value-key",
        ),
        pytest.param(
            {"alpha": 0.05, "test": "z"},
            {"fisher_p_value": 0.3, "z_p_value": 0.004},
            "fail",
            ("impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.004), significant at 0.05",),
            id="z-test",
        ),
        pytest.param(
            {"alpha": 0.05, "test": "fisher"},
            {"fisher_p_value": 0.3, "z_p_value": 0.004},
            "pass",
            (
                "1 of 2 ≥ 0.80 (closest: impact_ratio[race=A] = 1.00)",
                "impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.3): not significant at 0.05",
            ),
            id="fisher-test",
        ),
        pytest.param(
            None,
            {"fisher_p_value": 0.3, "z_p_value": 0.004},
            "fail",
            ("impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.3)",),
            id="no-significance-shows-p",
        ),
        pytest.param(
            None,
            {"fisher_p_value": 1.23e-10},
            "fail",
            ("impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=1.2e-10)",),
            id="tiny-p",
        ),
    ],
)
def test_significance(
    significance: dict[str, Any] | None,
    row: dict[str, Any],
    outcome: str,
    messages: tuple[str, ...],
) -> None:
    extra = {"significance": significance} if significance else {}
    result = outcome_of(metric(IR, ">=", 0.8, **extra), [c_row(**row)])
    assert result.outcome == outcome
    assert result.messages == messages


def test_significance_with_a_p_value_test_on_drift_columns() -> None:
    drift = EvidenceItem(
        "drift",
        {
            "columns": [
                {"column": "income", "statistic": 0.3, "p_value": 0.001, "current_count": 900},
                {"column": "age", "statistic": 0.2, "p_value": 0.2, "current_count": 900},
            ]
        },
    )
    rule = metric(
        "columns.statistic", "<=", 0.1, evidence="drift", significance={"alpha": 0.05}
    )  # the default test for non-fairness evidence reads p_value
    result = outcome_of(rule, [drift])
    assert result.outcome == "fail"
    assert result.messages == (
        "statistic[income] = 0.30 > 0.10 (n=900, p=0.001), significant at 0.05",
    )


@pytest.mark.parametrize(
    ("min_n", "outcome", "messages"),
    [
        (32, "fail", ("impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.03)",)),
        (30, "fail", ("impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.03)",)),
        (33, "insufficient", ("impact_ratio[race=C]: insufficient data, n=32 < 33",)),
    ],
)
def test_min_n(min_n: int, outcome: str, messages: tuple[str, ...]) -> None:
    result = outcome_of(metric(IR, ">=", 0.8, min_n=min_n), [c_row(fisher_p_value=0.03)])
    assert (result.outcome, result.messages) == (outcome, messages)


def test_a_failure_beside_small_groups_fails_and_lists_both() -> None:
    rule = metric(IR, ">=", 0.8, min_n=20, scope={"attributes": ["race", "sex"]})
    result = outcome_of(rule, [fairness()])
    assert result.outcome == "fail"
    assert result.messages == (
        "impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.03)",
        "impact_ratio[sex=female] = 0.70 < 0.80 (n=140, p=0.01)",
        "impact_ratio[race=C, sex=female]: insufficient data, n=15 < 20",
    )


def test_the_eeoc_rule_fails_only_significant_shortfalls_of_large_groups() -> None:
    rule = metric(IR, ">=", 0.8, min_n=30, significance={"alpha": 0.05, "test": "fisher"})
    content = {
        "four_fifths": [
            ff_row({"race": "A"}, 150, 1.0, fisher_p_value=None, is_reference=True),
            ff_row({"race": "B"}, 118, 0.7, fisher_p_value=0.2),  # not significant
            ff_row({"race": "C"}, 32, 0.64, fisher_p_value=0.03),  # significant: fails
            ff_row({"race": "D"}, 12, 0.3, fisher_p_value=0.01),  # too small
        ]
    }
    result = outcome_of(rule, [fairness(content)])
    assert result.outcome == "fail"
    assert result.messages == (
        "impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.03), significant at 0.05",
        "impact_ratio[race=D]: insufficient data, n=12 < 30",
    )


# --- scopes ---------------------------------------------------------------------------------


def failing_labels(scope: dict[str, Any], threshold: float = 1.01) -> list[str]:
    """The labels a rule with ``scope`` looks at (a threshold every row fails)."""
    result = outcome_of(metric(IR, ">=", threshold, scope=scope), [fairness()])
    return [m.split(" = ")[0] for m in result.messages]


@pytest.mark.parametrize(
    ("scope", "labels"),
    [
        pytest.param(
            {},
            [
                "impact_ratio[race=A]",
                "impact_ratio[race=B]",
                "impact_ratio[race=C]",
                "impact_ratio[sex=female]",
                "impact_ratio[sex=male]",
                "impact_ratio[race=C, sex=female]",
            ],
            id="everything",
        ),
        pytest.param(
            {"attributes": ["sex"]},
            ["impact_ratio[sex=female]", "impact_ratio[sex=male]"],
            id="attributes",
        ),
        pytest.param(
            {"attributes": ["race", "sex"]},
            [
                "impact_ratio[race=A]",
                "impact_ratio[race=B]",
                "impact_ratio[race=C]",
                "impact_ratio[sex=female]",
                "impact_ratio[sex=male]",
                "impact_ratio[race=C, sex=female]",
            ],
            id="attributes-with-intersection",
        ),
        pytest.param(
            {"groups": ["race=C"]},
            ["impact_ratio[race=C]", "impact_ratio[race=C, sex=female]"],
            id="group-string",
        ),
        pytest.param(
            {"groups": [{"race": "C"}]},
            ["impact_ratio[race=C]", "impact_ratio[race=C, sex=female]"],
            id="group-mapping",
        ),
        pytest.param(
            {"groups": ["race=C", "sex=male"]},
            ["impact_ratio[race=C]", "impact_ratio[sex=male]", "impact_ratio[race=C, sex=female]"],
            id="two-groups",
        ),
        pytest.param(
            {"groups": ["sex=female, race=C"]},
            ["impact_ratio[race=C, sex=female]"],
            id="intersectional-string",
        ),
        pytest.param(
            {"groups": [{"race": "C", "sex": "female"}]},
            ["impact_ratio[race=C, sex=female]"],
            id="intersectional-mapping",
        ),
        pytest.param(
            {"attributes": ["race"], "groups": ["race=C"]},
            ["impact_ratio[race=C]"],
            id="attribute-and-group",
        ),
    ],
)
def test_scope(scope: dict[str, Any], labels: list[str]) -> None:
    assert failing_labels(scope) == labels


def test_group_string_and_mapping_build_the_same_rule() -> None:
    as_text = make_policy(metric(IR, ">=", 0.8, scope={"groups": ["sex=female, race=C"]}))
    as_map = make_policy(metric(IR, ">=", 0.8, scope={"groups": [{"race": "C", "sex": "female"}]}))
    assert (
        as_text.rules[0].groups == as_map.rules[0].groups == ((("race", "C"), ("sex", "female")),)
    )


DRIFT = {
    "columns": [
        {"column": "income", "drift_detected": True, "p_value": 0.001, "current_count": 500},
        {"column": "age", "drift_detected": False, "p_value": 0.4, "current_count": 500},
        {"column": "zip_score", "drift_detected": True, "p_value": 0.02, "current_count": 500},
    ],
    "drifted_columns": ["income", "zip_score"],
    "share_drifted": 2 / 3,
    "dataset_drift": True,
}


@pytest.mark.parametrize(
    ("features", "outcome", "messages"),
    [
        (
            None,
            "fail",
            (
                "drift_detected[income] = true ≠ false (n=500, p=0.001)",
                "drift_detected[zip_score] = true ≠ false (n=500, p=0.02)",
            ),
        ),
        (["income"], "fail", ("drift_detected[income] = true ≠ false (n=500, p=0.001)",)),
        (["age"], "pass", ("all 1 = false",)),
        (
            ["age", "zip_score"],
            "fail",
            ("drift_detected[zip_score] = true ≠ false (n=500, p=0.02)",),
        ),
    ],
)
def test_feature_scope_on_drift_columns(
    features: list[str] | None, outcome: str, messages: tuple[str, ...]
) -> None:
    extra = {"scope": {"features": features}} if features else {}
    rule = metric("columns.drift_detected", "==", False, evidence="drift", **extra)
    result = outcome_of(rule, [EvidenceItem("drift", DRIFT)])
    assert (result.outcome, result.messages) == (outcome, messages)


def test_ll144_excluded_rows_are_skipped() -> None:
    def row(race: str, n: int, rate: float, ratio: float | None, excluded: bool) -> dict:
        return {
            "category": {"race": race},
            "applicants": n,
            "rate": rate,
            "impact_ratio": ratio,
            "excluded": excluded,
        }

    audit = {
        "race": {
            "rows": [
                row("Hispanic or Latino", 28, 0.643, 1.0, False),
                row("White", 40, 0.375, 0.58, False),
                row("NHPI", 2, 0.0, 0.0, True),  # excluded: never compared
                row("Other", 1, 0.0, None, True),
            ],
            "unknown": 3,
        }
    }
    rule = metric("race.rows.impact_ratio", ">=", 0.5, evidence="ll144")
    result = outcome_of(rule, [EvidenceItem("ll144", audit)])
    assert result.outcome == "pass"
    assert result.messages == ("all 2 ≥ 0.50 (closest: impact_ratio[race=White] = 0.58)",)
    strict = outcome_of({**rule, "threshold": 0.8}, [EvidenceItem("ll144", audit)])
    assert strict.messages == ("impact_ratio[race=White] = 0.58 < 0.80 (n=40)",)
    unknown = outcome_of(
        metric("race.unknown", "<=", 0, evidence="ll144"), [EvidenceItem("ll144", audit)]
    )
    assert unknown.messages == ("race.unknown = 3 > 0",)


@pytest.mark.parametrize(
    ("rule", "item", "outcome", "messages"),
    [
        (
            metric("len(drifted_columns)", "<=", 0, evidence="drift"),
            EvidenceItem("drift", DRIFT),
            "fail",
            ("len(drifted_columns) = 2 > 0",),
        ),
        (
            metric("len(drifted_columns)", "<=", 2, evidence="drift"),
            EvidenceItem("drift", DRIFT),
            "pass",
            ("all 1 ≤ 2 (closest: len(drifted_columns) = 2)",),
        ),
        (
            metric("len(pii_columns)", "==", 0, evidence="pii"),
            EvidenceItem("pii", {"pii_columns": [], "protected_columns": ["sex"]}),
            "pass",
            ("all 1 = 0",),
        ),
        (
            metric("len(protected_columns)", "==", 0, evidence="pii"),
            EvidenceItem("pii", {"pii_columns": [], "protected_columns": ["sex", "race"]}),
            "fail",
            ("len(protected_columns) = 2 > 0",),
        ),
    ],
)
def test_len_metrics(
    rule: dict[str, Any], item: EvidenceItem, outcome: str, messages: tuple[str, ...]
) -> None:
    result = outcome_of(rule, [item])
    assert (result.outcome, result.messages) == (outcome, messages)


def test_quality_counts_name_the_report_s_own_keys() -> None:
    counts = {"total": 9, "pass": 7, "fail": 1, "error": 1, "not_evaluable": 0,
              "blocking": 2, "warnings": 0}  # fmt: skip
    item = EvidenceItem("quality", {"passed": False, "counts": counts})
    result = outcome_of(metric("counts.blocking", "==", 0, evidence="quality"), [item])
    assert result.messages == ("counts.blocking = 2 > 0",)
    passed = outcome_of(metric("passed", "==", True, evidence="quality"), [item])
    assert passed.messages == ("passed = false ≠ true",)


# --- evidence freshness ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created_at", "now", "outcome", "message"),
    [
        ("2025-05-02T00:00:00Z", NOW, "pass", "fairness evidence is 30 days old (max 90)"),
        ("2025-03-03T00:00:00.000000Z", NOW, "pass", "fairness evidence is 90 days old (max 90)"),
        ("2025-03-02T23:00:00+00:00", NOW, "fail", "fairness evidence is 90 days old (max 90)"),
        ("2025-01-01T00:00:00Z", NOW, "fail", "fairness evidence is 151 days old (max 90)"),
        ("2025-05-02T00:00:00", NOW, "pass", "fairness evidence is 30 days old (max 90)"),
        (
            "2025-05-02T00:00:00Z",
            datetime(2025, 6, 1),
            "pass",
            "fairness evidence is 30 days old (max 90)",
        ),
        ("2025-06-01T00:00:01Z", NOW, "pass", "fairness evidence is 0 days old (max 90)"),
        (None, NOW, "insufficient", "no recording time or evaluation time to judge freshness"),
        ("yesterday", NOW, "insufficient",
         "no recording time or evaluation time to judge freshness"),
        ("2025-05-02T00:00:00Z", None, "insufficient",
         "no recording time or evaluation time to judge freshness"),
    ],
)  # fmt: skip
def test_freshness(
    created_at: str | None, now: datetime | None, outcome: str, message: str
) -> None:
    rule = {"id": "r", "kind": "evidence", "evidence": "fairness", "max_age_days": 90}
    result = outcome_of(rule, [fairness(when=created_at)], Context(now=now))
    assert (result.outcome, result.messages) == (outcome, (message,))
    assert result.evidence_hash == fairness().digest


def test_freshness_without_evidence_is_missing() -> None:
    rule = {"id": "r", "kind": "evidence", "evidence": "fairness", "max_age_days": 90}
    result = outcome_of(rule, [EvidenceItem("drift", DRIFT, None, "2025-05-30T00:00:00Z")])
    assert (result.outcome, result.effect) == ("missing", "fail")
    assert result.messages == ("no fairness evidence recorded",)
    assert result.evidence_hash is None


# --- field rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "ctx", "outcome", "message"),
    [
        ("system.owner", Context(system={"owner": "risk"}), "pass", "system.owner = risk"),
        ("system.owner", Context(system={"owner": None}), "fail", "system.owner is missing"),
        ("system.owner", Context(system={}), "fail", "system.owner is missing"),
        ("system.owner", Context(), "missing", "no system to check system.owner"),
        ("system.jurisdictions", Context(system={"jurisdictions": []}), "fail",
         "system.jurisdictions is missing"),
        ("model.metrics", Context(model={"metrics": {}}), "fail", "model.metrics is missing"),
        ("model.metrics.auc", Context(model={"metrics": {"auc": 0.81}}), "pass",
         "model.metrics.auc = 0.81"),
        ("model.metrics.auc", Context(model={"metrics": {"f1": 0.7}}), "fail",
         "model.metrics.auc is missing"),
        ("model.metrics.auc", Context(model={"metrics": 3}), "fail",
         "model.metrics.auc is missing"),
        ("model.parameters.calibrated", Context(model={"parameters": {"calibrated": False}}),
         "pass", "model.parameters.calibrated = false"),
        ("model.owner", Context(), "missing", "no model to check model.owner"),
        ("datasets.source", Context(datasets=[{"ref": "a@1", "source": "s3://x"}]), "pass",
         "datasets.source recorded for 1 dataset(s)"),
        ("datasets.source", Context(datasets=[{"ref": "a@1", "source": "s3://x"},
                                              {"ref": "b@2", "source": None}]),
         "fail", "datasets.source is missing for b@2"),
        ("datasets.source", Context(), "missing", "no datasets to check"),
        ("datasets[personal_data].lawful_basis", Context(datasets=[PERSONAL, PUBLIC]), "pass",
         "datasets[personal_data].lawful_basis recorded for 1 dataset(s)"),
        ("datasets[personal_data].lawful_basis",
         Context(datasets=[{**PERSONAL, "lawful_basis": None}, PUBLIC,
                           {"name": "raw", "personal_data": True}]),
         "fail", "datasets[personal_data].lawful_basis is missing for train@1, raw"),
        ("datasets[personal_data].lawful_basis", Context(datasets=[PUBLIC]), "pass",
         "no datasets with personal_data"),
        ("datasets[personal_data].lawful_basis", Context(), "pass",
         "no datasets with personal_data"),
    ],
)  # fmt: skip
def test_field_rules(field: str, ctx: Context, outcome: str, message: str) -> None:
    result = outcome_of({"id": "r", "kind": "field", "field": field}, [], ctx)
    assert (result.outcome, result.messages) == (outcome, (message,))
    assert result.evidence_hash is None


# --- approvals ------------------------------------------------------------------------------

BOB = {"actor": "bob", "role": "reviewer"}
CAROL = {"actor": "carol", "role": "compliance_officer"}
DAN = {"actor": "dan", "role": "viewer"}


@pytest.mark.parametrize(
    ("count", "roles", "approvals", "outcome", "message"),
    [
        (1, None, [DAN], "pass", "1 of 1 approval(s)"),
        (2, None, [BOB, BOB], "fail", "1 of 2 approval(s)"),  # the same person twice is one
        (2, None, [BOB, DAN], "pass", "2 of 2 approval(s)"),
        (2, ["reviewer", "compliance_officer"], [BOB, DAN], "fail",
         "1 of 2 approval(s) by reviewer, compliance_officer"),
        (2, ["reviewer", "compliance_officer"], [BOB, CAROL, DAN], "pass",
         "2 of 2 approval(s) by reviewer, compliance_officer"),
        (1, ["reviewer"], [{"role": "reviewer"}], "fail", "0 of 1 approval(s) by reviewer"),
        (1, ["reviewer"], [], "fail", "0 of 1 approval(s) by reviewer"),
    ],
)  # fmt: skip
def test_approvals(
    count: int, roles: list[str] | None, approvals: list[dict], outcome: str, message: str
) -> None:
    rule: dict[str, Any] = {"id": "r", "kind": "approvals", "count": count}
    if roles:
        rule["roles"] = roles
    result = outcome_of(rule, [], Context(approvals=approvals))
    assert (result.outcome, result.messages) == (outcome, (message,))


# --- prohibited inputs ----------------------------------------------------------------------

ECOA = ["race", "sex", "age", "marital_status", "national origin"]


@pytest.mark.parametrize(
    ("features", "allowed", "outcome", "message"),
    [
        (["income", "debt_ratio"], None, "pass", "none of 5 prohibited bases among 2 inputs"),
        (["income", "race_code"], None, "fail", "prohibited basis used as an input: race_code"),
        (["raceCode", "Sex"], None, "fail", "prohibited basis used as an input: raceCode, Sex"),
        (["applicant-age", "age_bucket"], None, "fail",
         "prohibited basis used as an input: applicant-age, age_bucket"),
        (["trace_id", "usage", "sextant", "page_views", "racer"], None, "pass",
         "none of 5 prohibited bases among 5 inputs"),
        (["applicant_marital_status"], None, "fail",
         "prohibited basis used as an input: applicant_marital_status"),
        (["marital", "status"], None, "pass", "none of 5 prohibited bases among 2 inputs"),
        (["national_origin"], None, "fail", "prohibited basis used as an input: national_origin"),
        (["age", "income"], ["age"], "pass", "none of 4 prohibited bases among 2 inputs"),
        (["AGE_YEARS", "race"], ["AGE"], "fail", "prohibited basis used as an input: race"),
        (["national_origin"], ["national origin"], "pass",
         "none of 4 prohibited bases among 1 inputs"),
        ([], None, "pass", "none of 5 prohibited bases among 0 inputs"),
    ],
)  # fmt: skip
def test_prohibited_inputs(
    features: list[str], allowed: list[str] | None, outcome: str, message: str
) -> None:
    rule: dict[str, Any] = {"id": "r", "kind": "prohibited_inputs", "attributes": ECOA}
    if allowed:
        rule["allowed"] = allowed
    result = outcome_of(rule, [], Context(model={"features": features}))
    assert (result.outcome, result.messages) == (outcome, (message,))


@pytest.mark.parametrize("model", [None, {"ref": "m@1"}, {"features": "race"}])
def test_prohibited_inputs_without_features_is_missing(model: dict | None) -> None:
    rule = {"id": "r", "kind": "prohibited_inputs", "attributes": ["race"]}
    result = outcome_of(rule, [], Context(model=model))
    assert (result.outcome, result.effect) == ("missing", "fail")
    assert result.messages == ("the model version records no input features (parameters.features)",)


# --- applicability --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("applies_to", "system", "reason"),
    [
        ({"risk": ["high"]}, {"risk": "minimal"}, "risk is 'minimal', the rule is for high"),
        ({"risk": ["high", "limited"]}, None, "risk is None, the rule is for high, limited"),
        ({"use_case": ["credit"]}, {"use_case": "hiring"},
         "use case is 'hiring', the rule is for credit"),
        ({"jurisdiction": ["EU"]}, {"jurisdictions": ["US", "US-NY"]}, "not used in EU"),
        ({"jurisdiction": ["EU"]}, {}, "not used in EU"),
    ],
)  # fmt: skip
def test_policy_not_applicable(
    applies_to: dict[str, Any], system: dict[str, Any] | None, reason: str
) -> None:
    policy = make_policy(metric(IR, ">=", 0.8), applies_to=applies_to)
    decision = evaluate(policy, [fairness()], Context(system=system, now=NOW, subject="m"))
    assert decision.applicable is False
    assert decision.reason == reason
    assert (decision.outcome, decision.rules, decision.evidence_hashes) == ("pass", (), ())
    assert decision.to_dict()["applicable"] is False


@pytest.mark.parametrize(
    "system",
    [
        {"risk": "high", "use_case": "credit", "jurisdictions": ["EU", "US"]},
        {"risk": "high", "use_case": "credit", "jurisdictions": ["EU"]},
    ],
)
def test_policy_applicable(system: dict[str, Any]) -> None:
    applies_to = {"risk": ["high"], "use_case": ["credit"], "jurisdiction": ["EU"]}
    policy = make_policy(metric(IR, ">=", 0.8), applies_to=applies_to)
    decision = evaluate(policy, [fairness()], Context(system=system))
    assert decision.applicable and decision.reason is None
    assert decision.outcome == "fail"


def test_rule_when_not_applicable_is_skipped() -> None:
    policy = make_policy(
        {**metric(IR, ">=", 0.8), "id": "eu-only", "when": {"jurisdiction": ["EU"]}},
        {**metric(IR, ">=", 0.3), "id": "everywhere"},
    )
    decision = evaluate(policy, [fairness()], Context(system={"jurisdictions": ["US"]}))
    eu, everywhere = decision.rules
    assert (eu.outcome, eu.effect, eu.messages) == ("not_applicable", "skip", ("not used in EU",))
    assert eu.evidence_hash is None
    assert everywhere.outcome == "pass"
    assert decision.outcome == "pass"
    assert decision.evidence_hashes == (fairness().digest,)


# --- which evidence ----------------------------------------------------------------------------


def ir_content(ratio: float) -> dict[str, Any]:
    return {"four_fifths": [ff_row({"race": "C"}, 40, ratio)]}


@pytest.mark.parametrize(
    ("items", "used"),
    [
        pytest.param(
            [("2025-01-01T00:00:00Z", 0.5), ("2025-02-01T00:00:00Z", 0.9)], 1, id="newest-last"
        ),
        pytest.param(
            [("2025-02-01T00:00:00Z", 0.9), ("2025-01-01T00:00:00Z", 0.5)], 0, id="newest-first"
        ),
        pytest.param([(None, 0.5), (None, 0.9)], 1, id="no-times-the-later"),
        pytest.param([("2025-01-01T00:00:00Z", 0.9), (None, 0.5)], 0, id="a-time-beats-none"),
        pytest.param(
            [("2025-01-01T00:00:00Z", 0.5), ("2025-01-01T00:00:00Z", 0.9)], 1, id="tie-later"
        ),
        pytest.param(
            # the same instant written two ways, then an hour later in another zone
            [("2025-01-01T12:00:00+02:00", 0.9), ("2025-01-01T11:00:00Z", 0.5)],
            1,
            id="time-zones",
        ),
        pytest.param(
            [("2025-01-01T10:30:00+00:00", 0.9), ("2025-01-01T10:00:00.500000Z", 0.5)],
            0,
            id="formats",
        ),
    ],
)
def test_the_newest_evidence_of_a_kind_is_used(
    items: list[tuple[str | None, float]], used: int
) -> None:
    evidence = [fairness(ir_content(r), when=t) for t, r in items]
    evidence.insert(1, EvidenceItem("drift", DRIFT, None, "2030-01-01T00:00:00Z"))
    chosen = evidence[used if used == 0 else used + 1]
    result = outcome_of(metric(IR, ">=", 0.8), evidence)
    assert result.evidence_hash == chosen.digest
    ratio = chosen.content["four_fifths"][0]["impact_ratio"]
    assert result.outcome == ("pass" if ratio >= 0.8 else "fail")


# --- the decision record ---------------------------------------------------------------------


def test_decision_to_dict_carries_the_policy_and_evidence_hashes() -> None:
    document = {
        "policy": "credit",
        "version": 3,
        "rules": [
            metric(IR, ">=", 0.8),
            {"id": "drift", "kind": "evidence", "evidence": "drift"},
            {"id": "owner", "kind": "field", "field": "system.owner"},
        ],
    }
    policy = build_policy(document)
    assert policy.hash == hashlib.sha256(canonical_json(document)).hexdigest()
    recorded = EvidenceItem("drift", DRIFT, "ab" * 32, "2025-05-01T00:00:00Z")
    evidence = [fairness(), recorded]
    ctx = Context(system={"owner": "risk"}, now=NOW, subject="model:s/m@1")
    decision = evaluate(policy, evidence, ctx)
    d = decision.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["kind"] == "policy_decision"
    assert (d["policy"], d["version"], d["policy_hash"]) == ("credit", "3", policy.hash)
    assert d["subject"] == "model:s/m@1"
    assert d["evaluated_at"] == "2025-06-01T00:00:00+00:00"
    content_hash = hashlib.sha256(canonical_json(FAIRNESS)).hexdigest()
    assert d["evidence_hashes"] == sorted([content_hash, "ab" * 32])  # the recorded hash wins
    assert [r["id"] for r in d["rules"]] == ["r", "drift", "owner"]
    assert [r["evidence_hash"] for r in d["rules"]] == [content_hash, "ab" * 32, None]
    assert d["rules"][0]["messages"][0] == "impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.03)"
    assert set(d["rules"][0]) == {
        "id", "kind", "severity", "outcome", "effect", "messages", "evidence_hash", "description"
    }  # fmt: skip


def test_evidence_not_used_is_not_in_the_decision() -> None:
    decision = evaluate(
        make_policy(metric(IR, ">=", 0.8)), [fairness(), EvidenceItem("drift", DRIFT)], Context()
    )
    assert decision.evidence_hashes == (fairness().digest,)


def test_the_policy_hash_ignores_key_order_but_not_content() -> None:
    rule = metric(IR, ">=", 0.8)
    a = build_policy({"policy": "p", "rules": [rule]})
    b = build_policy({"rules": [dict(reversed(list(rule.items())))], "policy": "p"})
    c = build_policy({"policy": "p", "rules": [{**rule, "threshold": 0.75}]})
    assert a.hash == b.hash != c.hash


# --- determinism -----------------------------------------------------------------------------

EVERYTHING = make_policy(
    {**metric(IR, ">=", 0.8, min_n=20, significance={"alpha": 0.05}), "id": "ir"},
    {**metric("columns.drift_detected", "==", False, evidence="drift"), "id": "drift"},
    {"id": "fresh", "kind": "evidence", "evidence": "fairness", "max_age_days": 90},
    {"id": "owner", "kind": "field", "field": "system.owner", "severity": "warn"},
    {"id": "two", "kind": "approvals", "count": 2, "roles": ["reviewer"]},
    {"id": "inputs", "kind": "prohibited_inputs", "attributes": ["race"], "severity": "info"},
)
CTX = Context(
    system={"owner": "risk"},
    model={"features": ["income", "race_code"]},
    approvals=[BOB],
    now=NOW,
    subject="model:s/m@1",
)


def test_same_inputs_same_decision() -> None:
    evidence = [fairness(when="2025-05-01T00:00:00Z"), EvidenceItem("drift", DRIFT)]
    first = evaluate(EVERYTHING, evidence, CTX)
    again = evaluate(build_policy(EVERYTHING.source), list(evidence), CTX)
    assert first == again
    assert isinstance(first, Decision)
    assert json.dumps(first.to_dict()) == json.dumps(again.to_dict())
    assert [(r.id, r.outcome, r.effect) for r in first.rules] == [
        ("ir", "fail", "fail"),
        ("drift", "fail", "fail"),
        ("fresh", "pass", "pass"),
        ("owner", "pass", "pass"),
        ("two", "fail", "fail"),
        ("inputs", "fail", "info"),
    ]


KINDS = st.sampled_from(["fairness", "drift"])
RATIOS = st.floats(min_value=0.0, max_value=2.0, allow_nan=False)


@given(
    items=st.lists(st.tuples(KINDS, RATIOS, st.booleans()), min_size=1, max_size=8),
    times=st.lists(
        st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2025, 5, 31)),
        min_size=8,
        max_size=8,
        unique=True,
    ),
    data=st.data(),
)
def test_evidence_order_does_not_change_the_decision(
    items: list[tuple[str, float, bool]], times: list[datetime], data: st.DataObject
) -> None:
    evidence = []
    for (kind, ratio, drifted), when in zip(items, times, strict=False):
        stamp = when.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if kind == "fairness":
            content: dict[str, Any] = {
                "four_fifths": [ff_row({"race": "C"}, 40, ratio, fisher_p_value=0.01)]
            }
        else:
            content = {"columns": [{"column": "income", "drift_detected": drifted}]}
        evidence.append(EvidenceItem(kind, content, None, stamp))
    shuffled = data.draw(st.permutations(evidence))
    assert evaluate(EVERYTHING, shuffled, CTX) == evaluate(EVERYTHING, evidence, CTX)
