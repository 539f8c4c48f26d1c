"""The privacy endpoints over a live server (SQLite and PostgreSQL), with the role checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from tests.server.conftest import LiveServer, fresh_database, run_server
from trustops.governance import init_workspace
from trustops.governance.subjects import create_subject_key


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose workspace has a subject key, two systems, indexed data and a model."""
    project = tmp_path / "project"
    project.mkdir()
    create_subject_key(init_workspace(project, actor="setup").path / "subject.key")
    with (
        fresh_database(request.param, tmp_path) as url,
        run_server(project, url, request.param) as server,
    ):
        reg = server.registry()
        for system in ("credit", "hiring"):
            reg.create_system(system, owner="risk team")
            dv = reg.register_dataset(
                pa.table({"applicant_id": [1, 2, 3]}), system=system, name="train",
                purposes=["scoring"], lawful_basis="contract", personal_data=True,
                subject_column="applicant_id",
            )  # fmt: skip
            reg.register_model(
                b"w" + system.encode(), system=system, name="scorer", trained_on=[dv.ref],
                purpose="scoring", code_commit=None,
            )  # fmt: skip
        yield server


def test_usage_and_the_art30_record(live: LiveServer) -> None:
    viewer = live.client(live.user("vic", "viewer", ["credit"]))
    used = viewer.get("/api/v1/systems/credit/privacy/usage")
    assert used.status_code == 200
    assert [(u["use"], u["purpose"]) for u in used.json()["uses"]] == [("training", "scoring")]
    record = viewer.get("/api/v1/systems/credit/privacy/record")
    assert record.status_code == 200 and "(a) controller" in record.json()["markdown"]
    assert viewer.get("/api/v1/systems/hiring/privacy/usage").status_code == 404  # not a member


def test_erasure_needs_the_permission_and_names_only_visible_systems(live: LiveServer) -> None:
    body = {"subject_ids": ["2", "9"], "reference": "case-9"}
    scientist = live.client(live.user("sam", "data_scientist", ["credit"]))
    assert scientist.post("/api/v1/privacy/erasure", json=body).status_code == 403
    officer = live.client(live.user("cora", "compliance_officer", ["credit"]))
    preview = officer.post("/api/v1/privacy/erasure", json={**body, "dry_run": True})
    assert preview.status_code == 200 and preview.json()["id"] is None
    done = officer.post("/api/v1/privacy/erasure", json=body)
    assert done.status_code == 200, done.text
    out = done.json()
    assert (out["subjects"], out["found"]) == (2, 1)
    assert out["datasets"] == {"credit/train@1": 1} and out["models"] == ["credit/scorer@1"]
    assert out["in_other_systems"] == 2  # hiring's data and model: counted, not named
    assert [r["id"] for r in officer.get("/api/v1/privacy/erasure").json()] == [out["id"]]
    bad = officer.post("/api/v1/privacy/erasure", json={"subject_ids": ["has space"]})
    assert bad.status_code == 422
    entries = live.registry().audit.entries(action="erasure.requested")
    assert len(entries) == 1 and entries[0].actor == "cora"


def test_review_requests_over_http(live: LiveServer) -> None:
    scientist = live.client(live.user("sam", "data_scientist", ["credit"]))
    reviewer = live.client(live.user("rita", "reviewer", ["credit"]))
    asked = scientist.post(
        "/api/v1/systems/credit/reviews",
        json={"model": "scorer@1", "prediction_id": "17", "statement": "please look again"},
    )
    assert asked.status_code == 200, asked.text
    rid = asked.json()["id"]
    assert scientist.get("/api/v1/systems/credit/reviews").status_code == 403
    queue = reviewer.get("/api/v1/systems/credit/reviews", params={"status": "open"})
    assert [r["id"] for r in queue.json()] == [rid]
    assigned = reviewer.post(
        f"/api/v1/systems/credit/reviews/{rid}/assign", json={"reviewer": "rita"}
    )
    assert assigned.json()["status"] == "assigned"
    one = reviewer.get(f"/api/v1/systems/credit/reviews/{rid}")
    assert one.status_code == 200 and "evidence_at_hand" in one.json()
    decided = reviewer.post(
        f"/api/v1/systems/credit/reviews/{rid}/decision",
        json={"outcome": "upheld", "rationale": "The decision stands."},
    )
    assert decided.status_code == 200 and decided.json()["decided_by"] == "rita"
    again = reviewer.post(
        f"/api/v1/systems/credit/reviews/{rid}/decision",
        json={"outcome": "overturned", "rationale": "x"},
    )
    assert again.status_code == 409
    # a review of another system is not found through this one
    assert reviewer.get(f"/api/v1/systems/hiring/reviews/{rid}").status_code == 404
    unknown = reviewer.post(
        "/api/v1/systems/credit/reviews/99/decision", json={"outcome": "upheld", "rationale": "r"}
    )
    assert unknown.status_code == 404
