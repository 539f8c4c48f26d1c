"""The dashboard's pages: server-rendered HTML over the same guards as the API.

Every page is a :class:`PageRoute`, a :class:`~trustops.server.security.GuardedRoute`
that declares its guard exactly as an API route does (``requires(...)``,
``AUTHENTICATED`` or ``PUBLIC``), so the route inventory covers the pages too,
and the guard answers 401/403/404 before the page runs. A page route turns
those answers into pages: an unauthenticated request is sent to ``/login``,
a refusal or a missing object gets an HTML page with its status. A system
the caller is no member of is 404, exactly as one that does not exist.

Pages (all outside ``/api/``; none is in the OpenAPI document):

==========================================================  ============================
``GET  /login``, ``POST /login``                             public
``POST /logout``                                             any signed-in user (+ CSRF)
``GET  /``                                                   ``system:read``
``GET  /systems/{system}``                                   ``system:read``
``GET  /systems/{system}/models/{name}/{version}``           ``system:read``
``GET  /systems/{system}/models/{name}/{version}/monitoring``  ``system:read``
``GET  /systems/{system}/models/{name}/{version}/reports/{document}``  ``system:read``
``GET  /approvals``                                          ``system:read``
``POST /systems/{system}/approvals/{request_id}``            ``approval:decide`` (+ CSRF)
``GET  /audit``, ``GET /audit/verify``                       ``audit:read``
``GET  /static/{name}``                                      public (a fixed list of files)
==========================================================  ============================
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import HTMLResponse, RedirectResponse, Response

from trustops.core.access import Permission
from trustops.errors import TrustOpsError
from trustops.server.dashboard import views
from trustops.server.dashboard.session import (
    clear_cookie,
    csrf_matches,
    same_origin,
    session_secret,
    set_cookie,
)
from trustops.server.security import AUTHENTICATED, PUBLIC, Caller, GuardedRoute, requires

if TYPE_CHECKING:
    from trustops.governance.identity import Principal

__all__ = ["DOCUMENT_CSP", "PageRoute", "check_form", "dashboard_router", "render"]

SESSION_TTL = timedelta(hours=8)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_STATIC = {"dashboard.css": "text/css; charset=utf-8"}
_SECURITY_HEADERS = {
    # Pages hold no script; styles and images come from this server (charts are inline SVG).
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# A downloaded report is a document, not part of the dashboard: it runs nothing, anywhere.
DOCUMENT_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"

Reader = Annotated[Caller, Depends(requires(Permission.SYSTEM_READ))]
AuditReader = Annotated[Caller, Depends(requires(Permission.AUDIT_READ))]
Decider = Annotated[Caller, Depends(requires(Permission.APPROVAL_DECIDE))]
SignedIn = Annotated[Caller, Depends(AUTHENTICATED)]
Anyone = Annotated[Caller, Depends(PUBLIC)]
FormText = Annotated[str, Form()]


@functools.cache
def environment() -> jinja2.Environment:
    """The pages' Jinja2 environment: autoescaped, strict, with the reports' block macros."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("trustops.server.dashboard", "templates"),
                jinja2.PackageLoader("trustops.reports", "templates"),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["model_path"] = model_path
    env.filters["slug"] = lambda text: re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return env


def model_path(ref: str) -> str:
    """``NAME@V`` as the ``NAME/V`` of a page address.

    Example:
        >>> model_path("credit-scorer@2")
        'credit-scorer/2'
    """
    name, _, version = ref.rpartition("@")
    return f"{quote(name, safe='')}/{quote(version, safe='')}"


def _local(path: str | None) -> str:
    """``path`` if it is a page of this site (``/...``, not ``//host``), else ``/``."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"


def _secure(response: Response) -> Response:
    for key, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def render(
    request: Request,
    template: str,
    *,
    caller: Caller | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page: ``template`` with ``context``, the signed-in user and the session's CSRF token."""
    principal = caller.principal if caller is not None else None
    secret = session_secret(request)
    csrf = ""
    if principal is not None and secret is not None and caller is not None:
        csrf = caller.store.identity().session_csrf(secret)
    flash = request.query_params.get("done")
    body = (
        environment()
        .get_template(template)
        .render(
            user=principal.user if principal else None,
            csrf=csrf,
            section=context.pop("section", ""),
            flash=context.pop("flash", None) or _FLASHES.get(flash or ""),
            flash_kind=context.pop("flash_kind", "ok"),
            **context,
        )
    )
    return HTMLResponse(body, status_code=status)


_FLASHES = {
    "approved": "Approved: your vote is recorded.",
    "rejected": "Rejected: your vote is recorded.",
}

_REFUSALS = {
    403: ("Not allowed", "Your role does not allow this."),
    404: ("Not found", "There is nothing here, or nothing you may see."),
}


