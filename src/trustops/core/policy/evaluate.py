"""Evaluate a policy against evidence: a pure, deterministic function with reasons in numbers.

``evaluate(policy, evidence, context)`` takes the parsed policy, the evidence
records about the subject (the newest record of each kind is the one used)
and the context (the AI system, the model version, its datasets, the
approvals, the evaluation time), and returns a :class:`Decision`. Nothing is
read from the clock, the environment or a file.

Each rule ends in one outcome — ``pass``, ``fail``, ``insufficient`` (too few
observations, or no p-value where significance is asked), ``missing`` (no
evidence, nothing in scope) or ``not_applicable`` — and an effect on the
decision by its severity: a failed ``block`` rule fails the decision, a
failed ``warn`` rule warns, ``info`` only informs; ``insufficient`` follows
the rule's ``on_insufficient`` (default warn), never beyond its severity (an
``info`` rule informs). The decision is ``fail`` if any effect is fail, else
``warn`` if any is warn, else ``pass``.

A metric rule with ``significance`` fails an observation only when the
comparison fails AND the p-value is below ``alpha``; one with ``min_n``
reports "insufficient data" for groups smaller than that. Every outcome
explains itself with numbers::

    impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.03)

Example:
    >>> from trustops.core.policy.model import build_policy
    >>> policy = build_policy({"policy": "p", "rules": [{"id": "ir", "evidence": "fairness",
    ...     "metric": "four_fifths.impact_ratio", "op": ">=", "threshold": 0.8}]})
    >>> fairness = {"four_fifths": [
    ...     {"group": {"race": "A"}, "count": 50, "impact_ratio": 1.0},
    ...     {"group": {"race": "C"}, "count": 32, "impact_ratio": 0.64, "fisher_p_value": 0.03}]}
    >>> decision = evaluate(policy, [EvidenceItem("fairness", fairness)], Context())
    >>> decision.outcome, decision.rules[0].messages
    ('fail', ('impact_ratio[race=C] = 0.64 < 0.80 (n=32, p=0.03)',))
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trustops.core.audit import canonical_json
from trustops.core.policy.metrics import Observation, observations
from trustops.core.policy.model import Policy, PolicyError, Rule

__all__ = ["Context", "Decision", "EvidenceItem", "RuleOutcome", "check_scopes", "evaluate"]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_SHOW = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}


@dataclass(frozen=True)
class EvidenceItem:
    """One evidence record: its kind, JSON content, content hash and time (ISO 8601, UTC)."""

    kind: str
    content: Mapping[str, Any]
    content_hash: str | None = None
    created_at: str | None = None
    subject: str | None = None

    @property
    def digest(self) -> str:
        """The recorded content hash, or the SHA-256 of the canonical JSON content."""
        return self.content_hash or hashlib.sha256(canonical_json(self.content)).hexdigest()


@dataclass(frozen=True)
class Context:
    """What a policy may look at besides evidence; ``now`` is needed by freshness rules."""

    system: Mapping[str, Any] | None = None
    model: Mapping[str, Any] | None = None
    datasets: Sequence[Mapping[str, Any]] = ()
    approvals: Sequence[Mapping[str, Any]] = ()
    now: datetime | None = None
    subject: str | None = None


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule found: ``outcome`` and its ``effect`` on the decision, with reasons."""

    id: str
    kind: str
    severity: str
    outcome: str  # pass | fail | insufficient | missing | not_applicable
    effect: str  # pass | warn | fail | info | skip
    messages: tuple[str, ...]
    evidence_hash: str | None = None
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "messages": list(self.messages)}


@dataclass(frozen=True)
class Decision:
    """A policy's verdict on a subject: pass, warn or fail, rule by rule."""

    policy: str
    version: str
    policy_hash: str
    outcome: str
    rules: tuple[RuleOutcome, ...]
    evidence_hashes: tuple[str, ...]
    subject: str | None = None
    evaluated_at: str | None = None
    applicable: bool = True
    reason: str | None = None

    @property
    def blocked(self) -> bool:
        return self.outcome == "fail"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "policy_decision",
            "policy": self.policy,
            "version": self.version,
            "policy_hash": self.policy_hash,
            "outcome": self.outcome,
            "subject": self.subject,
            "evaluated_at": self.evaluated_at,
            "applicable": self.applicable,
            "reason": self.reason,
            "evidence_hashes": list(self.evidence_hashes),
            "rules": [r.to_dict() for r in self.rules],
        }


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "undefined"}[value]
    if isinstance(value, float):
        return f"{value:.2f}" if 0.005 <= abs(value) < 1e4 or value == 0 else f"{value:.3g}"
    return str(value)


