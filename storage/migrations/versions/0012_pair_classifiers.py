"""pair classifiers learned from moderators, per community and versioned; their settings

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pair_classifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "version", name="uq_classifier_version"),
    )
    op.create_index("ix_pair_classifiers_community_id", "pair_classifiers", ["community_id"])
    with op.batch_alter_table("communities") as batch:
        batch.add_column(
            sa.Column("classifier_refit_every", sa.Integer(), nullable=False, server_default="25")
        )
        batch.add_column(sa.Column("auto_approve_above", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("auto_approve_above")
        batch.drop_column("classifier_refit_every")
    op.drop_index("ix_pair_classifiers_community_id", table_name="pair_classifiers")
    op.drop_table("pair_classifiers")
