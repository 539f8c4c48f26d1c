"""Monitors in the governance store: configurations, window results, alerts, deliveries.

Every write runs in one registry transaction with its audit entries
(:meth:`Registry.transaction`): a window's results are stored as evidence
(kind ``monitoring_window``, about the monitored model version) and as rows
of the time series (``monitor_series``), together with the alert records and
the monitor's new state, so a crash leaves either all of a run's windows or
none. Deliveries and retraining triggers are recorded after they happen, in
transactions of their own: an alert record is stored before anything is sent,
so a receiver that is down never loses it.

Example:
    >>> import tempfile
    >>> from trustops.governance import Registry, init_workspace
    >>> from trustops.monitoring.config import build_config
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="alice").project)
    >>> _ = reg.create_system("credit")
    >>> _ = reg.register_model(b"w", system="credit", name="scorer", code_commit=None)
    >>> m = create_monitor(reg, build_config({"monitor": "daily", "model": "scorer@1",
    ...     "window": {"kind": "time", "size": "1d"}}))
    >>> m.name, m.model, m.state.last_window
    ('daily', 'credit/scorer@1', None)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from trustops.core.audit import canonical_json
from trustops.governance import schema as t
from trustops.governance.auditlog import utc_now
from trustops.governance.database import insert_id
from trustops.governance.registry import ConflictError, NotFoundError, Registry
from trustops.monitoring.config import MonitorConfig, build_config
from trustops.monitoring.evaluate import Evaluation, MonitorState, iso

__all__ = [
    "EVIDENCE_KIND",
    "AlertRecord",
    "StoredMonitor",
    "alert_history",
    "create_monitor",
    "get_monitor",
    "link_retraining",
    "list_monitors",
    "record_delivery",
    "record_evaluation",
    "record_trigger",
    "retrained_from",
    "series",
]

EVIDENCE_KIND = "monitoring_window"


def _json(value: Any) -> str:
    return canonical_json(value).decode("utf-8")


@dataclass(frozen=True)
class StoredMonitor:
    """A monitor as stored: its id, model version, configuration and state."""

    id: int
    name: str
    model: str  # SYSTEM/NAME@V
    model_version_id: int
    config: MonitorConfig
    state: MonitorState
    enabled: bool
    next_due: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "model": self.model,
            "enabled": self.enabled,
            "next_due": self.next_due,
            "config": self.config.to_dict(),
            "state": self.state.to_dict(),
        }


@dataclass(frozen=True)
class AlertRecord:
    """An alert decision as stored, with the payload channels and triggers receive."""

    id: int
    monitor: str
    key: str
    action: str
    reason: str | None
    window_index: int
    evidence_id: int
    payload: dict[str, Any]


def _model_label(registry: Registry, ref: str) -> tuple[int, str]:
    mv = registry.model(ref)
    return mv.id, f"{mv.system}/{mv.ref}"


def _row(registry: Registry, conn: Any, name: str) -> StoredMonitor:
    m = t.monitors.c
    r = conn.execute(sa.select(t.monitors).where(m.name == name)).first()
    if r is None:
        raise NotFoundError(f"monitor {name!r} is not registered")
    r = r._mapping
    v, mo, s = t.model_versions.c, t.models.c, t.systems.c
    label = conn.execute(
        sa.select(s.name, mo.name, v.version)
        .join(t.models, mo.id == v.model_id)
        .join(t.systems, s.id == mo.system_id)
        .where(v.id == r["model_version_id"])
    ).one()
    return StoredMonitor(
        id=r["id"],
        name=r["name"],
        model=f"{label[0]}/{label[1]}@{label[2]}",
        model_version_id=r["model_version_id"],
        config=build_config(json.loads(r["config"])),
        state=MonitorState.from_dict(json.loads(r["state"])),
        enabled=bool(r["enabled"]),
        next_due=r["next_due"],
    )


def create_monitor(
    registry: Registry, config: MonitorConfig, *, replace: bool = False
) -> StoredMonitor:
    """Store a monitor; ``replace=True`` updates an existing one's configuration (its
    state and history stay). Its model version must be registered."""
    vid, label = _model_label(registry, config.model)
    body = config.to_dict()
    body["model"] = label  # pinned: "NAME" alone would follow new versions
    text = _json(body)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with registry.transaction() as change:
        conn, m = change.conn, t.monitors.c
        found = conn.execute(sa.select(m.id, m.model_version_id).where(m.name == config.name))
        existing = found.first()
        now = utc_now()
        if existing is not None and not replace:
            raise ConflictError(
                f"monitor {config.name!r} exists", hint="pass --replace to change its configuration"
            )
        if existing is None:
            conn.execute(
                t.monitors.insert().values(
                    name=config.name, model_version_id=vid, config=text,
                    state=_json(MonitorState().to_dict()), enabled=True, next_due=None,
                    created_at=now, created_by=registry.actor, updated_at=now,
                )
            )  # fmt: skip
            action = "monitor.created"
        else:
            if existing.model_version_id != vid:
                raise ConflictError(
                    f"monitor {config.name!r} watches another model version",
                    hint="create a new monitor for the new version",
                )
            conn.execute(
                t.monitors.update().where(m.id == existing.id).values(config=text, updated_at=now)
            )
            action = "monitor.updated"
        change.audit(action, f"monitor:{config.name}", {"model": label, "config_hash": digest})
        return _row(registry, conn, config.name)


def get_monitor(registry: Registry, name: str) -> StoredMonitor:
    """The stored monitor ``name``."""
    with registry.db.read() as conn:
        return _row(registry, conn, name)


def list_monitors(registry: Registry) -> list[StoredMonitor]:
    """Every stored monitor, by name."""
    with registry.db.read() as conn:
        names = conn.execute(sa.select(t.monitors.c.name).order_by(t.monitors.c.name)).scalars()
        return [_row(registry, conn, n) for n in names.all()]


def _payload(
    monitor: StoredMonitor, window: Any, check: Any, evidence_id: int, content_hash: str
) -> dict[str, Any]:
    return {
        "monitor": monitor.name,
        "model": monitor.model,
        "window": window.window_dict(),
        "breach": check.to_dict(),
        "evidence": {"id": evidence_id, "kind": EVIDENCE_KIND, "content_hash": content_hash},
    }


def record_evaluation(
    registry: Registry, monitor: StoredMonitor, evaluation: Evaluation
) -> list[AlertRecord]:
    """Store a run's windows (evidence + series), alert records and the new state, at once.

    Refused (:class:`ConflictError`) if another run stored windows of this
    monitor since ``monitor`` was read.
    """
    subject = f"model:{monitor.model}"
    records: list[AlertRecord] = []
    with registry.transaction() as change:
        conn, m = change.conn, t.monitors.c
        current = conn.execute(sa.select(m.state).where(m.id == monitor.id)).scalar_one()
        if MonitorState.from_dict(json.loads(current)).last_window != monitor.state.last_window:
            raise ConflictError(
                f"monitor {monitor.name!r} was evaluated by another run meanwhile",
                hint="run it again: it continues after the windows stored",
            )
        now = utc_now()
        for result in evaluation.windows:
            content = result.to_dict()
            body = _json(content)
            digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
            eid = insert_id(
                conn,
                t.evidence.insert().values(
                    kind=EVIDENCE_KIND, subject_type="model_version",
                    subject_id=monitor.model_version_id, content=body, content_hash=digest,
                    created_at=now, created_by=registry.actor,
                ),
            )  # fmt: skip
            change.audit(
                "evidence.recorded", subject, {"id": eid, "kind": EVIDENCE_KIND,
                                               "content_hash": digest}
            )  # fmt: skip
            w = result.window
            wid = insert_id(
                conn,
                t.monitor_windows.insert().values(
                    monitor_id=monitor.id, window_index=w.index, start=iso(w.start),
                    end=iso(w.end), row_count=w.count, late_count=w.late, evidence_id=eid,
                    created_at=now,
                ),
            )  # fmt: skip
            if result.checks:
                conn.execute(
                    t.monitor_series.insert(),
                    [
                        {"monitor_id": monitor.id, "window_id": wid, "key": c.key,
                         "kind": c.kind, "value": c.value, "low": c.low, "high": c.high,
                         "op": c.op, "threshold": c.threshold, "status": c.status,
                         "action": c.action, "n": c.n}
                        for c in result.checks
                    ],
                )  # fmt: skip
            for check in result.checks:
                if check.action == "none":
                    continue
                payload = _payload(monitor, result, check, eid, digest)
                aid = insert_id(
                    conn,
                    t.alert_records.insert().values(
                        monitor_id=monitor.id, window_id=wid, key=check.key,
                        action=check.action, reason=check.reason, payload=_json(payload),
                        created_at=now,
                    ),
                )  # fmt: skip
                action = {"send": "alert.raised", "suppress": "alert.suppressed",
                          "resolve": "alert.resolved"}[check.action]  # fmt: skip
                change.audit(
                    action,
                    f"monitor:{monitor.name}",
                    {"alert_id": aid, "key": check.key, "window": w.index,
                     "reason": check.reason, "evidence_id": eid},
                )  # fmt: skip
                records.append(
                    AlertRecord(aid, monitor.name, check.key, check.action, check.reason,
                                w.index, eid, payload)
                )  # fmt: skip
        state = evaluation.state
        next_due = None
        if monitor.config.window.kind == "time" and state.last_window is not None:
            spec = monitor.config.window
            next_due = iso(spec.origin_us + (state.last_window + 2) * spec.size + spec.lateness_us)
        conn.execute(
            t.monitors.update()
            .where(m.id == monitor.id)
            .values(state=_json(state.to_dict()), next_due=next_due, updated_at=now)
        )
        if evaluation.windows:
            change.audit(
                "monitor.evaluated",
                f"monitor:{monitor.name}",
                {"windows": [r.window.index for r in evaluation.windows],
                 "alerts": sum(1 for r in records if r.action == "send")},
            )  # fmt: skip
    return records


def record_delivery(
    registry: Registry,
    alert: AlertRecord,
    *,
    channel: str,
    channel_type: str,
    status: str,
    attempts: int,
    error: str | None,
) -> None:
    """Record one channel's outcome for an alert (``sent`` or ``failed``), audited."""
    with registry.transaction() as change:
        change.conn.execute(
            t.alert_deliveries.insert().values(
                alert_id=alert.id, channel=channel, channel_type=channel_type, status=status,
                attempts=attempts, error=error, created_at=utc_now(),
            )
        )  # fmt: skip
        change.audit(
            "alert.delivered" if status == "sent" else "alert.delivery_failed",
            f"monitor:{alert.monitor}",
            {"alert_id": alert.id, "channel": channel, "type": channel_type,
             "attempts": attempts, "error": error},
        )  # fmt: skip


