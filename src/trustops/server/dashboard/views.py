"""What each dashboard page shows, read from the registry: plain data for the templates.

A view reads recorded state only (systems, versions, evidence, decisions,
approvals, the audit log); it computes no metric and draws charts only with
:mod:`trustops.reports.charts` through :mod:`trustops.reports.evidence_views`,
so a page shows the numbers the documents show.

Example:
    >>> decision_badge({"outcome": "fail"}), decision_badge(None)
    ('fail', 'none')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trustops.reports.blocks import Block, Chart, Table
from trustops.reports.charts import band_chart, interval_chart
from trustops.reports.evidence_views import (
    KINDS,
    FairnessView,
    evidence_summary,
    newest,
    p_value,
    subject_evidence,
)
from trustops.reports.fairness import fmt

if TYPE_CHECKING:
    from trustops.governance import Evidence, ModelVersion, Registry, System

__all__ = [
    "REPORTS",
    "AuditPage",
    "ModelPage",
    "MonitorView",
    "SystemRow",
    "audit_page",
    "breaching_checks",
    "decision_badge",
    "drift_table",
    "explanation_charts",
    "fairness_blocks",
    "gate_view",
    "model_page",
    "monitor_views",
    "monitoring_status",
    "newest",
    "pending_reviews",
    "report_html",
    "request_view",
    "requests_of",
    "series_charts",
    "systems_overview",
    "window_text",
]

REPORTS = {
    "model_card": "Model card",
    "annex_iv": "EU AI Act Annex IV",
    "ll144": "NYC LL144 bias audit",
}
"""The documents a model page offers, by the name in their download address."""

AUDIT_PAGE_SIZE = 50


def decision_badge(content: Mapping[str, Any] | None) -> str:
    """The badge of a policy decision: its outcome (pass, warn, fail), or ``none``."""
    if content is None:
        return "none"
    return str(content.get("outcome") or "none")


@dataclass(frozen=True)
class SystemRow:
    """One line of the systems overview."""

    system: System
    role: str
    production: list[str]
    latest: Evidence | None  # the newest policy decision about a production version
    newest: Evidence | None = None  # without one in production: the newest about any version

    @property
    def status(self) -> str:
        """The compliance status: the outcome of the production version's newest decision."""
        if not self.production:
            return "no production version"
        return decision_badge(self.latest.content if self.latest else None)


def systems_overview(
    registry: Registry, visible: Iterable[str], roles: Mapping[str, str]
) -> list[SystemRow]:
    """Each visible system with its production version(s) and their newest policy decision."""
    shown = set(visible)
    rows = []
    for system in registry.systems():
        if system.name not in shown:
            continue
        versions = registry.models(system=system.name)
        decisions = {m.ref: registry.evidence(subject=m, kind="policy_decision") for m in versions}
        production = [m.ref for m in versions if m.stage == "production"]
        about_production = [e for ref in production for e in decisions[ref]]
        every = [e for found in decisions.values() for e in found]
        rows.append(
            SystemRow(
                system,
                roles.get(system.name, "admin"),
                production,
                max(about_production, key=lambda e: e.id) if about_production else None,
                None if production or not every else max(every, key=lambda e: e.id),
            )
        )
    return rows


def fairness_blocks(record: Evidence) -> list[Block]:
    """A recorded fairness assessment: groups with intervals, charts, four-fifths bars."""
    view = FairnessView(record)
    blocks: list[Block] = [view.group_table(), *view.charts(), view.disparity_table()]
    for name, rows in view.four_fifths().items():
        blocks.append(view.impact_chart(rows))
        table = view.four_fifths_table(rows)
        blocks.append(Table(table.head, table.rows, caption=f"Four-fifths rule: {name}"))
    return blocks


def drift_table(record: Evidence) -> Table:
    """Drift per feature from a recorded drift report, drifted columns first."""
    columns = list(record.content.get("columns") or [])
    columns.sort(key=lambda c: (not c.get("drift_detected"), str(c.get("column"))))
    rows = tuple(
        (
            str(c.get("column")),
            str(c.get("kind") or "—"),
            str(c.get("method") or "—"),
            fmt(c.get("statistic"), 4) if not isinstance(c.get("statistic"), str) else "∞",
            p_value(c.get("p_value")),
            fmt(c.get("threshold"), 4),
            "drift" if c.get("drift_detected") else "no drift",
        )
        for c in columns
    )
    return Table(
        ("feature", "type", "method", "statistic", "p", "threshold", "verdict"),
        rows,
        caption=evidence_summary(record),
    )


