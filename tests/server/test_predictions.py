"""Prediction logging over HTTP (a real uvicorn server on SQLite and PostgreSQL), and the client."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from tests.server.conftest import LiveServer
from trustops.client import Client, ClientError, PredictionLogger
from trustops.governance import schema as t
from trustops.monitoring.ingest import Ingestion

ROUTE = "/api/v1/systems/credit/models/scorer@1"


def record(i: int) -> dict[str, Any]:
    return {
        "prediction_id": f"p{i}",
        "timestamp": f"2026-11-27T10:{i % 60:02d}:00Z",
        "prediction": i % 2,
        "score": 0.25,
        "features": {"income": 1000 * i},
        "sensitive": {"sex": "F" if i % 2 else "M"},
    }


@pytest.fixture
def token(server: LiveServer) -> str:
    registry = server.registry()
    registry.create_system("credit")
    registry.register_model(b"weights", system="credit", name="scorer")
    return server.user("dana", "data_scientist", ["credit"])


def stored(server: LiveServer) -> list[str]:
    with server.registry().db.read() as conn:
        return list(conn.execute(sa.select(t.predictions.c.prediction_id)).scalars())


def post(client: httpx.Client, body: Any, key: str | None, **kwargs: Any) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    headers.update(kwargs.pop("headers", {}))
    content = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return client.post(f"{ROUTE}/predictions", content=content, headers=headers, **kwargs)


def test_post_replay_and_reuse_of_a_key(server: LiveServer, token: str) -> None:
    client = server.client(token)
    first = post(client, [record(1), record(2)], "k1")
    assert first.status_code == 201, first.text
    assert first.json()["accepted"] == 2 and "Idempotent-Replayed" not in first.headers
    again = post(client, [record(1), record(2)], "k1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = post(client, [record(3)], "k1")
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    missing = post(client, [record(3)], None)
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["detail"]
    bad = post(client, [record(3), {**record(4), "timestamp": "noon"}], "k2")
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("record 1, field 'timestamp'")
    taken = post(client, [record(2)], "k3")
    assert taken.status_code == 409 and "Retry-After" not in taken.headers
    assert sorted(stored(server)) == ["p1", "p2"]


def test_every_format_and_labels(server: LiveServer, token: str) -> None:
    client = server.client(token)
    ndjson = b"\n".join(json.dumps(record(i)).encode() for i in (1, 2))
    response = post(client, ndjson, "a", headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 201, response.text
    table = pa.table(
        {
            "prediction_id": ["p3", "p4"],
            "timestamp": pa.array([1_800_000_000_000_000] * 2, pa.timestamp("us", "UTC")),
            "prediction": [1, 0],
            "income": [3000, 4000],
            "sex": ["F", "M"],
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.slice(0, 1))
    arrow = {"Content-Type": "application/vnd.apache.arrow.stream"}
    response = post(
        client, sink.getvalue().to_pybytes(), "b", headers=arrow, params={"sensitive": "sex"}
    )
    assert response.status_code == 201, response.text
    parquet = io.BytesIO()
    pq.write_table(table.slice(1), parquet)
    response = post(
        client,
        parquet.getvalue(),
        "c",
        headers={"Content-Type": "application/vnd.apache.parquet"},
        params={"sensitive": "sex"},
    )
    assert response.status_code == 201, response.text
    response = client.post(
        f"{ROUTE}/labels",
        json=[{"prediction_id": "p1", "label": 1}, {"prediction_id": "p4", "label": 0}],
        headers={"Idempotency-Key": "l1"},
    )
    assert response.status_code == 201 and response.json()["accepted"] == 2
    log = Ingestion(server.registry()).predictions("credit/scorer@1")
    assert log.column("prediction_id").to_pylist() == ["p1", "p2", "p3", "p4"]
    assert log.column("sex").to_pylist() == ["F", "M", "F", "M"]
    assert log.column("label").to_pylist() == [1, None, None, 0]
    unsupported = post(client, b"a,b", "d", headers={"Content-Type": "text/csv"})
    assert unsupported.status_code == 400


def test_who_may_log(server: LiveServer, token: str) -> None:
    viewer = server.client(server.user("vic", "viewer", ["credit"]))
    assert post(viewer, [record(1)], "k").status_code == 403
    registry = server.registry()
    registry.create_system("other")
    outsider = server.client(server.user("olga", "data_scientist", ["other"]))
    assert post(outsider, [record(1)], "k").status_code == 404
    assert post(server.client(), [record(1)], "k").status_code == 401
    assert stored(server) == []


def test_concurrent_replays_over_http_store_one_copy(server: LiveServer, token: str) -> None:
    body = json.dumps([record(i) for i in range(500)]).encode()
    answers: list[httpx.Response] = []
    start = threading.Barrier(6)

    def send() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            start.wait()
            answers.append(post(client, body, "same", headers={"Authorization": f"Bearer {token}"}))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers} <= {201, 409}
    accepted = [a.json() for a in answers if a.status_code == 201]
    assert accepted and all(a == accepted[0] for a in accepted)
    assert all(a.headers["Retry-After"] for a in answers if a.status_code == 409)
    assert len(stored(server)) == 500
    # The client retries a 409 until the first request is stored, then gets its answer.
    with Client(server.url, token=token, backoff=0.05) as client:
        results: list[dict[str, Any]] = []
        workers = [
            threading.Thread(
                target=lambda: results.append(
                    client.log_predictions("credit", "scorer@1", [record(900)], key="again")
                )
            )
            for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert len(results) == 4 and all(r == results[0] for r in results)
    assert len(stored(server)) == 501


def test_client_batches_and_reports_refusals(
    server: LiveServer, token: str, tmp_path: Path
) -> None:
    with Client(server.url, token=token, spill_dir=tmp_path / "spill") as client:
        with PredictionLogger(client, "credit", "scorer@1", batch_size=40) as log:
            log.log_many(record(i) for i in range(100))
            assert log.acknowledged == 80
        assert log.acknowledged == 100
        assert list((tmp_path / "spill").iterdir()) == []
        with pytest.raises(ClientError, match="record 0, field 'prediction'") as err:
            client.log_predictions("credit", "scorer@1", [{**record(200), "prediction": None}])
        assert err.value.status == 422
        answer = client.log_labels("credit", "scorer@1", [{"prediction_id": "p7", "label": 1}])
        assert answer["accepted"] == 1
    assert len(stored(server)) == 100


def test_client_resends_a_spilled_batch_with_its_key(
    server: LiveServer, token: str, tmp_path: Path
) -> None:
    spill = tmp_path / "spill"
    down = "http://127.0.0.1:9"  # the discard port: nothing listens
    unreachable = Client(down, token=token, spill_dir=spill, max_attempts=2, backoff=0.01)
    with unreachable, pytest.raises(ClientError, match="not acknowledged after 2 attempts"):
        unreachable.log_predictions("credit", "scorer@1", [record(1)], key="spilled-1")
    assert [p.name for p in spill.iterdir()] == ["spilled-1.batch"]
    with Client(server.url, token=token, spill_dir=spill) as client:
        client.log_predictions("credit", "scorer@1", [record(1)], key="spilled-1")  # got through
        answers = client.resend_spilled()  # the file was removed on the acknowledgement
        assert answers == [] and list(spill.iterdir()) == []
    unreachable = Client(down, token=token, spill_dir=spill, max_attempts=1)
    with unreachable, pytest.raises(ClientError):
        unreachable.log_predictions("credit", "scorer@1", [record(2)], key="spilled-2")
    with Client(server.url, token=token, spill_dir=spill) as client:
        assert [a["accepted"] for a in client.resend_spilled()] == [1]
    assert sorted(stored(server)) == ["p1", "p2"]
