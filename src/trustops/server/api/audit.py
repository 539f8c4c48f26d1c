"""The audit log over HTTP: entries (paged), checkpoints, verification, proofs, the export.

A caller sees the entries about the systems they belong to (an
administrator sees all): an entry whose subject is ``system:S``,
``model:S/...`` or ``dataset:S/...`` for one of their systems. Checkpoints
and verification speak of the whole log's size and root, which reveal no
entry. The export holds every entry, so only a caller who may see every
system downloads it. Inclusion proofs are made against the newest stored
checkpoint that covers the entry (reading never signs anything).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from trustops.core.access import Permission
from trustops.server.api import api_router
from trustops.server.api.schemas import AuditEntryOut, Out
from trustops.server.security import Caller, requires

__all__ = ["entry_system", "router"]

router = api_router("audit")

AuditReader = Annotated[Caller, Depends(requires(Permission.AUDIT_READ))]
Checkpointer = Annotated[Caller, Depends(requires(Permission.AUDIT_CHECKPOINT))]
_PAGE = 1000


def entry_system(subject: str) -> str | None:
    """The system an entry is about (``model:credit/scorer@1`` -> ``credit``), or None.

    Example:
        >>> entry_system("model:credit/scorer@1"), entry_system("system:hr"), entry_system("user:x")
        ('credit', 'hr', None)
    """
    kind, _, rest = subject.partition(":")
    if kind == "system":
        return rest
    if kind in ("model", "dataset") and "/" in rest:
        return rest.split("/", 1)[0]
    return None


def _visible(caller: Caller, subject: str) -> bool:
    principal = caller.principal
    assert principal is not None
    if principal.admin:
        return True
    system = entry_system(subject)
    return system is not None and principal.visible(system)


class EntriesPage(Out):
    entries: list[AuditEntryOut]
    size: int
    next: int | None


@router.get("/audit/entries", summary="Audit entries from seq `start` (those you may see)")
def entries(
    caller: AuditReader,
    start: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=_PAGE)] = 100,
) -> EntriesPage:
    log = caller.store.audit
    size = log.size()
    found = log.entries(start=start, limit=limit)
    shown = [AuditEntryOut(**e.to_dict()) for e in found if _visible(caller, e.subject)]
    following = found[-1].seq + 1 if found else None
    return EntriesPage(
        entries=shown, size=size, next=following if following and following < size else None
    )


@router.get("/audit/checkpoints", summary="The signed checkpoints and the verifier key")
def checkpoints(caller: AuditReader) -> dict[str, Any]:
    log = caller.store.audit
    return {"origin": log.origin, "verifier": log.verifier(), "checkpoints": log.checkpoints()}


@router.post(
    "/audit/checkpoints", status_code=201, summary="Sign a checkpoint of the log as it is now"
)
def create_checkpoint(caller: Checkpointer) -> dict[str, Any]:
    return {"checkpoint": caller.store.audit.checkpoint()}


@router.get("/audit/verify", summary="Verify the stored log: leaves, head, every checkpoint")
def verify(caller: AuditReader) -> dict[str, Any]:
    result = caller.store.audit.verify()
    return {
        "ok": result.ok,
        "size": result.size,
        "root": result.root.hex(),
        "checkpoints": list(result.checkpoints),
        "failures": list(result.failures),
    }


@router.get(
    "/audit/entries/{seq}/proof",
    summary="An inclusion proof of entry `seq` in the newest checkpoint covering it",
)
def proof(seq: Annotated[int, PathParam(ge=0, le=2**62)], caller: AuditReader) -> dict[str, Any]:
    from trustops.core.checkpoint import parse_checkpoint

    log = caller.store.audit
    found = log.entries(start=seq, limit=1)
    if not found or found[0].seq != seq or not _visible(caller, found[0].subject):
        raise HTTPException(404, f"no audit entry {seq}")
    sizes = [parse_checkpoint(note)[0].size for note in log.checkpoints()]
    covering = [size for size in sizes if size > seq]
    if not covering:
        raise HTTPException(409, f"no checkpoint covers entry {seq} yet: sign one first")
    return dict(log.prove(seq, max(covering)).to_dict())


def _sees_everything(caller: Caller) -> bool:
    principal = caller.principal
    assert principal is not None
    if principal.admin:
        return True
    return all(principal.visible(s.name) for s in caller.registry.systems())


@router.get(
    "/audit/export",
    summary="Download the whole log as JSON Lines (for offline `trustops audit verify`)",
    response_class=FileResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export(caller: AuditReader, background: BackgroundTasks) -> FileResponse:
    if not _sees_everything(caller):
        raise HTTPException(403, "the export holds every system's entries; you may not see all")
    folder = Path(tempfile.mkdtemp(prefix="trustops-export-"))
    path = folder / "audit.jsonl"
    caller.store.audit.export(path)
    background.add_task(_remove, folder)
    return FileResponse(path, media_type="application/x-ndjson", filename="trustops-audit.jsonl")


def _remove(folder: Path) -> None:
    for child in folder.iterdir():
        child.unlink(missing_ok=True)
    os.rmdir(folder)
