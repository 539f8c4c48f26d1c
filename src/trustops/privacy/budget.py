"""The privacy-budget ledger: each dataset's epsilon and delta, spent by releases, never overdrawn.

A dataset (all its versions: they hold the same people) gets a budget,
``(epsilon_total, delta_total)``, set by a person and audited. Every
release through :func:`release` charges what OpenDP's privacy map states
for it, under basic sequential composition (epsilons add, deltas add):

    epsilon_spent + epsilon_release <= epsilon_total
    delta_spent + delta_release <= delta_total

The check and the charge happen in one write transaction together with
the release record (``dp_releases``, append-only), the data-use record and
the ``dp.released`` audit entry; the noise is drawn inside that
transaction and the numbers are returned only after it commits. A refused
query (:class:`BudgetExhaustedError`) therefore releases nothing and
spends nothing, and two concurrent queries cannot both fit into the last
bit of budget (SQLite takes its write lock at ``BEGIN``; on PostgreSQL the
registry's transaction locks the audit head row first).

A budget can be raised or lowered, never below what is already spent.

Example:
    >>> import tempfile, pyarrow as pa
    >>> from trustops.governance import Registry, init_workspace
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="alice").project)
    >>> _ = reg.create_system("credit")
    >>> data = pa.table({"approved": [1, 0, 1, 1]})
    >>> _ = reg.register_dataset(data, system="credit", name="train")
    >>> set_budget(reg, "train", system="credit", epsilon=1.0).epsilon_remaining
    1.0
    >>> r = release(reg, data, dataset="train", system="credit", statistic="count", epsilon=0.5)
    >>> r.values[0].scale, budget(reg, "train", system="credit").epsilon_remaining
    (2.0, 0.5)
    >>> release(reg, data, dataset="train", system="credit", statistic="count", epsilon=0.75)
    Traceback (most recent call last):
    ...
    trustops.privacy.budget.BudgetExhaustedError: the privacy budget of credit/train is ...
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from trustops.core.audit import canonical_json
from trustops.errors import InputError, UsageError
from trustops.governance import schema as t
from trustops.governance.auditlog import utc_now
from trustops.privacy.dp import Release, plan

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from trustops.governance.registry import DatasetVersion, Registry

__all__ = [
    "Budget",
    "BudgetExhaustedError",
    "NoBudgetError",
    "budget",
    "release",
    "releases",
    "set_budget",
]

# Float sums of epsilons drift in the last bits; a release that fits up to this
# slack is accepted (far below any meaningful epsilon).
_SLACK = 1e-9


class BudgetExhaustedError(UsageError):
    """The release would spend more epsilon or delta than the dataset's budget has left."""

    status = 409


class NoBudgetError(UsageError):
    """No budget was set for the dataset: nothing may be released about it yet."""

    status = 409


@dataclass(frozen=True, slots=True)
class Budget:
    """A dataset's privacy budget: totals, what releases spent, what is left."""

    dataset: str  # SYSTEM/NAME
    epsilon_total: float
    delta_total: float
    epsilon_spent: float
    delta_spent: float
    updated_at: str
    updated_by: str

    @property
    def epsilon_remaining(self) -> float:
        return max(self.epsilon_total - self.epsilon_spent, 0.0)

    @property
    def delta_remaining(self) -> float:
        return max(self.delta_total - self.delta_spent, 0.0)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["epsilon_remaining"] = self.epsilon_remaining
        d["delta_remaining"] = self.delta_remaining
        return d


def _dataset_id(conn: Connection, dv: DatasetVersion) -> int:
    v = t.dataset_versions.c
    return int(conn.execute(sa.select(v.dataset_id).where(v.id == dv.id)).scalar_one())


