"""Human review of automated decisions (GDPR Art. 22(3)): request, queue, answer, audit.

A data subject contests a decision that a model version made about them, named
by its prediction id. :func:`request_review` records the request (status
``open``) in the reviewers' queue of the model's system; :func:`assign_review`
routes it to a reviewer (``assigned``); :func:`review_evidence` gathers the
explanation evidence at hand — the prediction as logged (when predictions are
logged, :mod:`trustops.monitoring`), the reason codes recorded for that id,
the model's newest explanation, and its newest policy decision; and
:func:`decide_review` records the human outcome (``upheld``, ``overturned``
or ``amended``) with the reviewer's rationale and the evidence it rests on.

The subject's statement and the reviewer's rationale are kept in the store,
not in the audit log: its entries (``review.requested``, ``review.assigned``,
``review.decided``) hold the request id, the model, the prediction id, the
outcome, the evidence ids and the SHA-256 of the texts.

Example:
    >>> import tempfile
    >>> from trustops.governance import Registry, init_workspace
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="ops").project)
    >>> _ = reg.create_system("credit")
    >>> _ = reg.register_model(b"w", system="credit", name="scorer")
    >>> asked = request_review(reg, model="credit/scorer@1", prediction_id="app-17",
    ...                        statement="My income was misread.")
    >>> asked.status, [r.id for r in reviews(reg, system="credit", status="open")]
    ('open', [1])
    >>> done = decide_review(reg, asked.id, outcome="overturned", rationale="Income re-checked.")
    >>> done.status, done.outcome, done.decided_by
    ('decided', 'overturned', 'ops')
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from trustops.core.audit import canonical_json
from trustops.errors import InputError
from trustops.governance import ConflictError, NotFoundError, Registry
from trustops.governance import schema as t
from trustops.governance.auditlog import utc_now

__all__ = [
    "OUTCOMES",
    "ReviewRequest",
    "assign_review",
    "decide_review",
    "request_review",
    "review",
    "review_evidence",
    "reviews",
]

OUTCOMES = ("upheld", "overturned", "amended")
STATUSES = ("open", "assigned", "decided")
_PREDICTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#@+-]{0,199}")
_MAX_TEXT = 10_000


@dataclass(frozen=True)
class ReviewRequest:
    """A request for human review of one automated decision."""

    id: int
    system: str
    model: str  # SYSTEM/NAME@VERSION
    prediction_id: str
    statement: str | None
    status: str
    reviewer: str | None
    outcome: str | None
    answer: dict[str, Any] | None
    created_at: str
    created_by: str
    decided_at: str | None
    decided_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _sha(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text(value: str | None, what: str, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InputError(f"the {what} is empty")
        return None
    if len(value) > _MAX_TEXT:
        raise InputError(f"the {what} is longer than {_MAX_TEXT:,} characters")
    return value.strip()


def _read(registry: Registry, where: Any) -> list[ReviewRequest]:
    r, v, m, s = t.review_requests.c, t.model_versions.c, t.models.c, t.systems.c
    query = (
        sa.select(t.review_requests, s.name.label("sname"), m.name.label("mname"), v.version)
        .join(t.model_versions, v.id == r.model_version_id)
        .join(t.models, m.id == v.model_id)
        .join(t.systems, s.id == m.system_id)
        .where(where)
        .order_by(r.id)
    )
    with registry.db.read() as conn:
        rows = conn.execute(query).all()
    return [
        ReviewRequest(
            id=row.id,
            system=row.sname,
            model=f"{row.sname}/{row.mname}@{row.version}",
            prediction_id=row.prediction_id,
            statement=row.statement,
            status=row.status,
            reviewer=row.reviewer,
            outcome=row.outcome,
            answer=None if row.answer is None else json.loads(row.answer),
            created_at=row.created_at,
            created_by=row.created_by,
            decided_at=row.decided_at,
            decided_by=row.decided_by,
        )
        for row in rows
    ]


def review(registry: Registry, request_id: int, *, system: str | None = None) -> ReviewRequest:
    """One review request (``system``: it must belong to that system)."""
    found = _read(registry, t.review_requests.c.id == request_id)
    if not found or (system is not None and found[0].system != system):
        raise NotFoundError(f"review request {request_id} does not exist")
    return found[0]


def reviews(
    registry: Registry, *, system: str | None = None, status: str | None = None
) -> list[ReviewRequest]:
    """Review requests, oldest first: a system's queue, optionally of one status."""
    where: list[Any] = []
    if system is not None:
        registry.system(system)
        where.append(t.systems.c.name == system)
    if status is not None:
        if status not in STATUSES:
            raise InputError(f"unknown review status {status!r}", hint=", ".join(STATUSES))
        where.append(t.review_requests.c.status == status)
    return _read(registry, sa.and_(sa.true(), *where))


def _logged_prediction(registry: Registry, model_version_id: int, prediction_id: str) -> Any:
    """``(found, any logged)`` for the prediction in the monitoring tables, when they exist."""
    table = t.metadata.tables.get("predictions")
    if table is None:
        return None, False
    with registry.db.read() as conn:
        row = conn.execute(
            sa.select(table.c.id, table.c.time).where(
                table.c.model_version_id == model_version_id,
                table.c.prediction_id == prediction_id,
            )
        ).first()
        logged = (
            row is not None
            or conn.execute(
                sa.select(table.c.id).where(table.c.model_version_id == model_version_id).limit(1)
            ).first()
            is not None
        )
    return row, logged


