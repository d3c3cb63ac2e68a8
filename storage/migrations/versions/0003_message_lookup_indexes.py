"""message look-up indexes for the live harvester

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_chat_author_sent", "messages", ["chat_id", "author_id", "sent_at"])
    op.create_index("ix_messages_chat_reply", "messages", ["chat_id", "reply_to_external_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_chat_reply", table_name="messages")
    op.drop_index("ix_messages_chat_author_sent", table_name="messages")
