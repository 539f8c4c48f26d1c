"""The privacy-budget ledger on SQLite and PostgreSQL: charging, refusal, atomicity, audit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from trustops.errors import InputError, UsageError
from trustops.governance import Registry
from trustops.governance import schema as t
from trustops.privacy.budget import (
    BudgetExhaustedError,
    NoBudgetError,
    budget,
    release,
    releases,
    set_budget,
)

DATA = pa.table({"race": ["A", "B", "A", "C"] * 25, "hired": [1, 0, 0, 1] * 25})


@pytest.fixture
def reg(registry: Registry) -> Registry:
    registry.create_system("hiring")
    registry.register_dataset(DATA, system="hiring", name="decisions")
    return registry


def _state(registry: Registry) -> tuple[int, int, Any]:
    with registry.db.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(t.dp_releases)).scalar()
        ledger = conn.execute(sa.select(t.privacy_budgets)).all()
    return int(count or 0), registry.audit.size(), [tuple(r) for r in ledger]


def _rates(registry: Registry, epsilon: float, **kw: Any) -> Any:
    return release(
        registry,
        DATA,
        dataset="decisions",
        system="hiring",
        statistic="selection_rates",
        group_column="race",
        outcome_column="hired",
        categories=["A", "B", "C"],
        epsilon=epsilon,
        **kw,
    )


def test_no_budget_releases_nothing(reg: Registry) -> None:
    before = _state(reg)
    with pytest.raises(NoBudgetError, match="no privacy budget is set for hiring/decisions"):
        _rates(reg, 0.5)
    assert _state(reg) == before


def test_releases_are_charged_recorded_and_audited(reg: Registry) -> None:
    set_budget(reg, "decisions", system="hiring", epsilon=1.0, reason="annual publication")
    first = _rates(reg, 0.5)
    assert first.release_id is not None and first.dataset == "hiring/decisions@1"
    left = budget(reg, "decisions", system="hiring")
    assert left is not None
    assert left.epsilon_spent == pytest.approx(first.epsilon)
    assert left.epsilon_remaining == pytest.approx(1.0 - first.epsilon)
    [stored] = releases(reg, "decisions", system="hiring")
    assert stored["release_id"] == first.release_id
    assert stored["values"] == [v.to_dict() for v in first.values]
    entries = [e for e in reg.audit.entries() if e.action == "dp.released"]
    assert len(entries) == 1
    payload = entries[0].payload
    assert payload["release"]["epsilon"] == first.epsilon
    assert payload["budget"]["epsilon_spent"] == pytest.approx(first.epsilon)
    assert any(e.action == "dp.budget_set" for e in reg.audit.entries())
    assert reg.audit.verify().ok


def test_exhausted_budget_refuses_and_changes_nothing(reg: Registry) -> None:
    set_budget(reg, "decisions", system="hiring", epsilon=1.0)
    _rates(reg, 0.75)
    before = _state(reg)
    with pytest.raises(BudgetExhaustedError, match=r"exhausted.*nothing was released"):
        _rates(reg, 0.5)
    assert _state(reg) == before
    _rates(reg, 0.25)  # what is left can still be spent, exactly
    left = budget(reg, "decisions", system="hiring")
    assert left is not None and left.epsilon_remaining == pytest.approx(0.0, abs=1e-9)


def test_delta_is_charged_too(reg: Registry) -> None:
    set_budget(reg, "decisions", system="hiring", epsilon=10.0, delta=1e-6)
    r = _rates(reg, 1.0, delta=1e-6)
    assert r.mechanism == "gaussian" and r.delta == 1e-6
    with pytest.raises(BudgetExhaustedError, match="delta"):
        _rates(reg, 1.0, delta=1e-6)


def test_budget_cannot_go_below_spent(reg: Registry) -> None:
    set_budget(reg, "decisions", system="hiring", epsilon=1.0)
    _rates(reg, 0.5)
    with pytest.raises(UsageError, match="cannot go below what is spent"):
        set_budget(reg, "decisions", system="hiring", epsilon=0.25)
    raised = set_budget(reg, "decisions", system="hiring", epsilon=2.0)
    assert raised.epsilon_remaining == pytest.approx(2.0 - 0.5, abs=1e-6)
    with pytest.raises(InputError, match="epsilon must be a number >= 0"):
        set_budget(reg, "decisions", system="hiring", epsilon=-1)


def test_other_data_than_the_registered_version_is_refused(reg: Registry) -> None:
    set_budget(reg, "decisions", system="hiring", epsilon=1.0)
    before = _state(reg)
    other = DATA.slice(0, 10)
    with pytest.raises(InputError, match="not the content of decisions@1"):
        release(reg, other, dataset="decisions", system="hiring", statistic="count", epsilon=0.1)
    assert _state(reg) == before


def test_ll144_release_is_refused_before_anything(reg: Registry) -> None:
    set_budget(reg, "decisions", system="hiring", epsilon=1.0)
    before = _state(reg)
    with pytest.raises(UsageError, match="Local Law 144"):
        _rates(reg, 0.5, report="ll144")
    assert _state(reg) == before


def test_releases_are_append_only(reg: Registry) -> None:
    set_budget(reg, "decisions", system="hiring", epsilon=1.0)
    _rates(reg, 0.5)
    for statement in (t.dp_releases.update().values(epsilon=0.0), t.dp_releases.delete()):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), reg.db.engine.begin() as conn:
            conn.execute(statement)


def test_concurrent_releases_cannot_overdraw(open_registry: Callable[..., Registry]) -> None:
    """Two processes' worth of registries race for a budget that fits only one release."""
    first = open_registry()
    first.create_system("hiring")
    first.register_dataset(DATA, system="hiring", name="decisions")
    set_budget(first, "decisions", system="hiring", epsilon=1.0)
    registries = [open_registry(actor=f"analyst{i}") for i in range(4)]
    barrier = threading.Barrier(len(registries))
    outcomes: list[str] = []

    def race(registry: Registry) -> None:
        barrier.wait()
        try:
            _rates(registry, 0.6)
            outcomes.append("released")
        except BudgetExhaustedError:
            outcomes.append("refused")

    threads = [threading.Thread(target=race, args=(r,)) for r in registries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "released"]
    left = budget(first, "decisions", system="hiring")
    assert left is not None and left.epsilon_spent == pytest.approx(0.6, abs=1e-6)
    assert len(releases(first, "decisions", system="hiring")) == 1
    assert first.audit.verify().ok


def test_personal_data_needs_a_permitted_purpose_and_the_read_is_recorded(
    registry: Registry,
) -> None:
    from trustops.governance.usage import PurposeError, uses

    registry.create_system("hiring")
    registry.register_dataset(
        DATA, system="hiring", name="people", personal_data=True, lawful_basis="consent",
        purposes=["public statistics"],
    )  # fmt: skip
    set_budget(registry, "people", system="hiring", epsilon=1.0)
    before = _state(registry)
    for purpose in (None, "marketing"):
        with pytest.raises(PurposeError):
            release(registry, DATA, dataset="people", system="hiring", statistic="count",
                    epsilon=0.5, purpose=purpose)  # fmt: skip
    assert _state(registry) == before
    r = release(registry, DATA, dataset="people", system="hiring", statistic="count",
                epsilon=0.5, purpose="public statistics")  # fmt: skip
    [use] = uses(registry, system="hiring")
    assert (use.use, use.purpose, use.used_by) == (
        "release",
        "public statistics",
        f"dp_release:{r.release_id}",
    )
