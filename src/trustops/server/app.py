"""The application factory: ``create_app(settings)`` builds a FastAPI app over one store.

Nothing is created at import time; the store is opened when the server
starts (or passed in) and closed when it stops. The API areas listed in
:data:`API_AREAS` are mounted under ``/api/v1``; the operations endpoints
(``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``) are public.
There is no Swagger UI page: it would load scripts from a CDN.

Example:
    >>> import tempfile
    >>> from trustops.governance import init_workspace
    >>> from trustops.governance.workspace import load_settings
    >>> app = create_app(load_settings(init_workspace(tempfile.mkdtemp()), env={}))
    >>> undeclared_routes(app)  # every route declares who may call it
    []
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount

from trustops.server.dashboard import dashboard_router
from trustops.server.dashboard.privacy import privacy_router
from trustops.server.errors import install_error_handlers
from trustops.server.ops import DEFAULT_MAX_BODY_BYTES, Metrics, Operations
from trustops.server.security import PUBLIC, Caller, GuardedRoute, route_access
from trustops.server.store import Store

if TYPE_CHECKING:
    from trustops.governance.workspace import Settings

__all__ = ["API_AREAS", "API_PREFIX", "create_app", "undeclared_routes"]

Public = Annotated[Caller, Depends(PUBLIC)]

API_PREFIX = "/api/v1"
API_AREAS: tuple[str, ...] = (
    # Routes are matched in this order. Prediction logging is the busiest by far and its
    # paths overlap no other area's, so it comes first (matching 50 routes costs ~0.1 ms).
    "predictions",
    "systems",
    "models",
    "decisions",
    "stages",
    "approvals",
    "audit",
    "reports",
    "users",
    "privacy",
)
"""Modules of :mod:`trustops.server.api`, each with a ``router``, mounted under ``/api/v1``."""


def undeclared_routes(app: FastAPI) -> list[str]:
    """Routes that declare no guard (each is a hole in deny-by-default; must be empty).

    A mounted folder of static files (the dashboard's assets) is public by nature.
    """
    missing = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            continue
        if route_access(route) is None:
            missing.append(str(context.path or repr(route)))
    return missing


def _ops_router() -> APIRouter:
    router = APIRouter(route_class=GuardedRoute, tags=["operations"])

    @router.get("/healthz", summary="The process is up")
    def healthz(caller: Public) -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz", summary="The store answers", responses={503: {"description": "not ready"}}
    )
    def readyz(caller: Public) -> Any:
        if caller.store.ready():
            return {"status": "ready"}
        return JSONResponse({"status": "not ready"}, status_code=503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    def metrics(caller: Public, request: Request) -> PlainTextResponse:
        app_metrics: Metrics = request.app.state.metrics
        return PlainTextResponse(
            app_metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    @router.get("/openapi.json", include_in_schema=False)
    def openapi(caller: Public, request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    return router


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    monitor_interval: float | None = None,
) -> FastAPI:
    """The trustops server over the store of ``settings`` (or an already open ``store``).

    ``max_body_bytes`` bounds every request body (413 beyond it).
    ``monitor_interval`` (seconds; ``trustops serve`` gives 60): run the due
    monitors in the background that often (:mod:`trustops.server.scheduler`);
    None runs none.
    """
    if settings is None and store is None:
        raise TypeError("create_app needs settings or a store")
    from trustops import __version__

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store is None
        app.state.store = store if store is not None else Store.open(settings)  # type: ignore[arg-type]
        scheduler = None
        if monitor_interval is not None:
            from trustops.server.scheduler import MonitorScheduler

            scheduler = MonitorScheduler(app.state.store, interval=monitor_interval)
            scheduler.start()
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if opened:
                app.state.store.close()

    app = FastAPI(
        title="trustops",
        version=__version__,
        summary="Governance of AI systems: evidence, policy decisions, four-eyes approvals, audit.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = store
    metrics = Metrics()
    app.state.metrics = metrics
    install_error_handlers(app)
    app.include_router(_ops_router())
    for area in API_AREAS:
        module = importlib.import_module(f"trustops.server.api.{area}")
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(dashboard_router())  # the HTML pages (trustops.server.dashboard)
    app.include_router(privacy_router())  # its privacy pages (Art. 30, erasure, Art. 22)
    missing = undeclared_routes(app)
    if missing:  # deny by default: never serve a route nobody declared access for
        raise RuntimeError(f"routes without an access declaration: {', '.join(missing)}")
    app.add_middleware(Operations, metrics=metrics, max_body_bytes=max_body_bytes)
    return app