def explanation_charts(record: Evidence, *, max_features: int = 12) -> list[Chart]:
    """Feature importance (mean |attribution|) overall and per group, as dot charts."""
    c = record.content
    importance = list((c.get("importance") or {}).items())[:max_features]
    if not importance:
        return []
    unit = f"mean |attribution| ({c.get('output') or 'output'})"
    charts = [
        Chart(
            interval_chart([(k, float(v), None, None) for k, v in importance], title=unit),
            f"{c.get('method') or 'explanation'}: {unit} over {fmt(c.get('n_rows'))} rows "
            f"(evidence #{record.id})",
        )
    ]
    for column, breakdown in sorted((c.get("by_group") or {}).items()):
        features = [k for k, _ in importance]
        for group, part in sorted((breakdown.get("groups") or {}).items()):
            values = part.get("importance") or {}
            rows = [(k, values.get(k), None, None) for k in features if k in values]
            if rows:
                charts.append(
                    Chart(
                        interval_chart(rows, title=f"{column}={group}"),
                        f"{unit} for {column}={group} ({fmt(part.get('count'))} rows)",
                    )
                )
    return charts


@dataclass(frozen=True)
class ModelPage:
    """Everything the model-version page shows."""

    model: ModelVersion
    system: System
    evidence: list[Evidence]
    decisions: list[Evidence]
    fairness: Evidence | None
    fairness_blocks: list[Block]
    drift: list[tuple[str, Evidence, Table]]  # (what it is about, record, per feature)
    explanations: list[tuple[Evidence, list[Chart]]]
    history: list[dict[str, Any]]
    reports: dict[str, str] = field(default_factory=dict)  # name -> title, when available


def model_page(registry: Registry, model: ModelVersion) -> ModelPage:
    """The recorded evidence of ``model`` and what it shows, newest decisions first."""
    records = subject_evidence(registry, model)
    decisions = [e for e in records if e.kind == "policy_decision"][::-1]
    evidence = [e for e in records if e.kind != "policy_decision"]
    fairness = newest(records, *KINDS["fairness"])
    drift: list[tuple[str, Evidence, Table]] = []
    record = newest(records, *KINDS["drift"])
    if record is not None:
        drift.append((f"model {model.ref}", record, drift_table(record)))
    for dataset in registry.datasets(system=model.system):
        record = newest(subject_evidence(registry, dataset), *KINDS["drift"])
        if record is not None:
            drift.append((f"dataset {dataset.ref}", record, drift_table(record)))
    explanations = [(e, explanation_charts(e)) for e in records if e.kind == "explanation"]
    reports = {k: v for k, v in REPORTS.items() if k != "ll144"}
    if newest(records, "ll144") is not None:
        reports["ll144"] = REPORTS["ll144"]
    return ModelPage(
        model=model,
        system=registry.system(model.system),
        evidence=evidence,
        decisions=decisions,
        fairness=fairness,
        fairness_blocks=fairness_blocks(fairness) if fairness is not None else [],
        drift=drift,
        explanations=[(e, charts) for e, charts in explanations if charts][-1:],
        history=[h for h in registry.history(model.system) if h["version"] == model.ref],
        reports=reports,
    )


@dataclass(frozen=True)
class AuditPage:
    """One page of the audit log, newest first, and the checkpoints that cover it."""

    entries: list[Any]
    size: int
    before: int | None  # the ``before`` of the next (older) page, if there is one
    newer: int | None  # the ``before`` of the previous (newer) page, if there is one
    checkpoints: list[tuple[int, str]] = field(default_factory=list)  # (size, root prefix)


def audit_page(
    registry: Registry, *, before: int | None, systems: Sequence[str] | None
) -> AuditPage:
    """Entries with ``seq < before`` (all when None), newest first, ``AUDIT_PAGE_SIZE`` of them.

    ``systems`` limits the entries to those about the given systems (None: every entry).
    """
    from trustops.core.checkpoint import parse_checkpoint
    from trustops.server.api.audit import entry_system  # the API's rule: the same entries

    log = registry.audit
    size = log.size()
    end = size if before is None else max(0, min(before, size))
    shown: list[Any] = []
    cursor = end
    allowed = None if systems is None else set(systems)
    while cursor > 0 and len(shown) < AUDIT_PAGE_SIZE:
        start = max(0, cursor - 4 * AUDIT_PAGE_SIZE)
        chunk = log.entries(start=start, limit=cursor - start)
        for entry in reversed(chunk):
            if len(shown) == AUDIT_PAGE_SIZE:
                break
            if allowed is None or entry_system(entry.subject) in allowed:
                shown.append(entry)
            cursor = entry.seq
        else:
            cursor = start
    older = cursor if cursor > 0 and shown else None
    newer = None
    if before is not None and end < size:
        newer = min(size, end + AUDIT_PAGE_SIZE) if allowed is None else None
    checkpoints = []
    for note in log.checkpoints()[-5:][::-1]:
        checkpoint = parse_checkpoint(note)[0]
        checkpoints.append((checkpoint.size, checkpoint.root.hex()[:16]))
    return AuditPage(shown, size, older, newer, checkpoints)


