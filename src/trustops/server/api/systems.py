"""AI systems and their datasets: create, list, get; register a dataset by uploading its file.

An uploaded dataset is data: CSV, Parquet or Arrow IPC bytes, read by
PyArrow into a table (a file that does not parse is a 422), hashed and
profiled as ``trustops dataset register`` does. It is written to a private
temporary folder (mode 0700) under a name the server picks, never the
client's file name, and removed afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, Form, UploadFile
from pydantic import Field

from trustops.core.access import Permission
from trustops.errors import InputError, first_line
from trustops.governance import Registry
from trustops.server.api import api_router
from trustops.server.api.schemas import (
    KIND_PATTERN,
    Body,
    DataRef,
    DatasetOut,
    EvidenceOut,
    Name,
    Ref,
    SystemName,
    SystemOut,
    Text,
)
from trustops.server.security import AUTHENTICATED, Caller, requires

__all__ = ["dataset_ref", "router"]

router = api_router("systems")

Reader = Annotated[Caller, Depends(requires(Permission.SYSTEM_READ))]
Creator = Annotated[Caller, Depends(requires(Permission.SYSTEM_CREATE))]
Registrar = Annotated[Caller, Depends(requires(Permission.DATASET_REGISTER))]
Recorder = Annotated[Caller, Depends(requires(Permission.EVIDENCE_RECORD))]
Anyone = Annotated[Caller, Depends(AUTHENTICATED)]


def dataset_ref(registry: Registry, system: str, ref: str) -> str:
    """``NAME@VERSION`` for ``ref`` (``NAME`` means the latest; 404 if there is none).

    The registry would also take a file's path for a dataset; a reference from a
    client never reaches it without its version, so it is never read as a path.
    """
    if "@" in ref:
        return ref
    versions = [d.version for d in registry.datasets(system=system) if d.name == ref]
    if not versions:
        from trustops.governance import NotFoundError

        raise NotFoundError(f"dataset {ref!r} is not registered in this system")
    return f"{ref}@{max(versions)}"


class SystemCreate(Body):
    name: Name
    owner: Text | None = None
    purpose: Text | None = None
    use_case: Text | None = None
    risk: Literal["prohibited", "high", "limited", "minimal"] | None = None
    jurisdictions: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=50)
    single_production: bool = True


@router.get("/me", summary="Who you are: user, administrator or not, role in each system")
def me(caller: Anyone) -> dict[str, Any]:
    principal = caller.principal
    assert principal is not None
    roles = {system: str(role) for system, role in sorted(principal.roles.items())}
    return {"user": principal.user, "admin": principal.admin, "roles": roles}


@router.get("/systems", summary="The systems you may see")
def list_systems(caller: Anyone) -> list[SystemOut]:
    principal = caller.principal
    assert principal is not None
    systems = caller.registry.systems()
    return [SystemOut(**s.to_dict()) for s in systems if principal.visible(s.name)]


@router.post("/systems", status_code=201, summary="Register an AI system (administrators)")
def create_system(body: SystemCreate, caller: Creator) -> SystemOut:
    system = caller.registry.create_system(
        body.name,
        owner=body.owner,
        purpose=body.purpose,
        use_case=body.use_case,
        risk=body.risk,
        jurisdictions=body.jurisdictions,
        single_production=body.single_production,
    )
    return SystemOut(**system.to_dict())


@router.get("/systems/{system}", summary="One system")
def get_system(system: SystemName, caller: Reader) -> SystemOut:
    return SystemOut(**caller.registry.system(system).to_dict())


# -- datasets -------------------------------------------------------------------


class DatasetUpload(Body):
    file: UploadFile = Field(description="The data: CSV, Parquet or Arrow IPC bytes.")
    name: Name
    format: Literal["csv", "parquet", "arrow"] = "csv"
    source: Text | None = None
    purposes: list[Annotated[str, Field(max_length=200)]] = Field(default=[], max_length=50)
    lawful_basis: Text | None = None
    personal_data: bool = False
    retention_days: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    derived_from: list[DataRef] = Field(default=[], max_length=50)
    subject_column: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="The column identifying people (indexed for erasure)."
    )


_SUFFIX = {"csv": ".csv", "parquet": ".parquet", "arrow": ".arrow"}


def _read_arrow(path: Path) -> Any:
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        try:
            return pa.ipc.open_file(source).read_all()
        except pa.ArrowInvalid:
            source.seek(0)
            return pa.ipc.open_stream(source).read_all()


def _upload_name(filename: str | None) -> str:
    """The client's file name, for provenance only (never used as a path)."""
    base = re.split(r"[\\/]", filename or "")[-1]
    return re.sub(r"[^A-Za-z0-9._-]", "_", base)[:200] or "upload"


