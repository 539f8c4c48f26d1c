"""Data-usage records: who read which dataset version, when, for what purpose, on what basis.

GDPR Art. 5(1)(b) (purpose limitation) and Art. 30 ask a controller to know
why it processes personal data; this module is the one place through which
trustops reads a registered dataset version. Each read — training or
evaluation registration (:meth:`Registry.register_model`), an assessment,
profiling, monitoring — is checked, then recorded as a ``data_uses`` row and
a ``data.used`` audit entry in the same transaction:

- the purpose is the one given (``purpose=``, ``--purpose``), else the
  workspace's default (``privacy.purpose`` in ``.trustops/config.toml`` or
  ``TRUSTOPS_PURPOSE``);
- a dataset version that holds personal data or declares permitted purposes
  is not read without a purpose (:class:`PurposeError`), nor for a purpose it
  does not permit — unless ``privacy.purpose_mismatch = "warn"``, when the
  use is recorded with outcome ``warned`` and a warning. A version declared
  neither personal nor with purposes is read without one, and still recorded
  (inside a registration, the registration's own entry is its audit entry);
- the entry holds the purpose, the use, the dataset's lawful basis and
  content hash, and what used it — never a value from the data.

A caller checks first (:func:`plan_use`, before reading anything) and records
in its own transaction (:func:`write_use`), or does both with :func:`record_use`.
A read after the retention period (``retention_days``) ended is allowed with a
warning; :func:`retention_warnings` lists the versions whose retention has run
out or runs out soon.

Example:
    >>> import tempfile, pyarrow as pa
    >>> from trustops.governance import Registry, init_workspace
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="alice").project)
    >>> _ = reg.create_system("credit")
    >>> dv = reg.register_dataset(pa.table({"x": [1]}), system="credit", name="train",
    ...                           purposes=["scoring"], personal_data=True)
    >>> record_use(reg, dv, use="assessment", purpose="scoring").outcome
    'allowed'
    >>> record_use(reg, dv, use="assessment", purpose="marketing")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    trustops.governance.usage.PurposeError: purpose 'marketing' is not a permitted purpose ...
    >>> [(u.use, u.purpose) for u in uses(reg, system="credit")]
    [('assessment', 'scoring')]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from trustops.errors import InputError
from trustops.governance import schema as t
from trustops.governance.auditlog import utc_now
from trustops.governance.database import insert_id

if TYPE_CHECKING:
    from trustops.governance.auditlog import Receipt
    from trustops.governance.registry import Change, DatasetVersion, Registry

__all__ = [
    "USES",
    "DataUse",
    "PlannedUse",
    "PurposeError",
    "RetentionWarning",
    "plan_file_read",
    "plan_use",
    "record_use",
    "retention_warnings",
    "uses",
    "write_use",
]

#: What a read is for (the ``use`` of a record).
USES = ("training", "evaluation", "assessment", "profiling", "monitoring", "explanation", "release")


class PurposeError(InputError):
    """A read of a dataset version with no purpose, or one the dataset does not permit."""

    status = 403


@dataclass(frozen=True)
class PlannedUse:
    """A read that passed the purpose check, not yet recorded."""

    dataset: DatasetVersion
    use: str
    purpose: str | None
    outcome: str  # "allowed" | "warned"
    warning: str | None = None


@dataclass(frozen=True)
class DataUse:
    """One recorded read of a dataset version."""

    id: int
    dataset: str  # SYSTEM/NAME@VERSION
    use: str
    purpose: str | None
    lawful_basis: str | None
    used_by: str | None
    outcome: str
    audit_seq: int
    created_at: str
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _label(dv: DatasetVersion) -> str:
    return f"{dv.system}/{dv.ref}"


def plan_use(
    registry: Registry, dataset: DatasetVersion, *, use: str, purpose: str | None = None
) -> PlannedUse:
    """Check a read of ``dataset`` for ``use`` against its purposes (see the module docs)."""
    if use not in USES:
        raise InputError(f"unknown data use {use!r}", hint=f"one of {', '.join(USES)}")
    settings = registry.settings
    if purpose is not None and (not isinstance(purpose, str) or not purpose.strip()):
        raise InputError("the purpose must be a non-empty text")
    purpose = purpose or (settings.purpose if settings is not None else None)
    permitted = dataset.permitted_purposes
    governed = dataset.personal_data or bool(permitted)
    if purpose is None:
        if governed:
            raise PurposeError(
                f"reading {_label(dataset)} ({use}) needs a declared purpose",
                hint="pass --purpose (purpose= in Python) or set privacy.purpose in "
                ".trustops/config.toml; permitted: " + (", ".join(permitted) or "none declared"),
            )
        return PlannedUse(dataset, use, None, "allowed", _retention_ended(dataset))
    expired = _retention_ended(dataset)
    if governed and purpose not in permitted:
        message = (
            f"purpose {purpose!r} is not a permitted purpose of {_label(dataset)} "
            f"(permitted: {', '.join(permitted) or 'none declared'})"
        )
        if settings is not None and settings.purpose_mismatch == "warn":
            return PlannedUse(dataset, use, purpose, "warned", _join(message, expired))
        raise PurposeError(
            message,
            hint="use a permitted purpose, register the data with this purpose, or set "
            'privacy.purpose_mismatch = "warn"',
        )
    return PlannedUse(dataset, use, purpose, "allowed", expired)


def plan_file_read(
    registry: Registry, path: Any, *, system: str, use: str, purpose: str | None = None
) -> PlannedUse | None:
    """:func:`plan_use` for a file when it is a registered version of ``system``'s data (found
    by its content hash), else None: a command reading a file checks here before reading."""
    from trustops.governance.registry import NotFoundError

    try:
        dv = registry.dataset(str(path), system=system)
    except NotFoundError:
        return None
    return plan_use(registry, dv, use=use, purpose=purpose)


def _join(*parts: str | None) -> str | None:
    return "; ".join(p for p in parts if p) or None


def _retention_ended(dataset: DatasetVersion, now: datetime | None = None) -> str | None:
    """A warning when the version is read after its retention period ended (else None)."""
    if dataset.retention_days is None:
        return None
    start = datetime.fromisoformat(dataset.created_at.replace("Z", "+00:00"))
    end = start + timedelta(days=dataset.retention_days)
    if (now or datetime.now(UTC)) < end:
        return None
    return (
        f"{_label(dataset)}: retention ended {end.date().isoformat()}; erase the data or record "
        "why it is kept"
    )


def write_use(
    change: Change,
    planned: PlannedUse,
    *,
    used_by: str | None = None,
    entry: Receipt | None = None,
) -> int:
    """Record ``planned`` in the transaction ``change``: a ``data_uses`` row and its entry.

    ``entry``: for a read with no purpose (of data that declares none), the entry of the
    action that read it (it names the dataset version, the actor and the time) instead of
    a ``data.used`` entry of its own.
    """
    dv = planned.dataset
    payload = {
        "dataset": _label(dv),
        "content_hash": dv.content_hash,
        "use": planned.use,
        "purpose": planned.purpose,
        "lawful_basis": dv.lawful_basis,
        "used_by": used_by,
        "outcome": planned.outcome,
    }
    if entry is not None and planned.purpose is None:
        receipt = entry
    else:
        receipt = change.audit(
            "data.used", f"dataset:{_label(dv)}", payload, reason=planned.warning
        )
    use_id = insert_id(
        change.conn,
        t.data_uses.insert().values(
            dataset_version_id=dv.id,
            use=planned.use,
            purpose=planned.purpose,
            lawful_basis=dv.lawful_basis,
            used_by=used_by,
            outcome=planned.outcome,
            audit_seq=receipt.seq,
            created_at=utc_now(),
            created_by=change.registry.actor,
        ),
    )
    if planned.warning:
        change.registry.warnings.append(planned.warning)
    return use_id


def _dataset(registry: Registry, dataset: DatasetVersion | str, system: str | None) -> Any:
    if not isinstance(dataset, str):
        return dataset
    ref = dataset.removeprefix("dataset:")
    if "/" in ref and not ref.startswith(("/", ".")) and system is None:
        system, ref = ref.split("/", 1)
    if system is None:
        raise InputError(
            f"dataset {dataset!r}: which system?", hint="write SYSTEM/NAME@VERSION or pass system="
        )
    return registry.dataset(ref, system=system)


def record_use(
    registry: Registry,
    dataset: DatasetVersion | str,
    *,
    use: str,
    purpose: str | None = None,
    system: str | None = None,
    used_by: str | None = None,
) -> DataUse:
    """Check and record one read of a dataset version (``SYSTEM/NAME@V``, or ``NAME@V`` with
    ``system``, or a :class:`DatasetVersion`); returns the record.

    Raises :class:`PurposeError` (nothing recorded) when the read has no purpose or one the
    dataset does not permit.
    """
    dv = _dataset(registry, dataset, system)
    planned = plan_use(registry, dv, use=use, purpose=purpose)
    with registry.transaction() as change:
        row = write_use(change, planned, used_by=used_by)
    return _uses(registry, sa.true(), row)[0]


def _uses(registry: Registry, where: Any, only: int | None = None) -> list[DataUse]:
    u, v, d, s = t.data_uses.c, t.dataset_versions.c, t.datasets.c, t.systems.c
    query = (
        sa.select(t.data_uses, s.name.label("sname"), d.name.label("dname"), v.version)
        .join(t.dataset_versions, v.id == u.dataset_version_id)
        .join(t.datasets, d.id == v.dataset_id)
        .join(t.systems, s.id == d.system_id)
        .where(where)
        .order_by(u.id)
    )
    if only is not None:
        query = query.where(u.id == only)
    with registry.db.read() as conn:
        rows = conn.execute(query).all()
    return [
        DataUse(
            id=r.id,
            dataset=f"{r.sname}/{r.dname}@{r.version}",
            use=r.use,
            purpose=r.purpose,
            lawful_basis=r.lawful_basis,
            used_by=r.used_by,
            outcome=r.outcome,
            audit_seq=r.audit_seq,
            created_at=r.created_at,
            created_by=r.created_by,
        )
        for r in rows
    ]


def uses(
    registry: Registry,
    *,
    system: str | None = None,
    dataset: DatasetVersion | str | None = None,
    purpose: str | None = None,
) -> list[DataUse]:
    """Recorded reads, oldest first: of one system, one dataset version, one purpose."""
    where: list[Any] = []
    if system is not None:
        registry.system(system)  # an unknown system is an error, not an empty list
        where.append(t.systems.c.name == system)
    if dataset is not None:
        where.append(t.data_uses.c.dataset_version_id == _dataset(registry, dataset, system).id)
    if purpose is not None:
        where.append(t.data_uses.c.purpose == purpose)
    return _uses(registry, sa.and_(sa.true(), *where))


@dataclass(frozen=True)
class RetentionWarning:
    """A dataset version past, or near, the end of its retention period."""

    dataset: str  # SYSTEM/NAME@VERSION
    expires: str  # ISO date
    days_left: int  # negative: expired that many days ago

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    def message(self) -> str:
        if self.expired:
            return (
                f"{self.dataset}: retention ended {self.expires} ({-self.days_left} days ago); "
                "erase the data or record why it is kept"
            )
        return f"{self.dataset}: retention ends {self.expires} (in {self.days_left} days)"

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "expired": self.expired}


def retention_warnings(
    registry: Registry,
    *,
    system: str | None = None,
    now: datetime | None = None,
    within_days: int = 30,
) -> list[RetentionWarning]:
    """Dataset versions whose retention (from registration) ends within ``within_days`` or
    has ended, soonest first."""
    now = now or datetime.now(UTC)
    found = []
    for dv in registry.datasets(system=system):
        if dv.retention_days is None:
            continue
        start = datetime.fromisoformat(dv.created_at.replace("Z", "+00:00"))
        expires = start + timedelta(days=dv.retention_days)
        left = (expires - now).days if expires >= now else -((now - expires).days + 1)
        if left <= within_days:
            found.append(RetentionWarning(_label(dv), expires.date().isoformat(), left))
    return sorted(found, key=lambda w: (w.days_left, w.dataset))
