"""training candidates: several base models per community and per run, metrics per candidate

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_models", sa.JSON(), nullable=True))
    with op.batch_alter_table("training_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_models", sa.JSON(), nullable=True))
    with op.batch_alter_table("run_metrics", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("candidate", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.drop_constraint("uq_metric_step", type_="unique")
        batch_op.create_unique_constraint("uq_metric_step", ["run_id", "candidate", "step"])


def downgrade() -> None:
    with op.batch_alter_table("run_metrics", schema=None) as batch_op:
        batch_op.drop_constraint("uq_metric_step", type_="unique")
        batch_op.execute("DELETE FROM run_metrics WHERE candidate <> 0")
        batch_op.create_unique_constraint("uq_metric_step", ["run_id", "step"])
        batch_op.drop_column("candidate")
    with op.batch_alter_table("training_runs", schema=None) as batch_op:
        batch_op.drop_column("base_models")
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("base_models")