@router.post(
    "/systems/{system}/datasets",
    status_code=201,
    summary="Register a dataset version by uploading its file (multipart form)",
)
def register_dataset(
    system: SystemName, upload: Annotated[DatasetUpload, Form()], caller: Registrar
) -> DatasetOut:
    import pyarrow as pa

    registry = caller.registry
    parents = [dataset_ref(registry, system, r) for r in upload.derived_from]
    folder = Path(tempfile.mkdtemp(prefix="trustops-upload-"))  # mode 0700
    try:
        path = folder / f"data{_SUFFIX[upload.format]}"
        with open(path, "wb") as out:
            shutil.copyfileobj(upload.file.file, out, 1 << 20)
        if os.path.getsize(path) == 0:
            raise InputError("the uploaded file is empty")
        data: Any = _read_arrow(path) if upload.format == "arrow" else path
        source = upload.source or f"upload:{_upload_name(upload.file.filename)}"
        version = registry.register_dataset(
            data,
            system=system,
            name=upload.name,
            source=source,
            purposes=upload.purposes,
            lawful_basis=upload.lawful_basis,
            personal_data=upload.personal_data,
            retention_days=upload.retention_days,
            derived_from=parents,
            subject_column=upload.subject_column,
        )
    except (pa.ArrowException, UnicodeDecodeError, OSError) as exc:  # the data, not us
        raise InputError(
            f"the uploaded file is not valid {upload.format}: {first_line(exc)}"
        ) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return DatasetOut(**version.to_dict())


@router.get("/systems/{system}/datasets", summary="The system's dataset versions")
def list_datasets(system: SystemName, caller: Reader) -> list[DatasetOut]:
    return [DatasetOut(**d.to_dict()) for d in caller.registry.datasets(system=system)]


@router.get("/systems/{system}/datasets/{ref}", summary="One dataset version")
def get_dataset(system: SystemName, ref: Ref, caller: Reader) -> DatasetOut:
    registry = caller.registry
    return DatasetOut(
        **registry.dataset(dataset_ref(registry, system, ref), system=system).to_dict()
    )


class EvidenceIn(Body):
    kind: Annotated[str, Field(pattern=KIND_PATTERN)]
    content: dict[str, Any]


@router.get("/systems/{system}/datasets/{ref}/evidence", summary="Evidence about a dataset version")
def dataset_evidence(system: SystemName, ref: Ref, caller: Reader) -> list[EvidenceOut]:
    registry = caller.registry
    subject = f"dataset:{system}/{dataset_ref(registry, system, ref)}"
    return [EvidenceOut(**e.to_dict()) for e in registry.evidence(subject=subject)]


@router.post(
    "/systems/{system}/datasets/{ref}/evidence",
    status_code=201,
    summary="Record evidence about a dataset version",
)
def record_dataset_evidence(
    system: SystemName, ref: Ref, body: EvidenceIn, caller: Recorder
) -> EvidenceOut:
    registry = caller.registry
    subject = f"dataset:{system}/{dataset_ref(registry, system, ref)}"
    return EvidenceOut(**registry.record_evidence(body.kind, subject, body.content).to_dict())
