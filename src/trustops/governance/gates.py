"""The promotion gate: what a model version needs to enter production, read from the store.

A system's gate is the newest row of ``approval_gates`` (set by
:meth:`~trustops.governance.approvals.Approvals.set_gate`); a version of a
gated system enters production only when :func:`gate_status` is open:

(a) the newest decision of the gate's policy on the version passes and was
    recorded after the newest evidence about the version and its datasets, or
    a compliance officer overrode that very decision for the same artifact and
    evidence; and
(b) the newest request still bound to the version's artifact hash, evidence
    digest and gate policy is approved.

The verdict itself is the pure :func:`trustops.core.approvals.judge_gate`;
this module gathers its inputs. :func:`enforce_gate` is what
:meth:`Registry.promote <trustops.governance.registry.Registry.promote>` calls
inside its write transaction, so the verdict and the promotion see the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trustops.core.approvals import (
    LIVE,
    GateStatus,
    Vote,
    evidence_digest,
    judge_gate,
    requirements_of,
    staleness,
    tally,
)
from trustops.errors import TrustOpsError
from trustops.governance import schema as t

__all__ = [
    "Gate",
    "LiveRequest",
    "PromotionBlocked",
    "VersionFacts",
    "default_gate",
    "enforce_gate",
    "gate_status",
    "live_request",
    "newest_decision",
    "system_gate",
    "version_facts",
]

# Evidence kinds a policy does not look at, so they never make a decision or an
# approval stale: decisions and reports themselves, and the monitoring windows of a
# version in service (a breach acts through the monitor's alerts, not by silently
# cancelling the approvals in flight; see docs/monitoring.md).
NOT_COUNTED = ("policy_decision", "report", "monitoring_window")


class PromotionBlocked(TrustOpsError):
    """The gate is closed: the version may not enter production (reasons in the message)."""

    status = 409
    exit_code = 1

    def __init__(self, ref: str, reasons: list[str]) -> None:
        super().__init__(
            f"{ref} may not enter production: {'; '.join(reasons)}",
            hint="see `trustops approvals status " + ref + "`",
        )
        self.ref = ref
        self.reasons = reasons


@dataclass(frozen=True)
class Gate:
    """A system's gate: the policy whose decisions and ``approvals:`` section it applies."""

    system: str
    policy: str | None
    policy_hash: str | None
    requirements: dict[str, int]
    created_at: str | None = None
    created_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class VersionFacts:
    """What the gate needs of a model version, read in one transaction."""

    id: int
    system: str
    system_id: int
    ref: str
    artifact_hash: str
    evidence: str  # digest
    newest_evidence: int  # id of the newest evidence a policy sees (0: none)


def version_facts(conn: Connection, model_version_id: int) -> VersionFacts:
    v, m, s = t.model_versions.c, t.models.c, t.systems.c
    row = conn.execute(
        sa.select(
            v.id, v.version, v.artifact_hash, m.name, s.name.label("system"), s.id.label("sid")
        )
        .join(t.models, m.id == v.model_id)
        .join(t.systems, s.id == m.system_id)
        .where(v.id == model_version_id)
    ).one()
    e, md = t.evidence.c, t.model_datasets.c
    datasets = sa.select(md.dataset_version_id).where(md.model_version_id == model_version_id)
    about = ((e.subject_type == "model_version") & (e.subject_id == model_version_id)) | (
        (e.subject_type == "dataset_version") & e.subject_id.in_(datasets)
    )
    records = conn.execute(
        sa.select(e.id, e.kind, e.content_hash).where(about, e.kind.not_in(NOT_COUNTED))
    ).all()
    return VersionFacts(
        id=row.id,
        system=row.system,
        system_id=row.sid,
        ref=f"{row.name}@{row.version}",
        artifact_hash=row.artifact_hash,
        evidence=evidence_digest((r.kind, r.content_hash) for r in records),
        newest_evidence=max((r.id for r in records), default=0),
    )


def system_gate(conn: Connection, system_id: int, system: str) -> Gate | None:
    g, p = t.approval_gates.c, t.policies.c
    row = conn.execute(
        sa.select(g.policy_hash, g.created_at, g.created_by)
        .where(g.system_id == system_id)
        .order_by(g.id.desc())
        .limit(1)
    ).first()
    if row is None or row.policy_hash is None:
        return None
    content = conn.execute(sa.select(p.content).where(p.hash == row.policy_hash)).scalar_one()
    source = json.loads(content)
    return Gate(
        system, source.get("policy"), row.policy_hash,
        requirements_of(source.get("approvals")), row.created_at, row.created_by,
    )  # fmt: skip


