"""Prediction logging against the store (SQLite file and PostgreSQL): validation, idempotency,
labels, the window reader."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from trustops.errors import InputError, UsageError
from trustops.governance import Registry
from trustops.governance import schema as t
from trustops.monitoring import ingest
from trustops.monitoring.ingest import (
    DuplicateRecordError,
    IdempotencyError,
    InFlightError,
    Ingestion,
)
from trustops.monitoring.records import ARROW, NDJSON, PARQUET, RecordError, sensitive_columns


def record(i: int, **changes: Any) -> dict[str, Any]:
    base = {
        "prediction_id": f"p{i}",
        "timestamp": f"2026-11-27T10:{i % 60:02d}:00Z",
        "prediction": i % 2,
        "score": 0.5,
        "features": {"income": 1000 * i, "region": "north" if i % 3 else "south"},
        "sensitive": {"sex": "F" if i % 2 else "M"},
    }
    return {**base, **changes}


@pytest.fixture
def log(registry: Registry) -> Ingestion:
    registry.create_system("credit")
    registry.register_model(b"weights", system="credit", name="scorer")
    return Ingestion(registry)


def count(registry: Registry, table: sa.Table) -> int:
    with registry.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def audit_actions(registry: Registry) -> list[str]:
    return [e.action for e in registry.audit.entries()]


def test_a_batch_is_stored_once_with_one_audit_entry(log: Ingestion, registry: Registry) -> None:
    response = log.log_predictions("scorer@1", [record(i) for i in range(50)], key="k1")
    assert response.status == 201 and not response.replayed
    assert response.body["accepted"] == 50
    assert response.body["model"] == "credit/scorer@1"
    assert count(registry, t.predictions) == 50
    assert count(registry, t.prediction_batches) == 1
    assert audit_actions(registry).count("predictions.logged") == 1
    assert registry.audit.verify().ok


def test_same_key_and_body_gives_one_copy_and_the_same_response(
    log: Ingestion, registry: Registry
) -> None:
    records = [record(i) for i in range(10)]
    first = log.log_predictions("scorer@1", records, key="k1")
    again = log.log_predictions("scorer@1", records, key="k1")
    assert again.replayed and again.body == first.body and again.status == first.status
    assert count(registry, t.predictions) == 10
    assert audit_actions(registry).count("predictions.logged") == 1


def test_same_key_with_another_body_is_refused(log: Ingestion, registry: Registry) -> None:
    log.log_predictions("scorer@1", [record(1)], key="k1")
    with pytest.raises(IdempotencyError) as err:
        log.log_predictions("scorer@1", [record(2)], key="k1")
    assert err.value.status == 422
    with pytest.raises(IdempotencyError):  # the same body for another model is another request
        registry.register_model(b"weights 2", system="credit", name="scorer")
        log.log_predictions("scorer@2", [record(1)], key="k1")
    assert count(registry, t.predictions) == 1


def test_keys_belong_to_their_principal(log: Ingestion, open_registry: Any) -> None:
    log.log_predictions("scorer@1", [record(1)], key="k1")
    bob = Ingestion(open_registry(actor="bob"))
    with pytest.raises(DuplicateRecordError):  # bob's "k1" is a new request; the id is taken
        bob.log_predictions("scorer@1", [record(1)], key="k1")
    assert bob.log_predictions("scorer@1", [record(2)], key="k1").body["accepted"] == 1


def test_a_key_in_flight_gets_409(log: Ingestion, registry: Registry) -> None:
    with log._claim("k1"), pytest.raises(InFlightError) as err:
        log.log_predictions("scorer@1", [record(1)], key="k1")
    assert err.value.status == 409
    assert count(registry, t.predictions) == 0
    assert log.log_predictions("scorer@1", [record(1)], key="k1").body["accepted"] == 1


def test_concurrent_replays_store_one_copy(log: Ingestion, registry: Registry) -> None:
    records = [record(i) for i in range(200)]
    outcomes: list[Any] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        try:
            outcomes.append(log.log_predictions("scorer@1", records, key="same"))
        except InFlightError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(outcomes) == 8 and answers
    assert len({json.dumps(a.body, sort_keys=True) for a in answers}) == 1
    assert sum(not a.replayed for a in answers) <= 1
    assert count(registry, t.predictions) == 200
    assert audit_actions(registry).count("predictions.logged") == 1
    final = log.log_predictions("scorer@1", records, key="same")
    assert final.replayed and final.body == answers[0].body


def test_a_prediction_id_is_unique_per_model_version(log: Ingestion, registry: Registry) -> None:
    log.log_predictions("scorer@1", [record(1), record(2)], key="k1")
    with pytest.raises(DuplicateRecordError, match=r"record 1: prediction id 'p2'"):
        log.log_predictions("scorer@1", [record(3), record(2)], key="k2")
    registry.register_model(b"weights 2", system="credit", name="scorer")
    assert log.log_predictions("scorer@2", [record(2)], key="k3").body["accepted"] == 1
    assert count(registry, t.predictions) == 3
    assert count(registry, t.ingest_requests) == 2  # the refused batch left nothing


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"prediction_id": ""}, "prediction_id", "1 to 200"),
        ({"prediction_id": 7}, "prediction_id", "string"),
        ({"prediction_id": "p0"}, "prediction_id", "repeats record 0"),
        ({"timestamp": "yesterday"}, "timestamp", "not an ISO-8601"),
        ({"timestamp": "2026-11-27T10:00:00"}, "timestamp", "no UTC offset"),
        ({"timestamp": None}, "timestamp", "ISO-8601"),
        ({"prediction": None}, "prediction", "number, string or boolean"),
        ({"prediction": [1]}, "prediction", "number, string or boolean"),
        ({"score": "high"}, "score", "finite number"),
        ({"score": float("inf")}, "score", "finite number"),
        ({"features": [1, 2]}, "features", "object"),
        ({"features": {"income": {"a": 1}}}, "features.income", "number, string"),
        ({"features": {"income": "lots"}}, "features.income", "string where earlier"),
        ({"features": {"prediction": 1}}, "features", "reserved"),
        ({"sensitive": {"income": 1}}, "sensitive.income", "both a feature and a sensitive"),
        ({"sensitive_ref": 12}, "sensitive_ref", "string"),
        ({"featurs": {}}, "featurs", "not a field"),
    ],
)
def test_bad_records_name_the_record_and_field(
    log: Ingestion, registry: Registry, change: dict[str, Any], field: str, message: str
) -> None:
    records = [record(0), record(1), record(2, **change)]
    with pytest.raises(RecordError, match=message) as err:
        log.log_predictions("scorer@1", records, key="k1")
    assert (err.value.index, err.value.field) == (2, field)
    assert str(err.value).startswith(f"record 2, field {field!r}")
    assert count(registry, t.ingest_requests) == 0
    assert "predictions.logged" not in audit_actions(registry)


@pytest.mark.parametrize(
    ("body", "media_type", "message"),
    [
        (b"{not json", "application/json", "not JSON"),
        (b'{"rows": []}', "application/json", "JSON array of records"),
        (b"[]", "application/json", "no records"),
        (b'{"prediction_id": "a"}\n{oops\n', NDJSON, "line 2 is not JSON"),
        (b"not arrow", ARROW, "not an Arrow IPC stream"),
        (b"not parquet", PARQUET, "not a Parquet file"),
    ],
)
def test_bad_bodies_are_refused(log: Ingestion, body: bytes, media_type: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        log.log_predictions("scorer@1", body, key="k1", media_type=media_type)


def test_a_missing_key_or_media_type_is_a_usage_error(log: Ingestion) -> None:
    with pytest.raises(UsageError, match="Idempotency-Key is required"):
        log.log_predictions("scorer@1", [record(1)], key="")
    with pytest.raises(UsageError, match="unsupported media type"):
        log.log_predictions("scorer@1", b"a,b", key="k", media_type="text/csv")


def test_json_ndjson_arrow_and_parquet_give_the_same_table(log: Ingestion) -> None:
    records = [record(i) for i in range(6)]
    as_object = json.dumps({"predictions": records[:2]}).encode()
    log.log_predictions("scorer@1", as_object, key="a")
    ndjson = "\n".join(json.dumps(r) for r in records[2:4]).encode()
    log.log_predictions("scorer@1", ndjson, key="b", media_type=NDJSON + "; charset=utf-8")
    flat = pa.table(
        {
            "prediction_id": [r["prediction_id"] for r in records[4:]],
            "timestamp": pa.array([r["timestamp"] for r in records[4:]], pa.string()).cast(
                pa.timestamp("s", "UTC")
            ),
            "prediction": [r["prediction"] for r in records[4:]],
            "score": [r["score"] for r in records[4:]],
            "income": [r["features"]["income"] for r in records[4:]],
            "region": [r["features"]["region"] for r in records[4:]],
            "sex": [r["sensitive"]["sex"] for r in records[4:]],
        }
    )
    sink = io.BytesIO()
    pq.write_table(flat.slice(1), sink)
    log.log_predictions("scorer@1", flat.slice(0, 1), key="c", sensitive=["sex"])
    log.log_predictions("scorer@1", sink.getvalue(), key="d", media_type=PARQUET, sensitive=["sex"])
    table = log.predictions("scorer@1")
    assert table.column("prediction_id").to_pylist() == [f"p{i}" for i in range(6)]
    assert table.column("income").to_pylist() == [1000 * i for i in range(6)]
    assert table.column("sex").to_pylist() == [r["sensitive"]["sex"] for r in records]
    assert sensitive_columns(table) == ["sex"]
    assert table.schema.field("timestamp").type == pa.timestamp("us", "UTC")
    assert table.column("label").null_count == 6


def test_labels_are_joined_by_prediction_id(log: Ingestion, registry: Registry) -> None:
    log.log_predictions("scorer@1", [record(i) for i in range(4)], key="k1")
    labels = [
        {"prediction_id": "p2", "label": 1},
        {"prediction_id": "p0", "label": 0, "timestamp": "2026-12-01T00:00:00+01:00"},
    ]
    response = log.log_labels("scorer@1", labels, key="l1")
    assert response.body["accepted"] == 2
    assert log.log_labels("scorer@1", labels, key="l1").replayed
    assert log.predictions("scorer@1").column("label").to_pylist() == [0, None, 1, None]
    with pytest.raises(DuplicateRecordError, match=r"record 0: prediction 'p2'.*already has"):
        log.log_labels("scorer@1", [{"prediction_id": "p2", "label": 0}], key="l2")
    with pytest.raises(RecordError, match=r"record 1, field 'prediction_id'.*not logged"):
        unknown = [{"prediction_id": "p3", "label": 0}, {"prediction_id": "nope", "label": 0}]
        log.log_labels("scorer@1", unknown, key="l3")
    with pytest.raises(RecordError, match="record 0, field 'label'"):
        log.log_labels("scorer@1", [{"prediction_id": "p3"}], key="l4")
    assert count(registry, t.labels) == 2
    with registry.db.read() as conn:
        times = dict(conn.execute(sa.select(t.labels.c.label, t.labels.c.time)).all())
    assert times["0"] == "2026-11-30T23:00:00.000000Z"
    assert audit_actions(registry).count("labels.logged") == 1


def test_window_reader_selects_by_prediction_time_and_arrival(log: Ingestion) -> None:
    log.log_predictions("scorer@1", [record(i) for i in range(0, 30)], key="k1")
    later = log.predictions("scorer@1").column("received_at")[0].as_py()
    log.log_predictions("scorer@1", [record(i) for i in range(30, 40)], key="k2")
    window = log.predictions("scorer@1", start="2026-11-27T10:10:00Z", end="2026-11-27T10:35:00Z")
    assert window.column("prediction_id").to_pylist() == [f"p{i}" for i in range(10, 35)]
    before = log.predictions("scorer@1", start="2026-11-27T10:10:00Z", received_before=later)
    assert before.num_rows == 0
    empty = log.predictions("scorer@1", start="2027-01-01T00:00:00Z")
    assert empty.num_rows == 0 and "label" in empty.column_names
    with pytest.raises(UsageError, match="start"):
        log.predictions("scorer@1", start="soon")


def test_a_feature_with_two_types_across_batches_is_named(log: Ingestion) -> None:
    log.log_predictions("scorer@1", [record(1)], key="k1")
    log.log_predictions(
        "scorer@1", [record(2, features={"income": "high", "region": "x"})], key="k2"
    )
    with pytest.raises(InputError, match="column 'income'"):
        log.predictions("scorer@1")


def test_in_flight_claims_are_released_after_errors(log: Ingestion) -> None:
    with pytest.raises(RecordError):
        log.log_predictions("scorer@1", [record(1, prediction=None)], key="k1")
    assert not ingest._in_flight


def test_records_naming_different_features_leave_nulls() -> None:
    from trustops.monitoring.records import JSON, predictions_table

    same = [record(0), record(1, features={"region": "x", "income": 5})]  # another key order
    table = predictions_table(json.dumps(same).encode(), JSON)
    assert table.column("income").to_pylist() == [0, 5]
    mixed = [record(0), record(1, features={"income": 5, "age": 40})]
    table = predictions_table(json.dumps(mixed).encode(), JSON)
    assert table.column_names[5:] == ["income", "region", "sex", "age"]
    assert table.column("region").to_pylist() == ["south", None]
    assert table.column("age").to_pylist() == [None, 40]


@pytest.mark.parametrize("media_type", [ARROW, PARQUET])
@pytest.mark.parametrize("limit", ["MAX_UPLOAD_ROWS", "MAX_UPLOAD_BYTES"])
def test_an_upload_past_the_limits_is_refused_before_decoding(
    log: Ingestion, monkeypatch: pytest.MonkeyPatch, media_type: str, limit: str
) -> None:
    from trustops.monitoring import records

    rows = 5_000  # one value repeated: a few hundred bytes compressed, 40 KB decoded
    table = pa.table(
        {
            "prediction_id": [f"p{i}" for i in range(rows)],
            "timestamp": pa.array([1_800_000_000_000_000] * rows, pa.timestamp("us", "UTC")),
            "prediction": [1] * rows,
            "income": [7] * rows,
        }
    )
    sink = io.BytesIO()
    if media_type == PARQUET:
        pq.write_table(table, sink, compression="zstd")
    else:
        options = pa.ipc.IpcWriteOptions(compression="zstd")
        with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
            writer.write_table(table, max_chunksize=1000)
    monkeypatch.setattr(records, limit, 4_000 if limit == "MAX_UPLOAD_ROWS" else 20_000)
    with pytest.raises(InputError, match=r"more than .* once decoded"):
        log.log_predictions("scorer@1", sink.getvalue(), key="k", media_type=media_type)
    monkeypatch.undo()
    answer = log.log_predictions("scorer@1", sink.getvalue(), key="k", media_type=media_type)
    assert answer.body["accepted"] == rows


def test_batches_waiting_together_share_one_transaction_and_fail_alone(
    log: Ingestion, registry: Registry
) -> None:
    import time

    from trustops.monitoring.ingest import IngestResponse

    log.log_predictions("scorer@1", [record(900)], key="earlier")
    gate, entered = threading.Event(), threading.Event()

    def hold(change: Any) -> IngestResponse:  # a writer that keeps the transaction a while
        entered.set()
        gate.wait(30)
        return IngestResponse(201, {}, replayed=False)

    writer = threading.Thread(target=ingest._stored_together, args=(registry, "hold", hold))
    writer.start()
    assert entered.wait(30)
    results: dict[int, Any] = {}

    def send(n: int) -> None:
        # Registries of one store share its audit log, as the server's do; one per user.
        mine = Registry(registry.db, registry.artifacts, actor=f"user{n}", audit=registry.audit)
        batch = [record(10 * n + i) for i in range(3)] + ([record(900)] if n == 5 else [])
        try:
            results[n] = Ingestion(mine).log_predictions("scorer@1", batch, key=f"k{n}")
        except DuplicateRecordError as exc:
            results[n] = exc

    senders = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for sender in senders:
        sender.start()
    group = ingest._groups[registry.audit]
    deadline = time.monotonic() + 30
    while len(group.waiting) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(group.waiting) == 6  # all queued behind the writer: the next writes them at once
    gate.set()
    writer.join(30)
    for sender in senders:
        sender.join(30)
    assert isinstance(results[5], DuplicateRecordError)
    assert all(results[n].body["accepted"] == 3 for n in range(5))
    logged = [e for e in registry.audit.entries() if e.action == "predictions.logged"]
    assert sorted(e.actor for e in logged) == ["alice"] + [f"user{n}" for n in range(5)]
    assert count(registry, t.predictions) == 1 + 15
    assert registry.audit.verify().ok
    assert not group.busy and not group.waiting
