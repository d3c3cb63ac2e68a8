"""Which chats of a platform are linked to a community (adapters sync commands, check rights)."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Chat

__all__ = ["linked_chats"]


def linked_chats(session: Session, platform: str) -> list[tuple[int, str, str]]:
    """(community id, chat external id, title) of every linked chat on ``platform``."""
    rows = session.exec(select(Chat).where(Chat.platform == platform)).all()
    return [(c.community_id, c.external_id, c.title) for c in rows]