def _row(conn: Connection, dataset_id: int, label: str) -> Budget | None:
    b = t.privacy_budgets.c
    r = conn.execute(sa.select(t.privacy_budgets).where(b.dataset_id == dataset_id)).first()
    if r is None:
        return None
    m = r._mapping
    return Budget(
        dataset=label,
        epsilon_total=float(m["epsilon_total"]),
        delta_total=float(m["delta_total"]),
        epsilon_spent=float(m["epsilon_spent"]),
        delta_spent=float(m["delta_spent"]),
        updated_at=m["updated_at"],
        updated_by=m["updated_by"],
    )


def _check_amount(name: str, value: Any, *, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise InputError(f"{name} must be a number >= 0, not {value!r}")
    if upper is not None and value >= upper:
        raise InputError(f"{name} must be below {upper}, not {value!r}")
    if value == float("inf"):
        raise InputError(f"{name} must be finite")
    return float(value)


def set_budget(
    registry: Registry,
    dataset: str,
    *,
    system: str,
    epsilon: float,
    delta: float = 0.0,
    reason: str | None = None,
) -> Budget:
    """Set the dataset's total budget (audited); refused below what releases already spent."""
    epsilon = _check_amount("epsilon", epsilon)
    delta = _check_amount("delta", delta, upper=1.0)
    dv = registry.dataset(dataset, system=system)
    label = f"{system}/{dv.name}"
    with registry.transaction() as change:
        conn = change.conn
        did = _dataset_id(conn, dv)
        before = _row(conn, did, label)
        now = utc_now()
        if before is None:
            conn.execute(
                t.privacy_budgets.insert().values(
                    dataset_id=did,
                    epsilon_total=epsilon,
                    delta_total=delta,
                    epsilon_spent=0.0,
                    delta_spent=0.0,
                    updated_at=now,
                    updated_by=registry.actor,
                )
            )
        else:
            if epsilon < before.epsilon_spent or delta < before.delta_spent:
                raise UsageError(
                    f"the budget of {label} cannot go below what is spent "
                    f"(epsilon {before.epsilon_spent:g}, delta {before.delta_spent:g})"
                )
            conn.execute(
                sa.update(t.privacy_budgets)
                .where(t.privacy_budgets.c.dataset_id == did)
                .values(
                    epsilon_total=epsilon,
                    delta_total=delta,
                    updated_at=now,
                    updated_by=registry.actor,
                )
            )
        after = _row(conn, did, label)
        assert after is not None
        change.audit(
            "dp.budget_set",
            f"dataset:{label}",
            {"before": None if before is None else before.to_dict(), "after": after.to_dict()},
            reason=reason,
        )
    return after


def budget(registry: Registry, dataset: str, *, system: str) -> Budget | None:
    """The dataset's budget, or None if none was set."""
    dv = registry.dataset(dataset, system=system)
    with registry.db.read() as conn:
        return _row(conn, _dataset_id(conn, dv), f"{system}/{dv.name}")


def release(
    registry: Registry,
    data: Any = None,
    *,
    dataset: str,
    system: str,
    statistic: str,
    epsilon: float,
    purpose: str | None = None,
    **options: Any,
) -> Release:
    """Release a DP statistic of a registered dataset version, charged to its budget.

    ``data`` must be the registered content (checked by its hash; default:
    the version's recorded source file). ``options`` are those of
    :func:`trustops.privacy.dp.plan`. Raises :class:`NoBudgetError` or
    :class:`BudgetExhaustedError` (nothing released, nothing spent).
    """
    from trustops.governance.usage import plan_use, write_use

    query = plan(statistic, epsilon=epsilon, **options)  # refuses bad options first
    dv = registry.dataset(dataset, system=system)
    table = _registered_table(dv, data, query.columns)
    label = f"{system}/{dv.name}"
    planned = plan_use(registry, dv, use="release", purpose=purpose)
    with registry.transaction() as change:
        conn = change.conn
        did = _dataset_id(conn, dv)
        before = _row(conn, did, label)
        if before is None:
            raise NoBudgetError(
                f"no privacy budget is set for {label}: nothing may be released about it",
                hint=f"set one: trustops privacy budget {dv.name} --system {system} --epsilon E",
            )
        if (
            before.epsilon_spent + query.epsilon > before.epsilon_total + _SLACK
            or before.delta_spent + query.delta > before.delta_total + _SLACK
        ):
            raise BudgetExhaustedError(
                f"the privacy budget of {label} is exhausted: this {statistic} needs "
                f"epsilon {query.epsilon:g}"
                + (f", delta {query.delta:g}" if query.delta else "")
                + f", {before.epsilon_remaining:g} epsilon and {before.delta_remaining:g} delta "
                "remain; nothing was released",
                hint="ask for a smaller epsilon, or have the budget's owner raise it",
            )
        result = replace(query.run(table), dataset=f"{label}@{dv.version}")
        content = result.to_dict()
        rid = conn.execute(
            t.dp_releases.insert().values(
                dataset_version_id=dv.id,
                statistic=result.statistic,
                mechanism=result.mechanism,
                epsilon=result.epsilon,
                delta=result.delta,
                content=canonical_json(content).decode("utf-8"),
                created_at=utc_now(),
                created_by=registry.actor,
            )
        ).inserted_primary_key
        assert rid is not None
        result = replace(result, release_id=int(rid[0]))
        conn.execute(
            sa.update(t.privacy_budgets)
            .where(t.privacy_budgets.c.dataset_id == did)
            .values(
                epsilon_spent=before.epsilon_spent + result.epsilon,
                delta_spent=before.delta_spent + result.delta,
                updated_at=utc_now(),
                updated_by=registry.actor,
            )
        )
        after = _row(conn, did, label)
        assert after is not None
        change.audit(
            "dp.released",
            f"dataset:{label}@{dv.version}",
            {"release": result.to_dict(), "budget": after.to_dict()},
        )
        write_use(change, planned, used_by=f"dp_release:{result.release_id}")
    return result


def releases(registry: Registry, dataset: str, *, system: str) -> list[dict[str, Any]]:
    """Every release made about the dataset (all versions), oldest first."""
    import json

    dv = registry.dataset(dataset, system=system)
    r, v = t.dp_releases.c, t.dataset_versions.c
    with registry.db.read() as conn:
        did = _dataset_id(conn, dv)
        rows = conn.execute(
            sa.select(r.id, r.content, r.created_at, r.created_by)
            .join(t.dataset_versions, v.id == r.dataset_version_id)
            .where(v.dataset_id == did)
            .order_by(r.id)
        ).all()
    return [
        {
            **json.loads(row.content),
            "release_id": row.id,
            "created_at": row.created_at,
            "created_by": row.created_by,
        }
        for row in rows
    ]


def _registered_table(dv: DatasetVersion, data: Any, columns: tuple[str, ...]) -> Any:
    """The data as an Arrow table, after checking it is the registered version's content."""
    import pyarrow as pa

    from trustops.engines.sources import open_source
    from trustops.governance.registry import content_hash_of

    if data is None:
        if not dv.source or not os.path.isfile(dv.source):
            raise InputError(
                f"{dv.ref} has no readable source file to release from",
                hint="pass the registered data (a file or a frame)",
            )
        data = dv.source
    if dv.hash_method == "arrow" and isinstance(data, str | os.PathLike):
        source = open_source(str(data))
        data = pa.Table.from_batches(list(source.batches()), schema=source.schema)
    digest, _, loaded = content_hash_of(data)
    if digest != dv.content_hash:
        raise InputError(
            f"the data given is not the content of {dv.ref} (sha256 {digest[:16]}..., "
            f"registered {dv.content_hash[:16]}...)",
            hint="a release is charged to the budget of the dataset it is computed on",
        )
    source = open_source(str(loaded) if isinstance(loaded, Path) else loaded)
    if columns:
        source = source.select(list(columns))
    return pa.Table.from_batches(list(source.batches()), schema=source.schema)
