"""The API end to end over a real server: a system's life from registration to rollback."""

from __future__ import annotations

import io
import json
import pickle

import pyarrow as pa
import pyarrow.parquet as pq

from tests.server.conftest import LiveServer

CSV = b"age,income,approved\n30,100,1\n40,80,0\n50,120,1\n"
PASSING = """
policy: needs-a-model-card
rules:
  - id: has-artifact
    kind: field
    field: model.artifact_hash
"""


def _parquet() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": [1, 2, 3], "y": ["a", "b", None]}), sink)
    return sink.getvalue()


def test_governance_lifecycle_over_http(server: LiveServer) -> None:
    root = server.client(server.user("root", admin=True))
    created = root.post("/api/v1/systems", json={"name": "credit", "risk": "high"})
    assert created.status_code == 201, created.text
    tokens = {}
    for name, role in [
        ("dana", "data_scientist"),
        ("rita", "reviewer"),
        ("carl", "compliance_officer"),
        ("vera", "viewer"),
    ]:
        assert root.post("/api/v1/users", json={"name": name}).status_code == 201
        put = root.put(f"/api/v1/systems/credit/members/{name}", json={"role": role})
        assert put.status_code == 200, put.text
        issued = root.post(f"/api/v1/users/{name}/tokens", json={"label": "test"})
        assert issued.status_code == 201
        tokens[name] = issued.json()["secret"]
    dana, rita, carl, vera = (server.client(tokens[n]) for n in ("dana", "rita", "carl", "vera"))
    assert vera.get("/api/v1/me").json() == {
        "user": "vera",
        "admin": False,
        "roles": {"credit": "viewer"},
    }

    train = dana.post(
        "/api/v1/systems/credit/datasets",
        data={"name": "train", "format": "csv", "purposes": ["credit"]},
        files={"file": ("../../etc/passwd", CSV, "text/csv")},
    )
    assert train.status_code == 201, train.text
    assert train.json()["ref"] == "train@1" and train.json()["row_count"] == 3
    assert train.json()["source"] == "upload:passwd"
    holdout = dana.post(
        "/api/v1/systems/credit/datasets",
        data={"name": "holdout", "format": "parquet"},
        files={"file": ("h.parquet", _parquet())},
    )
    assert holdout.status_code == 201, holdout.text
    sink = io.BytesIO()
    with pa.ipc.new_file(sink, pa.schema([("x", pa.int64())])) as writer:
        writer.write_table(pa.table({"x": [1]}))
    arrow = dana.post(
        "/api/v1/systems/credit/datasets",
        data={"name": "extra", "format": "arrow"},
        files={"file": ("e.arrow", sink.getvalue())},
    )
    assert arrow.status_code == 201, arrow.text
    assert [d["ref"] for d in vera.get("/api/v1/systems/credit/datasets").json()] == [
        "extra@1",
        "holdout@1",
        "train@1",
    ]

    artifact = pickle.dumps({"weights": [1, 2, 3]})
    unpurposed = dana.post(
        "/api/v1/systems/credit/models",
        data={"name": "scorer", "trained_on": ["train"]},
        files={"file": ("scorer.pkl", artifact)},
    )
    assert unpurposed.status_code == 403 and "purpose" in unpurposed.json()["detail"]
    model = dana.post(
        "/api/v1/systems/credit/models",
        data={
            "name": "scorer",
            "trained_on": ["train"],
            "evaluated_on": ["holdout@1"],
            "framework": "sklearn",
            "parameters": json.dumps({"features": ["age", "income"]}),
            "purpose": "credit",
        },
        files={"file": ("scorer.pkl", artifact)},
    )
    assert model.status_code == 201, model.text
    assert model.json()["trained_on"] == ["train@1"] and model.json()["created_by"] == "dana"
    evidence = dana.post(
        "/api/v1/systems/credit/models/scorer@1/evidence",
        json={"kind": "fairness", "content": {"impact_ratio": 0.9}},
    )
    assert evidence.status_code == 201 and evidence.json()["created_by"] == "dana"

    decision = dana.post(
        "/api/v1/systems/credit/models/scorer@1/decisions", json={"policy": PASSING}
    )
    assert decision.status_code == 201, decision.text
    assert decision.json()["outcome"] == "pass" and decision.json()["evidence"]["id"] > 0
    assert len(vera.get("/api/v1/systems/credit/decisions").json()) == 1

    staged = dana.post("/api/v1/systems/credit/models/scorer@1/stage", json={"stage": "staging"})
    assert staged.status_code == 200, staged.text
    blocked = dana.post(
        "/api/v1/systems/credit/models/scorer@1/stage", json={"stage": "production"}
    )
    assert blocked.status_code == 409 and "approval" in blocked.json()["detail"]

    request = dana.post("/api/v1/systems/credit/models/scorer@1/approvals", json={"comment": "pls"})
    assert request.status_code == 201, request.text
    rid = request.json()["id"]
    assert [r["id"] for r in rita.get("/api/v1/approvals").json()] == [rid]
    self_vote = dana.post(
        f"/api/v1/approvals/{rid}/decision", json={"approve": True, "comment": "x"}
    )
    assert self_vote.status_code == 403
    for voter in (rita, carl):
        vote = voter.post(
            f"/api/v1/approvals/{rid}/decision", json={"approve": True, "comment": "evidence read"}
        )
        assert vote.status_code == 200, vote.text
    assert vote.json()["state"] == "approved"
    assert vera.get("/api/v1/systems/credit/models/scorer@1/gate").json()["ok"] is True

    promoted = dana.post(
        "/api/v1/systems/credit/models/scorer@1/stage", json={"stage": "production"}
    )
    assert promoted.status_code == 200, promoted.text
    page = vera.get("/api/v1/systems/credit/models/scorer@1/page").json()
    assert page["model"]["stage"] == "production"
    assert [e["kind"] for e in page["evidence"]] == ["fairness"]
    assert len(page["decisions"]) == 1 and page["gate"]["ok"] is True
    assert page["approvals"][0]["state"] == "approved"
    assert [d["ref"] for d in page["lineage"]["datasets"]] == ["train@1"]
    assert [h["to"] for h in vera.get("/api/v1/systems/credit/history").json()] == [
        "staging",
        "production",
    ]

    card = vera.get("/api/v1/systems/credit/models/scorer@1/reports/model-card")
    assert card.status_code == 200 and card.headers["content-disposition"].startswith("attachment")
    html = vera.get("/api/v1/systems/credit/models/scorer@1/reports/annex-iv?format=html")
    assert html.status_code == 200 and "sandbox" in html.headers["content-security-policy"]
    assert vera.get("/api/v1/systems/credit/datasets/train/reports/datasheet").status_code == 200
    assert vera.get("/api/v1/systems/credit/reports/gdpr-art30").status_code == 200
    no_ll144 = vera.get("/api/v1/systems/credit/models/scorer@1/reports/ll144")
    assert no_ll144.status_code == 422 and "ll144" in no_ll144.json()["detail"]

    audit = vera.get("/api/v1/audit/entries", params={"limit": 1000}).json()
    actors = {e["actor"] for e in audit["entries"]}
    assert {"dana", "rita", "carl"} <= actors
    assert vera.get("/api/v1/audit/verify").json()["ok"] is True
    assert carl.post("/api/v1/audit/checkpoints").status_code == 201
    seq = audit["entries"][-1]["seq"]
    proof = vera.get(f"/api/v1/audit/entries/{seq}/proof")
    assert proof.status_code == 200 and proof.json()["seq"] == seq
    export = root.get("/api/v1/audit/export")
    assert export.status_code == 200
    assert json.loads(export.text.splitlines()[0])["format"] == "trustops-audit-export"
    assert vera.get("/api/v1/audit/export").status_code == 200  # vera sees every system

    second = dana.post(
        "/api/v1/systems/credit/models",
        data={"name": "scorer", "parent": "scorer@1"},
        files={"file": ("scorer.pkl", artifact + b"v2")},
    )
    assert second.status_code == 201 and second.json()["ref"] == "scorer@2"
    dana.post(
        "/api/v1/systems/credit/models/scorer@2/decisions", json={"pack": None, "policy": PASSING}
    )
    dana.post("/api/v1/systems/credit/models/scorer@2/stage", json={"stage": "staging"})
    rid2 = dana.post("/api/v1/systems/credit/models/scorer@2/approvals", json={}).json()["id"]
    for voter in (rita, carl):
        voter.post(f"/api/v1/approvals/{rid2}/decision", json={"approve": True, "comment": "ok"})
    promoted = dana.post(
        "/api/v1/systems/credit/models/scorer@2/stage", json={"stage": "production"}
    )
    assert promoted.status_code == 200, promoted.text
    assert dana.post("/api/v1/systems/credit/rollback", json={}).status_code == 403
    rolled = carl.post("/api/v1/systems/credit/rollback", json={"reason": "regression"})
    assert rolled.status_code == 200, rolled.text
    assert vera.get("/api/v1/systems/credit/models/scorer@1").json()["stage"] == "production"
    assert vera.get("/api/v1/systems/credit/models/scorer").json()["stage"] == "archived"
