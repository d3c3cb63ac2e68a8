"""a community's reply linking: rules | learned | off

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.add_column(
            sa.Column(
                "reply_linking",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="rules",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("reply_linking")
