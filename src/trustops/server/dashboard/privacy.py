"""The dashboard's privacy pages: a system's Art. 30 record, data uses, erasure requests and
the reviewers' queue of Art. 22 requests.

==================================================  =====================================
``GET  /systems/{system}/privacy``                  ``system:read`` (the queue: ``review:decide``)
``GET  /systems/{system}/privacy/record.html``      ``system:read`` (a sandboxed attachment)
``POST /systems/{system}/reviews/{request_id}``     ``review:decide`` (+ CSRF)
==================================================  =====================================

Pages are :class:`~trustops.server.dashboard.routes.PageRoute` routes with the
API's guards; a form needs the session's CSRF token and this site's origin.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from trustops.core.access import Permission
from trustops.server.dashboard.routes import DOCUMENT_CSP, PageRoute, check_form, render
from trustops.server.security import Caller, requires

__all__ = ["privacy_router"]

Reader = Annotated[Caller, Depends(requires(Permission.SYSTEM_READ))]
Reviewer = Annotated[Caller, Depends(requires(Permission.REVIEW_DECIDE))]
FormText = Annotated[str, Form()]
_FLASHES = {"decided": "Decided: the outcome is recorded in the audit log."}


def _erasures(caller: Caller, system: str) -> list[dict[str, Any]]:
    """Erasure requests that touched this system, with the versions of this system only."""
    from trustops.privacy.erasure import erasure_requests

    prefix = f"{system}/"
    out = []
    for r in erasure_requests(caller.registry):
        datasets = {k: v for k, v in r.datasets.items() if k.startswith(prefix)}
        models = [m for m in r.models if m.startswith(prefix)]
        derived = [d for d in r.derived if d.startswith(prefix)]
        if datasets or models or derived:
            out.append({"request": r, "datasets": datasets, "models": models, "derived": derived})
    return out


def privacy_router() -> APIRouter:
    """The privacy pages (see the module docstring)."""
    router = APIRouter(route_class=PageRoute, include_in_schema=False)

    @router.get("/systems/{system}/privacy")
    def privacy_page(request: Request, system: str, caller: Reader) -> Response:
        from trustops.governance.usage import retention_warnings, uses
        from trustops.privacy.review import reviews
        from trustops.reports.documents import render_document

        reg = caller.registry
        record = render_document(reg, "gdpr_art30", system=system, record=False)
        principal = caller.principal
        assert principal is not None
        queue = None
        if principal.can(Permission.REVIEW_DECIDE, system):
            queue = [r for r in reviews(reg, system=system) if r.status != "decided"]
            queue += [r for r in reviews(reg, system=system, status="decided")][-20:]
        flash = _FLASHES.get(request.query_params.get("done") or "")
        return render(
            request, "privacy.html.j2", caller=caller, title=f"{system}: privacy",
            section="systems", system=reg.system(system), record=record,
            uses=uses(reg, system=system), retention=retention_warnings(reg, system=system),
            erasures=_erasures(caller, system), queue=queue, flash=flash,
        )  # fmt: skip

    @router.get("/systems/{system}/privacy/record.html")
    def record_download(system: str, caller: Reader) -> Response:
        from trustops.reports.documents import render_document

        doc = render_document(
            caller.registry, "gdpr_art30", system=system, fmt="html", record=False
        )
        return Response(
            doc.text.encode("utf-8"),
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{system}-gdpr-art30.html"',
                "Content-Security-Policy": DOCUMENT_CSP,
            },
        )

    @router.post("/systems/{system}/reviews/{request_id}")
    def decide(
        request: Request,
        system: str,
        request_id: int,
        caller: Reviewer,
        csrf: FormText = "",
        outcome: FormText = "",
        rationale: FormText = "",
    ) -> Response:
        from trustops.privacy.review import decide_review, review

        check_form(request, caller, csrf)
        review(caller.registry, request_id, system=system)  # 404 from another system
        if outcome not in ("upheld", "overturned", "amended"):
            raise HTTPException(400, "choose upheld, overturned or amended")
        if not rationale.strip():
            raise HTTPException(400, "a decision needs its rationale")
        decide_review(caller.registry, request_id, outcome=outcome, rationale=rationale.strip())
        return RedirectResponse(f"/systems/{system}/privacy?done=decided#reviews", status_code=303)

    return router