def _relation(value: Any, threshold: Any) -> str:
    if isinstance(value, bool | str) or isinstance(threshold, bool | str):
        return "≠" if value != threshold else "="  # true/false and text have no order
    try:
        return "<" if value < threshold else (">" if value > threshold else "=")
    except TypeError:
        return "≠" if value != threshold else "="


def _time(text: str | None) -> datetime | None:
    """An ISO 8601 time, naive ones read as UTC (None if there is none, or it is not one)."""
    try:
        when = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _latest(evidence: Sequence[EvidenceItem], kind: str) -> EvidenceItem | None:
    found = [e for e in evidence if e.kind == kind]
    if not found:
        return None
    oldest = datetime.min.replace(tzinfo=UTC)  # no recording time: older than any time
    return max(enumerate(found), key=lambda p: (_time(p[1].created_at) or oldest, p[0]))[1]


def _in_scope(rule: Rule, obs: Observation) -> bool:
    if rule.attributes and obs.group is not None and not set(obs.group) <= set(rule.attributes):
        return False
    if rule.groups and (
        obs.group is None or not any(all(obs.group.get(k) == v for k, v in g) for g in rule.groups)
    ):
        return False
    return not (rule.features and (obs.column is None or obs.column not in rule.features))


def _scoped(rule: Rule, item: EvidenceItem) -> list[Observation]:
    assert rule.metric is not None
    return [
        o for o in observations(item.content, rule.metric) if not o.excluded and _in_scope(rule, o)
    ]


def check_scopes(policy: Policy, evidence: Sequence[EvidenceItem]) -> None:
    """Refuse rules whose scope names an attribute, group or feature the evidence lacks.

    Call it after loading a policy and the evidence, before :func:`evaluate`,
    so a misspelt attribute is an error, not a silent pass.
    """
    for rule in policy.rules:
        if rule.kind != "metric" or rule.evidence is None:
            continue
        item = _latest(evidence, rule.evidence)
        if item is None:
            continue
        assert rule.metric is not None
        every = observations(item.content, rule.metric)
        attributes = {k for o in every if o.group for k in o.group}
        for name in rule.attributes:
            if attributes and name not in attributes:
                raise PolicyError(
                    f"attribute {name!r} is not in the {rule.evidence} evidence "
                    f"(it has: {', '.join(sorted(attributes))})",
                    (*rule.path, "scope", "attributes"),
                )
        for group in rule.groups:
            if not any(o.group and all(o.group.get(k) == v for k, v in group) for o in every):
                text = ", ".join(f"{k}={v}" for k, v in group)
                raise PolicyError(
                    f"group {text} is not in the {rule.evidence} evidence",
                    (*rule.path, "scope", "groups"),
                )
        columns = {o.column for o in every if o.column}
        for name in rule.features:
            if columns and name not in columns:
                raise PolicyError(
                    f"feature {name!r} is not in the {rule.evidence} evidence",
                    (*rule.path, "scope", "features"),
                )