def gate_view(status: Any) -> dict[str, Any]:
    """A :class:`~trustops.core.approvals.GateStatus` for the page: its dict, plus ``roles``
    as ``(role, required, given)`` rows."""
    d = status.to_dict()
    required = d.get("required") or {}
    approved = d.get("approved") or {}
    d["roles"] = [(role, n, approved.get(role, 0)) for role, n in required.items()]
    return d


def request_view(request: Any) -> dict[str, Any]:
    """An approval request as the pages show it (its ``to_dict()``)."""
    return dict(request.to_dict())


def report_html(registry: Registry, model: ModelVersion, document: str) -> str:
    """The HTML of report ``document`` (see :data:`REPORTS`) about ``model``, not recorded.

    LL144 comes from the newest ``ll144`` evidence about the version (an
    ``LL144Audit.to_dict()``); the others from :func:`render_document`.
    """
    from trustops.errors import UsageError

    if document == "ll144":
        from trustops.core.ll144 import LL144Audit
        from trustops.governance.registry import NotFoundError
        from trustops.reports.ll144 import to_html

        record = newest(subject_evidence(registry, model), "ll144")
        if record is None:
            raise NotFoundError(f"no ll144 evidence is recorded for {model.ref}")
        try:
            audit = LL144Audit.from_dict(record.content)
        except (KeyError, TypeError, ValueError):
            raise UsageError(f"the ll144 evidence #{record.id} is not an LL144 audit") from None
        return to_html(audit, data_source=f"ll144 evidence #{record.id} about {model.ref}")
    from trustops.reports.documents import render_document

    return render_document(registry, document, model=model, fmt="html", record=False).text


def requests_of(approvals: Any, model: ModelVersion) -> list[dict[str, Any]]:
    """Every approval request about ``model``, newest first, as :func:`request_view` gives them."""
    return [request_view(r) for r in approvals.requests(f"{model.system}/{model.ref}")]


MONITOR_KINDS = {
    "drift": "Drift: share of drifted features",
    "fairness": "Fairness: each disparity with its interval",
    "performance": "Performance (labelled predictions)",
}
"""The kinds of monitored series, in page order, with their headings."""


@dataclass(frozen=True)
class MonitorView:
    """One monitor of a model version: its series as charts, grouped by kind, and its alerts."""

    monitor: Any  # trustops.monitoring.store.StoredMonitor
    window: str  # its windowing, for people: "time windows of 1d (late data: 1h)"
    windows: int
    charts: list[tuple[str, list[Chart]]]  # (heading, charts), in MONITOR_KINDS order
    alerts: list[dict[str, Any]]  # newest first, each with "window" (a label)
    breaching: list[str]  # the checks in a run of breaching windows (breaching_checks)


MONITOR_WINDOWS = 30
"""The newest windows a monitoring chart shows (older ones stay in the store and evidence)."""


