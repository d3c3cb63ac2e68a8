"""drop ix_messages_chat_author_sent: no query uses it since the engine pairs in memory

It served the SQL pairing of round 1 (an answerer's previous message). The harvest engine
keeps that in its window, so the index only cost every message insert (about 6 % of an
import's CPU on 200k messages).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_messages_chat_author_sent", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_chat_author_sent", "messages", ["chat_id", "author_id", "sent_at"])
