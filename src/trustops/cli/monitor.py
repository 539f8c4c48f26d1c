"""``trustops monitor``: run monitors over prediction logs, store them, show their history.

``monitor run`` works three ways, all through the same evaluation
(:func:`trustops.monitoring.evaluate.evaluate`):

- batch mode, no store: ``--config monitor.yaml --data 'logs/*.parquet'``
  (any engine source: Parquet files or globs, CSV, ``duckdb:SELECT ...``);
  ``--state FILE`` keeps the monitor's state between runs (for cron);
- a stored monitor: ``--monitor NAME --data ...`` records windows as evidence,
  sends alerts, fires triggers;
- ``--due``: every stored monitor whose next window has closed, on the
  predictions the server stored.

Exit codes: 0 done; 1 an alert was raised (or a window breached) and
``--fail-on alert`` (``breach``) was given; 2 bad input.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trustops.cli import app
from trustops.cli.registry import print_json, registry_from
from trustops.errors import UsageError

__all__ = ["monitor_app"]

monitor_app = typer.Typer(
    help="Monitors: fairness, drift and performance per window; alerts; retraining triggers.",
    no_args_is_help=True,
)
app.add_typer(monitor_app, name="monitor")


class FailOn(StrEnum):
    never = "never"
    alert = "alert"
    breach = "breach"


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now must be an ISO 8601 time, got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _table(windows: list[dict[str, Any]], title: str) -> Table:
    table = Table("window", "rows", "late", "check", "value", "interval", "threshold", "status",
                  "action", title=escape(title))  # fmt: skip
    colours = {"ok": "green", "breach": "yellow", "supported": "red", "no_data": "dim"}
    for w in windows:
        label = (w["window"]["start"] or f"#{w['window']['index']}")[:19]
        for c in w["checks"] or [None]:
            if c is None:
                table.add_row(label, str(w["window"]["count"]), str(w["window"]["late"]), *[""] * 6)
                continue
            value = "" if c["value"] is None else f"{c['value']:.3f}"
            interval = "" if c["low"] is None else f"[{c['low']:.3f}, {c['high']:.3f}]"
            status = f"[{colours[c['status']]}]{c['status']}[/]"
            table.add_row(
                label, str(w["window"]["count"]), str(w["window"]["late"]), escape(c["key"]),
                value, interval, f"{c['op']} {c['threshold']:g}", status, c["action"],
            )  # fmt: skip
    return table


def _exit(windows: list[dict[str, Any]], fail_on: FailOn) -> None:
    checks = [c for w in windows for c in w["checks"]]
    if fail_on == FailOn.alert and any(c["action"] == "send" for c in checks):
        raise typer.Exit(1)
    if fail_on == FailOn.breach and any(c["status"] in ("breach", "supported") for c in checks):
        raise typer.Exit(1)


@monitor_app.command("run")
def run(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", help="Batch mode: a monitor YAML/JSON file.")
    ] = None,
    monitor: Annotated[
        str | None, typer.Option("--monitor", help="A stored monitor (trustops monitor create).")
    ] = None,
    due: Annotated[
        bool, typer.Option("--due", help="Run every stored monitor due, on stored predictions.")
    ] = False,
    data: Annotated[
        str | None,
        typer.Option("--data", help="The prediction log: Parquet file, directory or glob; CSV."),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="Reference profile (.tprof) or data; or NAME@V stored."),
    ] = None,
    state: Annotated[
        Path | None, typer.Option("--state", help="Batch mode: state file read and written.")
    ] = None,
    now: Annotated[
        str | None, typer.Option("--now", help="Evaluation time, ISO 8601 (default: now).")
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 on an alert, or on any breach.")
    ] = FailOn.never,
    as_json: Annotated[bool, typer.Option("--json", help="Print the windows as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the charts of the windows to this file.")
    ] = None,
) -> None:
    """Evaluate the windows closed since the last run: fairness, drift, performance.

    Example: trustops monitor run --config monitor.yaml --data 'logs/*.parquet' --fail-on alert
    """
    from trustops.monitoring.report import series_rows, to_html

    modes = sum([config is not None, monitor is not None, due])
    if modes != 1:
        raise UsageError("give one of --config (batch mode), --monitor NAME or --due")
    if due and data is not None:
        raise UsageError("--due reads the predictions the server stored; leave out --data")
    if not due and data is None:
        raise UsageError("--data is required with --config and --monitor")
    if state is not None and config is None:
        raise UsageError("--state is for batch mode (--config); a stored monitor keeps its own")
    when = _now(now)
    evaluations: list[tuple[str, Any, list[dict[str, Any]]]] = []
    if config is not None:
        evaluations.append(_batch(config, data, reference, state, when))
    else:
        with registry_from(ctx) as reg:
            from trustops.monitoring.runner import load_reference, run_due_monitors, run_monitor
            from trustops.monitoring.store import get_monitor

            if due:
                runs = run_due_monitors(reg, when, allow_commands=True)  # the operator's host
            else:
                assert monitor is not None
                stored = get_monitor(reg, monitor)
                ref = None
                if reference is not None:
                    cfg = dataclasses.replace(stored.config, reference=reference)
                    ref = load_reference(reg, cfg, stored.model.split("/")[0])
                runs = [run_monitor(reg, monitor, data, now=when, reference=ref)]
            for r in runs:
                alerts = [{"id": a.id, "key": a.key, "action": a.action, "reason": a.reason}
                          for a in r.alerts]  # fmt: skip
                evaluations.append((r.monitor, r.evaluation, alerts))
                for alert_id, d in r.deliveries:
                    if d.status != "sent":
                        typer.echo(f"warning: alert {alert_id} to {d.channel}: {d.error}", err=True)
    windows = [w.to_dict() for _, e, _ in evaluations for w in e.windows]
    if as_json:
        print_json([{"monitor": n, "windows": [w.to_dict() for w in e.windows], "alerts": a}
                    for n, e, a in evaluations])  # fmt: skip
    else:
        console = Console()
        for name, evaluation, _ in evaluations:
            rows = [w.to_dict() for w in evaluation.windows]
            if not rows:
                console.print(f"monitor {escape(name)}: no window closed since the last run")
                continue
            console.print(_table(rows, f"monitor {name}"))
    if html is not None:
        rows = [r for _, e, _ in evaluations for r in series_rows(e)]
        title = "trustops monitor: " + ", ".join(n for n, _, _ in evaluations)
        html.write_text(to_html(rows, [], title=title), encoding="utf-8")
    _exit(windows, fail_on)


def _batch(
    config_path: Path, data: Any, reference: str | None, state_path: Path | None, when: datetime
) -> tuple[str, Any, list[dict[str, Any]]]:
    from trustops.errors import InputError
    from trustops.monitoring.config import load_config
    from trustops.monitoring.evaluate import MonitorState, evaluate
    from trustops.monitoring.runner import load_reference

    config = load_config(config_path)
    if reference is not None:
        config = dataclasses.replace(config, reference=reference)
    state = MonitorState()
    if state_path is not None and state_path.exists():
        try:
            state = MonitorState.from_dict(json.loads(state_path.read_text(encoding="utf-8")))
        except (ValueError, TypeError, AttributeError):
            raise InputError(f"{state_path}: not a monitor state file") from None
    ref = load_reference(None, config, None) if config.reference else None
    evaluation = evaluate(data, config, now=when, reference=ref, state=state)
    if state_path is not None:
        state_path.write_text(json.dumps(evaluation.state.to_dict(), indent=2), encoding="utf-8")
    alerts = [{"key": c.key, "action": c.action, "reason": c.reason, "window": w.window.index}
              for w, c in evaluation.alerts]  # fmt: skip
    return config.name, evaluation, alerts


@monitor_app.command("create")
def create(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option("--config", help="The monitor YAML/JSON file.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Change an existing monitor's configuration.")
    ] = False,
) -> None:
    """Store a monitor for a registered model version (audited).

    Example: trustops monitor create --config monitor.yaml
    """
    from trustops.monitoring.config import load_config
    from trustops.monitoring.store import create_monitor

    with registry_from(ctx) as reg:
        stored = create_monitor(reg, load_config(config), replace=replace)
    typer.echo(f"monitor {stored.name} watches {stored.model} ({len(stored.config.checks)} checks)")


@monitor_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the stored monitors, their model versions and next due times."""
    from trustops.monitoring.store import list_monitors

    with registry_from(ctx) as reg:
        found = list_monitors(reg)
    if as_json:
        print_json([m.to_dict() for m in found])
        return
    table = Table("monitor", "model", "window", "checks", "last window", "next due")
    for m in found:
        w = m.config.window
        size = f"{w.size // 1_000_000} s" if w.kind == "time" else f"{w.size} predictions"
        table.add_row(m.name, m.model, f"{w.kind} {size}", str(len(m.config.checks)),
                      str(m.state.last_window), m.next_due or "")  # fmt: skip
    Console().print(table)


