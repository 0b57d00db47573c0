"""The metrics index carries the value: a trial's best value of a metric is one index seek.

Ranking a sweep's trials by their best value (``Store.trial_page``) asks, for each trial,
the smallest or largest value of one metric; with ``value`` in the ``(trial_id, name)`` index
that is the first or last entry of an index range, read without touching the table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 18:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_metrics_trial_id_name_value", "metrics", ["trial_id", "name", "value"])
    op.drop_index("ix_metrics_trial_id_name", table_name="metrics")


def downgrade() -> None:
    op.create_index("ix_metrics_trial_id_name", "metrics", ["trial_id", "name"])
    op.drop_index("ix_metrics_trial_id_name_value", table_name="metrics")
