"""Privacy: data-usage records, the Art. 30 record, erasure requests, Art. 22 reviews.

- ``GET /systems/{system}/privacy/usage``: recorded reads of the system's data
  and retention warnings (``system:read``).
- ``GET /systems/{system}/privacy/record``: the GDPR Art. 30 record, as Markdown
  and the list of what is still missing (``system:read``).
- ``POST /privacy/erasure``: an erasure request (GDPR Art. 17): ids in, impact
  out (``erasure:request``; versions of systems the caller cannot see are
  counted, not named). ``GET /privacy/erasure`` lists the requests.
- ``POST /systems/{system}/reviews``: a request for human review of an
  automated decision (``review:request``); ``GET`` the system's queue,
  ``GET .../reviews/{id}`` one request with the evidence at hand, ``POST
  .../reviews/{id}/assign`` and ``.../decision`` (``review:decide``).

The subject ids of an erasure request are hashed with the subject key and
never stored or logged; statements and rationales stay out of the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Path
from pydantic import Field

from trustops.core.access import Permission
from trustops.server.api import api_router
from trustops.server.api.schemas import Body, SystemName, Text
from trustops.server.security import Caller, requires

__all__ = ["router"]

router = api_router("privacy")

Reader = Annotated[Caller, Depends(requires(Permission.SYSTEM_READ))]
Eraser = Annotated[Caller, Depends(requires(Permission.ERASURE_REQUEST))]
Requester = Annotated[Caller, Depends(requires(Permission.REVIEW_REQUEST))]
Reviewer = Annotated[Caller, Depends(requires(Permission.REVIEW_DECIDE))]
ReviewId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A review request's number.")]
SubjectId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+/-]{0,199}$")]
ModelRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}@[0-9]{1,9}$")]


class ErasureIn(Body):
    subject_ids: list[SubjectId] = Field(min_length=1, max_length=100_000)
    reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,199}$")] | None = None
    dry_run: bool = False


class ReviewIn(Body):
    model: ModelRef
    prediction_id: SubjectId
    statement: Text | None = None


class AssignIn(Body):
    reviewer: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")]


class DecisionIn(Body):
    outcome: Literal["upheld", "overturned", "amended"]
    rationale: Text


@router.get("/systems/{system}/privacy/usage", summary="Recorded reads of the system's data")
def usage(system: SystemName, caller: Reader) -> dict[str, Any]:
    from trustops.governance.usage import retention_warnings, uses

    reg = caller.registry
    return {
        "uses": [u.to_dict() for u in uses(reg, system=system)],
        "retention": [w.to_dict() for w in retention_warnings(reg, system=system)],
    }


@router.get("/systems/{system}/privacy/record", summary="The GDPR Art. 30 record (Markdown)")
def record(system: SystemName, caller: Reader) -> dict[str, Any]:
    from trustops.reports.documents import render_document

    doc = render_document(caller.registry, "gdpr_art30", system=system, record=False)
    return {"system": system, "markdown": doc.text, "missing": list(doc.missing)}


def _visible(caller: Caller, labels: Any) -> tuple[list[str], int]:
    """The labels (``SYSTEM/NAME@V``) of systems the caller may see, and how many others."""
    principal = caller.principal
    assert principal is not None
    shown = [x for x in labels if principal.visible(x.split("/", 1)[0])]
    return shown, len(list(labels)) - len(shown)


def _erasure_out(caller: Caller, done: Any) -> dict[str, Any]:
    datasets, hidden_d = _visible(caller, done.datasets)
    derived, hidden_r = _visible(caller, done.derived)
    models, hidden_m = _visible(caller, done.models)
    return {
        "id": done.id,
        "reference": done.reference,
        "subjects": done.subjects,
        "found": done.found,
        "datasets": {d: done.datasets[d] for d in datasets},
        "derived": derived,
        "models": models,
        "in_other_systems": hidden_d + hidden_r + hidden_m,
        "created_at": done.created_at,
        "created_by": done.created_by,
    }


@router.post("/privacy/erasure", summary="An erasure request (GDPR Art. 17) and its impact")
def erasure(body: ErasureIn, caller: Eraser) -> dict[str, Any]:
    from trustops.privacy.erasure import erasure_impact, request_erasure

    reg = caller.registry
    if body.dry_run:
        done = erasure_impact(reg, body.subject_ids)
    else:
        done = request_erasure(reg, body.subject_ids, reference=body.reference)
    return _erasure_out(caller, done)


@router.get("/privacy/erasure", summary="Recorded erasure requests")
def erasure_list(caller: Eraser) -> list[dict[str, Any]]:
    from trustops.privacy.erasure import erasure_requests

    return [_erasure_out(caller, r) for r in erasure_requests(caller.registry)]


@router.post("/systems/{system}/reviews", summary="Ask for human review of a decision (Art. 22)")
def review_request(system: SystemName, body: ReviewIn, caller: Requester) -> dict[str, Any]:
    from trustops.privacy.review import request_review

    found = request_review(
        caller.registry,
        model=f"{system}/{body.model}",
        prediction_id=body.prediction_id,
        statement=body.statement,
    )
    return found.to_dict()


@router.get("/systems/{system}/reviews", summary="The reviewers' queue")
def review_queue(
    system: SystemName,
    caller: Reviewer,
    status: Literal["open", "assigned", "decided"] | None = None,
) -> list[dict[str, Any]]:
    from trustops.privacy.review import reviews

    return [r.to_dict() for r in reviews(caller.registry, system=system, status=status)]


@router.get("/systems/{system}/reviews/{request_id}", summary="A review and its evidence")
def review_one(system: SystemName, request_id: ReviewId, caller: Reviewer) -> dict[str, Any]:
    from trustops.privacy.review import review, review_evidence

    found = review(caller.registry, request_id, system=system)
    return {**found.to_dict(), "evidence_at_hand": review_evidence(caller.registry, request_id)}


@router.post("/systems/{system}/reviews/{request_id}/assign", summary="Route to a reviewer")
def review_assign(
    system: SystemName, request_id: ReviewId, body: AssignIn, caller: Reviewer
) -> dict[str, Any]:
    from trustops.privacy.review import assign_review, review

    review(caller.registry, request_id, system=system)
    return assign_review(caller.registry, request_id, body.reviewer).to_dict()


@router.post("/systems/{system}/reviews/{request_id}/decision", summary="The human decision")
def review_decide(
    system: SystemName, request_id: ReviewId, body: DecisionIn, caller: Reviewer
) -> dict[str, Any]:
    from trustops.privacy.review import decide_review, review

    review(caller.registry, request_id, system=system)
    found = decide_review(
        caller.registry, request_id, outcome=body.outcome, rationale=body.rationale
    )
    return found.to_dict()
