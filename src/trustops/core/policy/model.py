"""Policies as data: frozen rules built from a plain mapping, checked when they are built.

A policy (written in YAML; see ``docs/policies.md`` and the JSON Schema
``trustops/policy/policy.schema.json``)::

    policy: credit-fairness
    version: 3
    applies_to: {risk: [high], use_case: [credit]}
    approvals: {reviewer: 1, compliance_officer: 1}   # what the promotion gate asks for
    rules:
      - id: four-fifths
        metric: four_fifths.impact_ratio      # kind "metric" is the default
        evidence: fairness
        scope: {attributes: [race, sex]}
        op: ">="
        threshold: 0.8
        min_n: 30
        significance: {alpha: 0.05, test: fisher}
        severity: block
      - id: fairness-is-fresh
        kind: evidence
        evidence: fairness
        max_age_days: 90

Rule kinds: ``metric`` (compare an evidence metric with a threshold),
``evidence`` (an evidence kind is recorded, and fresh), ``field`` (a field of
the system, model or datasets is present), ``approvals`` (N approvals by
roles), ``prohibited_inputs`` (none of these attributes is a model input).
The optional ``approvals:`` section says how many people of each deciding role
(reviewer, compliance_officer) must approve a promotion to production when the
policy gates a system (:mod:`trustops.core.approvals`).
Every error names the path of the offending key (``rules[2].threshold``) so
the loader can turn it into a file, line and column.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trustops.core.audit import canonical_json
from trustops.core.policy.metrics import (
    BOOL,
    CATALOGUE,
    DOCUMENT_KINDS,
    TEXT,
    known_metrics,
    metric_range,
)
from trustops.errors import InputError

__all__ = [
    "OPERATORS",
    "RULE_KINDS",
    "SEVERITIES",
    "Applicability",
    "Policy",
    "PolicyError",
    "Rule",
    "build_policy",
]

SEVERITIES = ("block", "warn", "info")
OPERATORS = ("<", "<=", ">", ">=", "==", "!=")
RULE_KINDS = ("metric", "evidence", "field", "approvals", "prohibited_inputs")
RISKS = ("prohibited", "high", "limited", "minimal")
TESTS = {"fisher": "fisher_p_value", "z": "z_p_value", "p": "p_value"}
ROLES = ("viewer", "data_scientist", "reviewer", "compliance_officer", "admin")
DECIDING_ROLES = ("reviewer", "compliance_officer")  # who may approve (trustops.core.access)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_FIELD = re.compile(r"(system|model|datasets(\[[a-z_]+\])?)(\.[A-Za-z0-9_]+)+")


class PolicyError(InputError):
    """A policy that cannot be used; ``path`` is where in the document the problem is."""

    def __init__(self, message: str, path: Sequence[str | int] = (), *, hint: str | None = None):
        where = _path_text(path)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.path = tuple(path)
        self.bare = message


def _path_text(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True)
class Applicability:
    """Which AI systems a policy or rule applies to (empty: all)."""

    risk: tuple[str, ...] = ()
    use_case: tuple[str, ...] = ()
    jurisdiction: tuple[str, ...] = ()

    def check(self, system: Mapping[str, Any] | None) -> str | None:
        """None if it applies to ``system``, else why not."""
        if not (self.risk or self.use_case or self.jurisdiction):
            return None
        system = system or {}
        if self.risk and system.get("risk") not in self.risk:
            return f"risk is {system.get('risk')!r}, the rule is for {', '.join(self.risk)}"
        if self.use_case and system.get("use_case") not in self.use_case:
            return (
                f"use case is {system.get('use_case')!r}, the rule is for "
                f"{', '.join(self.use_case)}"
            )
        places = set(system.get("jurisdictions") or ())
        if self.jurisdiction and not places & set(self.jurisdiction):
            return f"not used in {', '.join(self.jurisdiction)}"
        return None

    def to_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class Rule:
    """One rule; which fields matter depends on ``kind`` (see the module docstring)."""

    id: str
    kind: str
    severity: str = "block"
    description: str = ""
    when: Applicability = field(default_factory=Applicability)
    evidence: str | None = None
    metric: str | None = None
    op: str | None = None
    threshold: Any = None
    attributes: tuple[str, ...] = ()
    groups: tuple[tuple[tuple[str, str], ...], ...] = ()
    features: tuple[str, ...] = ()
    min_n: int | None = None
    alpha: float | None = None
    p_value: str | None = None
    on_insufficient: str = "warn"
    max_age_days: float | None = None
    field_path: str | None = None
    count: int | None = None
    roles: tuple[str, ...] = ()
    prohibited: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    path: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class Policy:
    """A named, versioned set of rules; ``hash`` is SHA-256 of its canonical JSON."""

    name: str
    version: str
    description: str
    applies_to: Applicability
    rules: tuple[Rule, ...]
    source: Mapping[str, Any]
    hash: str
    approvals: Mapping[str, int] | None = None  # role -> approvals the promotion gate needs

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


def _get(d: Mapping[str, Any], key: str, types: Any, path: tuple, required: bool = False) -> Any:
    if key not in d or d[key] is None:
        if required:
            raise PolicyError(f"'{key}' is required", path)
        return None
    value = d[key]
    if types is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, types) or (isinstance(value, bool) and types in (int, float)):
        names = (
            types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
        )
        raise PolicyError(f"must be {names}, not {type(value).__name__}", (*path, key))
    return value


def _strings(d: Mapping[str, Any], key: str, path: tuple, choices: Sequence[str] = ()) -> tuple:
    value = d.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError("must be a list of strings", (*path, key))
    for i, v in enumerate(value):
        if choices and v not in choices:
            raise PolicyError(
                f"unknown value {v!r}", (*path, key, i), hint=f"one of {', '.join(choices)}"
            )
    return tuple(value)


def _known_keys(d: Mapping[str, Any], allowed: set[str], path: tuple) -> None:
    for key in d:
        if key not in allowed:
            raise PolicyError(
                f"unknown key {key!r}", (*path, key), hint=f"known: {', '.join(sorted(allowed))}"
            )


def _applicability(d: Any, path: tuple) -> Applicability:
    if d is None:
        return Applicability()
    if not isinstance(d, Mapping):
        raise PolicyError("must be a mapping of risk / use_case / jurisdiction", path)
    _known_keys(d, {"risk", "use_case", "jurisdiction"}, path)
    return Applicability(
        risk=_strings(d, "risk", path, RISKS),
        use_case=_strings(d, "use_case", path),
        jurisdiction=_strings(d, "jurisdiction", path),
    )


_COMMON = {"id", "kind", "severity", "description", "when"}
_KEYS = {
    "metric": _COMMON
    | {
        "evidence",
        "metric",
        "op",
        "threshold",
        "scope",
        "min_n",
        "significance",
        "on_insufficient",
    },
    "evidence": _COMMON | {"evidence", "max_age_days"},
    "field": _COMMON | {"field"},
    "approvals": _COMMON | {"count", "roles"},
    "prohibited_inputs": _COMMON | {"attributes", "allowed"},
}


def _group_selector(value: Any, path: tuple) -> tuple[tuple[str, str], ...]:
    if isinstance(value, str):
        pairs = [p.strip() for p in value.split(",")]
        if not all("=" in p for p in pairs):
            raise PolicyError(f"a group is 'attribute=value', not {value!r}", path)
        return tuple(sorted(tuple(p.split("=", 1)) for p in pairs))  # type: ignore[misc]
    if isinstance(value, Mapping) and value:
        return tuple(sorted((str(k), str(v)) for k, v in value.items()))
    raise PolicyError("a group is 'attribute=value' or a mapping attribute: value", path)


def _metric_rule(d: Mapping[str, Any], base: dict[str, Any], path: tuple) -> Rule:
    kind = _get(d, "evidence", str, path, required=True)
    if kind not in CATALOGUE:
        raise PolicyError(
            f"unknown evidence kind {kind!r} for a metric rule",
            (*path, "evidence"),
            hint=f"kinds with metrics: {', '.join(CATALOGUE)}",
        )
    metric = _get(d, "metric", str, path, required=True)
    try:
        rng = metric_range(kind, metric)
    except KeyError:
        raise PolicyError(
            f"unknown {kind} metric {metric!r}",
            (*path, "metric"),
            hint=f"known: {', '.join(known_metrics(kind)[:12])}, ...",
        ) from None
    op = _get(d, "op", str, path, required=True)
    if op not in OPERATORS:
        raise PolicyError(f"unknown operator {op!r}", (*path, "op"), hint=" ".join(OPERATORS))
    if "threshold" not in d:
        raise PolicyError("'threshold' is required", path)
    threshold = d["threshold"]
    if rng in (BOOL, TEXT):
        wanted, what = (bool, "true/false") if rng == BOOL else (str, "a string")
        nature = "true or false" if rng == BOOL else "text"
        if op not in ("==", "!=") or not isinstance(threshold, wanted):
            raise PolicyError(
                f"{metric} is {nature}: use op == or != with {what}",
                (*path, "op" if op not in ("==", "!=") else "threshold"),
            )
    else:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise PolicyError(f"must be a number, not {threshold!r}", (*path, "threshold"))
        low, high = rng
        if not math.isfinite(threshold) or not low <= threshold <= high:
            raise PolicyError(
                f"threshold {threshold} is impossible: {metric} lies in [{low}, {high}]",
                (*path, "threshold"),
            )
    scope = d.get("scope") or {}
    spath = (*path, "scope")
    if not isinstance(scope, Mapping):
        raise PolicyError("must be a mapping of attributes / groups / features", spath)
    _known_keys(scope, {"attributes", "groups", "features"}, spath)
    raw_groups = scope.get("groups") or []
    if not isinstance(raw_groups, list):
        raise PolicyError("must be a list", (*spath, "groups"))
    groups = tuple(_group_selector(g, (*spath, "groups", i)) for i, g in enumerate(raw_groups))
    min_n = _get(d, "min_n", int, path)
    if min_n is not None and min_n < 1:
        raise PolicyError("must be at least 1", (*path, "min_n"))
    alpha = p_field = None
    sig = d.get("significance")
    if sig is not None:
        sigpath = (*path, "significance")
        if not isinstance(sig, Mapping):
            raise PolicyError("must be a mapping {alpha, test}", sigpath)
        _known_keys(sig, {"alpha", "test"}, sigpath)
        alpha = _get(sig, "alpha", float, sigpath, required=True)
        if not 0 < alpha < 1:
            raise PolicyError(f"alpha must be between 0 and 1, not {alpha}", (*sigpath, "alpha"))
        test = _get(sig, "test", str, sigpath) or ("fisher" if kind == "fairness" else "p")
        if test not in TESTS:
            raise PolicyError(f"unknown test {test!r}", (*sigpath, "test"), hint=" ".join(TESTS))
        p_field = TESTS[test]
    on_insufficient = _get(d, "on_insufficient", str, path) or "warn"
    if on_insufficient not in ("pass", "warn", "fail"):
        raise PolicyError("must be pass, warn or fail", (*path, "on_insufficient"))
    return Rule(
        **base,
        evidence=kind,
        metric=metric,
        op=op,
        threshold=threshold,
        attributes=_strings(scope, "attributes", spath),
        groups=groups,
        features=_strings(scope, "features", spath),
        min_n=min_n,
        alpha=alpha,
        p_value=p_field,
        on_insufficient=on_insufficient,
    )


def _rule(d: Any, path: tuple, seen: set[str]) -> Rule:
    if not isinstance(d, Mapping):
        raise PolicyError("a rule must be a mapping", path)
    kind = _get(d, "kind", str, path) or "metric"
    if kind not in RULE_KINDS:
        raise PolicyError(f"unknown rule kind {kind!r}", (*path, "kind"), hint=" ".join(RULE_KINDS))
    _known_keys(d, _KEYS[kind], path)
    rule_id = _get(d, "id", str, path, required=True)
    if not _ID.fullmatch(rule_id):
        raise PolicyError(f"invalid rule id {rule_id!r}", (*path, "id"))
    if rule_id in seen:
        raise PolicyError(f"duplicate rule id {rule_id!r}", (*path, "id"))
    seen.add(rule_id)
    severity = _get(d, "severity", str, path) or "block"
    if severity not in SEVERITIES:
        raise PolicyError(
            f"unknown severity {severity!r}", (*path, "severity"), hint=" ".join(SEVERITIES)
        )
    base: dict[str, Any] = {
        "id": rule_id,
        "kind": kind,
        "severity": severity,
        "description": _get(d, "description", str, path) or "",
        "when": _applicability(d.get("when"), (*path, "when")),
        "path": path,
    }
    if kind == "metric":
        return _metric_rule(d, base, path)
    if kind == "evidence":
        evidence = _get(d, "evidence", str, path, required=True)
        if evidence not in CATALOGUE and evidence not in DOCUMENT_KINDS:
            raise PolicyError(
                f"unknown evidence kind {evidence!r}",
                (*path, "evidence"),
                hint=f"known: {', '.join([*CATALOGUE, *DOCUMENT_KINDS])}",
            )
        age = _get(d, "max_age_days", float, path)
        if age is not None and age <= 0:
            raise PolicyError("must be positive", (*path, "max_age_days"))
        return Rule(**base, evidence=evidence, max_age_days=age)
    if kind == "field":
        name = _get(d, "field", str, path, required=True)
        if not _FIELD.fullmatch(name):
            raise PolicyError(
                f"unknown field {name!r}",
                (*path, "field"),
                hint="system.NAME, model.NAME[.KEY], datasets.NAME or datasets[FLAG].NAME",
            )
        return Rule(**base, field_path=name)
    if kind == "approvals":
        count = _get(d, "count", int, path, required=True)
        if count < 1:
            raise PolicyError("must be at least 1", (*path, "count"))
        return Rule(**base, count=count, roles=_strings(d, "roles", path, ROLES))
    prohibited = _strings(d, "attributes", path)
    if not prohibited:
        raise PolicyError("'attributes' is required", path)
    return Rule(**base, prohibited=prohibited, allowed=_strings(d, "allowed", path))


def build_policy(document: Any) -> Policy:
    """A :class:`Policy` from a parsed document (PolicyError naming the path if it is not one)."""
    if not isinstance(document, Mapping):
        raise PolicyError("a policy must be a mapping with 'policy' and 'rules'")
    _known_keys(
        document, {"policy", "version", "description", "applies_to", "approvals", "rules"}, ()
    )
    name = _get(document, "policy", str, (), required=True)
    version = document.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int | str):
        raise PolicyError("must be a number or a string", ("version",))
    rules = document.get("rules")
    if not isinstance(rules, list) or not rules:
        raise PolicyError("'rules' must be a non-empty list", ("rules",))
    seen: set[str] = set()
    built = tuple(_rule(r, ("rules", i), seen) for i, r in enumerate(rules))
    try:
        digest = hashlib.sha256(canonical_json(document)).hexdigest()
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"the policy holds a value JSON cannot carry: {exc}") from None
    return Policy(
        name=name,
        version=str(version),
        description=_get(document, "description", str, ()) or "",
        applies_to=_applicability(document.get("applies_to"), ("applies_to",)),
        rules=built,
        source=document,
        hash=digest,
        approvals=_approvals_section(document.get("approvals")),
    )


def _approvals_section(value: Any) -> dict[str, int] | None:
    """``approvals: {reviewer: 1, compliance_officer: 1}``: people per deciding role."""
    if value is None:
        return None
    path: tuple = ("approvals",)
    if not isinstance(value, Mapping) or not value:
        raise PolicyError("must be a mapping of role: count, e.g. {reviewer: 1}", path)
    _known_keys(value, set(DECIDING_ROLES), path)
    for role, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise PolicyError(f"must be a whole number of at least 1, not {count!r}", (*path, role))
    return {str(role): int(count) for role, count in sorted(value.items())}