@monitor_app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The monitor.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a chart per series to this file.")
    ] = None,
) -> None:
    """Show a monitor's time series (value, interval, threshold per window) and alerts."""
    from trustops.monitoring.report import to_html
    from trustops.monitoring.store import alert_history, series

    with registry_from(ctx) as reg:
        rows = series(reg, name)
        alerts = alert_history(reg, name)
    if html is not None:
        html.write_text(to_html(rows, alerts, title=f"trustops monitor {name}"), encoding="utf-8")
    if as_json:
        print_json({"series": rows, "alerts": alerts})
        return
    console = Console()
    table = Table("window", "check", "value", "interval", "threshold", "status", "action",
                  title=f"monitor {escape(name)}")  # fmt: skip
    for r in rows:
        table.add_row(
            (r["start"] or f"#{r['window_index']}")[:19], escape(r["key"]),
            "" if r["value"] is None else f"{r['value']:.3f}",
            "" if r["low"] is None else f"[{r['low']:.3f}, {r['high']:.3f}]",
            f"{r['op']} {r['threshold']:g}", r["status"], r["action"],
        )  # fmt: skip
    console.print(table)
    for a in alerts:
        sent = ", ".join(f"{d['channel']} {d['status']}" for d in a["deliveries"]) or "-"
        fired = ", ".join(f"{t['trigger']} {t['status']}" for t in a["triggers"]) or "-"
        console.print(
            f"alert {a['id']} {a['action']} {escape(a['key'])} ({a['reason'] or '-'}): "
            f"deliveries {escape(sent)}; triggers {escape(fired)}"
        )


@monitor_app.command("retrained")
def retrained(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="The retrained version, NAME@V or SYSTEM/NAME@V.")],
    evidence: Annotated[
        int, typer.Option("--evidence", help="The window evidence id the trigger received.")
    ],
) -> None:
    """Record that MODEL was retrained because of a breach (its lineage, audited).

    Example: trustops monitor retrained credit-scorer@3 --evidence 42
    """
    from trustops.monitoring.store import link_retraining

    with registry_from(ctx) as reg:
        link_retraining(reg, model, evidence)
    typer.echo(f"{model} retrained from evidence {evidence}")
