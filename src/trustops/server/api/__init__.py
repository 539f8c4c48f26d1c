"""The REST API under ``/api/v1``: one router module per area (see :mod:`trustops.server`).

:func:`api_router` makes an area's router: every route on it is a
:class:`~trustops.server.security.GuardedRoute`, so a route without an access
declaration cannot be built.
"""

from __future__ import annotations

from fastapi import APIRouter

from trustops.server.security import GuardedRoute

__all__ = ["api_router"]


def api_router(tag: str) -> APIRouter:
    """An area's router (tagged ``tag`` in the OpenAPI document); routes declare their guard."""
    from trustops.server.api.schemas import ERROR_RESPONSES

    return APIRouter(route_class=GuardedRoute, tags=[tag], responses=ERROR_RESPONSES)
