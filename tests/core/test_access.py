"""The role table: who may do what, deny by default."""

from __future__ import annotations

import pytest

from trustops.core.access import ROLE_PERMISSIONS, Permission, Role, allows

P = Permission
EXPECTED = {
    P.SYSTEM_READ: {"viewer", "data_scientist", "reviewer", "compliance_officer", "admin"},
    P.AUDIT_READ: {"viewer", "data_scientist", "reviewer", "compliance_officer", "admin"},
    P.DATASET_REGISTER: {"data_scientist", "reviewer", "compliance_officer", "admin"},
    P.MODEL_REGISTER: {"data_scientist", "reviewer", "compliance_officer", "admin"},
    P.EVIDENCE_RECORD: {"data_scientist", "reviewer", "compliance_officer", "admin"},
    P.MODEL_PROMOTE: {"data_scientist", "reviewer", "compliance_officer", "admin"},
    P.POLICY_EVALUATE: {"data_scientist", "reviewer", "compliance_officer"},
    P.APPROVAL_REQUEST: {"data_scientist", "admin"},
    P.APPROVAL_DECIDE: {"reviewer", "compliance_officer"},
    P.POLICY_OVERRIDE: {"compliance_officer"},
    P.GATE_SET: {"compliance_officer", "admin"},
    P.MODEL_ROLLBACK: {"compliance_officer", "admin"},
    P.AUDIT_CHECKPOINT: {"compliance_officer", "admin"},
    P.SYSTEM_CREATE: {"admin"},
    P.USER_ADMIN: {"admin"},
    P.PREDICTION_WRITE: {"data_scientist", "reviewer", "compliance_officer", "admin"},
    P.ERASURE_REQUEST: {"compliance_officer", "admin"},
    P.REVIEW_REQUEST: {"data_scientist", "reviewer", "compliance_officer"},
    P.REVIEW_DECIDE: {"reviewer", "compliance_officer"},
}


def test_the_table_covers_every_role_and_permission() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert set(EXPECTED) == set(Permission)


@pytest.mark.parametrize("permission", list(Permission))
@pytest.mark.parametrize("role", list(Role))
def test_role_permission_matrix(role: Role, permission: Permission) -> None:
    assert allows(role, permission) == (role.value in EXPECTED[permission])
    assert allows(role.value, permission.value) == allows(role, permission)


@pytest.mark.parametrize(
    ("role", "permission"),
    [(None, "system:read"), ("root", "system:read"), ("admin", "system:delete"), ("", "")],
)
def test_unknown_roles_and_permissions_are_refused(role: str | None, permission: str) -> None:
    assert allows(role, permission) is False


def test_nobody_both_requests_and_overrides_alone() -> None:
    """Separation of duties: the role that submits never also overrides the policy."""
    for role in Role:
        assert not (allows(role, P.APPROVAL_REQUEST) and allows(role, P.POLICY_OVERRIDE))
        assert not (allows(role, P.APPROVAL_REQUEST) and allows(role, P.APPROVAL_DECIDE))