def _refusal(request: Request, status: int, message: str) -> Response:
    """The page for a refused or failed request (401: off to the login page)."""
    if status == 401:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        response: Response = RedirectResponse(
            f"/login?next={quote(_local(target) if request.method == 'GET' else '/', safe='')}",
            status_code=303,
        )
        if session_secret(request) is not None:
            clear_cookie(request, response)  # it no longer opens a session
        return response
    title, default = _REFUSALS.get(status, ("Request refused", message))
    if status == 404:
        message = default  # the same words whether it is missing or hidden
    return render(request, "error.html.j2", status=status, title=title, message=message or default)


class PageRoute(GuardedRoute):
    """A dashboard page: the API's guard, with refusals answered as pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        guarded = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await guarded(request)
            except HTTPException as exc:
                response = _refusal(request, exc.status_code, str(exc.detail))
            except TrustOpsError as exc:
                response = _refusal(request, exc.status, exc.message)
            except RequestValidationError:
                response = _refusal(request, 404, "")
            return _secure(response)

        return page


def _visible(principal: Principal | None, registry_systems: list[str]) -> list[str]:
    if principal is None:
        return []
    if principal.admin:
        return registry_systems
    return [s for s in registry_systems if principal.visible(s)]


def check_form(request: Request, caller: Caller, sent: str) -> None:
    """403 unless the form carries the session's CSRF token and comes from this site."""
    secret = session_secret(request)
    if not same_origin(
        request.headers.get("origin"), request.url.scheme, request.headers.get("host")
    ):
        raise HTTPException(403, "the form was sent from another site")
    if secret is None or not csrf_matches(caller.store.identity().session_csrf(secret), sent):
        raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")


def _model(caller: Caller, system: str, name: str, version: int) -> Any:
    if not _NAME.fullmatch(name):
        raise HTTPException(404, "not found")
    return caller.registry.model(f"{system}/{name}@{version}")