def series_charts(
    rows: Sequence[Mapping[str, Any]], *, limit: int = MONITOR_WINDOWS
) -> list[tuple[str, list[Chart]]]:
    """The monitor's time series (rows of :func:`trustops.monitoring.store.series`) as one
    :func:`~trustops.reports.charts.band_chart` per key over the newest ``limit`` windows: value per
    window, interval band, threshold line, breaching windows in red; grouped by kind.

    Example:
        >>> rows = [{"window_index": i, "start": None, "key": "fairness:x[race]",
        ...          "kind": "fairness", "value": v, "low": v - .1, "high": v + .1, "op": ">=",
        ...          "threshold": 0.8, "status": "ok" if v >= .8 else "breach", "n": 100}
        ...         for i, v in enumerate([0.9, 0.7])]
        >>> [(heading, len(charts)) for heading, charts in series_charts(rows)]
        [('Fairness: each disparity with its interval', 1)]
    """
    from trustops.monitoring.report import window_label

    shown = sorted({r["window_index"] for r in rows})[-limit:]
    by_key: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        if shown and row["window_index"] < shown[0]:
            continue
        by_key.setdefault(str(row["key"]), []).append(row)
    groups: dict[str, list[Chart]] = {}
    for key, series in by_key.items():
        last = series[-1]
        threshold = last["threshold"]
        points = [
            (window_label(r), r["value"], r["low"], r["high"],
             r["status"] in ("breach", "supported"))
            for r in series
        ]  # fmt: skip
        latest = next((r for r in reversed(series) if r["value"] is not None), None)
        now = "no data yet" if latest is None else (
            f"latest {fmt(latest['value'], 3)}"
            + (f" [{fmt(latest['low'], 3)}, {fmt(latest['high'], 3)}]"
               if latest["low"] is not None else "")
            + f" ({latest['status']}, n={fmt(latest['n'])})"
        )  # fmt: skip
        caption = f"{key} {last['op']} {threshold:g} over {len(series)} windows: {now}"
        kind = str(last.get("kind") or key.split(":", 1)[0])
        groups.setdefault(kind, []).append(
            Chart(band_chart(points, title=key, threshold=threshold), caption)
        )
    ordered = [k for k in MONITOR_KINDS if k in groups] + sorted(set(groups) - set(MONITOR_KINDS))
    return [(MONITOR_KINDS.get(k, k), groups[k]) for k in ordered]


def _duration(us: int) -> str:
    seconds = us // 1_000_000
    for unit, size in (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def window_text(spec: Any) -> str:
    """A monitor's windowing for people.

    Example:
        >>> from trustops.monitoring.config import WindowSpec
        >>> window_text(WindowSpec("time", 86_400_000_000, 3_600_000_000))
        'time windows of 1d (late data accepted for 1h)'
        >>> window_text(WindowSpec("count", 1000))
        'windows of 1,000 predictions'
    """
    if spec.kind == "count":
        return f"windows of {spec.size:,} predictions"
    late = f" (late data accepted for {_duration(spec.lateness_us)})" if spec.lateness_us else ""
    return f"time windows of {_duration(spec.size)}{late}"


def breaching_checks(monitor: Any) -> list[str]:
    """The checks of a stored monitor in a run of breaching windows (a window without data
    does not end a run): the breach runs of its state (``MonitorState.runs``)."""
    return sorted(key for key, run in monitor.state.runs.items() if run > 0)


def monitoring_status(registry: Registry, system: str) -> dict[str, str]:
    """``NAME@V`` -> ``breaching`` or ``ok`` for each monitored version of ``system``."""
    from trustops.monitoring.store import list_monitors

    status: dict[str, str] = {}
    for monitor in list_monitors(registry):
        where, _, ref = monitor.model.partition("/")
        if where == system:
            breaching = status.get(ref) == "breaching" or bool(breaching_checks(monitor))
            status[ref] = "breaching" if breaching else "ok"
    return status


def monitor_views(
    registry: Registry, model: ModelVersion, *, charts: bool = True
) -> list[MonitorView]:
    """The monitors of ``model`` (:mod:`trustops.monitoring.store`), by name (``charts``
    False: without their charts, for a summary)."""
    from trustops.monitoring.report import window_label
    from trustops.monitoring.store import alert_history, list_monitors, series

    label = f"{model.system}/{model.ref}"
    views = []
    for monitor in list_monitors(registry):
        if monitor.model != label:
            continue
        rows = series(registry, monitor.name)
        alerts = []
        for a in alert_history(registry, monitor.name)[::-1]:
            window = a["payload"].get("window") or {}
            alerts.append({**a, "window": window_label({**window, "window_index":
                                                        window.get("index")})})  # fmt: skip
        breaching = breaching_checks(monitor)
        views.append(
            MonitorView(
                monitor,
                window_text(monitor.config.window),
                len({r["window_index"] for r in rows}),
                series_charts(rows) if charts else [],
                alerts,
                breaching,
            )
        )
    return views


def pending_reviews(registry: Registry, systems: Iterable[str]) -> list[Any]:
    """Requests for human review of an automated decision (GDPR Art. 22) not yet decided in
    ``systems``, oldest first (:func:`trustops.privacy.review.reviews`)."""
    from trustops.privacy.review import reviews

    shown = set(systems)
    if not shown:
        return []
    return [r for r in reviews(registry) if r.system in shown and r.status != "decided"]
