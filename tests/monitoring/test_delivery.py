"""Alert delivery to local receivers (webhook, Slack-compatible, SMTP), retries with back-off,
a receiver that is down, and retraining triggers (a command and a webhook)."""

from __future__ import annotations

import json
import sys
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from tests.monitoring.receivers import closed_port, http_receiver, smtp_receiver
from trustops.cli.demo_monitoring import DAY, START, degrading_log
from trustops.governance import Registry
from trustops.monitoring.channels import deliver
from trustops.monitoring.config import ChannelSpec, TriggerSpec, build_config
from trustops.monitoring.runner import run_monitor
from trustops.monitoring.store import alert_history, create_monitor
from trustops.monitoring.triggers import fire

PAYLOAD = {
    "monitor": "daily",
    "model": "credit/scorer@1",
    "window": {"index": 3, "start": "2026-11-04T00:00:00.000000Z"},
    "breach": {"key": "fairness:selection_rate.ratio[race]", "value": 0.7, "low": 0.62,
               "high": 0.77, "op": ">=", "threshold": 0.8, "reason": "interval"},
    "evidence": {"id": 12, "kind": "monitoring_window", "content_hash": "ab"},
}  # fmt: skip


def no_sleep(waits: list[float]) -> Any:
    return waits.append


def test_webhook_gets_the_payload_as_json() -> None:
    with http_receiver() as hook:
        outcome = deliver(ChannelSpec("webhook", "hook", url=hook.url), PAYLOAD, attempts=3,
                          backoff=1.0, sleep=no_sleep([]))  # fmt: skip
    assert (outcome.status, outcome.attempts) == ("sent", 1)
    assert hook.received == [PAYLOAD]


def test_slack_gets_a_text_summary() -> None:
    with http_receiver() as hook:
        deliver(ChannelSpec("slack", "chat", url=hook.url), PAYLOAD, attempts=1, backoff=0)
    (body,) = hook.received
    assert list(body) == ["text"]
    assert "fairness:selection_rate.ratio[race] = 0.700 breaks >= 0.8 (interval)" in body["text"]


def test_email_reaches_the_smtp_server() -> None:
    with smtp_receiver() as (port, messages):
        channel = ChannelSpec("email", "mail", host="127.0.0.1", port=port,
                              sender="trustops@example.org", to=("risk@example.org",))  # fmt: skip
        outcome = deliver(channel, PAYLOAD, attempts=2, backoff=0)
    assert outcome.status == "sent"
    (envelope,) = messages
    assert envelope.rcpt_tos == ["risk@example.org"]
    message = message_from_bytes(envelope.content)
    assert message["Subject"].startswith("trustops alert: credit/scorer@1")
    assert json.loads(message.get_payload()) == PAYLOAD


def test_failures_are_retried_with_exponential_backoff() -> None:
    waits: list[float] = []
    with http_receiver(failures=2) as hook:
        outcome = deliver(ChannelSpec("webhook", "hook", url=hook.url), PAYLOAD, attempts=4,
                          backoff=0.5, sleep=no_sleep(waits))  # fmt: skip
    assert (outcome.status, outcome.attempts) == ("sent", 3)
    assert waits == [0.5, 1.0]
    assert hook.received == [PAYLOAD]


def test_a_receiver_that_is_down_is_a_recorded_failure_not_a_crash() -> None:
    waits: list[float] = []
    url = f"http://127.0.0.1:{closed_port()}/hook"
    outcome = deliver(ChannelSpec("webhook", "hook", url=url, timeout=2), PAYLOAD, attempts=3,
                      backoff=0.25, sleep=no_sleep(waits))  # fmt: skip
    assert (outcome.status, outcome.attempts) == ("failed", 3)
    assert waits == [0.25, 0.5]
    assert "unreachable" in (outcome.error or "")
    smtp = ChannelSpec("email", "mail", host="127.0.0.1", port=closed_port(), sender="a@b.c",
                       to=("d@e.f",), timeout=2)  # fmt: skip
    assert deliver(smtp, PAYLOAD, attempts=2, backoff=0, sleep=no_sleep([])).status == "failed"


RECORDER = """\
import json, os, sys
payload = json.load(sys.stdin)
with open(sys.argv[1], "w") as f:
    json.dump({"payload": payload, "env": os.environ["TRUSTOPS_TRIGGER_EVIDENCE"]}, f)
print("retraining started")
"""


def test_a_trigger_command_gets_the_payload_on_stdin_without_a_shell(tmp_path: Path) -> None:
    script = tmp_path / "retrain.py"
    script.write_text(RECORDER)
    out = tmp_path / "got; echo injected.json"  # a shell would split this name
    status, detail = fire(TriggerSpec("r", command=(sys.executable, str(script), str(out))),
                          PAYLOAD)  # fmt: skip
    assert (status, detail) == ("succeeded", "exit 0: retraining started")
    assert json.loads(out.read_text()) == {"payload": PAYLOAD, "env": "12"}


def test_a_failing_or_missing_command_is_an_outcome() -> None:
    failing = TriggerSpec("r", command=(sys.executable, "-c", "import sys; sys.exit('no GPU')"))
    assert fire(failing, PAYLOAD) == ("failed", "exit 1: no GPU")
    missing = TriggerSpec("r", command=("/nonexistent/retrain",))
    assert fire(missing, PAYLOAD)[0] == "failed"
    slow = TriggerSpec("r", command=(sys.executable, "-c", "import time; time.sleep(30)"),
                       timeout=0.5)  # fmt: skip
    assert fire(slow, PAYLOAD) == ("failed", "timed out after 0.5 s")