def request_review(
    registry: Registry, *, model: str, prediction_id: str, statement: str | None = None
) -> ReviewRequest:
    """Record a request for human review of the decision ``prediction_id`` of ``model``.

    When the model's predictions are logged, the prediction id must be one of them.
    """
    if not isinstance(prediction_id, str) or not _PREDICTION_ID.fullmatch(prediction_id):
        raise InputError(
            "the prediction id must be letters, digits and . _ : / # @ + - (at most 200)"
        )
    text = _text(statement, "statement")
    mv = registry.model(model)
    row, logged = _logged_prediction(registry, mv.id, prediction_id)
    if row is None and logged:
        raise NotFoundError(
            f"prediction {prediction_id!r} of {mv.system}/{mv.ref} is not logged",
            hint="name a prediction the model made (its prediction_id)",
        )
    with registry.transaction() as change:
        key = change.conn.execute(
            t.review_requests.insert().values(
                prediction_id=prediction_id, model_version_id=mv.id, statement=text,
                status="open", created_at=utc_now(), created_by=registry.actor,
            )
        ).inserted_primary_key  # fmt: skip
        assert key is not None
        rid = int(key[0])
        change.audit(
            "review.requested",
            f"review:{rid}",
            {
                "model": f"{mv.system}/{mv.ref}",
                "prediction_id": prediction_id,
                "statement_sha256": _sha(text),
            },
        )
    return review(registry, rid)


def assign_review(registry: Registry, request_id: int, reviewer: str) -> ReviewRequest:
    """Route an open (or re-route an assigned) request to ``reviewer``."""
    if not isinstance(reviewer, str) or not reviewer.strip() or len(reviewer) > 200:
        raise InputError("the reviewer must be a user name (at most 200 characters)")
    with registry.transaction() as change:
        found = _read(registry, t.review_requests.c.id == request_id)
        if not found:
            raise NotFoundError(f"review request {request_id} does not exist")
        if found[0].status == "decided":
            raise ConflictError(f"review request {request_id} is already decided")
        change.conn.execute(
            t.review_requests.update()
            .where(t.review_requests.c.id == request_id)
            .values(status="assigned", reviewer=reviewer.strip())
        )
        change.audit("review.assigned", f"review:{request_id}", {"reviewer": reviewer.strip()})
    return review(registry, request_id)


def review_evidence(registry: Registry, request_id: int) -> dict[str, Any]:
    """The explanation evidence at hand for a request: the logged prediction, the reason codes
    recorded for its id, the model's newest explanation and policy decision."""
    asked = review(registry, request_id)
    mv = registry.model(asked.model)
    row, _ = _logged_prediction(registry, mv.id, asked.prediction_id)
    found: dict[str, Any] = {
        "model": asked.model,
        "prediction_id": asked.prediction_id,
        "prediction_logged": None if row is None else {"time": row.time},
        "reason_codes": None,
        "explanation": None,
        "policy_decision": None,
        "evidence": [],
    }
    for record in reversed(registry.evidence(subject=mv, kind="reason_codes")):
        notices = record.content.get("notices") or []
        mine = [n for n in notices if str(n.get("applicant")) == asked.prediction_id]
        if mine:
            found["reason_codes"] = mine[0]
            found["evidence"].append({"kind": record.kind, "id": record.id,
                                      "content_hash": record.content_hash})  # fmt: skip
            break
    for kind, key in (("explanation", "explanation"), ("policy_decision", "policy_decision")):
        records = registry.evidence(subject=mv, kind=kind)
        if records:
            newest = records[-1]
            content = newest.content
            keys = (
                ("method", "importance", "output")
                if kind == "explanation"
                else ("policy", "outcome")
            )
            summary: dict[str, Any] = {k: content.get(k) for k in keys}
            found[key] = summary
            found["evidence"].append(
                {"kind": kind, "id": newest.id, "content_hash": newest.content_hash}
            )
    return found


def decide_review(
    registry: Registry, request_id: int, *, outcome: str, rationale: str
) -> ReviewRequest:
    """Record the reviewer's decision (``upheld``, ``overturned`` or ``amended``) with the
    rationale and the evidence at hand (:func:`review_evidence`); the actor is the reviewer."""
    if outcome not in OUTCOMES:
        raise InputError(f"unknown review outcome {outcome!r}", hint=", ".join(OUTCOMES))
    text = _text(rationale, "rationale", required=True)
    evidence = review_evidence(registry, request_id)
    answer = {"rationale": text, "outcome": outcome, "evidence_at_hand": evidence}
    body = canonical_json(answer).decode("utf-8")
    now = utc_now()
    with registry.transaction() as change:
        found = _read(registry, t.review_requests.c.id == request_id)
        if not found:
            raise NotFoundError(f"review request {request_id} does not exist")
        if found[0].status == "decided":
            raise ConflictError(f"review request {request_id} is already decided")
        change.conn.execute(
            t.review_requests.update()
            .where(t.review_requests.c.id == request_id)
            .values(
                status="decided", outcome=outcome, answer=body, decided_at=now,
                decided_by=registry.actor, reviewer=found[0].reviewer or registry.actor,
            )
        )  # fmt: skip
        change.audit(
            "review.decided",
            f"review:{request_id}",
            {
                "outcome": outcome,
                "model": found[0].model,
                "prediction_id": found[0].prediction_id,
                "rationale_sha256": _sha(text),
                "answer_sha256": hashlib.sha256(body.encode()).hexdigest(),
                "evidence": [e["id"] for e in evidence["evidence"]],
            },
        )
    return review(registry, request_id)
