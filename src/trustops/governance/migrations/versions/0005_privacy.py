"""Privacy: data-usage records, subject index, erasure requests, privacy budgets, keys.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _upgrade_protection()
    _upgrade_subjects()


def downgrade() -> None:
    _downgrade_subjects()
    _downgrade_protection()


# -- protection -------------------------------------------------------------------


def _upgrade_protection() -> None:
    pass


def _downgrade_protection() -> None:
    pass


# -- subjects -------------------------------------------------------------------


def _upgrade_subjects() -> None:
    pass


def _downgrade_subjects() -> None:
    pass
