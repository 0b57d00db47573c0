"""Each trial keeps its best values of its sweep's primary metric beside it.

``sweeps.primary_metric`` names the metric a sweep's config ranks its trials by (its first
objective); ``trials.best_low`` and ``trials.best_high`` hold a trial's smallest and largest
numeric, non-NaN value of it. Listing, ranking and exporting a sweep's trials by that metric
then read them from the trial's row, where they sought one metrics index entry per trial
(half the cost of exporting 100,000 trials, and every trial scored to show the best one).

The upgrade fills them in for the sweeps and trials already stored: the metric from each
sweep's config (both forms of it), the values from the trial's metric points.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 23:50:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _primary_metric(text: str) -> str | None:
    # as hypersweep.store.codec.primary_metric reads it today (a migration must not change
    # with the code after it): the first objective, or the first release's objective
    try:
        config: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(config, dict):
        return None
    objectives = config.get("objectives")
    if isinstance(objectives, list) and objectives and isinstance(objectives[0], dict):
        name = objectives[0].get("metric")
    else:
        objective = config.get("objective")
        name = objective.get("primary_metric") if isinstance(objective, dict) else None
    return name if isinstance(name, str) else None


def upgrade() -> None:
    op.add_column("sweeps", sa.Column("primary_metric", sa.Text(), nullable=True))
    op.add_column("trials", sa.Column("best_low", sa.Double(), nullable=True))
    op.add_column("trials", sa.Column("best_high", sa.Double(), nullable=True))
    conn = op.get_bind()
    named = [{"sid": sid, "name": name}
             for sid, config in conn.execute(sa.text("SELECT id, config FROM sweeps"))
             if (name := _primary_metric(config)) is not None]
    if not named:
        return
    conn.execute(sa.text("UPDATE sweeps SET primary_metric = :name WHERE id = :sid"), named)
    best = ("(SELECT {}(m.value) FROM metrics m WHERE m.trial_id = trials.id"
            " AND m.name = (SELECT s.primary_metric FROM sweeps s WHERE s.id = trials.sweep_id)"
            " AND m.value IS NOT NULL)")
    conn.execute(sa.text(
        f"UPDATE trials SET best_low = {best.format('min')}, best_high = {best.format('max')}"
        " WHERE sweep_id IN (SELECT id FROM sweeps WHERE primary_metric IS NOT NULL)"))


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("best_high")
        batch.drop_column("best_low")
    with op.batch_alter_table("sweeps") as batch:
        batch.drop_column("primary_metric")
