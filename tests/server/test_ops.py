"""Operations over a real server: health, readiness, metrics, JSON logs, `trustops serve`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import LiveServer, fresh_database
from trustops.governance import init_workspace


def test_health_and_readiness(server: LiveServer) -> None:
    client = server.client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert len(ready.headers["x-request-id"]) == 16


def test_metrics_are_prometheus_text(server: LiveServer) -> None:
    client = server.client()
    client.get("/healthz")
    client.get("/no/such/route")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'trustops_http_requests_total{method="GET",route="/healthz",status="200"} 1' in text
    assert 'route="(unmatched)",status="404"' in text
    assert "# TYPE trustops_http_request_duration_seconds histogram" in text
    assert (
        'trustops_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 1'
        in text
    )


def test_logs_are_json_lines_naming_the_route_not_the_path(server: LiveServer) -> None:
    server.client().get("/healthz?anything=tro_" + "x" * 43)
    lines = [json.loads(line) for line in server.log_lines()]
    request = [entry for entry in lines if entry.get("route") == "/healthz"][-1]
    assert request["method"] == "GET" and request["status"] == 200
    assert {"time", "level", "request_id", "duration_ms", "user"} <= set(request)
    assert "tro_" not in "\n".join(server.log_lines())


def test_openapi_document_is_public_and_there_is_no_cdn_page(server: LiveServer) -> None:
    client = server.client()
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "trustops" and "/healthz" in spec["paths"]
    assert client.get("/docs").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_trustops_serve_runs_the_server_on_the_workspace(tmp_path: Path, kind: str) -> None:
    init_workspace(tmp_path, actor="setup")
    port = _free_port()
    env = {**os.environ, "TRUSTOPS_WORKSPACE": str(tmp_path)}
    with fresh_database(kind, tmp_path) as url:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("trustops")), "--database-url", url, "serve",
             "--port", str(port)],
            env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        err = _wait_ready_and_stop(process, port)
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(e.get("route") == "/readyz" and e.get("status") == 200 for e in logged)


def _wait_ready_and_stop(process: subprocess.Popen[str], port: int) -> str:
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "trustops serve did not start"
                time.sleep(0.1)
        assert response.json() == {"status": "ready"}
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    return err
