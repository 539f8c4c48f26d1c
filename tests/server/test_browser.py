"""The dashboard in a real browser: Playwright driving Debian's Chromium, headless.

A reviewer logs in with a token, opens a model version awaiting approval,
approves it and sees the vote and the gate change; logs out; a compliance
officer completes the approval from the queue; a POST without the CSRF field
is refused. Screenshots of each step are saved under ``test-artifacts/browser/``
(ignored by git) for a person to look at.

No browser is downloaded: the tests use the ``chromium`` on the PATH (``.ci/run``
installs Debian's package) and skip, saying why, where there is none.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import LiveServer
from tests.server.test_dashboard import SESSION, request_state, seed

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(
            "no Chromium on the PATH (Debian: apt-get install chromium; .ci/run does): "
            "the dashboard's browser tests need one and never download a browser"
        )
    return found


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A fresh headless Chromium context (its own user-data folder)."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def _shot(page: Any, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_reviewer_logs_in_approves_and_sees_the_status_change(
    server: LiveServer, browser: Any
) -> None:
    seeded = seed(server)
    folder = ARTIFACTS / server.kind
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    page = browser.new_page()
    model_url = f"{server.url}/systems/credit/models/scorer/1"

    page.goto(model_url)  # not logged in: sent to the login page, then back here
    assert page.url.startswith(f"{server.url}/login?next=")
    _shot(page, folder, "01-login")
    page.fill("#token", seeded.tokens["rita"])
    page.click("section.login button[type=submit]")
    page.wait_for_url(model_url)
    cookies = {c["name"]: c for c in browser.cookies()}
    assert cookies[SESSION]["httpOnly"] and cookies[SESSION]["sameSite"] == "Strict"
    assert cookies[SESSION]["path"] == "/"
    assert page.locator("#approval .badge.pending").count() == 1
    assert "waiting for 1 compliance officer, 1 reviewer" in page.inner_text("#approval")
    assert page.locator("#fairness svg .threshold").count() >= 1
    _shot(page, folder, "02-model-awaiting-approval")

    page.fill("#approval textarea[name=comment]", "fairness and drift evidence read")
    page.click("#approval button[value=approve]")
    page.wait_for_url(f"{model_url}?done=approved#approval")
    assert "Approved: your vote is recorded." in page.inner_text("main")
    approval = page.inner_text("#approval")
    assert "rita (reviewer): fairness and drift evidence read" in approval
    assert "waiting for 1 compliance officer" in approval and "1 reviewer" not in approval
    _shot(page, folder, "03-model-after-reviewer-approval")
    assert request_state(server, seeded.request_id) == ("pending", 1)

    page.click("header .who button")  # log out
    page.wait_for_url(f"{server.url}/login")
    assert SESSION not in {c["name"] for c in browser.cookies()}
    page.goto(f"{server.url}/approvals")
    assert page.url.startswith(f"{server.url}/login?next=")

    page.fill("#token", seeded.tokens["carl"])
    page.click("section.login button[type=submit]")
    page.wait_for_url(f"{server.url}/approvals")
    _shot(page, folder, "04-queue-compliance-officer")
    page.fill("textarea[name=comment]", "approved for production")
    page.click("button[value=approve]")
    page.wait_for_url(f"{server.url}/approvals?done=approved#approval")
    assert "Nothing is waiting" in page.inner_text("main")
    page.goto(model_url)
    assert page.locator("#approval .badge.approved").count() >= 1
    _shot(page, folder, "05-model-approved")
    assert request_state(server, seeded.request_id) == ("approved", 2)

    for step in ["/", "/systems/credit", "/audit/verify"]:
        page.goto(server.url + step)
        _shot(page, folder, "06-" + (step.strip("/").replace("/", "-") or "overview"))
    assert "Verified:" in page.inner_text("main")


def test_a_post_without_csrf_is_refused_in_the_browser_session(
    server: LiveServer, browser: Any
) -> None:
    seeded = seed(server)
    page = browser.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#token", seeded.tokens["rita"])
    page.click("section.login button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    action = f"{server.url}/systems/credit/approvals/{seeded.request_id}"
    # the browser context's own cookie jar: the session cookie goes along, the CSRF field not
    refused = page.request.post(
        action, form={"decision": "approve", "comment": "forged"}, max_redirects=0
    )
    assert refused.status == 403
    assert "CSRF" in refused.text()
    assert request_state(server, seeded.request_id) == ("pending", 0)
    # and the session is still good: the page works
    page.goto(f"{server.url}/approvals")
    assert page.locator("button[value=approve]").count() == 1


def test_a_viewer_follows_the_model_page_to_its_monitoring_over_time(
    server: LiveServer, browser: Any
) -> None:
    from tests.server.test_dashboard import seed_monitor
    from trustops.privacy.review import request_review

    seeded = seed(server)
    seed_monitor(server)
    request_review(server.registry("dana"), model="credit/scorer@1", prediction_id="app-7",
                   statement="please look again")  # fmt: skip
    folder = ARTIFACTS / server.kind
    folder.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#token", seeded.tokens["vera"])
    page.click("section.login button[type=submit]")
    page.goto(f"{server.url}/systems/credit/models/scorer/1")
    assert "scorer-watch" in page.inner_text("#monitoring")
    page.click("#monitoring a >> text=over time")
    page.wait_for_url(f"{server.url}/systems/credit/models/scorer/1/monitoring")
    charts = page.locator("section.monitor figure svg")
    assert charts.count() == 3
    for i in range(3):  # drawn at a readable size, not collapsed by the page's styles
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150
    assert page.locator("section.monitor .band").count() >= 1
    assert "Alert history" in page.inner_text("section.monitor")
    _shot(page, folder, "07-monitoring")
    # a reviewer's queue: approvals, then the Art. 22 reviews waiting
    page.click("header .who button")
    page.wait_for_url(f"{server.url}/login")
    page.fill("#token", seeded.tokens["rita"])
    page.click("section.login button[type=submit]")
    page.goto(f"{server.url}/approvals")
    assert "app-7" in page.inner_text("#reviews ~ table")
    _shot(page, folder, "08-queue-with-art22-reviews")
