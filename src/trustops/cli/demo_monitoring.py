"""The demo's monitoring part: a fairness drift in production, its alert and a retraining.

Several days of synthetic production predictions stream in, one daily
window after another; group B's approval rate slowly falls. The monitor
(thresholds from the EEOC four-fifths policy) evaluates each day as it
closes; when the breach is statistically supported (or has lasted three days)
the alert reaches a local webhook receiver and the retraining trigger runs a
command — this Python interpreter on a tiny script that reads the breach on
its standard input. The retrained version is registered with its lineage to
the window's evidence; ``monitoring.html`` charts the disparity over time.

:func:`degrading_log` also feeds the tests and the benchmark.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

__all__ = ["DAY", "degrading_log", "monitoring_part"]

DAY = timedelta(days=1)
START = datetime(2026, 11, 1, tzinfo=UTC)
# group B's approval rate per day (group A stays at 0.55)
B_RATES = (0.52, 0.52, 0.50, 0.46, 0.43, 0.40, 0.37, 0.34)

RETRAIN_SCRIPT = """\
import json, sys
from pathlib import Path

request = json.load(sys.stdin)
Path(sys.argv[1]).write_text(json.dumps(request, indent=2), encoding="utf-8")
breach = request["breach"]
print(f"retraining {request['model']}: {breach['key']} = {breach['value']:.3f} "
      f"(window from {request['window']['start'][:10]}, evidence {request['evidence']['id']})")
