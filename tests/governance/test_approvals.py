"""Four-eyes approvals and the promotion gate, on SQLite and PostgreSQL.

The explicit cases of REFERENCES R6 (self-approval, approve-then-swap-artifact,
one person approving twice, an administrator approving their own request),
overrides, and a Hypothesis state machine that checks, after every step, the
gate against a plain model of the rules and that production is entered only
through an open gate.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from trustops.core.access import Role
from trustops.core.approvals import (
    LIVE,
    DuplicateVoteError,
    IllegalApprovalTransition,
    SelfApprovalError,
)
from trustops.governance import ConflictError, NotFoundError, Registry
from trustops.governance import schema as t
from trustops.governance.approvals import Approvals, PromotionBlocked, RequestInvalidated
from trustops.governance.identity import AccessDenied, Identity, Principal
from trustops.policy import load_policy_text

PASSING = load_policy_text(
    "policy: gate\nrules:\n  - {id: hash, kind: field, field: model.artifact_hash}\n"
)
TWO_REVIEWERS = load_policy_text(
    "policy: gate-2r\napprovals: {reviewer: 2}\n"
    "rules:\n  - {id: hash, kind: field, field: model.artifact_hash}\n"
)
FAILING = load_policy_text(
    "policy: strict\nrules:\n  - {id: card, kind: field, field: model.parameters.card}\n"
)
ROLES = {
    "dan": Role.DATA_SCIENTIST,
    "dina": Role.DATA_SCIENTIST,
    "rita": Role.REVIEWER,
    "rob": Role.REVIEWER,
    "carl": Role.COMPLIANCE_OFFICER,
    "cora": Role.COMPLIANCE_OFFICER,
    "vic": Role.VIEWER,
}


@dataclass
class World:
    registry: Registry
    approvals: Approvals
    people: dict[str, Principal] = field(default_factory=dict)
    versions: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_version(self, policy=PASSING, evaluate: bool = True) -> str:  # type: ignore[no-untyped-def]
        n = next(self.versions)
        mv = self.registry.register_model(
            f"weights {n}".encode(), system="credit", name="scorer", code_commit=None
        )
        self.registry.promote(mv.ref, "staging")
        if evaluate:
            self.registry.evaluate_policy(policy, mv.ref)
        return mv.ref


def _world(registry: Registry) -> World:
    registry.create_system("credit")
    registry.create_system("hr")
    ids = Identity(registry)
    world = World(registry, Approvals(registry))
    for name, role in ROLES.items():
        ids.create_user(name)
        ids.grant(name, "credit", role)
    ids.create_user("root", admin=True)
    ids.grant("root", "credit", Role.REVIEWER)  # an administrator who also reviews
    ids.create_user("hank")
    ids.grant("hank", "hr", Role.REVIEWER)  # a reviewer of another system
    for name in [*ROLES, "root", "hank"]:
        world.people[name] = ids.authenticate(ids.issue_token(name).secret)
    return world


@pytest.fixture
def world(registry: Registry) -> World:
    w = _world(registry)
    w.approvals.set_gate("credit", PASSING)
    return w


def _approve_fully(world: World, ref: str, submitter: str = "dan") -> int:
    p = world.people
    request = world.approvals.request(ref, principal=p[submitter], comment="please")
    world.approvals.decide(request.id, principal=p["rita"], approve=True, comment="read it")
    done = world.approvals.decide(request.id, principal=p["carl"], approve=True, comment="ok")
    assert done.state == "approved"
    return request.id


def test_the_whole_path_to_production(world: World) -> None:
    ref = world.new_version()
    with pytest.raises(PromotionBlocked, match="no approval request"):
        world.registry.promote(ref, "production")
    request_id = _approve_fully(world, ref)
    status = world.approvals.gate(ref)
    assert status.ok and status.approved == {"compliance_officer": 1, "reviewer": 1}
    assert status.request_id == request_id and status.decision == "pass"
    assert [p.action for p in world.registry.promote(ref, "production")] == ["promote"]
    entries = world.registry.audit.entries()
    steps = [(e.actor, e.action) for e in entries if e.action.startswith("approval.")]
    assert steps == [
        ("dan", "approval.requested"),
        ("rita", "approval.approved"),
        ("carl", "approval.approved"),
    ]
    assert entries[-1].action == "model.promoted"
    assert world.registry.audit.verify().ok


def test_self_approval_is_refused_even_after_becoming_a_reviewer(world: World) -> None:
    ref = world.new_version()
    request = world.approvals.request(ref, principal=world.people["dan"])
    with pytest.raises(AccessDenied):  # a data scientist decides nothing
        world.approvals.decide(request.id, principal=world.people["dan"], approve=True, comment="x")
    Identity(world.registry).grant("dan", "credit", Role.REVIEWER)
    dan = Principal("dan", False, {"credit": Role.REVIEWER}, None)
    with pytest.raises(SelfApprovalError) as refused:
        world.approvals.decide(request.id, principal=dan, approve=True, comment="mine")
    assert refused.value.status == 403
    assert world.approvals.get(request.id).votes == []


def test_admin_self_approval_is_refused(world: World) -> None:
    ref = world.new_version()
    root = world.people["root"]
    request = world.approvals.request(ref, principal=root, comment="admin asks")
    with pytest.raises(SelfApprovalError):
        world.approvals.decide(request.id, principal=root, approve=True, comment="admin says yes")
    plain_admin = Principal("boss", True, {}, None)  # an administrator with no role here
    with pytest.raises(AccessDenied):
        world.approvals.decide(request.id, principal=plain_admin, approve=True, comment="yes")
    assert world.approvals.get(request.id).votes == []


def test_one_person_approving_twice_counts_once(registry: Registry) -> None:
    world = _world(registry)
    world.approvals.set_gate("credit", TWO_REVIEWERS)
    ref = world.new_version(TWO_REVIEWERS)
    request = world.approvals.request(ref, principal=world.people["dan"])
    assert request.requirements == {"reviewer": 2}
    world.approvals.decide(request.id, principal=world.people["rita"], approve=True, comment="a")
    with pytest.raises(DuplicateVoteError):
        world.approvals.decide(
            request.id, principal=world.people["rita"], approve=True, comment="b"
        )
    again = world.approvals.get(request.id)
    assert again.state == "pending" and again.approved == {"reviewer": 1}
    with pytest.raises(PromotionBlocked, match="waiting for 1 reviewer"):
        world.registry.promote(ref, "production")
    world.approvals.decide(request.id, principal=world.people["rob"], approve=True, comment="c")
    assert world.approvals.gate(ref).ok
    with registry.db.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(  # the store itself refuses a second vote by one person
            t.approval_votes.insert().values(
                request_id=request.id, voter="rita", role="reviewer", approve=True,
                comment="forged", artifact_hash="0" * 64, evidence_digest="0" * 64,
                created_at="2026-01-01T00:00:00.000000Z",
            )
        )  # fmt: skip


def test_approve_then_swap_the_artifact_blocks_promotion(world: World) -> None:
    ref = world.new_version()
    request_id = _approve_fully(world, ref)
    other, _ = world.registry.artifacts.put_bytes(b"a different model")
    with world.registry.db.engine.begin() as conn:  # someone swaps the artifact under the version
        conn.execute(
            t.model_versions.update()
            .where(t.model_versions.c.id == world.registry.model(ref).id)
            .values(artifact_hash=other)
        )
    request = world.approvals.get(request_id)
    assert request.state == "invalidated" and "artifact" in (request.invalid_because or "")
    status = world.approvals.gate(ref)
    assert not status.ok and status.request_id is None
    with pytest.raises(PromotionBlocked, match="no approval request for the current artifact"):
        world.registry.promote(ref, "production")
    assert world.registry.model(ref).stage == "staging"


def test_new_evidence_after_approval_invalidates_it(world: World) -> None:
    ref = world.new_version()
    request_id = _approve_fully(world, ref)
    world.registry.record_evidence("robustness", ref, {"note": "added after the approval"})
    status = world.approvals.gate(ref)
    assert not status.ok
    assert status.reasons[0].startswith("evidence was recorded after the newest policy decision")
    world.registry.evaluate_policy(PASSING, ref)  # a fresh decision does not revive approvals
    assert world.approvals.gate(ref).reasons == [
        "no approval request for the current artifact and evidence"
    ]
    with pytest.raises(RequestInvalidated, match="the evidence changed"):
        world.approvals.decide(request_id, principal=world.people["rob"], approve=True, comment="x")
    assert world.approvals.get(request_id).state == "invalidated"  # now recorded
    actions = [e.action for e in world.registry.audit.entries()]
    assert actions[-1] == "approval.invalidated"
    _approve_fully(world, ref, submitter="dina")
    world.registry.promote(ref, "production")


def test_monitoring_windows_do_not_cancel_approvals(world: World) -> None:
    """A version in service keeps being monitored; its windows are not evidence a policy reads."""
    ref = world.new_version()
    _approve_fully(world, ref)
    world.registry.record_evidence("monitoring_window", ref, {"window": 1, "breaches": []})
    assert world.approvals.gate(ref).ok
    world.registry.promote(ref, "production")


def test_a_rejection_ends_the_request(world: World) -> None:
    ref = world.new_version()
    request = world.approvals.request(ref, principal=world.people["dan"])
    world.approvals.decide(request.id, principal=world.people["rita"], approve=True, comment="ok")
    rejected = world.approvals.decide(
        request.id, principal=world.people["carl"], approve=False, comment="card missing"
    )
    assert rejected.state == "rejected"
    with pytest.raises(IllegalApprovalTransition):
        world.approvals.decide(
            request.id, principal=world.people["cora"], approve=True, comment="x"
        )
    with pytest.raises(PromotionBlocked, match="no approval request"):
        world.registry.promote(ref, "production")
    assert world.approvals.request(ref, principal=world.people["dan"]).state == "pending"


def test_one_live_request_per_version_and_withdrawal(world: World) -> None:
    ref = world.new_version()
    request = world.approvals.request(ref, principal=world.people["dan"])
    with pytest.raises(ConflictError, match="already pending"):
        world.approvals.request(ref, principal=world.people["dina"])
    with pytest.raises(AccessDenied, match="only dan"):
        world.approvals.withdraw(request.id, principal=world.people["dina"])
    assert world.approvals.withdraw(request.id, principal=world.people["dan"]).state == "withdrawn"
    assert world.approvals.pending() == []
    second = world.approvals.request(ref, principal=world.people["dina"])
    assert [r.id for r in world.approvals.pending(["credit"])] == [second.id]
    assert world.approvals.pending(["hr"]) == []
    assert [r.state for r in world.approvals.requests(ref)] == ["pending", "withdrawn"]


def test_roles_and_systems_are_checked(world: World) -> None:
    ref = world.new_version()
    p = world.people
    for name in ("vic", "rita", "carl"):
        with pytest.raises(AccessDenied):
            world.approvals.request(ref, principal=p[name])
    with pytest.raises(NotFoundError):  # another system's reviewer does not even see it
        world.approvals.request(ref, principal=p["hank"])
    request = world.approvals.request(ref, principal=p["dan"])
    with pytest.raises(NotFoundError):
        world.approvals.decide(request.id, principal=p["hank"], approve=True, comment="x")
    with pytest.raises(AccessDenied):
        world.approvals.decide(request.id, principal=p["vic"], approve=True, comment="x")
    with pytest.raises(Exception, match="needs a comment"):
        world.approvals.decide(request.id, principal=p["rita"], approve=True, comment="  ")
    with pytest.raises(NotFoundError):
        world.approvals.decide(9999, principal=p["rita"], approve=True, comment="x")
    with pytest.raises(AccessDenied):
        world.approvals.set_gate("credit", None, principal=p["rita"])
    assert world.approvals.get(request.id).votes == []


def test_a_failing_decision_needs_a_compliance_officers_override(registry: Registry) -> None:
    world = _world(registry)
    world.approvals.set_gate("credit", FAILING)
    ref = world.new_version(FAILING)
    _approve_fully(world, ref)
    with pytest.raises(PromotionBlocked, match="the policy decision is fail"):
        world.registry.promote(ref, "production")
    p = world.people
    with pytest.raises(AccessDenied):
        world.approvals.override(ref, principal=p["rita"], justification="x" * 40)
    with pytest.raises(Exception, match="written justification"):
        world.approvals.override(ref, principal=p["carl"], justification="fine")
    done = world.approvals.override(
        ref, principal=p["carl"], justification="model card is filed on paper; see ticket 42"
    )
    assert done.created_by == "carl" and done.decision_id is not None
    assert world.approvals.gate(ref).override_id == done.id
    entry = world.registry.audit.entries(action="policy.overridden")[-1]
    assert entry.actor == "carl" and entry.reason == done.justification
    world.registry.promote(ref, "production")


def test_an_override_covers_one_decision_on_one_evidence(registry: Registry) -> None:
    world = _world(registry)
    world.approvals.set_gate("credit", FAILING)
    ref = world.new_version(FAILING)
    world.approvals.override(ref, principal=world.people["carl"], justification="j" * 30)
    world.registry.record_evidence("robustness", ref, {"new": True})
    world.registry.evaluate_policy(FAILING, ref)
    _approve_fully(world, ref)
    with pytest.raises(PromotionBlocked, match="no compliance officer overrode it"):
        world.registry.promote(ref, "production")


def test_nothing_to_override(world: World) -> None:
    ref = world.new_version()
    with pytest.raises(ConflictError, match="passes"):
        world.approvals.override(ref, principal=world.people["carl"], justification="j" * 30)
    unevaluated = world.new_version(evaluate=False)
    with pytest.raises(Exception, match="nothing to override"):
        world.approvals.override(
            unevaluated, principal=world.people["carl"], justification="j" * 30
        )


def test_systems_without_a_gate_promote_as_before(registry: Registry) -> None:
    world = _world(registry)
    ref = world.new_version(evaluate=False)
    assert world.approvals.get_gate("credit") is None
    assert world.approvals.gate(ref, require=False).gated is False
    with pytest.raises(PromotionBlocked, match="no policy decision"):  # the server's promotion
        world.registry.promote(ref, "production", require_gate=True)
    world.registry.promote(ref, "production")  # the CLI's, on an ungated system


def test_gate_set_and_removed_are_audited(registry: Registry) -> None:
    world = _world(registry)
    gate = world.approvals.set_gate("credit", TWO_REVIEWERS, principal=world.people["carl"])
    assert gate is not None and gate.requirements == {"reviewer": 2}
    assert world.approvals.get_gate("credit") == gate
    ref = world.new_version(TWO_REVIEWERS)
    request = world.approvals.request(ref, principal=world.people["dan"])
    world.approvals.set_gate("credit", PASSING)  # another policy: the request no longer holds
    assert world.approvals.get(request.id).state == "invalidated"
    assert world.approvals.set_gate("credit", None) is None
    world.registry.promote(ref, "production")
    entries = world.registry.audit.entries(action="gate.set")
    assert [(e.actor, e.payload["policy"]) for e in entries] == [
        ("carl", "gate-2r"),
        ("alice", "gate"),
        ("alice", None),
    ]
    with pytest.raises(NotFoundError):
        world.approvals.set_gate("nope", PASSING)


def test_approval_records_survive_reopening(open_registry: Callable[..., Registry]) -> None:
    world = _world(open_registry())
    world.approvals.set_gate("credit", PASSING)
    ref = world.new_version()
    request_id = _approve_fully(world, ref)
    again = Approvals(open_registry(actor="someone"))
    assert again.get(request_id).to_dict()["approved"] == {"compliance_officer": 1, "reviewer": 1}
    assert again.gate(ref).to_dict()["ok"] is True


# -- the state machine -------------------------------------------------------------------

DECIDERS = {"rita", "rob", "carl", "cora", "root"}
REQUESTERS = {"dan", "dina", "root"}


@dataclass
class ModelRequest:
    """The reference model of one request."""

    id: int
    submitter: str
    bound: tuple[str, int]  # (artifact, evidence count)
    state: str = "pending"  # as recorded; see FourEyes._effective
    votes: dict[str, tuple[str, bool]] = field(default_factory=dict)


class FourEyes(RuleBasedStateMachine):
    """Random requests, votes, new evidence, artifact swaps, decisions and promotions."""

    world: World

    def __init__(self) -> None:
        super().__init__()
        self.ref = self.world.new_version(evaluate=False)
        self.artifact = self.world.registry.model(self.ref).artifact_hash
        self.evidence = 0  # evidence records about the version
        self.world.registry.evaluate_policy(PASSING, self.ref)
        self.decided_at: int | None = 0  # evidence count when the newest decision was made
        self.requests: list[ModelRequest] = []
        self.in_production = False

    def _current(self) -> tuple[str, int]:
        return (self.artifact, self.evidence)

    def _stale(self, r: ModelRequest) -> bool:
        return r.state in LIVE and r.bound != self._current()

    def _effective(self, r: ModelRequest) -> str:
        """What the store reports: a stale live request reads invalidated before it is recorded."""
        return "invalidated" if self._stale(r) else r.state

    def _live(self) -> ModelRequest | None:
        live = [r for r in self.requests if self._effective(r) in LIVE]
        return live[-1] if live else None

    def _expected_open(self) -> bool:
        live = self._live()
        decided = self.decided_at is not None and self.decided_at == self.evidence
        return decided and live is not None and live.state == "approved"

    @rule(user=st.sampled_from(sorted(REQUESTERS | {"carl", "vic"})))
    def request(self, user: str) -> None:
        live = self._live()
        try:
            made = self.world.approvals.request(self.ref, principal=self.world.people[user])
        except AccessDenied:
            assert user not in REQUESTERS
            return
        except ConflictError:
            assert live is not None
            return
        assert user in REQUESTERS and live is None
        for r in self.requests:
            if self._stale(r):
                r.state = "invalidated"  # recorded by the new request
        self.requests.append(ModelRequest(made.id, user, self._current()))

    @precondition(lambda self: bool(self.requests))
    @rule(user=st.sampled_from(sorted(DECIDERS | {"dan"})), approve=st.booleans(), data=st.data())
    def vote(self, user: str, approve: bool, data: st.DataObject) -> None:
        self._vote(data.draw(st.sampled_from(self.requests)), user, approve)

    @precondition(lambda self: bool(self.requests))
    @rule(
        reviewer=st.sampled_from(["rita", "rob", "root"]),
        officer=st.sampled_from(["carl", "cora"]),
        then_promote=st.booleans(),
    )
    def review_the_newest(self, reviewer: str, officer: str, then_promote: bool) -> None:
        """A reviewer and a compliance officer both approve the newest request (and promote)."""
        self._vote(self.requests[-1], reviewer, True)
        self._vote(self.requests[-1], officer, True)
        if then_promote and not self.in_production:
            self.promote()

    def _vote(self, target: ModelRequest, user: str, approve: bool) -> None:
        expected: type[Exception] | None = None
        if user not in DECIDERS:
            expected = AccessDenied
        elif self._stale(target):
            expected = RequestInvalidated
        elif target.submitter == user:
            expected = SelfApprovalError
        elif user in target.votes:
            expected = DuplicateVoteError
        elif target.state != "pending":
            expected = IllegalApprovalTransition
        try:
            result = self.world.approvals.decide(
                target.id, principal=self.world.people[user], approve=approve, comment="seen"
            )
        except (AccessDenied, RequestInvalidated, SelfApprovalError, DuplicateVoteError,
                IllegalApprovalTransition) as exc:  # fmt: skip
            assert type(exc) is expected, f"{type(exc).__name__}, expected {expected}"
            if expected is RequestInvalidated:
                target.state = "invalidated"
            return
        assert expected is None, f"accepted, expected {expected}"
        target.votes[user] = (self.world.people[user].roles["credit"].value, approve)
        roles = {role for role, yes in target.votes.values() if yes}
        if not approve:
            target.state = "rejected"
        elif {"reviewer", "compliance_officer"} <= roles:
            target.state = "approved"
            event("a request was approved")
        assert result.state == target.state

    @rule()
    def new_evidence(self) -> None:
        self.world.registry.record_evidence("robustness", self.ref, {"n": self.evidence})
        self.evidence += 1

    @rule()
    def evaluate(self) -> None:
        self.world.registry.evaluate_policy(PASSING, self.ref)
        self.decided_at = self.evidence

    @rule()
    def swap_artifact(self) -> None:
        other, _ = self.world.registry.artifacts.put_bytes(f"swap {self.artifact}".encode())
        with self.world.registry.db.engine.begin() as conn:
            conn.execute(
                t.model_versions.update()
                .where(t.model_versions.c.id == self.world.registry.model(self.ref).id)
                .values(artifact_hash=other)
            )
        self.artifact = other

    @precondition(lambda self: not self.in_production)
    @rule()
    def promote(self) -> None:
        expected = self._expected_open()
        try:
            self.world.registry.promote(self.ref, "production")
        except PromotionBlocked:
            assert not expected
            return
        assert expected, "promoted through a closed gate"
        event("promoted through an open gate")
        self.in_production = True

    @invariant()
    def gate_agrees_with_the_model(self) -> None:
        status = self.world.approvals.gate(self.ref)
        assert status.ok == self._expected_open(), status.reasons
        live = self._live()
        assert status.request_id == (live.id if live else None)


def test_four_eyes_state_machine(registry: Registry) -> None:
    world = _world(registry)
    world.approvals.set_gate("credit", PASSING)
    FourEyes.world = world
    FourEyes.TestCase.settings = settings(max_examples=12, stateful_step_count=25, deadline=None)
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(FourEyes, settings=FourEyes.TestCase.settings)
    assert registry.audit.verify().ok


@pytest.mark.parametrize("table_name", t.APPROVALS_APPEND_ONLY)
def test_gates_votes_and_overrides_are_append_only(registry: Registry, table_name: str) -> None:
    world = _world(registry)
    world.approvals.set_gate("credit", FAILING)
    ref = world.new_version(FAILING)
    _approve_fully(world, ref)
    world.approvals.override(ref, principal=world.people["carl"], justification="j" * 30)
    table = t.metadata.tables[table_name]
    with registry.db.read() as conn:
        before = conn.execute(sa.select(table)).all()
    assert before
    column = {"approval_gates": "created_by", "approval_votes": "voter"}.get(table_name)
    statements = [table.update().values({column or "justification": "forged"}), table.delete()]
    if registry.db.dialect == "postgresql":
        statements.append(sa.text(f"TRUNCATE {table_name}"))
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), registry.db.engine.begin() as c:
            c.execute(statement)
    with registry.db.read() as conn:
        assert conn.execute(sa.select(table)).all() == before