def record_trigger(
    registry: Registry, alert: AlertRecord, *, trigger: str, kind: str, status: str, detail: str
) -> None:
    """Record a retraining trigger fired by ``alert`` and its outcome, audited."""
    with registry.transaction() as change:
        change.conn.execute(
            t.trigger_runs.insert().values(
                alert_id=alert.id, trigger=trigger, kind=kind, status=status, detail=detail,
                evidence_id=alert.evidence_id, created_at=utc_now(),
            )
        )  # fmt: skip
        change.audit(
            "retraining.triggered",
            f"model:{alert.payload['model']}",
            {"alert_id": alert.id, "trigger": trigger, "kind": kind, "status": status,
             "detail": detail, "evidence_id": alert.evidence_id},
        )  # fmt: skip


def series(registry: Registry, name: str, *, key: str | None = None) -> list[dict[str, Any]]:
    """A monitor's time series, oldest window first: one row per window and check."""
    s, w = t.monitor_series.c, t.monitor_windows.c
    with registry.db.read() as conn:
        monitor = _row(registry, conn, name)
        query = (
            sa.select(w.window_index, w.start, w.end, w.row_count, w.late_count, w.evidence_id,
                      s.key, s.kind, s.value, s.low, s.high, s.op, s.threshold, s.status,
                      s.action, s.n)
            .join(t.monitor_windows, w.id == s.window_id)
            .where(s.monitor_id == monitor.id)
            .order_by(w.window_index, s.key)
        )  # fmt: skip
        if key is not None:
            query = query.where(s.key == key)
        return [dict(r._mapping) for r in conn.execute(query)]


