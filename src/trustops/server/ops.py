"""Operations: JSON request logs without secrets, Prometheus metrics, a streamed body limit.

One ASGI middleware, :class:`Operations`, wraps the application:

- it gives each request an id (``X-Request-ID`` in the response);
- it counts the request body as it streams and refuses more than
  ``max_body_bytes`` with 413 (a ``Content-Length`` over the limit is refused
  at the first read, so nothing is buffered); the body is read only after the
  route's guard, so an anonymous caller gets 401 whatever the body's size;
- it logs one JSON line per request on the ``trustops.server`` logger:
  time, level, request id, method, the route's template (``/api/v1/systems/
  {system}``, never the raw path or query string, which could hold anything
  a client typed), status, duration and the authenticated user. Headers,
  bodies and credentials are never logged;
- it keeps Prometheus counters and a latency histogram per route template
  and status (:class:`Metrics`, served as text format 0.0.4 at ``/metrics``).

Example:
    >>> m = Metrics()
    >>> m.observe("GET", "/healthz", 200, 0.003)
    >>> 'trustops_http_requests_total{method="GET",route="/healthz",status="200"} 1' in m.render()
    True
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_MAX_BODY_BYTES", "JSONFormatter", "Metrics", "Operations", "configure_logging"]

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
"""The largest request body accepted by default (64 MiB); ``trustops serve --max-body``."""

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
log = logging.getLogger("trustops.server")


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__  # the type only: messages may hold data
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "info") -> None:
    """Send the server's logs (and uvicorn's own, minus its access log) to stderr as JSON."""
    handler = logging.StreamHandler()
    handler.setFormatter(JSONFormatter())
    for name in ("trustops.server", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False


class Metrics:
    """Request counters and a latency histogram per (method, route template, status)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count: dict[tuple[str, str, int], int] = defaultdict(int)
        self._buckets: dict[tuple[str, str], list[int]] = {}
        self._sum: dict[tuple[str, str], float] = defaultdict(float)
        self._total: dict[tuple[str, str], int] = defaultdict(int)
        self.started = time.time()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._count[(method, route, status)] += 1
            key = (method, route)
            counts = self._buckets.setdefault(key, [0] * len(_BUCKETS))
            index = bisect.bisect_left(_BUCKETS, seconds)
            if index < len(counts):
                counts[index] += 1
            self._sum[key] += seconds
            self._total[key] += 1

    def render(self) -> str:
        """The metrics in Prometheus text format 0.0.4."""
        lines = [
            "# HELP trustops_http_requests_total HTTP requests by method, route and status.",
            "# TYPE trustops_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self._count.items()):
                lines.append(
                    f'trustops_http_requests_total{{method="{method}",route="{_label(route)}",'
                    f'status="{status}"}} {n}'
                )
            lines += [
                "# HELP trustops_http_request_duration_seconds Request latency.",
                "# TYPE trustops_http_request_duration_seconds histogram",
            ]
            for (method, route), counts in sorted(self._buckets.items()):
                labels = f'method="{method}",route="{_label(route)}"'
                running = 0
                for bound, n in zip(_BUCKETS, counts, strict=True):
                    running += n
                    lines.append(
                        f'trustops_http_request_duration_seconds_bucket{{{labels},le="{bound}"}} '
                        f"{running}"
                    )
                total = self._total[(method, route)]
                lines.append(
                    f'trustops_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {total}'
                )
                lines.append(
                    f"trustops_http_request_duration_seconds_sum{{{labels}}} "
                    f"{self._sum[(method, route)]:.6f}"
                )
                lines.append(f"trustops_http_request_duration_seconds_count{{{labels}}} {total}")
        lines += [
            "# HELP trustops_process_start_time_seconds When the server started (Unix time).",
            "# TYPE trustops_process_start_time_seconds gauge",
            f"trustops_process_start_time_seconds {self.started:.3f}",
        ]
        return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Operations:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        limit = self.max_body_bytes
        declared = _content_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise HTTPException(413, f"the request body is larger than {limit} bytes")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"the request body is larger than {limit} bytes")
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            template = state.get("route") or "(unmatched)"
            method = scope.get("method", "")
            self.metrics.observe(method, template, status, elapsed)
            user = state.get("user")
            log.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": method,
                        "route": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                        "user": user,
                    }
                },
            )


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