def default_gate(system: str) -> Gate:
    return Gate(system, None, None, requirements_of(None))


def newest_decision(
    conn: Connection, model_version_id: int, policy_hash: str | None
) -> tuple[int, dict[str, Any]] | None:
    e = t.evidence.c
    rows = conn.execute(
        sa.select(e.id, e.content)
        .where(
            e.kind == "policy_decision",
            e.subject_type == "model_version",
            e.subject_id == model_version_id,
        )
        .order_by(e.id.desc())
    ).all()
    for row in rows:
        content = json.loads(row.content)
        if policy_hash is None or content.get("policy_hash") == policy_hash:
            return int(row.id), content
    return None


@dataclass(frozen=True)
class LiveRequest:
    """The request a gate counts: the newest one still pending or approved and still bound."""

    id: int
    state: str
    requirements: dict[str, int]
    votes: list[Vote]


def live_request(
    conn: Connection, version: VersionFacts, policy_hash: str | None
) -> LiveRequest | None:
    """The newest pending or approved request bound to the version's current artifact,
    evidence and gate policy (None: there is none)."""
    r, v = t.approval_requests.c, t.approval_votes.c
    rows = conn.execute(
        sa.select(r.id, r.state, r.artifact_hash, r.evidence_digest, r.policy_hash, r.requirements)
        .where(r.model_version_id == version.id, r.state.in_(LIVE))
        .order_by(r.id.desc())
    ).all()
    for row in rows:
        bound = (row.artifact_hash, row.evidence_digest, row.policy_hash)
        if staleness(bound, (version.artifact_hash, version.evidence, policy_hash)) is None:
            votes = conn.execute(
                sa.select(v.voter, v.role, v.approve).where(v.request_id == row.id)
            ).all()
            return LiveRequest(
                row.id, row.state, json.loads(row.requirements),
                [Vote(x.voter, x.role, bool(x.approve)) for x in votes],
            )  # fmt: skip
    return None


def gate_status(conn: Connection, version: VersionFacts, *, require: bool) -> GateStatus | None:
    """The gate's verdict on a version (None: the system has no gate and none is required)."""
    gate = system_gate(conn, version.system_id, version.system)
    if gate is None:
        if not require:
            return None
        gate = default_gate(version.system)
    found = newest_decision(conn, version.id, gate.policy_hash)
    decision_id, decision = found if found else (None, None)
    current = decision_id is not None and decision_id > version.newest_evidence
    o = t.approval_overrides.c
    override = conn.execute(
        sa.select(o.id)
        .where(
            o.model_version_id == version.id,
            o.artifact_hash == version.artifact_hash,
            o.evidence_digest == version.evidence,
            (o.policy_hash == gate.policy_hash)
            if gate.policy_hash is not None
            else o.policy_hash.is_(None),
            o.decision_id == decision_id,
        )
        .order_by(o.id.desc())
    ).scalar()
    live = live_request(conn, version, gate.policy_hash)
    votes = live.votes if live else []
    requirements = live.requirements if live else gate.requirements
    reasons = judge_gate(
        decision=decision,
        decision_is_current=current,
        overridden=override is not None,
        request_state=live.state if live else None,
        requirements=requirements,
        votes=votes,
    )
    return GateStatus(
        ref=f"{version.system}/{version.ref}",
        ok=not reasons,
        reasons=reasons,
        required=dict(requirements),
        approved=tally(requirements, votes),
        policy_hash=gate.policy_hash,
        decision=decision.get("outcome") if decision else None,
        decision_id=decision_id,
        override_id=override,
        request_id=live.id if live else None,
        artifact_hash=version.artifact_hash,
        evidence_digest=version.evidence,
        gated=True,
        extra={"policy": gate.policy},
    )


def enforce_gate(conn: Connection, model_version_id: int, *, require: bool = False) -> None:
    """Raise :class:`PromotionBlocked` unless the version may enter production.

    Called by :meth:`Registry.promote` inside its write transaction, so the
    verdict and the promotion see the same rows.
    """
    version = version_facts(conn, model_version_id)
    status = gate_status(conn, version, require=require)
    if status is not None and not status.ok:
        raise PromotionBlocked(status.ref, status.reasons)