def test_a_trigger_webhook() -> None:
    with http_receiver() as hook:
        assert fire(TriggerSpec("ci", webhook=hook.url), PAYLOAD) == ("succeeded", "HTTP 200")
    assert hook.received == [PAYLOAD]
    down = TriggerSpec("ci", webhook=f"http://127.0.0.1:{closed_port()}/")
    assert fire(down, PAYLOAD)[0] == "failed"


def test_a_run_delivers_records_and_triggers(registry: Registry, tmp_path: Path) -> None:
    registry.create_system("credit")
    registry.register_model(b"weights", system="credit", name="scorer", code_commit=None)
    script = tmp_path / "retrain.py"
    script.write_text(RECORDER)
    with http_receiver() as hook, smtp_receiver() as (port, messages):
        config = build_config({
            "monitor": "daily", "model": "scorer@1", "window": {"kind": "time", "size": "1d"},
            "columns": {"time": "timestamp", "prediction": "prediction", "sensitive": ["race"]},
            "policy": "eeoc-four-fifths", "cooldown": "30d",
            "fairness": {"bootstrap": 100, "seed": 1},
            "channels": [
                {"type": "webhook", "name": "hook", "url": hook.url},
                {"type": "webhook", "name": "down", "url": f"http://127.0.0.1:{closed_port()}/"},
                {"type": "email", "name": "mail", "host": "127.0.0.1", "port": port,
                 "sender": "trustops@example.org", "to": ["risk@example.org"]},
            ],
            "triggers": [
                {"name": "retrain", "on": ["fairness"],
                 "command": [sys.executable, str(script), str(tmp_path / "req.json")]},
                {"name": "drift-only", "on": ["drift"], "command": ["false"]},
            ],
            "retry": {"attempts": 2, "backoff": 0.01},
        })  # fmt: skip
        create_monitor(registry, config)
        run = run_monitor(registry, "daily", degrading_log(seed=1, per_day=1500),
                          now=START + 8 * DAY)  # fmt: skip
        (alert,) = run.raised
        assert [m["evidence"]["id"] for m in hook.received] == [alert.evidence_id]
        assert len(messages) == 1
    (record,) = [a for a in alert_history(registry, "daily") if a["action"] == "send"]
    assert [(d["channel"], d["status"], d["attempts"]) for d in record["deliveries"]] == [
        ("hook", "sent", 1), ("down", "failed", 2), ("mail", "sent", 1)]  # fmt: skip
    assert [(t["trigger"], t["status"]) for t in record["triggers"]] == [("retrain", "succeeded")]
    request = json.loads((tmp_path / "req.json").read_text())
    assert request["payload"]["evidence"]["id"] == alert.evidence_id
    assert request["payload"]["breach"]["key"] == "fairness:selection_rate.ratio[race]"
    actions = [e.action for e in registry.audit.entries()]
    assert actions.count("alert.delivered") == 2
    assert actions.count("alert.delivery_failed") == 1
    assert actions.count("retraining.triggered") == 1
    assert registry.audit.verify().ok


@pytest.mark.parametrize("kind", ["webhook", "slack"])
def test_http_channels_refuse_non_http_urls(kind: str) -> None:
    from trustops.monitoring.config import ConfigError

    with pytest.raises(ConfigError, match="url"):
        build_config({"monitor": "m", "model": "x@1", "window": {"size": "1h"},
                      "channels": [{"type": kind, "url": "file:///etc/passwd"}]})  # fmt: skip


def test_due_monitors_run_command_triggers_only_when_allowed(
    registry: Registry, tmp_path: Path
) -> None:
    from trustops.monitoring.runner import COMMANDS_OFF, run_due_monitors

    registry.create_system("credit")
    registry.register_model(b"weights", system="credit", name="scorer", code_commit=None)
    log = degrading_log(seed=1, per_day=1500)

    def monitor(name: str) -> None:
        create_monitor(registry, build_config({
            "monitor": name, "model": "scorer@1", "window": {"kind": "time", "size": "1d"},
            "columns": {"time": "timestamp", "prediction": "prediction", "sensitive": ["race"]},
            "policy": "eeoc-four-fifths", "cooldown": "30d", "fairness": {"bootstrap": 100},
            "triggers": [{"name": "retrain", "command": [
                sys.executable, "-c", f"open({str(tmp_path / name)!r}, 'w').close()"]}],
        }))  # fmt: skip

    monitor("server")
    (server,) = run_due_monitors(registry, START + 8 * DAY, load=lambda *_: log)
    assert [t[2:] for t in server.triggers] == [("failed", COMMANDS_OFF)]
    assert not (tmp_path / "server").exists()
    history = alert_history(registry, "server")
    assert [t["detail"] for a in history for t in a["triggers"]] == [COMMANDS_OFF]
    monitor("operator")
    (operator,) = run_due_monitors(registry, START + 8 * DAY, load=lambda *_: log,
                                   allow_commands=True)  # fmt: skip
    assert [t[2] for t in operator.triggers] == ["succeeded"]
    assert (tmp_path / "operator").exists()
