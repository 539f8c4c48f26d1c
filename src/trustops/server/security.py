"""Who may call a route: guards declared per route, checked before the body is read.

A route declares its access with one of three guards (FastAPI dependencies
that return the :class:`Caller`):

- ``requires(Permission.X)``: a signed-in caller whose role allows ``X``;
- ``AUTHENTICATED``: any signed-in caller;
- ``PUBLIC``: anyone (health, readiness, metrics, the OpenAPI document).

Routes are :class:`GuardedRoute` objects: building one without exactly one
guard raises :class:`UndeclaredRouteError`, and the guard's checks run in the
route's handler *before* FastAPI reads or validates the body (see the order
in :mod:`trustops.server`). Credentials: ``Authorization: Bearer tro_...``
(an API token) or the dashboard's session cookie (``trustops_session``);
a cookie-authenticated change to ``/api/`` also needs the ``X-CSRF-Token``
header (the session's CSRF token), so another site cannot drive the API
through a browser. A credential in the query string is refused: URLs end up
in logs, histories and ``Referer`` headers.

Example:
    >>> from trustops.core.access import Permission
    >>> requires(Permission.SYSTEM_READ)
    requires(system:read)
    >>> PUBLIC.public, AUTHENTICATED.permission is None
    (True, True)
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from trustops.core.access import Permission
from trustops.errors import TrustOpsError

if TYPE_CHECKING:
    from trustops.governance import Registry
    from trustops.governance.identity import Principal
    from trustops.server.store import Store

__all__ = [
    "AUTHENTICATED",
    "PUBLIC",
    "SESSION_COOKIE",
    "Access",
    "Caller",
    "GuardedRoute",
    "UndeclaredRouteError",
    "requires",
    "route_access",
]

SESSION_COOKIE = "trustops_session"
"""The dashboard's session cookie (HttpOnly, SameSite=Strict; set by the dashboard's login)."""

CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Query parameters that would carry a credential; any value shaped like a token counts too.
_CREDENTIAL_PARAMS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "auth", "authorization", "session",
     "secret", "bearer", "password"}
)  # fmt: skip
_TOKEN_PREFIX = "tro_"
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_log = logging.getLogger("trustops.server")


class UndeclaredRouteError(TypeError):
    """A route built without exactly one guard (deny by default: it is not served)."""


@dataclass(frozen=True, slots=True)
class Access:
    """A route's declared access: public, any signed-in caller, or one permission."""

    permission: Permission | None = None
    public: bool = False

    def __repr__(self) -> str:
        if self.public:
            return "PUBLIC"
        return f"requires({self.permission})" if self.permission else "AUTHENTICATED"

    async def __call__(self, request: Request) -> Caller:
        """The dependency: the caller the route's guard has already checked.

        A coroutine although it awaits nothing: FastAPI runs a plain function
        dependency in the thread pool, a hop per request for an attribute read.
        """
        caller = getattr(request.state, "caller", None)
        if caller is None:  # only a GuardedRoute sets it; anything else is refused
            raise HTTPException(500, "route is not guarded")
        return caller


PUBLIC = Access(public=True)
AUTHENTICATED = Access()


def requires(permission: Permission) -> Access:
    """The guard of a route that needs ``permission`` (in the ``{system}`` of its path, if any)."""
    return Access(Permission(permission))


@dataclass
class Caller:
    """Who is calling (``principal`` is None on a public route) and the store to act on."""

    store: Store
    principal: Principal | None
    request_id: str

    @property
    def user(self) -> str:
        return self.principal.user if self.principal else "anonymous"

    @cached_property
    def registry(self) -> Registry:
        """A registry acting as the caller (shares the store's connections)."""
        return self.store.registry(self.user)

    def check_visible(self, system: str) -> None:
        """404, as for a missing object, unless the caller may see ``system``."""
        if self.principal is None or not self.principal.visible(system):
            raise HTTPException(404, "not found")

    def check(self, permission: Permission, system: str) -> None:
        """404 if ``system`` is not visible, 403 if the caller's role there lacks ``permission``."""
        self.check_visible(system)
        assert self.principal is not None
        if not self.principal.can(permission, system):
            raise HTTPException(403, f"your role does not allow {permission} here")


def _guards(dependant: Dependant) -> list[Access]:
    found = [d.call for d in dependant.dependencies if isinstance(d.call, Access)]
    for sub in dependant.dependencies:
        found += _guards(sub)
    return found


