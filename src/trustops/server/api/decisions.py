"""Policy decisions: evaluate a policy on a model version (the one gate), list decisions.

A policy is a shipped pack, by name (``eeoc-four-fifths``, ...), or a policy
document posted as YAML text; both go through
:meth:`~trustops.governance.Registry.evaluate_policy`, the same gate as
``trustops check --model``. A pack name is looked up among the packs only:
it is never read as a file path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Path
from pydantic import Field, model_validator

from trustops.core.access import Permission
from trustops.server.api import api_router
from trustops.server.api.models import model_ref
from trustops.server.api.schemas import (
    Body,
    EvidenceOut,
    Out,
    PackName,
    PolicyText,
    Ref,
    SystemName,
)
from trustops.server.security import Caller, requires

__all__ = ["load", "router"]

router = api_router("policy")

Reader = Annotated[Caller, Depends(requires(Permission.SYSTEM_READ))]
Evaluator = Annotated[Caller, Depends(requires(Permission.POLICY_EVALUATE))]


class Evaluation(Body):
    pack: PackName | None = Field(
        default=None, description="A shipped policy pack's name (GET /policies/packs)."
    )
    policy: PolicyText | None = Field(
        default=None, description="A policy document, as YAML (or JSON) text."
    )
    as_of: datetime | None = Field(default=None, description="Evaluate as of (default: now).")
    record: bool = Field(default=True, description="Record the decision as evidence.")

    @model_validator(mode="after")
    def _one_policy(self) -> Evaluation:
        if (self.pack is None) == (self.policy is None):
            raise ValueError("give exactly one of pack and policy")
        return self


class DecisionOut(Out):
    policy: str
    outcome: str
    blocked: bool
    decision: dict[str, Any]
    evidence: EvidenceOut | None


def load(pack: str | None, text: str | None) -> Any:
    """The pack named ``pack`` (only a shipped one), or the policy document ``text``."""
    from trustops.errors import InputError
    from trustops.policy import load_policy_text, pack_names, pack_path

    if pack is not None:
        if pack not in pack_names():
            raise InputError(f"no policy pack {pack!r}", hint=f"packs: {', '.join(pack_names())}")
        return load_policy_text(pack_path(pack).read_text("utf-8"), where=pack)
    assert text is not None
    return load_policy_text(text, where="policy")


@router.get("/policies/packs", summary="The shipped policy packs")
def packs(caller: Reader) -> list[str]:
    from trustops.policy import pack_names

    return pack_names()


@router.get("/policies/packs/{pack}", summary="A shipped policy pack's YAML")
def pack(
    pack: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")], caller: Reader
) -> dict[str, str]:
    from trustops.governance import NotFoundError
    from trustops.policy import pack_names, pack_path

    if pack not in pack_names():
        raise NotFoundError(f"no policy pack {pack!r}")
    return {"name": pack, "yaml": pack_path(pack).read_text("utf-8")}


class PolicyIn(Body):
    policy: PolicyText = Field(description="A policy document, as YAML (or JSON) text.")


@router.post(
    "/policies/validate",
    summary="Check a policy document: its name, version, hash and rules, or what is wrong",
)
def validate(body: PolicyIn, caller: Reader) -> dict[str, Any]:
    policy = load(None, body.policy)
    return {
        "name": policy.name,
        "version": policy.version,
        "hash": policy.hash,
        "rules": [rule.id for rule in policy.rules],
    }


@router.get("/policies", summary="Every policy version used in a recorded decision")
def policies(caller: Reader) -> list[dict[str, Any]]:
    return caller.registry.policies()


@router.post(
    "/systems/{system}/models/{ref}/decisions",
    status_code=201,
    summary="Evaluate a policy on a model version's evidence (and record the decision)",
)
def evaluate(system: SystemName, ref: Ref, body: Evaluation, caller: Evaluator) -> DecisionOut:
    policy = load(body.pack, body.policy)
    registry = caller.registry
    now = body.as_of if body.as_of is None or body.as_of.tzinfo else body.as_of.replace(tzinfo=UTC)
    ref = model_ref(system, ref)
    decision = registry.evaluate_policy(policy, ref, now=now, record=False)
    recorded = None
    if body.record:  # as evaluate_policy(record=True) does, keeping the record to return it
        evidence = registry.record_decision(decision, policy, registry.model(ref))
        recorded = EvidenceOut(**evidence.to_dict())
    return DecisionOut(
        policy=policy.name,
        outcome=decision.outcome,
        blocked=decision.blocked,
        decision=decision.to_dict(),
        evidence=recorded,
    )


@router.get("/systems/{system}/decisions", summary="Every policy decision on the system's models")
def decisions(system: SystemName, caller: Reader) -> list[EvidenceOut]:
    registry = caller.registry
    registry.system(system)  # 404 for a system that does not exist
    prefix = f"model:{system}/"
    return [
        EvidenceOut(**e.to_dict())
        for e in registry.evidence(kind="policy_decision")
        if e.subject.startswith(prefix)
    ]
