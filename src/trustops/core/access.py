"""Roles and what each may do: a pure table, checked by everything that acts for a user.

Membership is per AI system (object level): a user holds one :class:`Role` in
each system they belong to, and may act on that system only. A global
administrator (``admin``) holds the ``admin`` role's permissions on every
system, and nothing more: an administrator is not a reviewer, so cannot
approve a promotion unless also made a reviewer or compliance officer of that
system (and then never their own request; see :mod:`trustops.core.approvals`).

======================  ======  ========  ========  ==========  =====
permission              viewer  data sci  reviewer  compliance  admin
======================  ======  ========  ========  ==========  =====
system:read             x       x         x         x           x
audit:read              x       x         x         x           x
dataset:register                x         x         x           x
model:register                  x         x         x           x
evidence:record                 x         x         x           x
model:promote                   x         x         x           x
policy:evaluate                 x         x         x
approval:request                x                               x
approval:decide                           x         x
policy:override                                     x
gate:set                                            x           x
model:rollback                                      x           x
audit:checkpoint                                    x           x
system:create                                                   x
user:admin                                                      x
======================  ======  ========  ========  ==========  =====

Promotion to production additionally needs the approval gate
(:mod:`trustops.core.approvals`), whatever the role.

Example:
    >>> allows(Role.REVIEWER, Permission.APPROVAL_DECIDE)
    True
    >>> allows(Role.ADMIN, Permission.APPROVAL_DECIDE)
    False
    >>> Role("compliance_officer").label
    'compliance officer'
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = ["ROLE_PERMISSIONS", "Permission", "Role", "allows"]


class Role(StrEnum):
    """What a user is in one AI system (or, for ``admin``, everywhere)."""

    VIEWER = "viewer"
    DATA_SCIENTIST = "data_scientist"
    REVIEWER = "reviewer"
    COMPLIANCE_OFFICER = "compliance_officer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role for a person to read: ``compliance officer``."""
        return self.value.replace("_", " ")


class Permission(StrEnum):
    """One thing a role may do, named ``area:verb``."""

    SYSTEM_READ = "system:read"  # systems, datasets, models, evidence, decisions, lineage, reports
    SYSTEM_CREATE = "system:create"
    DATASET_REGISTER = "dataset:register"
    MODEL_REGISTER = "model:register"
    EVIDENCE_RECORD = "evidence:record"
    POLICY_EVALUATE = "policy:evaluate"
    MODEL_PROMOTE = "model:promote"  # production additionally needs the approval gate
    MODEL_ROLLBACK = "model:rollback"
    APPROVAL_REQUEST = "approval:request"
    APPROVAL_DECIDE = "approval:decide"
    POLICY_OVERRIDE = "policy:override"
    GATE_SET = "gate:set"  # which policy gates a system's promotion to production
    AUDIT_READ = "audit:read"  # entries, checkpoints, verify
    AUDIT_CHECKPOINT = "audit:checkpoint"
    USER_ADMIN = "user:admin"  # users, tokens, memberships
    PREDICTION_WRITE = "prediction:write"  # log predictions and labels of a system's models
    ERASURE_REQUEST = "erasure:request"  # GDPR Art. 17: find and mark the data and models
    REVIEW_REQUEST = "review:request"  # GDPR Art. 22: file a person's request for human review
    REVIEW_DECIDE = "review:decide"  # read the review queue, assign and decide requests


P = Permission
_READ = frozenset({P.SYSTEM_READ, P.AUDIT_READ})
_BUILD = frozenset(
    {P.DATASET_REGISTER, P.MODEL_REGISTER, P.EVIDENCE_RECORD, P.MODEL_PROMOTE, P.PREDICTION_WRITE}
)

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: _READ,
    Role.DATA_SCIENTIST: _READ | _BUILD | {P.POLICY_EVALUATE, P.APPROVAL_REQUEST, P.REVIEW_REQUEST},
    Role.REVIEWER: _READ
    | _BUILD
    | {P.POLICY_EVALUATE, P.APPROVAL_DECIDE, P.REVIEW_REQUEST, P.REVIEW_DECIDE},
    Role.COMPLIANCE_OFFICER: _READ
    | _BUILD
    | {
        P.POLICY_EVALUATE,
        P.APPROVAL_DECIDE,
        P.POLICY_OVERRIDE,
        P.GATE_SET,
        P.MODEL_ROLLBACK,
        P.AUDIT_CHECKPOINT,
        P.ERASURE_REQUEST,
        P.REVIEW_REQUEST,
        P.REVIEW_DECIDE,
    },
    Role.ADMIN: _READ
    | _BUILD
    | {
        P.APPROVAL_REQUEST,
        P.GATE_SET,
        P.MODEL_ROLLBACK,
        P.AUDIT_CHECKPOINT,
        P.SYSTEM_CREATE,
        P.USER_ADMIN,
        P.ERASURE_REQUEST,
    },
}
"""Each role's permissions; anything not listed is refused (deny by default)."""

del P


def allows(role: Role | str | None, permission: Permission | str) -> bool:
    """Whether ``role`` may do ``permission`` (no role, an unknown role or permission: no).

    Example:
        >>> allows("viewer", "system:read"), allows(None, "system:read"), allows("x", "y")
        (True, False, False)
    """
    try:
        return role is not None and Permission(permission) in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
