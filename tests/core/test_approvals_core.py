"""The approval lifecycle table, the vote rules and the gate's judgement (pure functions)."""

from __future__ import annotations

import itertools

import pytest

from trustops.core.approvals import (
    DEFAULT_REQUIREMENTS,
    EVENTS,
    STATES,
    TRANSITIONS,
    DuplicateVoteError,
    IllegalApprovalTransition,
    SelfApprovalError,
    Vote,
    decision_passes,
    evidence_digest,
    judge_gate,
    plan_vote,
    requirements_of,
    staleness,
    tally,
    transition,
)
from trustops.core.policy import PolicyError, build_policy

NEED = {"compliance_officer": 1, "reviewer": 1}
PASS = {"outcome": "pass", "applicable": True, "rules": []}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(STATES, EVENTS)))
def test_every_state_and_event(state: str, event: str) -> None:
    if (state, event) in TRANSITIONS:
        assert transition(state, event) == TRANSITIONS[state, event]
    else:
        with pytest.raises(IllegalApprovalTransition) as refused:
            transition(state, event)
        assert refused.value.status == 409


def test_final_states_have_no_way_out() -> None:
    for state in ("rejected", "invalidated", "withdrawn"):
        assert not [e for (s, e) in TRANSITIONS if s == state]
    assert set(TRANSITIONS.values()) <= set(STATES)
    assert "approved" not in {s for (s, e) in TRANSITIONS if e in ("vote", "complete", "reject")}


@pytest.mark.parametrize(
    ("votes", "vote", "event"),
    [
        ([], Vote("rita", "reviewer", True), "vote"),
        ([Vote("rita", "reviewer", True)], Vote("carl", "compliance_officer", True), "complete"),
        ([Vote("rita", "reviewer", True)], Vote("rob", "reviewer", True), "vote"),
        ([Vote("rita", "reviewer", True)], Vote("carl", "compliance_officer", False), "reject"),
        ([], Vote("rita", "reviewer", False), "reject"),
    ],
)
def test_plan_vote(votes: list[Vote], vote: Vote, event: str) -> None:
    assert plan_vote("pending", NEED, "dan", votes, vote) == event


def test_the_submitter_never_decides_and_nobody_votes_twice() -> None:
    with pytest.raises(SelfApprovalError) as refused:
        plan_vote("pending", NEED, "root", [], Vote("root", "reviewer", True))
    assert refused.value.status == 403
    with pytest.raises(SelfApprovalError):  # a rejection of one's own request too
        plan_vote("pending", NEED, "root", [], Vote("root", "reviewer", False))
    with pytest.raises(DuplicateVoteError):
        plan_vote("pending", NEED, "dan", [Vote("rita", "reviewer", True)],
                  Vote("rita", "compliance_officer", True))  # fmt: skip
    with pytest.raises(IllegalApprovalTransition):
        plan_vote("approved", NEED, "dan", [], Vote("rob", "reviewer", True))


def test_tally_counts_people_not_votes() -> None:
    votes = [Vote("a", "reviewer", True), Vote("a", "reviewer", True), Vote("b", "viewer", True),
             Vote("c", "reviewer", False)]  # fmt: skip
    assert tally({"reviewer": 2}, votes) == {"reviewer": 1}


def test_requirements_and_the_policy_section() -> None:
    assert requirements_of(None) == dict(DEFAULT_REQUIREMENTS) == NEED
    rules = [{"id": "f", "kind": "field", "field": "model.metrics"}]
    policy = build_policy({"policy": "p", "approvals": {"reviewer": 2}, "rules": rules})
    assert policy.approvals == {"reviewer": 2}
    assert requirements_of(policy.approvals) == {"reviewer": 2}
    assert build_policy({"policy": "p", "rules": rules}).approvals is None
    for bad, where in [
        ({"admin": 1}, "approvals.admin"),
        ({"reviewer": 0}, "approvals.reviewer"),
        ({"reviewer": True}, "approvals.reviewer"),
        ([], "approvals"),
        ({}, "approvals"),
    ]:
        with pytest.raises(PolicyError) as refused:
            build_policy({"policy": "p", "approvals": bad, "rules": rules})
        assert refused.value.message.startswith(where)


def test_evidence_digest_and_staleness() -> None:
    a = evidence_digest([("fairness", "1"), ("drift", "2")])
    assert a == evidence_digest([("drift", "2"), ("fairness", "1")])
    assert a != evidence_digest([("fairness", "1")])
    assert a != evidence_digest([("fairness", "1"), ("drift", "2"), ("drift", "3")])
    assert staleness(("x", a, None), ("x", a, None)) is None
    assert staleness(("x", a, None), ("y", a, None)) == "the artifact changed since it was bound"
    assert staleness(("x", a, "p"), ("x", a, "q")) == "the gate's policy changed since it was bound"


@pytest.mark.parametrize(
    ("decision", "passes"),
    [
        (PASS, True),
        ({"outcome": "warn", "rules": []}, True),
        ({"outcome": "fail", "rules": [{"kind": "metric", "effect": "fail"}]}, False),
        ({"outcome": "fail", "rules": [{"kind": "approvals", "effect": "fail"},
                                       {"kind": "metric", "effect": "fail"}]}, False),
        ({"outcome": "fail", "rules": [{"kind": "approvals", "effect": "fail"}]}, True),
        ({"outcome": "pass", "applicable": False, "rules": []}, False),
    ],
)  # fmt: skip
def test_decision_passes(decision: dict, passes: bool) -> None:
    assert decision_passes(decision) is passes


def _judge(**overrides: object) -> list[str]:
    args: dict = {
        "decision": PASS,
        "decision_is_current": True,
        "overridden": False,
        "request_state": "approved",
        "requirements": NEED,
        "votes": [],
    }
    return judge_gate(**{**args, **overrides})


def test_the_gate_opens_only_on_both_conditions() -> None:
    assert _judge() == []
    assert _judge(decision=None) == ["no policy decision is recorded for this version"]
    assert "evaluate again" in _judge(decision_is_current=False)[0]
    failing = {"outcome": "fail", "rules": [{"kind": "metric", "effect": "fail"}]}
    assert "no compliance officer overrode it" in _judge(decision=failing)[0]
    assert _judge(decision=failing, overridden=True) == []
    assert _judge(request_state=None) == [
        "no approval request for the current artifact and evidence"
    ]
    pending = _judge(request_state="pending", votes=[Vote("rita", "reviewer", True)])
    assert pending == ["the approval request is pending: waiting for 1 compliance officer"]
