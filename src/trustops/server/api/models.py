"""Model versions: register by uploading the artifact, list, get, the model page, evidence.

An uploaded artifact is bytes: it goes into the content-addressed store
under its SHA-256 and is never loaded, unpickled or executed by the server
(a model file *is* code for pickle-based formats; see REFERENCES §3.4).
The model page (``GET .../page``) is everything a reviewer looks at in one
JSON document: the version, its evidence, its policy decisions, its stage
history, the approval gate and requests, and its lineage.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Form, UploadFile
from pydantic import Field

from trustops.core.access import Permission
from trustops.errors import InputError
from trustops.governance import Registry
from trustops.server.api import api_router
from trustops.server.api.schemas import (
    Body,
    DataRef,
    EvidenceOut,
    ModelOut,
    Name,
    Out,
    Ref,
    SystemName,
)
from trustops.server.api.systems import EvidenceIn, dataset_ref
from trustops.server.security import Caller, requires

__all__ = ["ModelPage", "model_page", "model_ref", "router"]

router = api_router("models")

Reader = Annotated[Caller, Depends(requires(Permission.SYSTEM_READ))]
Registrar = Annotated[Caller, Depends(requires(Permission.MODEL_REGISTER))]
Recorder = Annotated[Caller, Depends(requires(Permission.EVIDENCE_RECORD))]

_COMMIT = r"^[0-9a-f]{7,64}$"


def model_ref(system: str, ref: str) -> str:
    """The registry's reference of model version ``ref`` in ``system``: ``SYSTEM/NAME[@V]``."""
    return f"{system}/{ref}"


def _json_object(text: str | None, field: str) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise InputError(f"{field} must be a JSON object") from None
    if not isinstance(value, dict):
        raise InputError(f"{field} must be a JSON object, not {type(value).__name__}")
    return value


class ModelUpload(Body):
    file: UploadFile = Field(description="The artifact's bytes (stored by hash, never loaded).")
    name: Name
    framework: Annotated[str, Field(max_length=200)] | None = None
    parameters: Annotated[str, Field(max_length=100_000, description="A JSON object.")] | None = (
        None
    )
    metrics: Annotated[str, Field(max_length=100_000, description="A JSON object.")] | None = None
    trained_on: list[DataRef] = Field(default=[], max_length=50)
    evaluated_on: list[DataRef] = Field(default=[], max_length=50)
    parent: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}(@[0-9]{1,9})?$")] | (
        None
    ) = None
    code_commit: Annotated[str, Field(pattern=_COMMIT)] | None = None
    purpose: Annotated[str, Field(max_length=200)] | None = Field(
        default=None,
        description="What the training and evaluation data are used for (checked against "
        "each dataset's permitted purposes; default: the workspace's).",
    )


@router.post(
    "/systems/{system}/models",
    status_code=201,
    summary="Register a model version by uploading its artifact (multipart form)",
)
def register_model(
    system: SystemName, upload: Annotated[ModelUpload, Form()], caller: Registrar
) -> ModelOut:
    registry = caller.registry
    parameters = _json_object(upload.parameters, "parameters")
    metrics = _json_object(upload.metrics, "metrics")
    data = upload.file.file.read()
    if not data:
        raise InputError("the uploaded artifact is empty")
    version = registry.register_model(
        data,  # bytes: hashed and stored, never deserialised
        system=system,
        name=upload.name,
        trained_on=[dataset_ref(registry, system, r) for r in upload.trained_on],
        evaluated_on=[dataset_ref(registry, system, r) for r in upload.evaluated_on],
        framework=upload.framework,
        parameters=parameters,
        metrics=metrics,
        parent=upload.parent,
        code_commit=upload.code_commit,
        purpose=upload.purpose,
    )
    return ModelOut(**version.to_dict())


@router.get("/systems/{system}/models", summary="The system's model versions")
def list_models(system: SystemName, caller: Reader) -> list[ModelOut]:
    return [ModelOut(**m.to_dict()) for m in caller.registry.models(system=system)]


@router.get("/systems/{system}/models/{ref}", summary="One model version")
def get_model(system: SystemName, ref: Ref, caller: Reader) -> ModelOut:
    return ModelOut(**caller.registry.model(model_ref(system, ref)).to_dict())


@router.get("/systems/{system}/models/{ref}/evidence", summary="Evidence about a model version")
def model_evidence(system: SystemName, ref: Ref, caller: Reader) -> list[EvidenceOut]:
    registry = caller.registry
    version = registry.model(model_ref(system, ref))
    return [EvidenceOut(**e.to_dict()) for e in registry.evidence(subject=version)]


@router.post(
    "/systems/{system}/models/{ref}/evidence",
    status_code=201,
    summary="Record evidence about a model version",
)
def record_model_evidence(
    system: SystemName, ref: Ref, body: EvidenceIn, caller: Recorder
) -> EvidenceOut:
    registry = caller.registry
    version = registry.model(model_ref(system, ref))
    return EvidenceOut(**registry.record_evidence(body.kind, version, body.content).to_dict())


@router.get("/systems/{system}/models/{ref}/lineage", summary="What went into a model version")
def lineage(system: SystemName, ref: Ref, caller: Reader) -> dict[str, Any]:
    return caller.registry.lineage(model_ref(system, ref)).to_dict()


class ModelPage(Out):
    model: ModelOut
    evidence: list[EvidenceOut]
    decisions: list[EvidenceOut]
    reports: list[EvidenceOut]
    history: list[dict[str, Any]]
    gate: dict[str, Any]
    approvals: list[dict[str, Any]]
    lineage: dict[str, Any]


def model_page(registry: Registry, ref: str) -> dict[str, Any]:
    """Everything about model version ``ref`` a reviewer reads, as JSON-ready data."""
    from trustops.governance.approvals import Approvals

    version = registry.model(ref)
    records = registry.evidence(subject=version)
    label = version.ref
    approvals = Approvals(registry)
    full = f"{version.system}/{version.ref}"
    return {
        "model": version.to_dict(),
        "evidence": [e.to_dict() for e in records if e.kind not in ("policy_decision", "report")],
        "decisions": [e.to_dict() for e in records if e.kind == "policy_decision"],
        "reports": [e.to_dict() for e in records if e.kind == "report"],
        "history": [h for h in registry.history(version.system) if h["version"] == label],
        "gate": approvals.gate(full).to_dict(),
        "approvals": [r.to_dict() for r in approvals.requests(full)],
        "lineage": registry.lineage(full).to_dict(),
    }


@router.get(
    "/systems/{system}/models/{ref}/page",
    summary="The model page: evidence, decisions, stage history, gate, approvals, lineage",
)
def page(system: SystemName, ref: Ref, caller: Reader) -> ModelPage:
    return ModelPage(**model_page(caller.registry, model_ref(system, ref)))
