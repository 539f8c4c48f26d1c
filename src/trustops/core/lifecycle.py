"""Model-version stages and their transitions, as a table (the shape of h11's state machine).

A model version is in one of four stages::

    development ──stage──▶ staging ──promote──▶ production ──archive──▶ archived
         ▲                    │                     │                      │
         └──────demote────────┘◀──────demote────────┘                      │
                                                    ▲──────rollback────────┘

``TRANSITIONS`` maps ``(from, to)`` to the action's name; anything else is an
:class:`IllegalTransitionError` naming both stages and the legal ways out.
With ``single_production`` (the default), promoting a version moves the
current production version of the same system to ``archived`` in the same
plan ("superseded"), and :func:`plan_rollback` restores the version that was
in production before the current one ("rollback"), archiving the current one.
The functions only *plan*: they return the transitions; the service layer
applies them and their audit entries in one transaction.

Example:
    >>> stages = {"v1": "production", "v2": "staging"}
    >>> plan = plan_transition(stages, "v2", "production")
    >>> [(t.version, t.source, t.target, t.action) for t in plan]
    [('v1', 'production', 'archived', 'supersede'), ('v2', 'staging', 'production', 'promote')]
    >>> plan = plan_rollback({"v1": "archived", "v2": "production"}, ["v1", "v2"])
    >>> [(t.version, t.action) for t in plan]
    [('v2', 'rollback'), ('v1', 'rollback')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trustops.errors import InputError

__all__ = [
    "STAGES",
    "TRANSITIONS",
    "IllegalTransitionError",
    "Transition",
    "plan_rollback",
    "plan_transition",
]

STAGES = ("development", "staging", "production", "archived")

TRANSITIONS: dict[tuple[str, str], str] = {
    ("development", "staging"): "stage",
    ("development", "archived"): "archive",
    ("staging", "production"): "promote",
    ("staging", "development"): "demote",
    ("staging", "archived"): "archive",
    ("production", "staging"): "demote",
    ("production", "archived"): "archive",
    ("archived", "production"): "rollback",
}


class IllegalTransitionError(InputError):
    """A stage change the lifecycle table does not allow."""

    status = 409

    def __init__(self, version: str, source: str, target: str) -> None:
        legal = sorted(
            t for (s, t) in TRANSITIONS if s == source and TRANSITIONS[s, t] != "rollback"
        )
        hint = (
            f"from {source} it can go to: {', '.join(legal)}"
            if legal
            else (f"an {source} version only returns to production by a rollback")
        )
        super().__init__(f"version {version!r} cannot go from {source} to {target}", hint=hint)
        self.version, self.source, self.target = version, source, target


@dataclass(frozen=True, slots=True)
class Transition:
    """One planned stage change: ``version`` from ``source`` to ``target`` by ``action``."""

    version: str
    source: str
    target: str
    action: str

    def to_dict(self) -> dict[str, str]:
        return {
            "version": self.version,
            "from": self.source,
            "to": self.target,
            "action": self.action,
        }


def _stage_of(stages: Mapping[str, str], version: str) -> str:
    if version not in stages:
        raise InputError(f"version {version!r} does not exist", hint="register it first")
    stage = stages[version]
    if stage not in STAGES:
        raise InputError(f"version {version!r} is in an unknown stage {stage!r}")
    return stage


def plan_transition(
    stages: Mapping[str, str],
    version: str,
    target: str,
    *,
    single_production: bool = True,
) -> list[Transition]:
    """The transitions that move ``version`` to ``target`` (see the module docstring).

    ``stages`` maps every version of one AI system to its stage. Moving a
    version to the stage it is in is an error (nothing would be recorded).
    """
    if target not in STAGES:
        raise InputError(f"unknown stage {target!r}", hint=f"stages: {', '.join(STAGES)}")
    source = _stage_of(stages, version)
    action = TRANSITIONS.get((source, target))
    if action is None or action == "rollback":  # rollback only through plan_rollback
        raise IllegalTransitionError(version, source, target)
    plan = []
    if target == "production" and single_production:
        plan += [
            Transition(v, "production", "archived", "supersede")
            for v, s in sorted(stages.items())
            if s == "production" and v != version
        ]
    plan.append(Transition(version, source, target, action))
    return plan


def plan_rollback(stages: Mapping[str, str], production_history: Sequence[str]) -> list[Transition]:
    """Put back the version that was in production before the current one.

    ``production_history`` lists the versions in the order they entered
    production (oldest first); the last one must be in production now, and
    the previous distinct one is restored from ``archived``.
    """
    current = [v for v, s in stages.items() if s == "production"]
    if len(current) != 1:
        raise InputError(f"rollback needs exactly one version in production, found {len(current)}")
    now = current[0]
    if not production_history or production_history[-1] != now:
        raise InputError(
            f"the production history does not end with {now!r}, the version in production"
        )
    previous = next((v for v in reversed(production_history[:-1]) if v != now), None)
    if previous is None:
        raise InputError(f"no earlier production version to roll back to from {now!r}")
    if _stage_of(stages, previous) != "archived":
        raise IllegalTransitionError(previous, stages[previous], "production")
    return [
        Transition(now, "production", "archived", "rollback"),
        Transition(previous, "archived", "production", "rollback"),
    ]
