"""Human review of automated decisions (GDPR Art. 22): request, queue, evidence, decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustops.cli import app
from trustops.errors import InputError
from trustops.governance import ConflictError, NotFoundError, Registry
from trustops.privacy.review import (
    assign_review,
    decide_review,
    request_review,
    review_evidence,
    reviews,
)

STATEMENT = "I am Jane Roe and my income was misread"


@pytest.fixture
def decided(registry: Registry) -> Registry:
    """A model with reason codes for applicants 17 and 18, an explanation and a decision."""
    registry.create_system("credit")
    mv = registry.register_model(b"w", system="credit", name="scorer", code_commit=None)
    registry.record_evidence("explanation", mv, {"method": "tree", "importance": {"income": 0.4}})
    registry.record_evidence(
        "reason_codes",
        mv,
        {"notices": [
            {"applicant": 17, "decision": "denied", "reasons": [{"code": "R01"}]},
            {"applicant": 18, "decision": "denied", "reasons": [{"code": "R02"}]},
        ]},
    )  # fmt: skip
    return registry


def test_a_request_goes_through_the_queue_to_a_decision(decided: Registry) -> None:
    asked = request_review(
        decided, model="credit/scorer@1", prediction_id="17", statement=STATEMENT
    )
    assert (asked.status, asked.model, asked.statement) == ("open", "credit/scorer@1", STATEMENT)
    assert [r.id for r in reviews(decided, system="credit", status="open")] == [asked.id]
    routed = assign_review(decided, asked.id, "rita")
    assert (routed.status, routed.reviewer) == ("assigned", "rita")
    at_hand = review_evidence(decided, asked.id)
    assert at_hand["reason_codes"]["reasons"] == [{"code": "R01"}]  # applicant 17's notice
    assert at_hand["explanation"]["importance"] == {"income": 0.4}
    assert {e["kind"] for e in at_hand["evidence"]} == {"reason_codes", "explanation"}
    decided.actor = "rita"
    done = decide_review(decided, asked.id, outcome="amended", rationale="Income re-checked.")
    assert (done.status, done.outcome, done.decided_by, done.reviewer) == (
        "decided", "amended", "rita", "rita",
    )  # fmt: skip
    assert done.answer is not None and done.answer["evidence_at_hand"]["reason_codes"]
    assert reviews(decided, status="open") == [] and len(reviews(decided, status="decided")) == 1
    entries = [e for e in decided.audit.entries() if e.action.startswith("review.")]
    assert [e.action for e in entries] == ["review.requested", "review.assigned", "review.decided"]
    assert entries[-1].payload["outcome"] == "amended" and entries[-1].actor == "rita"
    # the person's words stay in the store, out of the audit log
    log = json.dumps([e.payload for e in decided.audit.entries()])
    assert "Jane" not in log and "re-checked" not in log
    assert entries[0].payload["statement_sha256"] and entries[0].payload["prediction_id"] == "17"


def test_bad_requests_write_nothing(decided: Registry) -> None:
    size = decided.audit.size()
    with pytest.raises(InputError, match="prediction id"):
        request_review(decided, model="credit/scorer@1", prediction_id="17; drop table")
    with pytest.raises(NotFoundError):
        request_review(decided, model="credit/nope@1", prediction_id="17")
    with pytest.raises(InputError, match="longer than"):
        request_review(decided, model="credit/scorer@1", prediction_id="17", statement="x" * 10_001)
    with pytest.raises(NotFoundError):
        assign_review(decided, 99, "rita")
    assert decided.audit.size() == size
    asked = request_review(decided, model="credit/scorer@1", prediction_id="18")
    with pytest.raises(InputError, match="unknown review outcome"):
        decide_review(decided, asked.id, outcome="maybe", rationale="r")
    with pytest.raises(InputError, match="rationale is empty"):
        decide_review(decided, asked.id, outcome="upheld", rationale="  ")
    decide_review(decided, asked.id, outcome="upheld", rationale="The reasons hold.")
    with pytest.raises(ConflictError, match="already decided"):
        decide_review(decided, asked.id, outcome="overturned", rationale="again")
    with pytest.raises(ConflictError):
        assign_review(decided, asked.id, "rita")
    with pytest.raises(InputError, match="unknown review status"):
        reviews(decided, status="closed")


def test_a_logged_prediction_must_exist(decided: Registry) -> None:
    from trustops.monitoring.ingest import Ingestion

    records = [{"prediction_id": "p-1", "timestamp": "2026-11-27T10:00:00Z", "prediction": 1,
                "features": {"income": 41.0}}]  # fmt: skip
    Ingestion(decided).log_predictions("credit/scorer@1", records, key="batch-1")
    with pytest.raises(NotFoundError, match="is not logged"):
        request_review(decided, model="credit/scorer@1", prediction_id="p-2")
    asked = request_review(decided, model="credit/scorer@1", prediction_id="p-1")
    assert review_evidence(decided, asked.id)["prediction_logged"]["time"].startswith("2026-11-27")


def test_review_commands(decided: Registry, workspace: Path) -> None:
    def run(*args: str) -> str:
        result = CliRunner().invoke(
            app, ["--workspace", str(workspace), "privacy", "review", *args]
        )
        assert result.exit_code == 0, result.output
        return result.stdout

    asked = json.loads(run("request", "--model", "credit/scorer@1", "--prediction-id", "17",
                           "--statement", STATEMENT, "--json"))  # fmt: skip
    assert asked["status"] == "open"
    assert "prediction 17" in run("list", "--system", "credit", "--status", "open")
    assert json.loads(run("show", str(asked["id"])))["evidence_at_hand"]["reason_codes"]
    assert "assigned (rita)" in run("assign", str(asked["id"]), "--reviewer", "rita")
    done = json.loads(run("decide", str(asked["id"]), "--outcome", "overturned",
                          "--rationale", "Misread income.", "--json"))  # fmt: skip
    assert done["outcome"] == "overturned"
    again = CliRunner().invoke(
        app, ["--workspace", str(workspace), "privacy", "review", "decide", str(asked["id"]),
              "--outcome", "upheld", "--rationale", "x"],
    )  # fmt: skip
    assert again.exit_code == 2 and "already decided" in again.stderr
