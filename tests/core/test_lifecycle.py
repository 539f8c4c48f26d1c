"""The stage table: every legal transition, every illegal one refused, promotion, rollback."""

from __future__ import annotations

import itertools

import pytest

from trustops.core.lifecycle import (
    STAGES,
    TRANSITIONS,
    IllegalTransitionError,
    plan_rollback,
    plan_transition,
)
from trustops.errors import InputError


@pytest.mark.parametrize(("source", "target"), list(itertools.product(STAGES, STAGES)))
def test_every_pair_of_stages(source: str, target: str) -> None:
    stages = {"v1": source}
    action = TRANSITIONS.get((source, target))
    if action is None or action == "rollback":
        with pytest.raises(IllegalTransitionError, match=f"from {source} to {target}") as err:
            plan_transition(stages, "v1", target)
        assert err.value.status == 409 and err.value.hint
    else:
        (t,) = plan_transition(stages, "v1", target)
        assert (t.version, t.source, t.target, t.action) == ("v1", source, target, action)
        assert t.to_dict() == {"version": "v1", "from": source, "to": target, "action": action}


def test_promotion_supersedes_the_production_version() -> None:
    stages = {"v1": "archived", "v2": "production", "v3": "staging"}
    plan = plan_transition(stages, "v3", "production")
    assert [(t.version, t.target, t.action) for t in plan] == [
        ("v2", "archived", "supersede"),
        ("v3", "production", "promote"),
    ]
    both = plan_transition(stages, "v3", "production", single_production=False)
    assert [(t.version, t.action) for t in both] == [("v3", "promote")]


def test_rollback_restores_the_previous_production_version() -> None:
    stages = {"v1": "archived", "v2": "archived", "v3": "production"}
    plan = plan_rollback(stages, ["v1", "v2", "v3"])
    assert [(t.version, t.source, t.target) for t in plan] == [
        ("v3", "production", "archived"),
        ("v2", "archived", "production"),
    ]
    with pytest.raises(InputError, match="no earlier production version"):
        plan_rollback({"v1": "production"}, ["v1"])
    with pytest.raises(InputError, match="exactly one version in production"):
        plan_rollback({"v1": "archived"}, ["v1"])
    with pytest.raises(InputError, match="does not end with"):
        plan_rollback({"v1": "archived", "v2": "production"}, ["v2", "v1"])
    with pytest.raises(IllegalTransitionError):
        plan_rollback({"v1": "staging", "v2": "production"}, ["v1", "v2"])


def test_bad_input() -> None:
    with pytest.raises(InputError, match="'v9' does not exist"):
        plan_transition({"v1": "staging"}, "v9", "production")
    with pytest.raises(InputError, match="unknown stage 'live'"):
        plan_transition({"v1": "staging"}, "v1", "live")
    with pytest.raises(InputError, match="unknown stage 'beta'"):
        plan_transition({"v1": "beta"}, "v1", "production")
