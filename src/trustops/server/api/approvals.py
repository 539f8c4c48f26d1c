"""Four-eyes approvals: gates, requests, votes, overrides (:mod:`trustops.governance.approvals`).

Each call acts as the authenticated user: a request's submitter, a vote's
voter and an override's author are the principal, never a field of the
body. The rules (no self-approval, administrators included; one vote per
person; only the roles the gate names; a request invalidated when the
artifact, evidence or policy changes) are enforced by the approvals
module, so the API and the CLI cannot differ.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query
from pydantic import Field, model_validator

from trustops.core.access import Permission
from trustops.server.api import api_router
from trustops.server.api.decisions import load
from trustops.server.api.models import model_ref
from trustops.server.api.schemas import (
    Body,
    Out,
    PackName,
    PolicyText,
    Ref,
    SystemName,
    Text,
)
from trustops.server.security import Caller, requires

__all__ = ["router"]

router = api_router("approvals")

Reader = Annotated[Caller, Depends(requires(Permission.SYSTEM_READ))]
Requester = Annotated[Caller, Depends(requires(Permission.APPROVAL_REQUEST))]
Decider = Annotated[Caller, Depends(requires(Permission.APPROVAL_DECIDE))]
Overrider = Annotated[Caller, Depends(requires(Permission.POLICY_OVERRIDE))]
GateSetter = Annotated[Caller, Depends(requires(Permission.GATE_SET))]
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1, description="An approval request's id.")]


class ApprovalOut(Out):
    id: int
    system: str
    model: str
    ref: str
    artifact_hash: str
    evidence_digest: str
    policy_hash: str | None
    requirements: dict[str, int]
    approved: dict[str, int]
    submitter: str
    comment: str | None
    state: str
    created_at: str
    updated_at: str
    votes: list[dict[str, Any]]
    invalid_because: str | None


class GateOut(Out):
    ref: str
    ok: bool
    reasons: list[str]
    required: dict[str, int]
    approved: dict[str, int]


class RequestIn(Body):
    comment: Text | None = None


class DecisionIn(Body):
    approve: bool
    comment: Annotated[str, Field(min_length=1, max_length=10_000)]


class OverrideIn(Body):
    justification: Annotated[str, Field(min_length=1, max_length=10_000)]


class GateIn(Body):
    pack: PackName | None = None
    policy: PolicyText | None = Field(default=None, description="A policy document (YAML).")
    remove: bool = Field(default=False, description="Remove the system's gate instead.")

    @model_validator(mode="after")
    def _one_policy(self) -> GateIn:
        if self.remove != ((self.pack is None) and (self.policy is None)):
            raise ValueError("give one of pack and policy, or remove: true alone")
        if self.pack is not None and self.policy is not None:
            raise ValueError("give one of pack and policy")
        return self


def _approvals(caller: Caller) -> Any:
    from trustops.governance.approvals import Approvals

    return Approvals(caller.registry)


@router.get("/systems/{system}/gate", summary="The system's gate: policy and approvals required")
def get_gate(system: SystemName, caller: Reader) -> dict[str, Any]:
    gate = _approvals(caller).get_gate(system)
    return {"system": system, "gate": gate.to_dict() if gate else None}


@router.put("/systems/{system}/gate", summary="Gate the system's promotions on a policy")
def set_gate(system: SystemName, body: GateIn, caller: GateSetter) -> dict[str, Any]:
    policy = None if body.remove else load(body.pack, body.policy)
    gate = _approvals(caller).set_gate(system, policy, principal=caller.principal)
    return {"system": system, "gate": gate.to_dict() if gate else None}


@router.get(
    "/systems/{system}/models/{ref}/gate",
    summary="Whether a model version may enter production now, and what is missing",
)
def gate_status(system: SystemName, ref: Ref, caller: Reader) -> GateOut:
    return GateOut(**_approvals(caller).gate(model_ref(system, ref)).to_dict())


@router.post(
    "/systems/{system}/models/{ref}/approvals",
    status_code=201,
    summary="Ask for approval to put a model version into production",
)
def request_approval(
    system: SystemName, ref: Ref, body: RequestIn, caller: Requester
) -> ApprovalOut:
    request = _approvals(caller).request(
        model_ref(system, ref), principal=caller.principal, comment=body.comment
    )
    return ApprovalOut(**request.to_dict())


@router.get("/approvals", summary="Approval requests in your systems (default: pending ones)")
def list_approvals(
    caller: Reader,
    state: Annotated[
        str, Query(pattern=r"^(pending|approved|rejected|invalidated|withdrawn|all)$")
    ] = "pending",
) -> list[ApprovalOut]:
    principal = caller.principal
    assert principal is not None
    systems = None if principal.admin else sorted(principal.roles)
    states = None if state == "all" else [state]
    found = _approvals(caller).requests(systems=systems, states=states)
    return [ApprovalOut(**r.to_dict()) for r in found]


@router.get("/approvals/{request_id}", summary="One approval request with its votes")
def get_approval(request_id: RequestId, caller: Reader) -> ApprovalOut:
    request = _approvals(caller).get(request_id)
    caller.check_visible(request.system)
    return ApprovalOut(**request.to_dict())


@router.post(
    "/approvals/{request_id}/decision",
    summary="Approve or reject a request, with a comment (never your own request)",
)
def decide(request_id: RequestId, body: DecisionIn, caller: Decider) -> ApprovalOut:
    request = _approvals(caller).decide(
        request_id, principal=caller.principal, approve=body.approve, comment=body.comment
    )
    return ApprovalOut(**request.to_dict())


@router.post(
    "/approvals/{request_id}/withdraw",
    summary="Take back your own request (pending or approved)",
)
def withdraw(request_id: RequestId, caller: Requester) -> ApprovalOut:
    request = _approvals(caller).withdraw(request_id, principal=caller.principal)
    return ApprovalOut(**request.to_dict())


@router.post(
    "/systems/{system}/models/{ref}/overrides",
    status_code=201,
    summary="Override the failing policy decision on a version, with a written justification",
)
def override(system: SystemName, ref: Ref, body: OverrideIn, caller: Overrider) -> dict[str, Any]:
    found = _approvals(caller).override(
        model_ref(system, ref), principal=caller.principal, justification=body.justification
    )
    return dict(found.to_dict())