def _metric(rule: Rule, evidence: Sequence[EvidenceItem]) -> tuple[str, list[str], str | None]:
    item = _latest(evidence, rule.evidence or "")
    if item is None:
        return "missing", [f"no {rule.evidence} evidence recorded"], None
    found = _scoped(rule, item)
    if not found:
        return (
            "missing",
            [f"{rule.metric}: nothing in scope in the {rule.evidence} evidence"],
            (item.digest),
        )
    compare = _OPS[rule.op or "=="]
    failed, short, passed = [], [], []
    for obs in found:
        details = []
        if obs.n is not None:
            details.append(f"n={obs.n}")
        p = obs.p_values.get(rule.p_value) if rule.p_value else None
        shown = (
            p if rule.p_value else next((v for v in obs.p_values.values() if v is not None), None)
        )
        if shown is not None:
            details.append(f"p={shown:.2g}")
        extra = f" ({', '.join(details)})" if details else ""
        if obs.value is None:
            short.append(f"{obs.label} is undefined{extra}")
            continue
        if rule.min_n is not None and obs.n is not None and obs.n < rule.min_n:
            short.append(f"{obs.label}: insufficient data, n={obs.n} < {rule.min_n}")
            continue
        try:
            ok = compare(obs.value, rule.threshold)
        except TypeError:
            short.append(f"{obs.label} = {_fmt(obs.value)} cannot be compared with a threshold")
            continue
        if ok:
            passed.append((obs, f"{obs.label} = {_fmt(obs.value)}"))
            continue
        text = (
            f"{obs.label} = {_fmt(obs.value)} {_relation(obs.value, rule.threshold)} "
            f"{_fmt(rule.threshold)}{extra}"
        )
        if rule.alpha is not None:
            if p is None:
                short.append(f"{text}: no p-value to test significance")
                continue
            if p >= rule.alpha:
                passed.append((obs, f"{text}: not significant at {rule.alpha:g}"))
                continue
            text += f", significant at {rule.alpha:g}"
        failed.append(text)
    if failed:
        return "fail", failed + short, item.digest
    if short:
        return "insufficient", short, item.digest
    notes = [m for _, m in passed if "not significant" in m]
    met = [o for o, m in passed if "not significant" not in m]  # the comparison holds
    numeric = [o for o in met if isinstance(o.value, int | float) and not isinstance(o.value, bool)]
    count = f"all {len(met)}" if len(met) == len(passed) else f"{len(met)} of {len(passed)}"
    head = f"{count} {_SHOW[rule.op or '==']} {_fmt(rule.threshold)}"
    if numeric and rule.op in ("<", "<=", ">", ">="):
        worst = (
            min(numeric, key=lambda o: o.value)
            if rule.op[0] == ">"
            else max(numeric, key=lambda o: o.value)
        )
        head += f" (closest: {worst.label} = {_fmt(worst.value)})"
    return "pass", [head, *notes], item.digest


def _evidence(rule: Rule, evidence: Sequence[EvidenceItem], ctx: Context) -> tuple:
    item = _latest(evidence, rule.evidence or "")
    if item is None:
        return "missing", [f"no {rule.evidence} evidence recorded"], None
    if rule.max_age_days is None:
        return (
            "pass",
            [f"{rule.evidence} evidence recorded {item.created_at or ''}".strip()],
            (item.digest),
        )
    when = _time(item.created_at)
    now = ctx.now if ctx.now is None or ctx.now.tzinfo else ctx.now.replace(tzinfo=UTC)
    if when is None or now is None:
        return (
            "insufficient",
            ["no recording time or evaluation time to judge freshness"],
            (item.digest),
        )
    age = (now - when).total_seconds() / 86400
    text = f"{rule.evidence} evidence is {max(age, 0.0):.0f} days old (max {rule.max_age_days:g})"
    return ("pass" if age <= rule.max_age_days else "fail"), [text], item.digest


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _lookup(root: Any, parts: Sequence[str]) -> Any:
    for part in parts:
        if not isinstance(root, Mapping) or part not in root:
            return None
        root = root[part]
    return root


def _field(rule: Rule, ctx: Context) -> tuple:
    assert rule.field_path is not None
    head, *rest = rule.field_path.split(".")
    if head.startswith("datasets"):
        flag = head[len("datasets[") : -1] if head != "datasets" else None
        chosen = [d for d in ctx.datasets if flag is None or d.get(flag)]
        if not chosen:
            which = f"with {flag}" if flag else "to check"
            return ("pass" if flag else "missing"), [f"no datasets {which}"], None
        lacking = [
            str(d.get("ref") or d.get("name") or i)
            for i, d in enumerate(chosen)
            if not _present(_lookup(d, rest))
        ]
        if lacking:
            return "fail", [f"{rule.field_path} is missing for {', '.join(lacking)}"], None
        return "pass", [f"{rule.field_path} recorded for {len(chosen)} dataset(s)"], None
    root = ctx.system if head == "system" else ctx.model
    if root is None:
        return "missing", [f"no {head} to check {rule.field_path}"], None
    value = _lookup(root, rest)
    if _present(value):
        return "pass", [f"{rule.field_path} = {_fmt(value)}"], None
    return "fail", [f"{rule.field_path} is missing"], None


