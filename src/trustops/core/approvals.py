"""Four-eyes approval of a promotion to production: the lifecycle as a table, and the gate.

An approval request is about one model version, bound to its artifact hash,
a digest of the evidence about it (:func:`evidence_digest`) and the gate's
policy. People other than the submitter vote on it; it moves through::

    pending ──complete──▶ approved
       │ ▲                  │
       │ └─vote             ├──invalidate──▶ invalidated
       ├──reject──▶ rejected│
       ├──invalidate──▶ invalidated
       └──withdraw──▶ withdrawn ◀──withdraw──┘

``TRANSITIONS`` maps ``(state, event)`` to the next state; anything else is an
:class:`IllegalApprovalTransition`. ``vote`` is an approval that leaves some
requirement unmet, ``complete`` the one that meets the last, ``reject`` any
rejection (one "no" stops the request), ``invalidate`` what happens when the
artifact, the evidence or the gate's policy is no longer the one the request
was bound to, ``withdraw`` the submitter taking it back. Rejected, invalidated
and withdrawn are final: a new request starts again from nothing.

:func:`plan_vote` decides a vote: never by the submitter (administrators
included), never twice by one person, only on a pending request.
:func:`judge_gate` says whether a version may enter production: (a) the newest
decision of the gate's policy passes, was made after the newest evidence, or a
compliance officer overrode that very decision with a written justification;
and (b) a request bound to the current artifact and evidence is approved.

Example:
    >>> need = {"reviewer": 1, "compliance_officer": 1}
    >>> votes = [Vote("rita", "reviewer", True)]
    >>> plan_vote("pending", need, "dan", votes, Vote("carl", "compliance_officer", True))
    'complete'
    >>> plan_vote("pending", need, "dan", votes, Vote("dan", "reviewer", True))
    Traceback (most recent call last):
    ...
    trustops.core.approvals.SelfApprovalError: dan submitted this request and cannot also decide it
    >>> transition("pending", "complete")
    'approved'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trustops.core.audit import canonical_json
from trustops.errors import InputError

__all__ = [
    "DECIDING_ROLES",
    "DEFAULT_REQUIREMENTS",
    "EVENTS",
    "LIVE",
    "STATES",
    "TRANSITIONS",
    "DuplicateVoteError",
    "GateStatus",
    "IllegalApprovalTransition",
    "SelfApprovalError",
    "Vote",
    "decision_passes",
    "evidence_digest",
    "judge_gate",
    "plan_vote",
    "requirements_of",
    "staleness",
    "tally",
    "transition",
]

STATES = ("pending", "approved", "rejected", "invalidated", "withdrawn")
EVENTS = ("vote", "complete", "reject", "invalidate", "withdraw")
LIVE = ("pending", "approved")  # the states a request can still leave

TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending", "vote"): "pending",
    ("pending", "complete"): "approved",
    ("pending", "reject"): "rejected",
    ("pending", "invalidate"): "invalidated",
    ("pending", "withdraw"): "withdrawn",
    ("approved", "invalidate"): "invalidated",
    ("approved", "withdraw"): "withdrawn",
}

DECIDING_ROLES = ("reviewer", "compliance_officer")
DEFAULT_REQUIREMENTS: Mapping[str, int] = {"reviewer": 1, "compliance_officer": 1}
"""What a gate asks for when its policy has no ``approvals:`` section."""


class IllegalApprovalTransition(InputError):
    """An event the lifecycle table does not allow in the request's state."""

    status = 409

    def __init__(self, state: str, event: str) -> None:
        allowed = sorted(e for (s, e) in TRANSITIONS if s == state)
        hint = f"from {state}: {', '.join(allowed)}" if allowed else f"{state} is final"
        super().__init__(f"a {state} request cannot {event}", hint=hint)
        self.state, self.event = state, event


class SelfApprovalError(InputError):
    """The submitter of a request tried to decide it (four eyes: never, whatever the role)."""

    status = 403


class DuplicateVoteError(InputError):
    """One person voting twice on one request."""

    status = 409


def transition(state: str, event: str) -> str:
    """The state after ``event`` (see ``TRANSITIONS``)."""
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise IllegalApprovalTransition(state, event) from None


@dataclass(frozen=True, slots=True)
class Vote:
    """One person's decision on a request, with the role they held in the system."""

    voter: str
    role: str
    approve: bool


def tally(requirements: Mapping[str, int], votes: Iterable[Vote]) -> dict[str, int]:
    """Distinct approvers per required role (a person counts once, in the role they voted in).

    Example:
        >>> tally({"reviewer": 2}, [Vote("a", "reviewer", True), Vote("a", "reviewer", True),
        ...                         Vote("b", "reviewer", False)])
        {'reviewer': 1}
    """
    approvers: dict[str, set[str]] = {role: set() for role in requirements}
    for v in votes:
        if v.approve and v.role in approvers:
            approvers[v.role].add(v.voter)
    return {role: len(people) for role, people in approvers.items()}


def _met(requirements: Mapping[str, int], votes: Iterable[Vote]) -> bool:
    counts = tally(requirements, votes)
    return all(counts[role] >= n for role, n in requirements.items())


