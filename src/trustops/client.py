"""A client for a trustops server's prediction log: batches, retries, no acknowledged loss.

:class:`Client` sends one batch per call and returns only once the server
has acknowledged it (a 2xx): then, and only then, its records are stored.
Each batch gets one ``Idempotency-Key`` that every retry reuses, so a batch
whose answer was lost (a timeout, a dropped connection, a server killed
after its commit) is stored once however often it is sent. Retried, with
exponential back-off and jitter: connection errors and timeouts, 5xx, 429
and the 409 of a key still being stored (the server marks it with
``Retry-After``). Not retried: any other 4xx, which no retry can fix
(:class:`ClientError` says why).

With ``spill_dir``, a batch is written to a file there before it is first
sent and removed once acknowledged, so a batch that a crashed client never
saw acknowledged is sent again, with its key, by :meth:`Client.resend_spilled`.

:class:`PredictionLogger` collects records one at a time and sends them in
batches of ``batch_size``.

Needs ``httpx`` (``pip install 'trustops[client]'``), imported when a client is made.

Example (a server at ``url`` and a token whose user logs predictions in
system ``credit``)::

    from trustops.client import Client, PredictionLogger

    with Client(url, token=token) as client:
        client.log_predictions("credit", "scorer@1", [
            {"prediction_id": "a-1", "timestamp": "2026-11-27T10:00:00Z",
             "prediction": 1, "score": 0.82, "features": {"income": 52000},
             "sensitive": {"sex": "F"}},
        ])
        with PredictionLogger(client, "credit", "scorer@1") as log:
            for record in records:
                log.log(record)          # sent in batches of 1,000
        client.log_labels("credit", "scorer@1", [{"prediction_id": "a-1", "label": 0}])
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from trustops.errors import TrustOpsError, UnsupportedError

__all__ = ["Client", "ClientError", "PredictionLogger"]

_JSON = "application/json"
_ARROW = "application/vnd.apache.arrow.stream"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_SPILL_SUFFIX = ".batch"


class ClientError(TrustOpsError):
    """The server refused a batch for a reason no retry fixes, or never acknowledged it.

    ``status`` is the server's HTTP status (0 when no answer came).
    """

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class Client:
    """Send prediction and label batches to the server at ``url``.

    Args:
        url: the server, e.g. ``http://127.0.0.1:8000``.
        token: an API token (sent as ``Authorization: Bearer``).
        timeout: seconds to wait for one answer.
        max_attempts: sends of one batch before giving up (:class:`ClientError`).
        backoff: the first retry's greatest delay, in seconds; doubled per retry
            up to ``max_backoff`` (a random delay up to it: "full jitter").
        spill_dir: where unacknowledged batches wait (optional).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        max_attempts: int = 10,
        backoff: float = 0.2,
        max_backoff: float = 10.0,
        spill_dir: str | os.PathLike[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        try:
            import httpx
        except ImportError:
            raise UnsupportedError(
                "trustops.client needs httpx", hint="pip install 'trustops[client]'"
            ) from None

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)
        self._transient = (httpx.TransportError,)
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.spill_dir = Path(spill_dir) if spill_dir is not None else None
        if self.spill_dir is not None:
            self.spill_dir.mkdir(parents=True, exist_ok=True)
        self._sleep = sleep
        self.retries = 0  # how many times a batch was sent again, over the client's life

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- batches -------------------------------------------------------------------

    def log_predictions(
        self,
        system: str,
        model: str,
        records: Sequence[Mapping[str, Any]] | Any,
        *,
        key: str | None = None,
        sensitive: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Store a batch (records, or an Arrow table with ``sensitive`` columns named).

        Returns the server's acknowledgement (``accepted``, ``audit_seq`` ...).
        """
        body, media_type = _encode(records)
        return self._send(
            "predictions", system, model, body, media_type, key or _new_key(), list(sensitive)
        )

    def log_labels(
        self,
        system: str,
        model: str,
        labels: Sequence[Mapping[str, Any]] | Any,
        *,
        key: str | None = None,
    ) -> dict[str, Any]:
        """Store ground-truth labels: ``[{"prediction_id": ..., "label": ...}, ...]``."""
        body, media_type = _encode(labels)
        return self._send("labels", system, model, body, media_type, key or _new_key(), [])

    def resend_spilled(self) -> list[dict[str, Any]]:
        """Send again every batch spilled but never acknowledged (each with its own key)."""
        if self.spill_dir is None:
            return []
        answers = []
        for path in sorted(self.spill_dir.glob(f"*{_SPILL_SUFFIX}")):
            head, _, body = path.read_bytes().partition(b"\n")
            meta = json.loads(head)
            answers.append(
                self._send(
                    meta["kind"],
                    meta["system"],
                    meta["model"],
                    body,
                    meta["media_type"],
                    meta["key"],
                    meta["sensitive"],
                    spilled=path,
                )
            )
        return answers

    def _send(
        self,
        kind: str,
        system: str,
        model: str,
        body: bytes,
        media_type: str,
        key: str,
        sensitive: list[str],
        *,
        spilled: Path | None = None,
    ) -> dict[str, Any]:
        if spilled is None and self.spill_dir is not None:
            spilled = self._spill(kind, system, model, body, media_type, key, sensitive)
        path = f"/api/v1/systems/{quote(system, safe='')}/models/{quote(model, safe='@')}/{kind}"
        headers = {"Content-Type": media_type, "Idempotency-Key": key}
        params = {"sensitive": sensitive} if sensitive else None
        problem = "no answer"
        for attempt in range(self.max_attempts):
            if attempt:
                self.retries += 1
            try:
                response = self._http.post(path, content=body, headers=headers, params=params)
            except self._transient as exc:
                problem = f"{type(exc).__name__}: {exc}"
                self._sleep(self._delay(attempt, None))
                continue
            if 200 <= response.status_code < 300:
                if spilled is not None:
                    spilled.unlink(missing_ok=True)
                return dict(response.json())
            retry_after = response.headers.get("Retry-After")
            if response.status_code in _RETRY_STATUSES or (
                response.status_code == 409 and retry_after is not None
            ):
                problem = f"HTTP {response.status_code}"
                self._sleep(self._delay(attempt, retry_after))
                continue
            detail, hint = _detail(response)
            raise ClientError(detail, status=response.status_code, hint=hint)
        raise ClientError(
            f"the {kind} batch with Idempotency-Key {key} was not acknowledged after "
            f"{self.max_attempts} attempts ({problem})",
            status=0,
            hint="send it again with the same key"
            + (" (it waits in the spill folder)" if spilled is not None else ""),
        )

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        cap = min(self.max_backoff, self.backoff * 2**attempt)
        delay = random.uniform(0, cap)
        if retry_after is not None:
            with contextlib.suppress(ValueError):  # an HTTP date: the back-off stands
                delay = max(delay, min(float(retry_after), self.max_backoff))
        return delay

    def _spill(
        self,
        kind: str,
        system: str,
        model: str,
        body: bytes,
        media_type: str,
        key: str,
        sensitive: list[str],
    ) -> Path:
        assert self.spill_dir is not None
        meta = {"kind": kind, "system": system, "model": model, "media_type": media_type,
                "key": key, "sensitive": sensitive}  # fmt: skip
        path = self.spill_dir / f"{key}{_SPILL_SUFFIX}"
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as f:
            f.write(json.dumps(meta).encode() + b"\n" + body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
        return path


class PredictionLogger:
    """Collect records one at a time; send them in batches of ``batch_size``.

    ``acknowledged`` counts the records the server has acknowledged. Records
    not yet sent are sent by :meth:`flush` and when the ``with`` block ends.
    """

    def __init__(self, client: Client, system: str, model: str, *, batch_size: int = 1000) -> None:
        self.client = client
        self.system = system
        self.model = model
        self.batch_size = batch_size
        self.acknowledged = 0
        self._pending: list[Mapping[str, Any]] = []

    def log(self, record: Mapping[str, Any]) -> None:
        """Add one record (sent when the batch is full)."""
        self._pending.append(record)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def log_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            self.log(record)

    def flush(self) -> None:
        """Send what is collected (raises :class:`ClientError` if it cannot be acknowledged)."""
        if not self._pending:
            return
        batch = self._pending
        answer = self.client.log_predictions(self.system, self.model, batch)
        self._pending = []
        self.acknowledged += int(answer.get("accepted", len(batch)))

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.flush()


def _new_key() -> str:
    return str(uuid.uuid4())


def _encode(data: Any) -> tuple[bytes, str]:
    if isinstance(data, bytes | bytearray):
        return bytes(data), _JSON
    if type(data).__module__.startswith("pyarrow"):
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, data.schema) as writer:
            writer.write_table(data)
        return bytes(sink.getvalue().to_pybytes()), _ARROW
    return json.dumps(list(data), separators=(",", ":")).encode(), _JSON


def _detail(response: Any) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}", None
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, str):
        detail = json.dumps(detail)[:500]
    return f"HTTP {response.status_code}: {detail}", body.get("hint")
