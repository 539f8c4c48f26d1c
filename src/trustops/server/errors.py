"""Errors to HTTP responses, in one place: ``{"detail": message, "hint": ...}`` with the status.

A :class:`~trustops.errors.TrustOpsError` answers with its ``status`` (404 for
something not registered, 409 for a conflict, 422 for bad input ...). A
validation error lists where and why, without echoing the input (it could
hold anything a client sent). Anything else is a bug: 500 with the request
id to quote, and the exception's type (not its message) in the log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from trustops.errors import TrustOpsError

__all__ = ["install_error_handlers"]

log = logging.getLogger("trustops.server")


def _body(message: str, hint: str | None = None) -> dict[str, Any]:
    return {"detail": message} if hint is None else {"detail": message, "hint": hint}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(TrustOpsError)
    async def trustops_error(request: Request, exc: TrustOpsError) -> JSONResponse:
        status = exc.status if 400 <= exc.status < 600 else 500
        if status >= 500:
            log.error("request failed", extra={"fields": {"error": type(exc).__name__}})
        return JSONResponse(_body(exc.message, exc.hint), status_code=status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            _body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", "-")
        log.error(
            "internal error",
            extra={"fields": {"error": type(exc).__name__, "request_id": request_id}},
        )
        return JSONResponse(
            _body(f"internal error (request {request_id})", "please report it"), status_code=500
        )
