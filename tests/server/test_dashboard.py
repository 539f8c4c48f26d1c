"""The dashboard over a real server: login, cookie flags, pages, object-level access, CSRF.

Each test runs against a live uvicorn server (SQLite and PostgreSQL) holding
two systems: ``credit`` with a registered model, its fairness, drift,
explanation and LL144 evidence, a failing policy decision and an approval
request by its data scientist; and ``hr``, which the credit users cannot see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest
from fastapi.routing import iter_route_contexts

from tests.server.conftest import LiveServer
from trustops.core.access import Permission
from trustops.server.app import create_app
from trustops.server.dashboard.routes import dashboard_router
from trustops.server.security import route_access

SESSION = "trustops_session"


@dataclass
class Seeded:
    """The users' token secrets and the pending request's id."""

    tokens: dict[str, str]
    request_id: int


def seed(server: LiveServer) -> Seeded:
    """Two systems, a model with evidence and a decision, users, one pending approval request."""
    import trustops
    from trustops.governance.approvals import Approvals
    from trustops.policy import load_policy

    rng = np.random.default_rng(7)
    n = 400
    race = rng.choice(["White", "Black or African American", "Asian"], n, p=[0.6, 0.25, 0.15])
    sex = rng.choice(["Male", "Female"], n)
    income = rng.normal(50, 12, n)
    debt = rng.uniform(0, 0.8, n)
    truth = (income / 60 - debt + rng.normal(0, 0.3, n) > 0.3).astype(int)
    shift = np.where(race == "Black or African American", -0.35, 0.0)
    predicted = (income / 60 - debt + shift + rng.normal(0, 0.3, n) > 0.3).astype(int)
    columns = {"income": income, "debt_ratio": debt, "race": race, "sex": sex}
    train = pa.table({**columns, "approved": truth, "prediction": predicted})
    production = pa.table({**columns, "income": income * 0.75})

    tokens = {
        "dana": server.user("dana", admin=False),
        "rita": server.user("rita"),
        "carl": server.user("carl"),
        "vera": server.user("vera"),
        "hana": server.user("hana"),
    }
    reg = server.registry("dana")
    reg.create_system("credit", purpose="decide <b>consumer</b> credit", risk="high")
    reg.create_system("hr", purpose="rank job applicants")
    identity = server.identity()
    for user, role in [("dana", "data_scientist"), ("rita", "reviewer"),
                       ("carl", "compliance_officer"), ("vera", "viewer")]:  # fmt: skip
        identity.grant(user, "credit", role)
    identity.grant("hana", "hr", "reviewer")
    reg.register_dataset(train, system="credit", name="train")
    reg.register_dataset(production, system="credit", name="production")
    model = reg.register_model(
        b"opaque weights", system="credit", name="scorer", trained_on=["train@1"],
        code_commit=None,
    )  # fmt: skip
    reg.register_model(b"other", system="hr", name="ranker", code_commit=None)
    fairness = trustops.assess_fairness(
        train, y_true="approved", y_pred="prediction", sensitive="race", bootstrap=50, seed=0
    )
    reg.record_evidence("fairness", model, fairness)
    features = ["income", "debt_ratio", "race", "sex"]
    drift = trustops.detect_drift(train.select(features), production.select(features))
    reg.record_evidence("drift", "dataset:credit/production@1", drift)
    reg.record_evidence(
        "explanation",
        model,
        {"method": "shap.linear", "output": "log-odds", "n_rows": n,
         "importance": {"income": 0.61, "debt_ratio": 0.34}},
    )  # fmt: skip
    audit = trustops.ll144_audit(train, sex="sex", race="race", selected="prediction")
    reg.record_evidence("ll144", model, audit.to_dict())
    reg.evaluate_policy(load_policy("eeoc-four-fifths"), "credit/scorer@1")
    dana = identity.authenticate(tokens["dana"])
    request = Approvals(reg).request(
        "credit/scorer@1", principal=dana, comment="please review {{7*7}} <script>x()</script>"
    )
    return Seeded(tokens, request.id)


def login(server: LiveServer, token: str, **kwargs: Any) -> httpx.Client:
    """A browser-like client holding a session cookie."""
    client = server.client(follow_redirects=False, **kwargs)
    response = client.post("/login", data={"token": token})
    assert response.status_code == 303, response.text
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def request_state(server: LiveServer, request_id: int) -> tuple[str, int]:
    from trustops.governance.approvals import Approvals

    found = Approvals(server.registry()).get(request_id)
    return found.state, len(found.votes)


# -- routes ---------------------------------------------------------------------


EXPECTED_ACCESS = {
    "GET /static/{name}": "PUBLIC",
    "GET /login": "PUBLIC",
    "POST /login": "PUBLIC",
    "POST /logout": "AUTHENTICATED",
    "GET /": f"requires({Permission.SYSTEM_READ})",
    "GET /systems/{system}": f"requires({Permission.SYSTEM_READ})",
    "GET /systems/{system}/models/{name}/{version}": f"requires({Permission.SYSTEM_READ})",
    "GET /systems/{system}/models/{name}/{version}/monitoring":
        f"requires({Permission.SYSTEM_READ})",
    "GET /systems/{system}/models/{name}/{version}/reports/{document}":
        f"requires({Permission.SYSTEM_READ})",
    "GET /approvals": f"requires({Permission.SYSTEM_READ})",
    "POST /systems/{system}/approvals/{request_id}": f"requires({Permission.APPROVAL_DECIDE})",
    "GET /audit": f"requires({Permission.AUDIT_READ})",
    "GET /audit/verify": f"requires({Permission.AUDIT_READ})",
}  # fmt: skip


def test_every_page_declares_its_guard_and_the_app_serves_them(tmp_path: Any) -> None:
    from trustops.governance import init_workspace
    from trustops.governance.workspace import load_settings

    declared = {}
    for route in dashboard_router().routes:
        for method in route.methods:  # type: ignore[attr-defined]
            declared[f"{method} {route.path}"] = repr(route_access(route))  # type: ignore[attr-defined]
    assert declared == EXPECTED_ACCESS
    app = create_app(load_settings(init_workspace(tmp_path), env={}))
    served = {context.path for context in iter_route_contexts(app.routes)}
    assert {key.split(" ", 1)[1] for key in EXPECTED_ACCESS} <= served


# -- login, cookie, logout --------------------------------------------------------


def test_pages_send_the_unauthenticated_to_login(server: LiveServer) -> None:
    client = server.client(follow_redirects=False)
    for path in ["/", "/systems/credit", "/approvals", "/audit?before=3"]:
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    assert client.get("/audit?before=3").headers["location"] == "/login?next=%2Faudit%3Fbefore%3D3"
    page = client.get("/login")
    assert page.status_code == 200 and 'name="token"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    css = client.get("/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for name in ["../app.py", "..%2F__init__.py", "missing.css", "%2e%2e%2fviews.py"]:
        assert client.get(f"/static/{name}").status_code == 404


def test_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(
    server: LiveServer,
) -> None:
    seeded = seed(server)
    client = server.client(follow_redirects=False)
    refused = client.post("/login", data={"token": "tro_" + "x" * 43})
    assert refused.status_code == 401 and "set-cookie" not in refused.headers
    response = client.post("/login", data={"token": seeded.tokens["rita"], "next": "/approvals"})
    assert response.status_code == 303 and response.headers["location"] == "/approvals"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION}=trs_")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags  # plain http on loopback
    assert seeded.tokens["rita"] not in response.text + cookie
    secret = client.cookies[SESSION]

    page = client.get("/")
    assert page.status_code == 200 and "rita" in page.text
    assert client.get("/login?next=/audit").headers["location"] == "/audit"  # signed in already
    assert client.post("/logout", data={}).status_code == 403  # no CSRF token: still logged in
    assert client.get("/").status_code == 200
    out = client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert (
        f'{SESSION}=""' in out.headers["set-cookie"]
        or "max-age=0" in out.headers["set-cookie"].lower()
    )
    # the old cookie opens nothing any more, in the dashboard or the API
    stale = server.client(follow_redirects=False, cookies={SESSION: secret})
    assert stale.get("/").status_code == 303


def test_login_only_redirects_within_the_site(server: LiveServer) -> None:
    seeded = seed(server)
    client = server.client(follow_redirects=False)
    for target in ["https://evil.example/", "//evil.example/x", "/\\evil.example"]:
        response = client.post("/login", data={"token": seeded.tokens["rita"], "next": target})
        assert response.headers["location"] == "/"


def test_the_cookie_is_secure_over_https(server: LiveServer) -> None:
    seeded = seed(server)
    # uvicorn trusts X-Forwarded-Proto from loopback, as from a TLS-terminating proxy
    client = server.client(follow_redirects=False, headers={"X-Forwarded-Proto": "https"})
    response = client.post("/login", data={"token": seeded.tokens["rita"]})
    flags = {part.strip().lower() for part in response.headers["set-cookie"].split(";")}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= flags


def test_a_form_from_another_site_is_refused(server: LiveServer) -> None:
    seeded = seed(server)
    client = server.client(follow_redirects=False, headers={"Origin": "https://evil.example"})
    response = client.post("/login", data={"token": seeded.tokens["rita"]})
    assert response.status_code == 403 and "set-cookie" not in response.headers


# -- pages ----------------------------------------------------------------------


def test_overview_and_model_page_show_the_recorded_evidence(server: LiveServer) -> None:
    seeded = seed(server)
    client = login(server, seeded.tokens["rita"])
    overview = client.get("/").text
    assert 'href="/systems/credit"' in overview and "/systems/hr" not in overview
    assert "decide &lt;b&gt;consumer&lt;/b&gt; credit" in overview  # escaped, never markup
    assert "no production version" in overview and "eeoc-four-fifths on scorer@1" in overview
    system = client.get("/systems/credit").text
    assert "scorer@1" in system and 'class="badge fail"' in system

    page = client.get("/systems/credit/models/scorer/1")
    assert page.status_code == 200
    html = page.text
    assert "eeoc-four-fifths" in html and "impact_ratio[race=Black or African American]" in html
    assert 'class="threshold"' in html  # the four-fifths line of the impact-ratio bars
    assert html.count('class="dot"') >= 3 and 'stroke="#2e86c1"' in html  # groups with intervals
    assert "dataset production@1" in html and "income" in html  # drift per feature
    assert "mean |attribution| (log-odds)" in html  # the explanation plot
    assert "the approval request is pending" in html and 'value="approve"' in html
    assert "/reports/ll144" in html and "/reports/model_card" in html
    # what people typed is shown as text: no markup, no template evaluation
    assert "please review {{7*7}} &lt;script&gt;x()&lt;/script&gt;" in html
    assert "<script" not in html and "49" not in html.split("please review")[1][:20]

    for document, words in [("model_card", "Model card"), ("annex_iv", "Annex IV"),
                            ("ll144", "Local Law 144")]:  # fmt: skip
        report = client.get(f"/systems/credit/models/scorer/1/reports/{document}")
        assert report.status_code == 200 and words in report.text
        assert report.headers["content-disposition"].startswith("attachment;")
        assert report.headers["content-security-policy"].startswith("sandbox")
    assert client.get("/systems/credit/models/scorer/1/reports/passwd").status_code == 404


def test_other_systems_are_not_found_not_forbidden(server: LiveServer) -> None:
    seeded = seed(server)
    client = login(server, seeded.tokens["rita"])
    missing = client.get("/systems/nowhere")
    hidden = client.get("/systems/hr")
    assert missing.status_code == hidden.status_code == 404
    assert hidden.text == missing.text  # the same page: its existence is not revealed
    for path in ["/systems/hr/models/ranker/1", "/systems/hr/models/ranker/1/reports/model_card",
                 "/systems/credit/models/nope/1", "/systems/credit/models/scorer/x",
                 "/systems/..%2Fhr", "/systems/credit/models/..%2F..%2Fhr%2Franker/1",
                 "/systems/credit/models/scorer%00/1"]:  # fmt: skip
        assert client.get(path).status_code == 404, path
    # the hr reviewer sees hr, not credit
    other = login(server, seeded.tokens["hana"])
    assert other.get("/systems/hr").status_code == 200
    assert other.get("/systems/credit/models/scorer/1").status_code == 404
    assert "credit" not in other.get("/approvals").text


# -- monitoring over time ------------------------------------------------------------


def seed_monitor(server: LiveServer) -> None:
    """A monitor of credit/scorer@1 over six windows of 200 predictions in which group B's
    approvals fall and incomes shift; its alerts go to a webhook nobody answers."""
    from trustops.monitoring.config import build_config
    from trustops.monitoring.runner import run_monitor
    from trustops.monitoring.store import create_monitor

    rng = np.random.default_rng(3)
    size, windows = 200, 6
    n = size * windows
    window = np.repeat(np.arange(windows), size)
    group = rng.choice(["A", "B"], n)
    rate = np.where(group == "B", 0.6 - 0.08 * window, 0.6)  # B's approvals slowly fall
    prediction = (rng.random(n) < rate).astype(int)
    label = np.where(rng.random(n) < 0.85, prediction, 1 - prediction)
    income = rng.normal(50, 10, n) * np.where(window >= 3, 0.7, 1.0)  # drifts from window 3
    debt = rng.uniform(0, 0.8, n)
    log = pa.table({
        "t": [f"2026-11-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z" for i in range(n)],
        "prediction": prediction, "label": label, "race": group, "income": income,
        "debt_ratio": debt,
    })  # fmt: skip
    registry = server.registry("dana")
    config = build_config({
        "monitor": "scorer-watch", "model": "credit/scorer@1",
        "window": {"kind": "count", "size": size},
        "columns": {"time": "t", "prediction": "prediction", "label": "label",
                    "sensitive": ["race"], "features": ["income", "debt_ratio"]},
        "reference": "train@1",  # the training data's stored profile
        "checks": [{"metric": "fairness.selection_rate.ratio", "op": ">=", "threshold": 0.8},
                   {"metric": "drift.share_drifted", "op": "<=", "threshold": 0.3},
                   {"metric": "performance.accuracy", "op": ">=", "threshold": 0.7}],
        "persistence": 2, "fairness": {"bootstrap": 100, "seed": 0, "min_group_size": 10},
        "channels": [{"type": "webhook", "name": "risk-hook",
                      "url": "http://127.0.0.1:9/alerts?secret=hook-secret"}],
        "retry": {"attempts": 1, "backoff": 0},
    })  # fmt: skip
    create_monitor(registry, config)
    run_monitor(registry, "scorer-watch", log, now=0, sleep=lambda s: None)


def test_monitoring_shows_each_series_over_time_and_the_alert_history(
    server: LiveServer,
) -> None:
    seeded = seed(server)
    client = login(server, seeded.tokens["vera"])  # a viewer reads it
    empty = client.get("/systems/credit/models/scorer/1/monitoring")
    assert empty.status_code == 200 and "No monitor watches this version" in empty.text
    seed_monitor(server)
    page = client.get("/systems/credit/models/scorer/1/monitoring")
    assert page.status_code == 200
    html = page.text
    # one chart per series, grouped: drift share, each disparity with its band, performance
    drift, fairness, performance = (html.index(h) for h in (
        "Drift: share of drifted features", "Fairness: each disparity with its interval",
        "Performance (labelled predictions)"))  # fmt: skip
    assert drift < fairness < performance
    assert html.count("<svg") == 3 and html.count('class="threshold"') == 3
    assert 'class="band"' in html  # the fairness interval over the windows
    assert html.count('class="point"') == 3 * 6
    assert "fairness:selection_rate.ratio[race] &gt;= 0.8 over 6 windows" in html
    assert "drift:share_drifted &lt;= 0.3" in html and "performance:accuracy &gt;= 0.7" in html
    assert 'fill="#c0392b"' in html  # breaching windows in red
    # the alert history: raised, its delivery failed (nobody answers), recorded either way
    alerts = html[html.index("Alert history") :]
    assert 'class="badge send"' in alerts and 'class="badge failed"' in alerts
    assert "risk-hook (webhook)" in alerts
    assert "hook-secret" not in html and "127.0.0.1:9" not in html  # channel URLs stay hidden
    # the model page links to it with a summary
    model = client.get("/systems/credit/models/scorer/1").text
    assert "/systems/credit/models/scorer/1/monitoring#monitor-scorer-watch" in model
    assert "windows of 200 predictions" in model and 'class="badge breaching"' in model
    system = client.get("/systems/credit").text  # and the system page marks the version
    assert (
        '<a href="/systems/credit/models/scorer/1/monitoring"><span class="badge breaching">'
        in system
    )
    # another system's member and the anonymous do not see it
    assert login(server, seeded.tokens["hana"]).get(
        "/systems/credit/models/scorer/1/monitoring").status_code == 404  # fmt: skip
    assert server.client(follow_redirects=False).get(
        "/systems/credit/models/scorer/1/monitoring").status_code == 303  # fmt: skip


# -- approvals and CSRF -------------------------------------------------------------


def test_approve_with_the_form_and_see_the_status_change(server: LiveServer) -> None:
    seeded = seed(server)
    client = login(server, seeded.tokens["rita"])
    page = client.get("/systems/credit/models/scorer/1").text
    action = f"/systems/credit/approvals/{seeded.request_id}"
    assert f'action="{action}"' in page
    response = client.post(action, data={
        "csrf": csrf_of(page), "decision": "approve", "comment": "evidence read",
        "back": "/systems/credit/models/scorer/1",
    })  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/systems/credit/models/scorer/1?done=approved#approval"
    after = client.get(response.headers["location"]).text
    assert "Approved: your vote is recorded." in after
    assert "rita (reviewer): evidence read" in after
    assert "waiting for 1 compliance officer" in after
    assert request_state(server, seeded.request_id) == ("pending", 1)
    # a second vote by the same person is refused, as a page
    again = client.post(action, data={"csrf": csrf_of(after), "decision": "approve",
                                      "comment": "twice"})  # fmt: skip
    assert again.status_code == 409 and "already voted" in again.text
    # the compliance officer completes it from the queue
    carl = login(server, seeded.tokens["carl"])
    queue = carl.get("/approvals").text
    assert "credit/scorer@1" in queue
    done = carl.post(action, data={"csrf": csrf_of(queue), "decision": "approve",
                                   "comment": "ok", "back": "/approvals"})  # fmt: skip
    assert done.headers["location"] == "/approvals?done=approved#approval"
    assert request_state(server, seeded.request_id) == ("approved", 2)
    assert "Nothing is waiting" in carl.get("/approvals").text


def test_the_queue_lists_art22_reviews_for_those_who_decide_them(server: LiveServer) -> None:
    from trustops.privacy.review import assign_review, decide_review, request_review

    seeded = seed(server)
    registry = server.registry("dana")
    asked = [
        request_review(registry, model="credit/scorer@1", prediction_id=f"app-{i}",
                       statement="My income was misread; call me on +1 415 555 0100.")
        for i in range(3)
    ]  # fmt: skip
    request_review(registry, model="hr/ranker@1", prediction_id="cand-9", statement=None)
    assign_review(registry, asked[1].id, "rita")
    decide_review(registry, asked[2].id, outcome="upheld", rationale="checked")
    queue = login(server, seeded.tokens["rita"]).get("/approvals").text
    section = queue[queue.index("Reviews of automated decisions") :]
    assert section.count("/systems/credit/privacy#reviews") == 2  # open and assigned, not decided
    assert "app-0" in section and "app-1" in section and "app-2" not in section
    assert 'class="badge pending"' in section and 'class="badge assigned"' in section
    assert "cand-9" not in queue and "415 555" not in queue  # other systems; no statements
    # a viewer decides no review and gets no such section; the hr reviewer sees hr's only
    assert (
        "Reviews of automated decisions"
        not in login(server, seeded.tokens["vera"]).get("/approvals").text
    )
    hana = login(server, seeded.tokens["hana"]).get("/approvals").text
    assert "cand-9" in hana and "app-0" not in hana


@pytest.mark.parametrize(
    "form",
    [
        {"decision": "approve", "comment": "no token"},
        {"decision": "approve", "comment": "wrong token", "csrf": "x" * 43},
        {"decision": "approve", "comment": "empty token", "csrf": ""},
    ],
    ids=["missing", "wrong", "empty"],
)
def test_a_post_without_the_right_csrf_token_is_refused_and_stores_nothing(
    server: LiveServer, form: dict[str, str]
) -> None:
    seeded = seed(server)
    client = login(server, seeded.tokens["rita"])
    entries = server.registry().audit.size()
    response = client.post(f"/systems/credit/approvals/{seeded.request_id}", data=form)
    assert response.status_code == 403
    assert request_state(server, seeded.request_id) == ("pending", 0)
    refusals = server.registry().audit.entries(start=entries)
    assert [e.action for e in refusals] == ["access.refused"]  # the refusal, nothing else


def test_another_sessions_csrf_token_does_not_work(server: LiveServer) -> None:
    seeded = seed(server)
    carl = login(server, seeded.tokens["carl"])
    token = csrf_of(carl.get("/").text)
    rita = login(server, seeded.tokens["rita"])
    response = rita.post(f"/systems/credit/approvals/{seeded.request_id}",
                         data={"csrf": token, "decision": "approve", "comment": "x"})  # fmt: skip
    assert response.status_code == 403
    assert request_state(server, seeded.request_id) == ("pending", 0)


def test_who_may_decide(server: LiveServer) -> None:
    seeded = seed(server)
    action = f"/systems/credit/approvals/{seeded.request_id}"
    for user, status in [("vera", 403), ("dana", 403), ("hana", 404)]:
        client = login(server, seeded.tokens[user])
        form = {"csrf": csrf_of(client.get("/audit").text), "decision": "approve", "comment": "x"}
        assert client.post(action, data=form).status_code == status, user
    # viewers and submitters get no form to press
    viewer = login(server, seeded.tokens["vera"])
    assert 'value="approve"' not in viewer.get("/systems/credit/models/scorer/1").text
    submitter = login(server, seeded.tokens["dana"])
    assert 'value="approve"' not in submitter.get("/approvals").text
    # the path's system must be the request's
    rita = login(server, seeded.tokens["rita"])
    form = {"csrf": csrf_of(rita.get("/").text), "decision": "approve", "comment": "x"}
    assert (
        rita.post(f"/systems/credit/approvals/{seeded.request_id + 99}", data=form).status_code
        == 404
    )
    assert request_state(server, seeded.request_id) == ("pending", 0)


# -- audit log ------------------------------------------------------------------------


def test_audit_log_pages_and_verifies(server: LiveServer) -> None:
    seeded = seed(server)
    registry = server.registry("dana")
    for i in range(40):
        registry.record_evidence("note", "credit/scorer@1", {"n": i})
    admin_token = server.user("root", admin=True)
    admin = login(server, admin_token)
    size = server.registry().audit.size()
    first = admin.get("/audit").text
    assert f"{size:,} entries in the log" in first
    assert first.count('<tr><td class="num">') == 50 and "older →" in first
    older = admin.get(f"/audit?before={size - 50}").text
    assert f'<td class="num">{size - 51}</td>' in older
    verified = admin.get("/audit/verify").text
    assert "Verified:" in verified and "FAILED" not in verified
    # a member sees the entries about their systems only
    rita = login(server, seeded.tokens["rita"])
    text = rita.get("/audit").text
    assert "model:credit/scorer@1" in text and "system:hr" not in text


# -- who sees which page ----------------------------------------------------------------

CREDIT_PAGES = [
    "/systems/credit",
    "/systems/credit/models/scorer/1",
    "/systems/credit/models/scorer/1/monitoring",
    "/systems/credit/models/scorer/1/reports/model_card",
]
HR_PAGES = ["/systems/hr", "/systems/hr/models/ranker/1", "/systems/hr/models/ranker/1/monitoring"]
SHARED_PAGES = ["/", "/approvals", "/audit"]


def test_page_access_by_role(server: LiveServer) -> None:
    seeded = seed(server)
    seeded.tokens["root"] = server.user("root", admin=True)
    expected = {  # user -> (credit pages, hr pages, shared pages)
        "vera": (200, 404, 200),  # viewer of credit
        "dana": (200, 404, 200),  # data scientist of credit
        "rita": (200, 404, 200),  # reviewer of credit
        "carl": (200, 404, 200),  # compliance officer of credit
        "hana": (404, 200, 200),  # reviewer of hr only
        "root": (200, 200, 200),  # administrator: every system
    }
    for user, (credit, hr, shared) in expected.items():
        client = login(server, seeded.tokens[user])
        for pages, status in [(CREDIT_PAGES, credit), (HR_PAGES, hr), (SHARED_PAGES, shared)]:
            for path in pages:
                assert client.get(path).status_code == status, (user, path)
    anonymous = server.client(follow_redirects=False)
    for path in [*CREDIT_PAGES, *HR_PAGES, *SHARED_PAGES]:
        assert anonymous.get(path).status_code == 303, path
    # a session dies with the token it was opened with
    revoked = login(server, seeded.tokens["vera"])
    identity = server.identity()
    (token,) = identity.tokens("vera")
    identity.revoke_token(token.id)
    assert revoked.get("/systems/credit").status_code == 303