def plan_vote(
    state: str,
    requirements: Mapping[str, int],
    submitter: str,
    votes: Sequence[Vote],
    vote: Vote,
) -> str:
    """The event a new vote causes (``vote``, ``complete`` or ``reject``), or why it may not.

    Raises :class:`SelfApprovalError` for the submitter, :class:`DuplicateVoteError`
    for a second vote by one person and :class:`IllegalApprovalTransition` unless
    the request is pending. Whether the voter's role may decide at all is the
    caller's check (:mod:`trustops.core.access`).
    """
    if vote.voter == submitter:
        raise SelfApprovalError(
            f"{vote.voter} submitted this request and cannot also decide it",
            hint="four eyes: another reviewer or compliance officer must decide",
        )
    if any(v.voter == vote.voter for v in votes):
        raise DuplicateVoteError(f"{vote.voter} has already voted on this request")
    if not vote.approve:
        event = "reject"
    else:
        event = "complete" if _met(requirements, [*votes, vote]) else "vote"
    transition(state, event)  # raises unless the request is pending
    return event


def requirements_of(approvals: Mapping[str, Any] | None) -> dict[str, int]:
    """The approvals a gate requires: a policy's ``approvals:`` section, or the default.

    Example:
        >>> requirements_of(None)
        {'compliance_officer': 1, 'reviewer': 1}
        >>> requirements_of({"reviewer": 2})
        {'reviewer': 2}
    """
    if not approvals:
        return dict(sorted(DEFAULT_REQUIREMENTS.items()))
    return {str(role): int(n) for role, n in sorted(approvals.items())}


def evidence_digest(items: Iterable[tuple[str, str]]) -> str:
    """SHA-256 of the sorted ``(kind, content_hash)`` pairs of a version's evidence.

    Order does not matter; adding, or replacing, any record changes it.

    Example:
        >>> a = evidence_digest([("fairness", "aa"), ("drift", "bb")])
        >>> a == evidence_digest([("drift", "bb"), ("fairness", "aa")])
        True
        >>> a == evidence_digest([("drift", "bb"), ("fairness", "cc")])
        False
    """
    pairs = sorted([str(kind), str(digest)] for kind, digest in items)
    return hashlib.sha256(canonical_json(pairs)).hexdigest()


def staleness(
    bound: tuple[str, str, str | None], current: tuple[str, str, str | None]
) -> str | None:
    """Why a request (or override) bound to ``(artifact, evidence, policy)`` no longer holds.

    Example:
        >>> staleness(("a1", "e1", None), ("a1", "e2", None))
        'the evidence changed since it was bound'
    """
    names = ("the artifact", "the evidence", "the gate's policy")
    for name, was, now in zip(names, bound, current, strict=True):
        if was != now:
            return f"{name} changed since it was bound"
    return None


def decision_passes(decision: Mapping[str, Any]) -> bool:
    """Whether a recorded decision lets a version through the gate.

    ``pass`` and ``warn`` pass. A decision that fails only on ``approvals``
    rules passes too: approvals are given after the decision, and the gate
    counts them itself. A policy that does not apply to the system does not
    pass (a gate that judges nothing must not open).

    Example:
        >>> decision_passes({"outcome": "fail", "applicable": True, "rules": [
        ...     {"kind": "approvals", "effect": "fail"}, {"kind": "metric", "effect": "pass"}]})
        True
    """
    if decision.get("applicable") is False:
        return False
    if decision.get("outcome") in ("pass", "warn"):
        return True
    failing = [r for r in decision.get("rules", ()) if r.get("effect") == "fail"]
    return bool(failing) and all(r.get("kind") == "approvals" for r in failing)


@dataclass(frozen=True)
class GateStatus:
    """Whether a model version may enter production, and why not.

    ``required`` and ``approved`` count approvals per role; ``decision`` is the
    outcome of the decision the gate used (None: no decision recorded).
    """

    ref: str
    ok: bool
    reasons: list[str]
    required: dict[str, int]
    approved: dict[str, int]
    policy_hash: str | None = None
    decision: str | None = None
    decision_id: int | None = None
    override_id: int | None = None
    request_id: int | None = None
    artifact_hash: str | None = None
    evidence_digest: str | None = None
    gated: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "extra"} | self.extra


def judge_gate(
    *,
    decision: Mapping[str, Any] | None,
    decision_is_current: bool,
    overridden: bool,
    request_state: str | None,
    requirements: Mapping[str, int],
    votes: Iterable[Vote],
) -> list[str]:
    """Why the gate stays closed (an empty list: it opens). See the module docstring.

    ``request_state`` is the effective state of the newest request still bound
    to the current artifact, evidence and policy (None: there is none).
    """
    reasons = []
    if decision is None:
        reasons.append("no policy decision is recorded for this version")
    elif not decision_is_current:
        reasons.append("evidence was recorded after the newest policy decision: evaluate again")
    elif not decision_passes(decision) and not overridden:
        if decision.get("applicable") is False:
            reasons.append(f"the policy does not apply: {decision.get('reason')}")
        else:
            reasons.append(
                f"the policy decision is {decision.get('outcome')} "
                "(and no compliance officer overrode it)"
            )
    if request_state is None:
        reasons.append("no approval request for the current artifact and evidence")
    elif request_state != "approved":
        counts = tally(requirements, votes)
        missing = [
            f"{n - counts[role]} {role.replace('_', ' ')}" for role, n in requirements.items()
            if counts[role] < n
        ]  # fmt: skip
        reasons.append(
            f"the approval request is {request_state}"
            + (
                f": waiting for {', '.join(missing)}"
                if missing and request_state == "pending"
                else ""
            )
        )
    return reasons
