"""Deny by default: every route declares its access, and nothing is served that OpenAPI hides."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import iter_route_contexts

from trustops.core.access import Permission
from trustops.governance import init_workspace
from trustops.governance.workspace import load_settings
from trustops.server.app import create_app, undeclared_routes
from trustops.server.security import (
    PUBLIC,
    Caller,
    GuardedRoute,
    UndeclaredRouteError,
    requires,
    route_access,
)


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return create_app(load_settings(init_workspace(tmp_path), env={}))


def test_every_route_declares_its_access(app: FastAPI) -> None:
    assert undeclared_routes(app) == []
    for context in iter_route_contexts(app.routes):
        assert route_access(context.original_route) is not None, context.path


def test_no_api_route_is_public(app: FastAPI) -> None:
    public = {
        str(c.path)
        for c in iter_route_contexts(app.routes)
        if (access := route_access(c.original_route)) is not None and access.public
    }
    assert {"/healthz", "/metrics", "/openapi.json", "/readyz"} <= public
    assert not [path for path in public if path.startswith("/api/")]


def test_a_route_without_a_guard_cannot_be_built() -> None:
    router = APIRouter(route_class=GuardedRoute)
    with pytest.raises(UndeclaredRouteError, match="declares 0 guards"):

        @router.get("/open")
        def open_route() -> dict[str, str]:
            return {}


def test_a_route_with_two_guards_cannot_be_built() -> None:
    router = APIRouter(route_class=GuardedRoute)
    with pytest.raises(UndeclaredRouteError, match="declares 2 guards"):

        @router.get("/two")
        def two(
            a: Annotated[Caller, Depends(PUBLIC)],
            b: Annotated[Caller, Depends(requires(Permission.USER_ADMIN))],
        ) -> dict[str, str]:
            return {}


def test_an_unguarded_router_is_found_by_the_inventory(app: FastAPI) -> None:
    plain = APIRouter()

    @plain.get("/api/v2/backdoor")
    def backdoor() -> dict[str, str]:
        return {}

    app.include_router(plain)
    assert undeclared_routes(app) == ["/api/v2/backdoor"]


def test_openapi_describes_every_served_api_operation(app: FastAPI) -> None:
    spec = app.openapi()
    documented = {
        (m.upper(), p) for p, ops in spec["paths"].items() for m in ops if p.startswith("/api/")
    }
    served = {
        (method, str(c.path))
        for c in iter_route_contexts(app.routes)
        for method in (getattr(c.original_route, "methods", None) or ())
        if str(c.path).startswith("/api/")
    }
    assert documented == served
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                if "$ref" not in media["schema"]:  # a raw upload (data bytes), not a model
                    continue
                ref = media["schema"]["$ref"].rsplit("/", 1)[1]
                schema = spec["components"]["schemas"][ref]
                assert schema.get("additionalProperties") is False, (path, ref)


def test_docs_list_every_api_route_with_its_permission(app: FastAPI) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "server.md").read_text()
    missing = []
    for context in iter_route_contexts(app.routes):
        path = str(context.path)
        access = route_access(context.original_route)
        if not path.startswith("/api/") or access is None:
            continue
        permission = str(access.permission) if access.permission else "signed in"
        for method in getattr(context.original_route, "methods", None) or ():
            row = f"| `{method} {path}` | `{permission}` |"
            if row not in text:
                missing.append(row)
    assert missing == [], "docs/server.md lacks:\n" + "\n".join(missing)