def route_access(route: Any) -> Access | None:
    """The guard a route declares, or None (also for anything not built by this module)."""
    return getattr(route, "access", None) if isinstance(route, GuardedRoute) else None


def _credential_in_query(request: Request) -> bool:
    for key, value in request.query_params.multi_items():
        if key.lower() in _CREDENTIAL_PARAMS or value.startswith(_TOKEN_PREFIX):
            return True
    return False


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise HTTPException(401, "use Authorization: Bearer <token>", _CHALLENGE)
    return value.strip()


def authenticate(request: Request, store: Store) -> Principal:
    """The principal of the request's token or session cookie (a cookie-signed API change
    needs the CSRF header too).

    401 (one message for unknown, revoked and expired credentials) otherwise.
    """
    from trustops.governance.identity import AuthenticationError

    token = _bearer(request)
    cookie = request.cookies.get(SESSION_COOKIE) if token is None else None
    if token is None and not cookie:
        raise HTTPException(401, "authentication required", _CHALLENGE)
    identity = store.identity()
    try:
        if token is not None:
            return identity.authenticate(token)
        assert cookie is not None
        principal = identity.authenticate_session(cookie)
    except AuthenticationError:
        raise HTTPException(401, "invalid, expired or revoked credentials", _CHALLENGE) from None
    api_change = request.method not in _SAFE_METHODS and request.url.path.startswith("/api/")
    if api_change and not csrf_matches(
        identity.session_csrf(cookie), request.headers.get(CSRF_HEADER)
    ):
        raise HTTPException(403, f"a session-authenticated change needs the {CSRF_HEADER} header")
    return principal


def csrf_matches(expected: str, sent: object) -> bool:
    """Whether a sent CSRF token (form field or header) is the session's (constant-time)."""
    if not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), sent.encode("utf-8"))


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        return 422
    if isinstance(exc, TrustOpsError):
        return exc.status
    return 500


class GuardedRoute(APIRoute):
    """An API route whose declared guard runs before its body is read (deny by default)."""

    access: Access

    def _declared(self) -> Access:
        guards = set(_guards(self.dependant))
        if len(guards) != 1:
            raise UndeclaredRouteError(
                f"route {self.path} ({self.name}) declares {len(guards)} guards, not one: "
                "add `Depends(requires(Permission...))`, AUTHENTICATED or PUBLIC"
            )
        return guards.pop()

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        access = self.access = self._declared()
        # Under include_router(prefix=...) FastAPI builds one handler per effective route;
        # its path (with the prefix) is the template that logs, metrics and refusals name.
        context = getattr(fastapi_routing, "_effective_route_context_var", None)
        effective = context.get() if context is not None else None
        path = getattr(effective, "path", None) or self.path
        template = f"{','.join(sorted(self.methods or ()))} {path}"

        async def guarded(request: Request) -> Response:
            store: Store = request.app.state.store
            request_id = getattr(request.state, "request_id", "-")
            request.state.route = path
            if access.public:
                request.state.caller = Caller(store, None, request_id)
                return await handler(request)
            if _credential_in_query(request):
                raise HTTPException(
                    401,
                    "credentials are refused in the URL; send Authorization: Bearer <token>",
                    _CHALLENGE,
                )
            principal = await run_in_threadpool(authenticate, request, store)
            request.state.caller = caller = Caller(store, principal, request_id)
            request.state.user = principal.user
            try:
                permission = access.permission
                if permission is not None:
                    if not principal.can(permission):
                        raise HTTPException(403, f"your roles do not allow {permission}")
                    system = request.path_params.get("system")
                    if system is not None:
                        caller.check(permission, system)
                return await handler(request)
            except Exception as exc:
                status = _status_of(exc)
                if 400 <= status < 500:
                    await run_in_threadpool(_record_refusal, caller, template, status)
                raise

        return guarded


def _record_refusal(caller: Caller, route: str, status: int) -> None:
    """One audit entry for a refused authenticated request (never its body or credentials)."""
    from trustops.governance.identity import Identity

    assert caller.principal is not None
    try:
        Identity(caller.store.registry(caller.user)).record_refusal(
            caller.principal, "access.refused", f"route:{route}", status
        )
    except TrustOpsError as exc:  # the refusal stands even if the log cannot take the entry
        _log.warning("could not audit a refusal: %s", exc.message)