def alert_history(registry: Registry, name: str) -> list[dict[str, Any]]:
    """A monitor's alert records with their deliveries and triggers, oldest first."""
    a, d, tr = t.alert_records.c, t.alert_deliveries.c, t.trigger_runs.c
    with registry.db.read() as conn:
        monitor = _row(registry, conn, name)
        rows = conn.execute(
            sa.select(t.alert_records).where(a.monitor_id == monitor.id).order_by(a.id)
        ).all()
        out = []
        for r in rows:
            deliveries = conn.execute(
                sa.select(d.channel, d.channel_type, d.status, d.attempts, d.error)
                .where(d.alert_id == r.id)
                .order_by(d.id)
            ).all()
            triggers = conn.execute(
                sa.select(tr.trigger, tr.kind, tr.status, tr.detail)
                .where(tr.alert_id == r.id)
                .order_by(tr.id)
            ).all()
            out.append(
                {"id": r.id, "key": r.key, "action": r.action, "reason": r.reason,
                 "created_at": r.created_at, "payload": json.loads(r.payload),
                 "deliveries": [dict(x._mapping) for x in deliveries],
                 "triggers": [dict(x._mapping) for x in triggers]}
            )  # fmt: skip
        return out


def link_retraining(registry: Registry, model: str, evidence_id: int) -> None:
    """Record that model version ``model`` was retrained because of evidence ``evidence_id``
    (the window that breached), audited as ``model.retrained_from``."""
    mv = registry.model(model)
    with registry.transaction() as change:
        conn = change.conn
        e = t.evidence.c
        found = conn.execute(sa.select(e.kind).where(e.id == evidence_id)).scalar()
        if found is None:
            raise NotFoundError(f"evidence {evidence_id} is not recorded")
        taken = conn.execute(
            sa.select(t.retraining_lineage.c.evidence_id).where(
                t.retraining_lineage.c.model_version_id == mv.id
            )
        ).scalar()
        if taken is not None:
            raise ConflictError(f"{mv.system}/{mv.ref} already records its retraining cause")
        conn.execute(
            t.retraining_lineage.insert().values(
                model_version_id=mv.id, evidence_id=evidence_id, created_at=utc_now(),
                created_by=registry.actor,
            )
        )  # fmt: skip
        change.audit(
            "model.retrained_from",
            f"model:{mv.system}/{mv.ref}",
            {"evidence_id": evidence_id, "evidence_kind": found},
        )


def retrained_from(registry: Registry, model: str) -> Any:
    """The evidence whose breach triggered the retraining of ``model``, or ``None``."""
    mv = registry.model(model)
    lineage, e = t.retraining_lineage.c, t.evidence.c
    with registry.db.read() as conn:
        row = conn.execute(
            sa.select(e.id, e.kind)
            .join(t.retraining_lineage, lineage.evidence_id == e.id)
            .where(lineage.model_version_id == mv.id)
        ).first()
    if row is None:
        return None
    return next(x for x in registry.evidence(kind=row.kind) if x.id == row.id)
