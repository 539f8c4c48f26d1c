"""Alert channels: a generic JSON webhook, a Slack-compatible webhook, e-mail over SMTP.

:func:`deliver` tries a channel up to ``attempts`` times, waiting
``backoff · 2^(i−1)`` seconds after the i-th failure (1 s, 2 s, 4 s, ... by
default), and returns the outcome instead of raising: a receiver that is
down costs retries and a recorded failure, never a crash or a lost alert.

What each channel receives:

- ``webhook``: ``POST`` of the alert payload as JSON (monitor, model,
  window, breach, evidence); any 2xx answer is a delivery.
- ``slack``: ``POST`` of ``{"text": ...}``, the one-line summary (Slack's
  incoming webhooks and compatible receivers: Mattermost, Rocket.Chat).
- ``email``: a plain-text message (the summary as subject, the payload as
  indented JSON) through the SMTP server, with STARTTLS if asked.

Example:
    >>> text = summary({"monitor": "m", "model": "credit/scorer@1", "window": {"index": 3,
    ...     "start": "2026-01-04T00:00:00.000000Z"}, "breach": {"key": "fairness:x[race]",
    ...     "value": 0.71, "op": ">=", "threshold": 0.8, "reason": "interval"}})
    >>> text.split(" in window")[0]
    'trustops alert: credit/scorer@1 fairness:x[race] = 0.710 breaks >= 0.8 (interval)'
"""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from trustops.monitoring.config import ChannelSpec

__all__ = ["Delivery", "deliver", "post_json", "send", "summary"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """A channel's outcome: ``sent`` or ``failed``, after how many attempts, and why."""

    channel: str
    type: str
    status: str
    attempts: int
    error: str | None = None


def summary(payload: Mapping[str, Any]) -> str:
    """The alert in one line (Slack text, e-mail subject)."""
    b, w = payload["breach"], payload["window"]
    value = "no value" if b.get("value") is None else f"{b['value']:.3f}"
    verb = "breaks" if b.get("action", "send") != "resolve" else "is back within"
    where = f"window {w['index']}" + (f" from {w['start']}" if w.get("start") else "")
    reason = f" ({b['reason']})" if b.get("reason") else ""
    return (
        f"trustops alert: {payload['model']} {b['key']} = {value} {verb} {b['op']} "
        f"{b['threshold']}{reason} in {where} [monitor {payload['monitor']}]"
    )


def post_json(url: str, body: Any, *, timeout: float) -> int:
    """POST ``body`` as JSON; the HTTP status, or an exception for a failure or a non-2xx."""
    data = json.dumps(body, sort_keys=True, default=str).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "trustops-monitor"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        status = int(response.status)
    if not 200 <= status < 300:
        raise OSError(f"HTTP {status}")
    return status


def _email(channel: ChannelSpec, payload: Mapping[str, Any]) -> None:
    message = EmailMessage()
    message["Subject"] = summary(payload)
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message.set_content(json.dumps(payload, indent=2, sort_keys=True, default=str))
    assert channel.host is not None
    with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout) as smtp:
        if channel.starttls:
            smtp.starttls()
        smtp.send_message(message)


def send(channel: ChannelSpec, payload: Mapping[str, Any]) -> None:
    """Send once; raises on failure."""
    if channel.type == "email":
        _email(channel, payload)
        return
    assert channel.url is not None
    body: Any = {"text": summary(payload)} if channel.type == "slack" else payload
    post_json(channel.url, body, timeout=channel.timeout)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"unreachable: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


def deliver(
    channel: ChannelSpec,
    payload: Mapping[str, Any],
    *,
    attempts: int,
    backoff: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send with retries and exponential back-off; the outcome, never an exception."""
    error = None
    for attempt in range(1, attempts + 1):
        try:
            send(channel, payload)
            return Delivery(channel.name, channel.type, "sent", attempt)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            error = _reason(exc)
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    return Delivery(channel.name, channel.type, "failed", attempts, error)