"""


def degrading_log(
    days: int = len(B_RATES),
    per_day: int = 3000,
    *,
    seed: int = 0,
    start: datetime = START,
    rates: tuple[float, ...] = B_RATES,
    label_share: float = 0.5,
) -> Any:
    """Production predictions over ``days`` days in which group B's approval rate falls.

    Columns: ``prediction_id``, ``timestamp`` (UTC), ``race`` (A or B, half
    each), ``income``, ``debt_ratio``, ``prediction`` (1 = approved),
    ``score`` and ``label`` (ground truth for ``label_share`` of the rows,
    null for the rest). Day d's B rate is ``rates[min(d, len(rates) − 1)]``.
    """
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    n = days * per_day
    day = np.repeat(np.arange(days), per_day)
    seconds = rng.integers(0, 86_400, n)
    micros = (int(start.timestamp()) + day * 86_400 + seconds) * 1_000_000
    race = np.where(rng.random(n) < 0.5, "A", "B")
    rate_b = np.asarray(rates)[np.minimum(day, len(rates) - 1)]
    rate = np.where(race == "A", 0.55, rate_b)
    prediction = (rng.random(n) < rate).astype(np.int64)
    score = np.clip(rate + rng.normal(0, 0.15, n), 0, 1)
    truth = np.where(rng.random(n) < 0.85, prediction, 1 - prediction)
    labelled = rng.random(n) < label_share
    order = np.argsort(micros, kind="stable")
    table = pa.table(
        {
            "prediction_id": pa.array([f"p{i}" for i in range(n)]),
            "timestamp": pa.array(micros, pa.timestamp("us", tz="UTC")),
            "race": pa.array(race),
            "income": pa.array(np.round(rng.lognormal(10.8, 0.4, n), 1)),
            "debt_ratio": pa.array(np.round(rng.beta(2, 5, n), 3)),
            "prediction": pa.array(prediction),
            "score": pa.array(np.round(score, 4)),
            "label": pa.array(np.where(labelled, truth, 0), mask=~labelled),
        }
    )
    return table.take(pa.array(order))


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _start_receiver() -> tuple[HTTPServer, list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def monitoring_part(reg: Any, output: Path, model: str, console: Any) -> list[str]:
    """Run the monitoring tour on ``model`` (``SYSTEM/NAME@V``); returns the files written."""
    from rich.markup import escape
    from rich.table import Table

    from trustops.monitoring.config import build_config
    from trustops.monitoring.report import to_html
    from trustops.monitoring.runner import run_monitor
    from trustops.monitoring.store import (
        alert_history,
        create_monitor,
        retrained_from,
        series,
    )

    console.rule("[bold]Monitoring: production days stream in; group B's approvals slowly fall")
    server, received = _start_receiver()
    script = output / "retrain.py"
    script.write_text(RETRAIN_SCRIPT, encoding="utf-8")
    try:
        config = build_config(
            {
                "monitor": "credit-fairness-daily",
                "model": model,
                "window": {"kind": "time", "size": "1d", "lateness": "1h"},
                "columns": {"time": "timestamp", "prediction": "prediction", "label": "label",
                            "sensitive": ["race"], "score": "score", "id": "prediction_id"},
                "policy": "eeoc-four-fifths",
                "checks": [{"metric": "performance.accuracy", "op": ">=", "threshold": 0.8}],
                "persistence": 3,
                "cooldown": "7d",
                "fairness": {"bootstrap": 300, "seed": 7, "min_group_size": 30},
                "channels": [{"type": "webhook", "name": "risk-team-hook",
                              "url": f"http://127.0.0.1:{server.server_port}/alerts"}],
                "triggers": [{"name": "retrain", "on": ["fairness"],
                              "command": [sys.executable, str(script),
                                          str(output / "retrain-request.json")]}],
                "retry": {"attempts": 3, "backoff": 0.2},
            }
        )  # fmt: skip
        monitor = create_monitor(reg, config)
        log = degrading_log(seed=11)
        import pyarrow.compute as pc

        stamps = log.column("timestamp")
        for day in range(len(B_RATES)):
            now = START + (day + 1) * DAY + timedelta(hours=1)  # the day closed, lateness over
            seen = log.filter(pc.less(stamps, now))  # what had arrived by then
            run_monitor(reg, monitor.name, seen, now=now)
        rows = series(reg, monitor.name)
        alerts = alert_history(reg, monitor.name)
    finally:
        server.shutdown()
        server.server_close()

    key = "fairness:selection_rate.ratio[race]"
    title = escape(f"{monitor.name}: {key} >= 0.8 (policy eeoc-four-fifths)")
    table = Table("day", "predictions", "impact ratio B/A", "95% interval", "status", "action",
                  title=title)  # fmt: skip
    for r in (r for r in rows if r["key"] == key):
        colour = {"ok": "green", "breach": "yellow", "supported": "red"}.get(r["status"], "")
        table.add_row(
            r["start"][:10], f"{r['row_count']:,}",
            "" if r["value"] is None else f"{r['value']:.3f}",
            "" if r["low"] is None else f"[{r['low']:.3f}, {r['high']:.3f}]",
            f"[{colour}]{r['status']}[/]" if colour else r["status"], r["action"],
        )  # fmt: skip
    console.print(table)
    for message in received:
        b = message["breach"]
        console.print(
            f"[bold red]webhook received:[/] {escape(b['key'])} = {b['value']:.3f} "
            f"(interval [{b['low']:.3f}, {b['high']:.3f}], reason: {b['reason']}) in the window "
            f"from {message['window']['start'][:10]}; evidence {message['evidence']['id']}"
        )
    fired = [t for a in alerts for t in a["triggers"]]
    for t in fired:
        console.print(
            f"[bold]retraining trigger[/] {t['trigger']}: {t['status']} ({escape(t['detail'])})"
        )
    written = ["monitoring.html"]
    if fired and (output / "retrain-request.json").exists():
        request = json.loads((output / "retrain-request.json").read_text(encoding="utf-8"))
        system, name_version = model.split("/", 1)
        name = name_version.split("@")[0]
        retrained = reg.register_model(
            b"retrained with fresh data and a fairness constraint", system=system, name=name,
            parent=name_version, parameters={"retrained_for": request["breach"]["key"]},
            code_commit=None, triggered_by=request["evidence"]["id"],
        )  # fmt: skip
        cause = retrained_from(reg, f"{system}/{retrained.ref}")
        console.print(
            f"registered {retrained.ref}, retrained because of evidence {cause.id} "
            f"({cause.kind}, window from {cause.content['window']['start'][:10]})"
        )
        written.append("retrain-request.json")
    (output / "monitoring.html").write_text(
        to_html(rows, alerts, title=f"trustops demo: monitor {monitor.name} ({model})"),
        encoding="utf-8",
    )
    return written
