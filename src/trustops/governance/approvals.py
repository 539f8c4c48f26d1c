"""Four-eyes approvals: who may put a model version into production, recorded and audited.

A system gets a **gate** with :meth:`Approvals.set_gate` (``trustops approvals gate
set SYSTEM POLICY``): from then on :meth:`Registry.promote` refuses to move a
version of that system to production unless :meth:`Approvals.gate` is open:

(a) the newest decision of the gate's policy on that version passes and was
    made after the newest evidence about the version and its data; or a
    compliance officer overrode that very decision, for the same artifact and
    evidence, with a written justification (:meth:`Approvals.override`); and
(b) an approval request for the version, bound to its artifact hash, the
    digest of its evidence and the gate's policy, collected the approvals the
    policy's ``approvals:`` section asks for (default: one reviewer and one
    compliance officer), each from someone other than the submitter.

A request, vote or override whose artifact, evidence or policy changed no
longer counts: it reads as ``invalidated`` at once, and is recorded so at
the next change. Systems without a gate promote as before (the demo does);
the server asks for the gate on every promotion (``require_gate=True``), and
then a system without a gate of its own gets the default one: the newest
decision of any policy, and one reviewer and one compliance officer.

The lifecycle and the rules of a vote are the pure table and functions of
:mod:`trustops.core.approvals`; this module stores them, and
:mod:`trustops.governance.gates` reads what the gate needs. Every step is one
audit entry, by the person who acted: ``gate.set``, ``approval.requested``,
``approval.approved`` / ``approval.rejected`` (a vote, with the state it led
to), ``approval.withdrawn``, ``approval.invalidated``, ``policy.overridden``.

Example:
    >>> import tempfile
    >>> from trustops.governance import Registry, init_workspace
    >>> from trustops.governance.identity import Identity
    >>> from trustops.policy import load_policy_text
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="root").project)
    >>> _ = reg.create_system("credit")
    >>> mv = reg.register_model(b"weights", system="credit", name="scorer", code_commit=None)
    >>> ids = Identity(reg)
    >>> for name, role in [("dan", "data_scientist"), ("rita", "reviewer"),
    ...                    ("carl", "compliance_officer")]:
    ...     _ = ids.create_user(name)
    ...     ids.grant(name, "credit", role)
    >>> dan, rita, carl = (ids.authenticate(ids.issue_token(n).secret)
    ...                    for n in ("dan", "rita", "carl"))
    >>> policy = load_policy_text("policy: named\\nrules:\\n  - {id: m, kind: field, "
    ...                           "field: model.artifact_hash}\\n")
    >>> approvals = Approvals(reg)
    >>> _ = approvals.set_gate("credit", policy)
    >>> _ = reg.evaluate_policy(policy, "scorer@1")
    >>> request = approvals.request("scorer@1", principal=dan)
    >>> approvals.gate("scorer@1").reasons
    ['the approval request is pending: waiting for 1 compliance officer, 1 reviewer']
    >>> _ = approvals.decide(request.id, principal=rita, approve=True, comment="evidence read")
    >>> approvals.decide(request.id, principal=carl, approve=True, comment="ok").state
    'approved'
    >>> _ = reg.promote("scorer@1", "staging")
    >>> [t.action for t in reg.promote("scorer@1", "production")]
    ['promote']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trustops.core.access import Permission
from trustops.core.approvals import (
    LIVE,
    GateStatus,
    Vote,
    decision_passes,
    plan_vote,
    staleness,
    tally,
    transition,
)
from trustops.core.audit import canonical_json
from trustops.errors import InputError, UsageError
from trustops.governance import schema as t
from trustops.governance.database import insert_id
from trustops.governance.gates import (
    Gate,
    PromotionBlocked,
    VersionFacts,
    default_gate,
    enforce_gate,
    gate_status,
    newest_decision,
    system_gate,
    version_facts,
)
from trustops.governance.identity import AccessDenied, Principal, _audit
from trustops.governance.registry import Change, ConflictError, NotFoundError, Registry

__all__ = [
    "ApprovalRequest",
    "Approvals",
    "Gate",
    "Override",
    "PromotionBlocked",
    "RequestInvalidated",
    "VoteRecord",
    "enforce_gate",
]

_MIN_JUSTIFICATION = 20


class RequestInvalidated(ConflictError):
    """The request no longer matches the artifact, evidence or policy: it was invalidated."""


@dataclass(frozen=True)
class VoteRecord:
    """One recorded vote."""

    voter: str
    role: str
    approve: bool
    comment: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ApprovalRequest:
    """A request to approve one model version for production.

    ``state`` is the effective state: a live request whose artifact, evidence
    or policy changed reads ``invalidated`` (``invalid_because`` says why)
    even before that is recorded.
    """

    id: int
    system: str
    model: str
    artifact_hash: str
    evidence_digest: str
    policy_hash: str | None
    requirements: dict[str, int]
    submitter: str
    comment: str | None
    state: str
    created_at: str
    updated_at: str
    votes: list[VoteRecord] = field(default_factory=list)
    invalid_because: str | None = None

    @property
    def ref(self) -> str:
        """``SYSTEM/NAME@VERSION`` of the model version."""
        return f"{self.system}/{self.model}"

    @property
    def approved(self) -> dict[str, int]:
        """Distinct approvers so far, per required role."""
        return tally(self.requirements, [Vote(v.voter, v.role, v.approve) for v in self.votes])

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["votes"] = [v.to_dict() for v in self.votes]
        d["ref"] = self.ref
        d["approved"] = self.approved
        return d


@dataclass(frozen=True)
class Override:
    """A compliance officer's documented override of a failing policy decision."""

    id: int
    system: str
    model: str
    artifact_hash: str
    evidence_digest: str
    policy_hash: str | None
    decision_id: int | None
    justification: str
    created_at: str
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _votes(conn: Connection, request_id: int) -> list[VoteRecord]:
    v = t.approval_votes.c
    rows = conn.execute(
        sa.select(v.voter, v.role, v.approve, v.comment, v.created_at)
        .where(v.request_id == request_id)
        .order_by(v.id)
    ).all()
    return [VoteRecord(r.voter, r.role, bool(r.approve), r.comment, r.created_at) for r in rows]


