"""Initial schema: experiments, sweeps, trials, metrics, trial tags.

Revision ID: 0001
Revises:
Create Date: 2024-06-01 00:00:00

Plain SQLAlchemy types only (never import hypersweep.store.schema): a migration must keep
meaning what it meant when it was written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(255)
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("name", ID, nullable=False),
        sa.Column("created_time", TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_experiments"),
    )
    op.create_table(
        "sweeps",
        sa.Column("id", ID, nullable=False),
        sa.Column("experiment", ID, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("created_time", TIME, nullable=False),
        sa.Column("start_time", TIME, nullable=True),
        sa.Column("end_time", TIME, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("controller", ID, nullable=True),
        sa.Column("heartbeat_time", TIME, nullable=True),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sweeps"),
        sa.ForeignKeyConstraint(
            ["experiment"], ["experiments.name"], name="fk_sweeps_experiment_experiments"
        ),
    )
    op.create_index("ix_sweeps_experiment_created_time", "sweeps", ["experiment", "created_time"])
    op.create_table(
        "trials",
        sa.Column("id", ID, nullable=False),
        sa.Column("sweep_id", ID, nullable=False),
        sa.Column("trial_index", sa.Integer(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_time", TIME, nullable=False),
        sa.Column("start_time", TIME, nullable=True),
        sa.Column("end_time", TIME, nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("termination_reason", ID, nullable=True),
        sa.Column("handle", sa.Text(), nullable=True),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("resumed_from", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trials"),
        sa.UniqueConstraint("sweep_id", "trial_index", name="uq_trials_sweep_id_trial_index"),
        sa.ForeignKeyConstraint(
            ["sweep_id"], ["sweeps.id"], name="fk_trials_sweep_id_sweeps", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "metrics",
        sa.Column("trial_id", ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("pos", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("time", TIME, nullable=False),
        sa.PrimaryKeyConstraint("trial_id", "seq", "pos", name="pk_metrics"),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_metrics_trial_id_trials", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_metrics_trial_id_name", "metrics", ["trial_id", "name"])
    op.create_table(
        "trial_tags",
        sa.Column("trial_id", ID, nullable=False),
        sa.Column("name", ID, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("trial_id", "name", name="pk_trial_tags"),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_trial_tags_trial_id_trials", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("trial_tags")
    op.drop_index("ix_metrics_trial_id_name", table_name="metrics")
    op.drop_table("metrics")
    op.drop_table("trials")
    op.drop_index("ix_sweeps_experiment_created_time", table_name="sweeps")
    op.drop_table("sweeps")
    op.drop_table("experiments")