def dashboard_router() -> APIRouter:
    """The dashboard's routes (see the module docstring)."""
    router = APIRouter(route_class=PageRoute, include_in_schema=False)

    @router.get("/static/{name}")
    def static(name: str, caller: Anyone) -> Response:
        media = _STATIC.get(name)
        if media is None:
            raise HTTPException(404, "not found")
        data = importlib.resources.files("trustops.server.dashboard").joinpath("static", name)
        response = Response(data.read_bytes(), media_type=media)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    @router.get("/login")
    def login_page(request: Request, caller: Anyone, next: str = "/") -> Response:
        from trustops.governance.identity import AuthenticationError

        secret = session_secret(request)
        if secret is not None:  # already signed in: straight on
            try:
                caller.store.identity().authenticate_session(secret)
                return RedirectResponse(_local(next), status_code=303)
            except AuthenticationError:
                pass
        return render(request, "login.html.j2", title="Log in", next=_local(next), error=None,
                      hours=int(SESSION_TTL.total_seconds() // 3600))  # fmt: skip

    @router.post("/login")
    def login(
        request: Request, caller: Anyone, token: FormText = "", next: FormText = "/"
    ) -> Response:
        from trustops.governance.identity import AuthenticationError

        if not same_origin(
            request.headers.get("origin"), request.url.scheme, request.headers.get("host")
        ):
            raise HTTPException(403, "the form was sent from another site")
        identity = caller.store.identity()
        try:
            principal = identity.authenticate(token.strip())
        except AuthenticationError:
            return render(request, "login.html.j2", status=401, title="Log in", next=_local(next),
                          error="That token is invalid, expired or revoked.",
                          hours=int(SESSION_TTL.total_seconds() // 3600))  # fmt: skip
        session = identity.create_session(principal, ttl=SESSION_TTL)
        response = RedirectResponse(_local(next), status_code=303)
        set_cookie(request, response, session.secret, max_age=int(SESSION_TTL.total_seconds()))
        return response

    @router.post("/logout")
    def logout(request: Request, caller: SignedIn, csrf: FormText = "") -> Response:
        check_form(request, caller, csrf)
        secret = session_secret(request)
        assert secret is not None  # check_form needs the session
        caller.store.identity(caller.user).end_session(secret)
        response = RedirectResponse("/login", status_code=303)
        clear_cookie(request, response)
        return response

    @router.get("/")
    def overview(request: Request, caller: Reader) -> Response:
        registry = caller.registry
        principal = caller.principal
        assert principal is not None
        names = _visible(principal, [s.name for s in registry.systems()])
        roles = {s: str(principal.role(s) or "admin") for s in names}
        rows = views.systems_overview(registry, names, roles)
        return render(request, "overview.html.j2", caller=caller, title="AI systems",
                      section="systems", rows=rows)  # fmt: skip

    @router.get("/systems/{system}")
    def system_page(request: Request, system: str, caller: Reader) -> Response:
        registry = caller.registry
        assert caller.principal is not None
        models = [
            (
                m,
                views.newest(
                    registry.evidence(subject=m, kind="policy_decision"), "policy_decision"
                ),
            )
            for m in registry.models(system=system)
        ]
        return render(
            request, "system.html.j2", caller=caller, title=system, section="systems",
            system=registry.system(system), role=str(caller.principal.role(system) or "admin"),
            models=models, datasets=registry.datasets(system=system),
            history=registry.history(system),
            monitoring=views.monitoring_status(registry, system),
        )  # fmt: skip

    @router.get("/systems/{system}/models/{name}/{version}")
    def model_page(
        request: Request, system: str, name: str, version: int, caller: Reader
    ) -> Response:
        model = _model(caller, system, name, version)
        principal = caller.principal
        assert principal is not None
        page = views.model_page(caller.registry, model)
        approvals = caller.store.approvals(caller.user)
        ref = f"{system}/{model.ref}"
        return render(
            request, "model.html.j2", caller=caller, title=f"{system}/{model.ref}",
            section="systems", page=page, gate=views.gate_view(approvals.gate(ref)),
            requests=views.requests_of(approvals, model),
            monitors=views.monitor_views(caller.registry, model, charts=False),
            can_decide=principal.can(Permission.APPROVAL_DECIDE, system), back=request.url.path,
        )  # fmt: skip

    @router.get("/systems/{system}/models/{name}/{version}/monitoring")
    def monitoring_page(
        request: Request, system: str, name: str, version: int, caller: Reader
    ) -> Response:
        model = _model(caller, system, name, version)
        return render(
            request, "monitoring.html.j2", caller=caller, title=f"{system}/{model.ref}: monitoring",
            section="systems", model=model, monitors=views.monitor_views(caller.registry, model),
            windows=views.MONITOR_WINDOWS,
        )  # fmt: skip

    @router.get("/systems/{system}/models/{name}/{version}/reports/{document}")
    def report(
        request: Request, system: str, name: str, version: int, document: str, caller: Reader
    ) -> Response:
        if document not in views.REPORTS:
            raise HTTPException(404, "not found")
        model = _model(caller, system, name, version)
        text = views.report_html(caller.registry, model, document)
        filename = f"{system}-{model.name}-{model.version}-{document.replace('_', '-')}.html"
        return Response(
            text.encode("utf-8"),
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Content-Security-Policy": DOCUMENT_CSP,
            },
        )

    @router.get("/approvals")
    def approvals_page(request: Request, caller: Reader) -> Response:
        principal = caller.principal
        assert principal is not None
        names = _visible(principal, [s.name for s in caller.registry.systems()])
        approvals = caller.store.approvals(caller.user)
        items = []
        for r in approvals.pending(names):
            item = views.request_view(r)
            can = principal.can(Permission.APPROVAL_DECIDE, item["system"])
            items.append((item, can and item["submitter"] != principal.user,
                          views.gate_view(approvals.gate(item["ref"]))))  # fmt: skip
        reviewable = [s for s in names if principal.can(Permission.REVIEW_DECIDE, s)]
        return render(request, "approvals.html.j2", caller=caller, title="Approvals",
                      section="approvals", items=items, back="/approvals",
                      reviews=views.pending_reviews(caller.registry, reviewable),
                      reviewer=bool(reviewable))  # fmt: skip

    @router.post("/systems/{system}/approvals/{request_id}")
    def decide(
        request: Request,
        system: str,
        request_id: int,
        caller: Decider,
        csrf: FormText = "",
        decision: FormText = "",
        comment: FormText = "",
        back: FormText = "",
    ) -> Response:
        check_form(request, caller, csrf)
        principal = caller.principal
        assert principal is not None
        approvals = caller.store.approvals(caller.user)
        found = views.request_view(approvals.get(request_id))
        if found["system"] != system:
            raise HTTPException(404, "not found")
        if decision not in ("approve", "reject"):
            raise HTTPException(400, "choose approve or reject")
        if not comment.strip():
            raise HTTPException(400, "a decision needs a comment")
        approvals.decide(
            request_id, principal=principal, approve=decision == "approve", comment=comment.strip()
        )
        target = _local(back or f"/systems/{system}/models/{model_path(found['model'])}")
        done = "approved" if decision == "approve" else "rejected"
        sep = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{sep}done={done}#approval", status_code=303)

    @router.get("/audit")
    def audit(request: Request, caller: AuditReader, before: int | None = None) -> Response:
        return _audit_page(request, caller, before, None)

    @router.get("/audit/verify")
    def audit_verify(request: Request, caller: AuditReader) -> Response:
        return _audit_page(request, caller, None, caller.registry.audit.verify())

    return router


def _audit_page(
    request: Request, caller: Caller, before: int | None, verification: Any
) -> Response:
    principal = caller.principal
    assert principal is not None
    systems = None
    if not principal.admin:
        systems = [s.name for s in caller.registry.systems() if principal.visible(s.name)]
    page = views.audit_page(caller.registry, before=before, systems=systems)
    return render(request, "audit.html.j2", caller=caller, title="Audit log", section="audit",
                  page=page, verification=verification, first=before is None)  # fmt: skip