def _request(
    conn: Connection, row: Any, version: VersionFacts, gate: Gate | None
) -> ApprovalRequest:
    """The stored request, with its effective state (see :class:`ApprovalRequest`)."""
    policy = gate.policy_hash if gate else None
    why = None
    if row.state in LIVE:
        why = staleness(
            (row.artifact_hash, row.evidence_digest, row.policy_hash),
            (version.artifact_hash, version.evidence, policy),
        )
    return ApprovalRequest(
        id=row.id, system=version.system, model=version.ref, artifact_hash=row.artifact_hash,
        evidence_digest=row.evidence_digest, policy_hash=row.policy_hash,
        requirements=json.loads(row.requirements), submitter=row.submitter, comment=row.comment,
        state="invalidated" if why else row.state, created_at=row.created_at,
        updated_at=row.updated_at, votes=_votes(conn, row.id), invalid_because=why,
    )  # fmt: skip


class Approvals:
    """Gates, approval requests, votes and overrides of one store (see the module docstring)."""

    def __init__(self, registry: Registry, *, clock: Callable[[], datetime] | None = None) -> None:
        self.registry = registry
        self.clock = clock or (lambda: datetime.now(UTC))

    def _now(self) -> str:
        return self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _locate(self, conn: Connection, ref: str, principal: Principal | None) -> VersionFacts:
        """The version ``ref``; unknown and invisible ones are alike (404, nothing revealed)."""
        mv = self.registry._model_ref(conn, ref)
        if principal is not None and not principal.visible(mv.system):
            raise NotFoundError(f"model version {ref!r} is not registered")
        return version_facts(conn, mv.id)

    def _request_row(self, conn: Connection, request_id: int, principal: Principal | None) -> Any:
        if isinstance(request_id, bool) or not isinstance(request_id, int):
            raise InputError(f"an approval request id is a number, not {request_id!r}")
        r = t.approval_requests.c
        row = conn.execute(sa.select(t.approval_requests).where(r.id == request_id)).first()
        if row is None:
            raise NotFoundError(f"approval request {request_id} does not exist")
        version = version_facts(conn, row.model_version_id)
        if principal is not None and not principal.visible(version.system):
            raise NotFoundError(f"approval request {request_id} does not exist")
        return row, version

    # -- gates -------------------------------------------------------------------

    def set_gate(
        self, system: str, policy: Any | None, *, principal: Principal | None = None
    ) -> Gate | None:
        """Gate ``system``'s promotions to production on ``policy`` (None: remove the gate).

        ``principal`` (when acting for a user) needs ``gate:set`` in the system;
        without one, the registry's actor acts with the store's own authority
        (the CLI on a local store).
        """
        actor = principal.user if principal else self.registry.actor
        with self.registry.transaction() as change:
            conn = change.conn
            sid = conn.execute(sa.select(t.systems.c.id).where(t.systems.c.name == system)).scalar()
            if sid is None or (principal is not None and not principal.visible(system)):
                raise NotFoundError(f"system {system!r} is not registered")
            if principal is not None:
                principal.require(Permission.GATE_SET, system)
            policy_hash = None
            if policy is not None:
                policy_hash = policy.hash
                self._store_policy(change, policy, actor)
            conn.execute(
                t.approval_gates.insert().values(
                    system_id=sid, policy_hash=policy_hash, created_at=self._now(),
                    created_by=actor,
                )
            )  # fmt: skip
            gate = system_gate(conn, sid, system)
            _audit(
                change,
                actor,
                "gate.set",
                f"system:{system}",
                {
                    "system": system,
                    "policy": policy.name if policy is not None else None,
                    "policy_hash": policy_hash,
                    "requirements": gate.requirements if gate else None,
                },
            )
        return gate

    def _store_policy(self, change: Change, policy: Any, actor: str) -> None:
        p = t.policies.c
        if change.conn.execute(sa.select(p.id).where(p.hash == policy.hash)).first() is not None:
            return
        change.conn.execute(
            t.policies.insert().values(
                name=policy.name, version=policy.version, hash=policy.hash,
                content=canonical_json(dict(policy.source)).decode("utf-8"),
                created_at=self._now(), created_by=actor,
            )
        )  # fmt: skip
        _audit(
            change,
            actor,
            "policy.registered",
            f"policy:{policy.name}@{policy.version}",
            {"name": policy.name, "version": policy.version, "hash": policy.hash},
        )

    def get_gate(self, system: str) -> Gate | None:
        """The system's gate, or None."""
        with self.registry.db.read() as conn:
            sid = conn.execute(sa.select(t.systems.c.id).where(t.systems.c.name == system)).scalar()
            if sid is None:
                raise NotFoundError(f"system {system!r} is not registered")
            return system_gate(conn, sid, system)

    def gate(self, ref: str, *, require: bool = True) -> GateStatus:
        """Whether model version ``ref`` may enter production now, and what is missing.

        ``require=False`` reports a system without a gate as open (``gated`` false),
        as :meth:`Registry.promote` treats it; by default the default gate applies.
        """
        with self.registry.db.read() as conn:
            version = self._locate(conn, ref, None)
            status = gate_status(conn, version, require=require)
        if status is None:
            return GateStatus(
                ref=f"{version.system}/{version.ref}", ok=True, reasons=[], required={},
                approved={}, artifact_hash=version.artifact_hash,
                evidence_digest=version.evidence, gated=False,
            )  # fmt: skip
        return status

    # -- requests ----------------------------------------------------------------

    def request(
        self, ref: str, *, principal: Principal, comment: str | None = None
    ) -> ApprovalRequest:
        """Ask for approval to put ``ref`` into production, bound to its artifact and evidence."""
        if comment is not None and not isinstance(comment, str):
            raise InputError("a comment is text")
        with self.registry.transaction() as change:
            conn = change.conn
            version = self._locate(conn, ref, principal)
            principal.require(Permission.APPROVAL_REQUEST, version.system)
            gate = system_gate(conn, version.system_id, version.system) or default_gate(
                version.system
            )
            r = t.approval_requests.c
            rows = conn.execute(
                sa.select(t.approval_requests).where(
                    r.model_version_id == version.id, r.state.in_(LIVE)
                )
            ).all()
            for row in rows:
                existing = _request(conn, row, version, gate)
                if existing.invalid_because is None:
                    raise ConflictError(
                        f"approval request {row.id} for {version.ref} is already {row.state}",
                        hint="withdraw it first to start again",
                    )
                self._move(change, row, version, "invalidate", self.registry.actor,
                           existing.invalid_because)  # fmt: skip
            now = self._now()
            rid = insert_id(
                conn,
                t.approval_requests.insert().values(
                    model_version_id=version.id, artifact_hash=version.artifact_hash,
                    evidence_digest=version.evidence, policy_hash=gate.policy_hash,
                    requirements=canonical_json(gate.requirements).decode("utf-8"),
                    submitter=principal.user, comment=comment, state="pending",
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip
            _audit(
                change,
                principal.user,
                "approval.requested",
                f"model:{version.system}/{version.ref}",
                {
                    "request": rid,
                    "artifact_hash": version.artifact_hash,
                    "evidence_digest": version.evidence,
                    "policy_hash": gate.policy_hash,
                    "requirements": gate.requirements,
                },
                reason=comment,
            )
            row = conn.execute(sa.select(t.approval_requests).where(r.id == rid)).one()
            return _request(conn, row, version, gate)

    def _move(
        self,
        change: Change,
        row: Any,
        version: VersionFacts,
        event: str,
        actor: str,
        reason: str | None,
    ) -> str:
        """Apply a lifecycle event to a stored request, with its audit entry."""
        state = transition(row.state, event)
        change.conn.execute(
            t.approval_requests.update()
            .where(t.approval_requests.c.id == row.id)
            .values(state=state, updated_at=self._now())
        )
        action = {"invalidate": "approval.invalidated", "withdraw": "approval.withdrawn"}[event]
        _audit(
            change,
            actor,
            action,
            f"model:{version.system}/{version.ref}",
            {"request": row.id, "state": state},
            reason=reason,
        )
        return state

    def decide(
        self, request_id: int, *, principal: Principal, approve: bool, comment: str
    ) -> ApprovalRequest:
        """Approve or reject a request, with a comment (four eyes: never your own).

        A request whose artifact, evidence or policy changed is invalidated
        (recorded) and the vote refused with :class:`RequestInvalidated`.
        """
        if not isinstance(approve, bool):
            raise InputError("approve must be true or false")
        if not isinstance(comment, str) or not comment.strip():
            raise InputError("a decision needs a comment", hint="say what you checked")
        invalid = None
        with self.registry.transaction() as change:
            conn = change.conn
            row, version = self._request_row(conn, request_id, principal)
            principal.require(Permission.APPROVAL_DECIDE, version.system)
            role = principal.role(version.system)
            if role is None:  # an administrator with no role here decides nothing
                raise AccessDenied(f"{principal.user} holds no role in {version.system!r}")
            gate = system_gate(conn, version.system_id, version.system)
            current = _request(conn, row, version, gate or default_gate(version.system))
            if current.invalid_because is not None:
                self._move(change, row, version, "invalidate", principal.user,
                           current.invalid_because)  # fmt: skip
                invalid = current.invalid_because
            else:
                ballot = Vote(principal.user, role.value, approve)
                votes = [Vote(v.voter, v.role, v.approve) for v in current.votes]
                event = plan_vote(row.state, current.requirements, row.submitter, votes, ballot)
                state = transition(row.state, event)
                now = self._now()
                conn.execute(
                    t.approval_votes.insert().values(
                        request_id=row.id, voter=principal.user, role=role.value,
                        approve=approve, comment=comment, artifact_hash=version.artifact_hash,
                        evidence_digest=version.evidence, created_at=now,
                    )
                )  # fmt: skip
                conn.execute(
                    t.approval_requests.update()
                    .where(t.approval_requests.c.id == row.id)
                    .values(state=state, updated_at=now)
                )
                _audit(
                    change,
                    principal.user,
                    "approval.approved" if approve else "approval.rejected",
                    f"model:{version.system}/{version.ref}",
                    {
                        "request": row.id,
                        "role": role.value,
                        "state": state,
                        "artifact_hash": version.artifact_hash,
                        "evidence_digest": version.evidence,
                    },
                    reason=comment,
                )
        if invalid is not None:
            raise RequestInvalidated(
                f"approval request {request_id} was invalidated: {invalid}",
                hint="the submitter asks again for the current artifact and evidence",
            )
        return self.get(request_id)

    def withdraw(self, request_id: int, *, principal: Principal) -> ApprovalRequest:
        """The submitter takes a pending or approved request back."""
        with self.registry.transaction() as change:
            row, version = self._request_row(change.conn, request_id, principal)
            if principal.user != row.submitter:
                raise AccessDenied(
                    f"only {row.submitter}, who asked, may withdraw request {row.id}"
                )
            self._move(change, row, version, "withdraw", principal.user, None)
        return self.get(request_id)

    def get(self, request_id: int) -> ApprovalRequest:
        """One request, with its votes and effective state."""
        with self.registry.db.read() as conn:
            row, version = self._request_row(conn, request_id, None)
            gate = system_gate(conn, version.system_id, version.system) or default_gate(
                version.system
            )
            return _request(conn, row, version, gate)

    def requests(
        self,
        ref: str | None = None,
        *,
        systems: Iterable[str] | None = None,
        states: Iterable[str] | None = None,
    ) -> list[ApprovalRequest]:
        """Requests, newest first: of one version, of some systems, in some (effective) states."""
        r, v, m, s = (t.approval_requests.c, t.model_versions.c, t.models.c, t.systems.c)
        query = (
            sa.select(t.approval_requests)
            .join(t.model_versions, v.id == r.model_version_id)
            .join(t.models, m.id == v.model_id)
            .join(t.systems, s.id == m.system_id)
            .order_by(r.id.desc())
        )
        if systems is not None:
            query = query.where(s.name.in_(list(systems)))
        wanted = set(states) if states is not None else None
        out = []
        with self.registry.db.read() as conn:
            if ref is not None:
                query = query.where(r.model_version_id == self._locate(conn, ref, None).id)
            versions: dict[int, VersionFacts] = {}
            gates: dict[int, Gate] = {}
            for row in conn.execute(query).all():
                if row.model_version_id not in versions:
                    versions[row.model_version_id] = version_facts(conn, row.model_version_id)
                version = versions[row.model_version_id]
                if version.system_id not in gates:
                    gates[version.system_id] = system_gate(
                        conn, version.system_id, version.system
                    ) or default_gate(version.system)
                request = _request(conn, row, version, gates[version.system_id])
                if wanted is None or request.state in wanted:
                    out.append(request)
        return out

    def pending(self, systems: Iterable[str] | None = None) -> list[ApprovalRequest]:
        """Requests waiting for votes (not invalidated), newest first."""
        return self.requests(systems=systems, states=["pending"])

    # -- overrides ---------------------------------------------------------------

    def override(self, ref: str, *, principal: Principal, justification: str) -> Override:
        """A compliance officer overrides the failing policy decision on ``ref``, saying why.

        It covers that decision only, for the current artifact and evidence:
        a new decision, new evidence or another artifact needs a new override.
        """
        if not isinstance(justification, str) or len(justification.strip()) < _MIN_JUSTIFICATION:
            raise InputError(
                f"an override needs a written justification of at least {_MIN_JUSTIFICATION} "
                "characters",
                hint="say why the failing rules are acceptable here",
            )
        justification = justification.strip()
        with self.registry.transaction() as change:
            conn = change.conn
            version = self._locate(conn, ref, principal)
            principal.require(Permission.POLICY_OVERRIDE, version.system)
            gate = system_gate(conn, version.system_id, version.system) or default_gate(
                version.system
            )
            found = newest_decision(conn, version.id, gate.policy_hash)
            if found is None:
                raise UsageError(
                    f"no policy decision is recorded for {version.ref}: nothing to override",
                    hint="evaluate the policy first (trustops check --record)",
                )
            decision_id, decision = found
            if decision_id <= version.newest_evidence:
                raise UsageError(
                    "evidence was recorded after the newest decision: evaluate again first"
                )
            if decision_passes(decision):
                raise ConflictError(f"the decision on {version.ref} passes: nothing to override")
            now = self._now()
            oid = insert_id(
                conn,
                t.approval_overrides.insert().values(
                    model_version_id=version.id, artifact_hash=version.artifact_hash,
                    evidence_digest=version.evidence, policy_hash=gate.policy_hash,
                    decision_id=decision_id, justification=justification, created_at=now,
                    created_by=principal.user,
                )
            )  # fmt: skip
            _audit(
                change,
                principal.user,
                "policy.overridden",
                f"model:{version.system}/{version.ref}",
                {
                    "override": oid,
                    "decision": decision_id,
                    "outcome": decision.get("outcome"),
                    "policy_hash": gate.policy_hash,
                    "artifact_hash": version.artifact_hash,
                    "evidence_digest": version.evidence,
                },
                reason=justification,
            )
        return Override(
            int(oid), version.system, version.ref, version.artifact_hash, version.evidence,
            gate.policy_hash, decision_id, justification, now, principal.user,
        )  # fmt: skip
