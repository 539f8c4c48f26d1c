"""Monitoring: predictions, labels, window results, alerts and retraining triggers.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _upgrade_predictions()
    _upgrade_monitors()


def downgrade() -> None:
    _downgrade_monitors()
    _downgrade_predictions()


# -- predictions -------------------------------------------------------------------


def _upgrade_predictions() -> None:
    pass


def _downgrade_predictions() -> None:
    pass


# -- monitors -------------------------------------------------------------------


def _upgrade_monitors() -> None:
    pass


def _downgrade_monitors() -> None:
    pass
