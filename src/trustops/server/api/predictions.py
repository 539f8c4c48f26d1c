"""Prediction logging: batches of predictions and, later, their labels (issue 8).

``POST /systems/{system}/models/{ref}/predictions`` takes a batch as JSON
(an array of records, or ``{"predictions": [...]}``), NDJSON (one record a
line), an Arrow IPC stream or a Parquet file, told apart by
``Content-Type``; ``?sensitive=sex&sensitive=race`` names the
sensitive-attribute columns of an Arrow or Parquet upload. ``POST
.../labels`` takes ground truth by prediction id. Both need an
``Idempotency-Key`` header (400 without): the same key and body answer the
stored response again (``Idempotent-Replayed: true``), the same key with
another body 422, a key whose first request is still being stored 409.
The body's size is bounded like every other (413).

The records and their validation are :mod:`trustops.monitoring.ingest`;
here only the HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from trustops.core.access import Permission
from trustops.monitoring.ingest import InFlightError, Ingestion, IngestResponse
from trustops.monitoring.records import MEDIA_TYPES
from trustops.server.api import api_router
from trustops.server.api.models import model_ref
from trustops.server.api.schemas import NAME_PATTERN, Ref, SystemName
from trustops.server.security import Caller, requires

__all__ = ["router"]

router = api_router("predictions")

Writer = Annotated[Caller, Depends(requires(Permission.PREDICTION_WRITE))]
Key = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="A new UUID per batch; the same one when retrying that batch.",
    ),
]
ContentType = Annotated[str, Header(alias="Content-Type")]
Sensitive = Annotated[
    list[Annotated[str, Query(pattern=NAME_PATTERN)]],
    Query(max_length=100, description="Sensitive-attribute columns of an Arrow/Parquet upload."),
]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"description": "Stored (or, with `Idempotent-Replayed: true`, stored before)."},
    400: {"description": "No Idempotency-Key, or an unsupported Content-Type."},
    409: {"description": "The key's first request is still being stored, or an id is taken."},
    413: {"description": "The body is larger than the server accepts."},
    422: {"description": "A record is invalid (the message names it), or the key was reused."},
}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {media: {"schema": {}} for media in MEDIA_TYPES},
    }
}


async def _body(request: Request) -> bytes:
    try:
        return await request.body()
    except ClientDisconnect:  # the sender gave up mid-body: nothing to store, nobody to answer
        raise HTTPException(400, "the client disconnected before the body arrived") from None


async def _ingest(call: Callable[..., IngestResponse], *args: Any, **kwargs: Any) -> JSONResponse:
    try:
        response = await run_in_threadpool(call, *args, **kwargs)
    except InFlightError as exc:  # the one 409 a retry fixes: say when to try again
        raise HTTPException(409, exc.message, {"Retry-After": "1"}) from None
    headers = {"Idempotent-Replayed": "true"} if response.replayed else {}
    return JSONResponse(response.body, status_code=response.status, headers=headers)


@router.post(
    "/systems/{system}/models/{ref}/predictions",
    summary="Log a batch of predictions (JSON, NDJSON, Arrow IPC or Parquet)",
    status_code=201,
    responses=_RESPONSES,
    openapi_extra=_BODY,
)
async def log_predictions(
    system: SystemName,
    ref: Ref,
    request: Request,
    caller: Writer,
    content_type: ContentType = "application/json",
    key: Key = None,
    sensitive: Sensitive = [],  # noqa: B006 (FastAPI copies the default)
) -> JSONResponse:
    body = await _body(request)
    return await _ingest(
        Ingestion(caller.registry).log_predictions,
        model_ref(system, ref),
        body,
        key=key or "",
        media_type=content_type,
        sensitive=sensitive,
    )


@router.post(
    "/systems/{system}/models/{ref}/labels",
    summary="Log ground-truth labels, joined to predictions by prediction id",
    status_code=201,
    responses=_RESPONSES,
    openapi_extra=_BODY,
)
async def log_labels(
    system: SystemName,
    ref: Ref,
    request: Request,
    caller: Writer,
    content_type: ContentType = "application/json",
    key: Key = None,
) -> JSONResponse:
    body = await _body(request)
    ingestion = Ingestion(caller.registry)
    return await _ingest(
        ingestion.log_labels, model_ref(system, ref), body, key=key or "", media_type=content_type
    )