def _approvals(rule: Rule, ctx: Context) -> tuple:
    roles = set(rule.roles)
    actors = {a.get("actor") for a in ctx.approvals if not roles or a.get("role") in roles}
    actors.discard(None)
    need = rule.count or 1
    who = f" by {', '.join(rule.roles)}" if rule.roles else ""
    text = f"{len(actors)} of {need} approval(s){who}"
    return ("pass" if len(actors) >= need else "fail"), [text], None


def _tokens(name: str) -> tuple[str, ...]:
    """The parts of a name: ``applicantMaritalStatus`` → applicant, marital, status."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return tuple(t for t in re.split(r"[^a-z0-9]+", spaced) if t)


def _uses(feature: str, basis: tuple[str, ...]) -> bool:
    """Whether ``basis`` (its tokens) appears, whole and in order, among the feature's tokens."""
    parts = _tokens(feature)
    k = len(basis)
    return k > 0 and any(parts[i : i + k] == basis for i in range(len(parts) - k + 1))


def _prohibited(rule: Rule, ctx: Context) -> tuple:
    features = (ctx.model or {}).get("features")
    if not isinstance(features, list):
        return (
            "missing",
            ["the model version records no input features (parameters.features)"],
            (None),
        )
    allowed = {_tokens(a) for a in rule.allowed}
    banned = {_tokens(p) for p in rule.prohibited} - allowed
    used = [f for f in features if any(_uses(str(f), b) for b in banned)]
    if used:
        return "fail", [f"prohibited basis used as an input: {', '.join(map(str, used))}"], None
    return "pass", [f"none of {len(banned)} prohibited bases among {len(features)} inputs"], None


def _effect(rule: Rule, outcome: str) -> str:
    if outcome == "pass":
        return "pass"
    if outcome == "not_applicable":
        return "skip"
    if outcome == "insufficient" and rule.on_insufficient == "pass":
        return "pass"
    if outcome == "insufficient" and rule.on_insufficient == "warn" and rule.severity != "info":
        return "warn"  # never more than the rule's severity: an info rule only informs
    return {"block": "fail", "warn": "warn", "info": "info"}[rule.severity]


def evaluate(
    policy: Policy, evidence: Sequence[EvidenceItem], context: Context | None = None
) -> Decision:
    """The policy's :class:`Decision` on the evidence (see the module docstring)."""
    ctx = context or Context()
    when = ctx.now.isoformat() if ctx.now else None
    outside = policy.applies_to.check(ctx.system)
    if outside is not None:
        return Decision(
            policy.name, policy.version, policy.hash, "pass", (), (), ctx.subject, when,
            applicable=False, reason=outside,
        )  # fmt: skip
    results = []
    for rule in policy.rules:
        skip = rule.when.check(ctx.system)
        if skip is not None:
            outcome, messages, digest = "not_applicable", [skip], None
        elif rule.kind == "metric":
            outcome, messages, digest = _metric(rule, evidence)
        elif rule.kind == "evidence":
            outcome, messages, digest = _evidence(rule, evidence, ctx)
        elif rule.kind == "field":
            outcome, messages, digest = _field(rule, ctx)
        elif rule.kind == "approvals":
            outcome, messages, digest = _approvals(rule, ctx)
        else:
            outcome, messages, digest = _prohibited(rule, ctx)
        results.append(
            RuleOutcome(
                rule.id, rule.kind, rule.severity, outcome, _effect(rule, outcome),
                tuple(messages), digest, rule.description,
            )
        )  # fmt: skip
    effects = {r.effect for r in results}
    verdict = "fail" if "fail" in effects else ("warn" if "warn" in effects else "pass")
    used = tuple(sorted({r.evidence_hash for r in results if r.evidence_hash}))
    return Decision(policy.name, policy.version, policy.hash, verdict, tuple(results), used,
                    ctx.subject, when)  # fmt: skip
