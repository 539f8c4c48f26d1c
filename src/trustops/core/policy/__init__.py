"""Policy as code, pure: rules built from a parsed document, evaluated against evidence.

See :mod:`~trustops.core.policy.model` (the language), :mod:`~trustops.core.policy.metrics`
(what rules can measure) and :mod:`~trustops.core.policy.evaluate` (the decision).
Parsing YAML with line numbers and the regulation packs live in :mod:`trustops.policy`.
"""

from __future__ import annotations

from trustops.core.policy.evaluate import (
    Context,
    Decision,
    EvidenceItem,
    RuleOutcome,
    check_scopes,
    evaluate,
)
from trustops.core.policy.metrics import CATALOGUE, DOCUMENT_KINDS, Observation, observations
from trustops.core.policy.model import (
    OPERATORS,
    RULE_KINDS,
    SEVERITIES,
    Applicability,
    Policy,
    PolicyError,
    Rule,
    build_policy,
)

__all__ = [
    "CATALOGUE",
    "DOCUMENT_KINDS",
    "OPERATORS",
    "RULE_KINDS",
    "SEVERITIES",
    "Applicability",
    "Context",
    "Decision",
    "EvidenceItem",
    "Observation",
    "Policy",
    "PolicyError",
    "Rule",
    "RuleOutcome",
    "build_policy",
    "check_scopes",
    "evaluate",
    "observations",
]
