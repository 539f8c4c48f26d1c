"""Stages: promote a model version, roll a system back, read its stage history.

Every promotion to production through the API goes through the approval gate
(:mod:`trustops.governance.approvals`), whether or not the system has a gate
of its own: a passing (or overridden) policy decision on that artifact, and
the approvals the policy requires, each from someone other than the
submitter. A closed gate is a 409 naming what is missing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends

from trustops.core.access import Permission
from trustops.server.api import api_router
from trustops.server.api.models import model_ref
from trustops.server.api.schemas import Body, Ref, SystemName, Text
from trustops.server.security import Caller, requires

__all__ = ["router"]

router = api_router("stages")

Reader = Annotated[Caller, Depends(requires(Permission.SYSTEM_READ))]
Promoter = Annotated[Caller, Depends(requires(Permission.MODEL_PROMOTE))]
RollingBack = Annotated[Caller, Depends(requires(Permission.MODEL_ROLLBACK))]


class StageChange(Body):
    stage: Literal["development", "staging", "production", "archived"]
    reason: Text | None = None


class Rollback(Body):
    reason: Text | None = None


def _plan(transitions: list[Any]) -> dict[str, Any]:
    return {"transitions": [t.to_dict() for t in transitions]}


@router.post(
    "/systems/{system}/models/{ref}/stage",
    summary="Move a model version to a stage (production: only through the approval gate)",
    responses={409: {"description": "the gate is closed, or the transition is not allowed"}},
)
def promote(system: SystemName, ref: Ref, body: StageChange, caller: Promoter) -> dict[str, Any]:
    plan = caller.registry.promote(
        model_ref(system, ref), body.stage, reason=body.reason, require_gate=True
    )
    return _plan(plan)


@router.post(
    "/systems/{system}/rollback",
    summary="Put back the version that was in production before the current one",
)
def rollback(system: SystemName, body: Rollback, caller: RollingBack) -> dict[str, Any]:
    return _plan(caller.registry.rollback(system, reason=body.reason))


@router.get("/systems/{system}/history", summary="Every stage transition of the system's models")
def history(system: SystemName, caller: Reader) -> list[dict[str, Any]]:
    return caller.registry.history(system)
