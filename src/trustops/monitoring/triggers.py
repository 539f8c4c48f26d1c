"""Retraining triggers: run a command or call a webhook with the breach as JSON.

A trigger fires for an alert whose check matches its ``on`` list (check
kinds such as ``fairness``, or whole keys; empty: every alert). It receives
the alert payload — ``monitor``, ``model``, ``window``, ``breach`` and the
``evidence`` record of the window (its id is what the retrained version's
lineage points at, :func:`trustops.monitoring.store.link_retraining`):

- a **command** is an argument list run without a shell, the payload on its
  standard input; exit status 0 is success; it is stopped after ``timeout``
  seconds. ``TRUSTOPS_TRIGGER_EVIDENCE`` in its environment holds the
  evidence id too.
- a **webhook** gets the payload in a JSON ``POST``; 2xx is success.

The outcome (``succeeded``/``failed``, exit status or HTTP status, the
tail of the output) is returned for the audit log, never raised.

Example:
    >>> import sys
    >>> from trustops.monitoring.config import TriggerSpec
    >>> spec = TriggerSpec("echo", command=(sys.executable, "-c",
    ...     "import json, sys; print(json.load(sys.stdin)['model'])"))
    >>> fire(spec, {"model": "credit/scorer@1", "evidence": {"id": 7}})
    ('succeeded', 'exit 0: credit/scorer@1')
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from typing import Any

from trustops.monitoring.channels import post_json
from trustops.monitoring.config import TriggerSpec

__all__ = ["fire"]

_TAIL = 500


def _tail(text: bytes) -> str:
    out = text.decode("utf-8", "replace").strip()
    return out[-_TAIL:]


def fire(trigger: TriggerSpec, payload: Mapping[str, Any]) -> tuple[str, str]:
    """Run the trigger once; ``(status, detail)`` with status ``succeeded`` or ``failed``."""
    body = json.dumps(payload, sort_keys=True, default=str).encode("utf-8")
    if trigger.webhook is not None:
        try:
            code = post_json(trigger.webhook, payload, timeout=min(trigger.timeout, 60.0))
        except Exception as exc:  # a receiver's failure is an outcome to record
            return "failed", f"{type(exc).__name__}: {exc}"
        return "succeeded", f"HTTP {code}"
    env = dict(os.environ)
    evidence = payload.get("evidence") or {}
    env["TRUSTOPS_TRIGGER_EVIDENCE"] = str(evidence.get("id", ""))
    try:
        done = subprocess.run(
            list(trigger.command),
            input=body,
            capture_output=True,
            timeout=trigger.timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "failed", f"timed out after {trigger.timeout:g} s"
    except OSError as exc:
        return "failed", f"cannot run {trigger.command[0]!r}: {exc.strerror or exc}"
    output = _tail(done.stdout if done.returncode == 0 else done.stderr or done.stdout)
    status = "succeeded" if done.returncode == 0 else "failed"
    return status, f"exit {done.returncode}: {output}" if output else f"exit {done.returncode}"
