"""pair confidence and its reason; import runs whose rows go if they fail

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_runs_community_id", "import_runs", ["community_id"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("import_id", sa.Integer(), nullable=True))
        batch.create_index("ix_messages_import_id", ["import_id"])
        batch.create_foreign_key("fk_messages_import_id", "import_runs", ["import_id"], ["id"])
    with op.batch_alter_table("qa_pairs") as batch:
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("confidence_reason", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("import_id", sa.Integer(), nullable=True))
        batch.create_index("ix_qa_pairs_import_id", ["import_id"])
        batch.create_foreign_key("fk_qa_pairs_import_id", "import_runs", ["import_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("qa_pairs") as batch:
        batch.drop_constraint("fk_qa_pairs_import_id", type_="foreignkey")
        batch.drop_index("ix_qa_pairs_import_id")
        batch.drop_column("import_id")
        batch.drop_column("confidence_reason")
        batch.drop_column("confidence")
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("fk_messages_import_id", type_="foreignkey")
        batch.drop_index("ix_messages_import_id")
        batch.drop_column("import_id")
    op.drop_index("ix_import_runs_community_id", table_name="import_runs")
    op.drop_table("import_runs")
