"""The dashboard's privacy page: the Art. 30 record, data uses, erasure requests, the queue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

from tests.server.conftest import LiveServer, fresh_database, run_server
from trustops.governance import init_workspace
from trustops.governance.subjects import create_subject_key
from trustops.privacy.erasure import request_erasure
from trustops.privacy.review import request_review, reviews


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    project = tmp_path / "project"
    project.mkdir()
    create_subject_key(init_workspace(project, actor="setup").path / "subject.key")
    with (
        fresh_database(request.param, tmp_path) as url,
        run_server(project, url, request.param) as server,
    ):
        reg = server.registry()
        reg.create_system("credit", owner="risk team")
        dv = reg.register_dataset(
            pa.table({"applicant_id": [1, 2, 3]}), system="credit", name="train",
            purposes=["scoring"], lawful_basis="contract", personal_data=True,
            subject_column="applicant_id",
        )  # fmt: skip
        reg.register_model(
            b"w", system="credit", name="scorer", trained_on=[dv.ref], purpose="scoring",
            code_commit=None,
        )  # fmt: skip
        request_erasure(reg, ["2"], reference="case-5")
        request_review(reg, model="credit/scorer@1", prediction_id="17", statement="look again")
        yield server


def login(server: LiveServer, token: str) -> httpx.Client:
    client = server.client(follow_redirects=False)
    assert client.post("/login", data={"token": token}).status_code == 303
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_the_privacy_page_and_the_review_queue(live: LiveServer) -> None:
    rita = login(live, live.user("rita", "reviewer", ["credit"]))
    assert 'href="/systems/credit/privacy"' in rita.get("/systems/credit").text
    page = rita.get("/systems/credit/privacy")
    assert page.status_code == 200, page.text
    text = page.text
    assert "Record of processing activities" in text and "(a) controller" in text
    assert "training" in text and "scoring" in text  # the recorded use
    assert "case-5" in text and "credit/scorer@1" in text  # the erasure request
    assert "look again" in text and 'action="/systems/credit/reviews/1"' in text
    wrong = rita.post("/systems/credit/reviews/1", data={"csrf": "x" * 43, "outcome": "upheld",
                                                         "rationale": "r"})  # fmt: skip
    assert wrong.status_code == 403 and reviews(live.registry(), status="open")
    done = rita.post(
        "/systems/credit/reviews/1",
        data={"csrf": csrf_of(text), "outcome": "overturned", "rationale": "income re-checked"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=decided#reviews")
    (decided,) = reviews(live.registry(), status="decided")
    assert (decided.outcome, decided.decided_by) == ("overturned", "rita")
    download = rita.get("/systems/credit/privacy/record.html")
    assert download.status_code == 200
    assert download.headers["content-security-policy"].startswith("sandbox")
    assert "attachment" in download.headers["content-disposition"]


def test_a_viewer_sees_the_record_but_not_the_queue(live: LiveServer) -> None:
    vic = login(live, live.user("vic", "viewer", ["credit"]))
    page = vic.get("/systems/credit/privacy")
    assert page.status_code == 200 and "Record of processing activities" in page.text
    assert "look again" not in page.text and "Requests for human review" not in page.text
    assert vic.post("/systems/credit/reviews/1", data={"csrf": csrf_of(page.text),
                    "outcome": "upheld", "rationale": "r"}).status_code == 403  # fmt: skip
    outsider = login(live, live.user("otto", "viewer", []))
    assert outsider.get("/systems/credit/privacy").status_code in (403, 404)  # no role anywhere
