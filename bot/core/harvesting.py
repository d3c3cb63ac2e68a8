"""The live harvesting path: one event at a time, every bit of state in the database."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.core.events import DeleteEvent, EditEvent, MessageEvent
from harvest.dedup import content_hash
from harvest.linear_regex import usable_patterns
from harvest.model import ChatMessage, PairedAnswer, Role
from harvest.pairing import answer_for_reply, should_merge
from harvest.questions import QuestionConfig, is_question
from storage.db import session_scope
from storage.models import (
    Chat,
    Community,
    Member,
    Message,
    PairMessage,
    PairStatus,
    QAPair,
    utcnow,
)
from storage.repo.communities import find_chat, get_or_create_member
from storage.repo.messages import delete_message, edit_message, get_message, store_message
from storage.repo.pairs import pair_for_message, split_for_hash

__all__ = ["HarvestOutcome", "Harvester", "source_key"]


@dataclass(frozen=True, slots=True)
class HarvestOutcome:
    """What one event did: ``kind`` is ignored | duplicate | stored | paired | merged |
    edited | deleted; ``pair_ids`` the pairs it created or touched."""

    kind: str
    message_id: int | None = None
    is_question: bool = False
    pair_ids: tuple[int, ...] = ()


def source_key(platform: str, pair: PairedAnswer) -> str:
    """The key that makes a pair unique in its community (the importer uses the same)."""
    return f"{platform}:{pair.chat_id}:{pair.question_id}:{pair.answer_ids[0]}"


def _question_config(community: Community) -> QuestionConfig:
    return QuestionConfig(extra_patterns=usable_patterns(community.question_patterns or ()))


def _as_chat_message(session: Session, row: Message, platform: str, chat: str) -> ChatMessage:
    author = session.get(Member, row.author_id) if row.author_id is not None else None
    return ChatMessage(
        platform=platform,
        chat_id=chat,
        message_id=row.external_id,
        author_id=author.external_id if author else "",
        author_name=author.display_name if author else "",
        text=row.text,
        sent_at=row.sent_at,
        reply_to_id=row.reply_to_external_id,
        thread_id=row.thread_external_id,
        is_bot=row.is_bot,
        has_media=row.has_media,
    )


class Harvester:
    """Stores messages of chats that belong to a community and turns replies into pairs.

    ``merge_window``: seconds within which an answerer's follow-up joins their pending pair.
    """

    def __init__(
        self, engine: Engine, *, merge_window: float = 120.0, cache_ttl: float = 30.0
    ) -> None:
        self.engine = engine
        self.merge_window = merge_window
        self.cache_ttl = cache_ttl
        # (platform, chat) → (expires, chat id, community id, question config): a linked chat
        # and its community's question patterns, so a message costs no look-up of either.
        self._chats: dict[tuple[str, str], tuple[float, int, int, QuestionConfig]] = {}

    def linked(
        self, session: Session, platform: str, chat_id: str
    ) -> tuple[int, int, QuestionConfig] | None:
        """(chat id, community id, question config) of a linked chat, cached ``cache_ttl`` s."""
        key = (platform, chat_id)
        hit = self._chats.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1:]
        chat = find_chat(session, platform, chat_id)
        if chat is None:
            self._chats.pop(key, None)
            return None
        community = session.get(Community, chat.community_id)
        assert community is not None
        entry = (now + self.cache_ttl, chat.id or 0, chat.community_id, _question_config(community))
        if len(self._chats) > 10_000:
            self._chats.clear()
        self._chats[key] = entry
        return entry[1:]

    def forget_cache(self) -> None:
        """Drop cached chats (after re-linking a chat or changing question patterns)."""
        self._chats.clear()

    def handle_message(self, event: MessageEvent) -> HarvestOutcome:
        """Store a new message; pair it with the question it replies to, or merge it."""
        with session_scope(self.engine) as session:
            return self._handle(session, event)

    def handle_messages(self, events: Sequence[MessageEvent]) -> list[HarvestOutcome | Exception]:
        """``handle_message`` for many, in order, in one transaction (what a busy chat needs).

        Each message runs in its own savepoint: one that fails (its exception is returned in
        its place) leaves the others stored.
        """
        out: list[HarvestOutcome | Exception] = []
        with session_scope(self.engine) as session:
            for event in events:
                try:
                    with session.begin_nested():
                        out.append(self._handle(session, event))
                except Exception as exc:  # reported to that message's caller, not the batch's
                    out.append(exc)
        return out

    def _handle(self, session: Session, event: MessageEvent) -> HarvestOutcome:
        msg = event.message
        linked = self.linked(session, msg.platform, msg.chat_id)
        if linked is None:
            return HarvestOutcome("ignored")
        chat_pk, community_id, config = linked
        author = get_or_create_member(
            session,
            community_id,
            msg.platform,
            msg.author_id,
            msg.author_name[:255],
            is_bot=msg.is_bot,
        )
        flagged = bool(msg.text) and not msg.is_bot and is_question(msg.text, config)
        row, created = store_message(
            session,
            Message(
                chat_id=chat_pk,
                platform=msg.platform,
                external_id=msg.message_id,
                author_id=author.id,
                text=msg.text,
                reply_to_external_id=msg.reply_to_id,
                thread_external_id=msg.thread_id,
                sent_at=msg.sent_at,
                edited_at=msg.edited_at,
                is_question=flagged,
                is_bot=msg.is_bot,
                has_media=msg.has_media,
            ),
        )
        if not created:
            return HarvestOutcome("duplicate", row.id, row.is_question)
        merged = self._merge(session, row, msg)
        if merged is not None:
            return HarvestOutcome("merged", row.id, flagged, (merged,))
        paired = self._pair(session, community_id, row, msg, author, config)
        if paired is not None:
            return HarvestOutcome("paired", row.id, flagged, (paired,))
        return HarvestOutcome("stored", row.id, flagged)

    def _pair(
        self,
        session: Session,
        community_id: int,
        row: Message,
        msg: ChatMessage,
        author: Member,
        config: QuestionConfig,
    ) -> int | None:
        if msg.reply_to_id is None:
            return None
        question = get_message(session, row.chat_id, msg.reply_to_id)
        if question is None or question.deleted:
            return None
        starts_thread = question.thread_external_id == question.external_id
        if not (question.is_question or starts_thread):
            return None
        roles = {author.external_id: Role(author.role)}
        q_msg = _as_chat_message(session, question, msg.platform, msg.chat_id)
        found = answer_for_reply(q_msg, msg, roles, config)
        if found is None:
            return None
        chash = content_hash(found.question_text, found.answer_text)
        key = source_key(msg.platform, found)
        clash = session.exec(
            select(QAPair.id).where(
                QAPair.community_id == community_id,
                (QAPair.content_hash == chash) | (QAPair.source_key == key),
            )
        ).first()
        if clash is not None:
            return None
        pair = QAPair(
            community_id=community_id,
            chat_id=row.chat_id,
            source_key=key,
            question_message_id=question.id,
            question_text=found.question_text,
            answer_text=found.answer_text,
            asker_id=question.author_id,
            answerer_id=author.id,
            method=str(found.method),
            score=found.score,
            content_hash=chash,
            split=split_for_hash(chash),
        )
        session.add(pair)
        session.flush()
        session.add(PairMessage(pair_id=pair.id or 0, message_id=row.id or 0, position=0))
        session.flush()
        return pair.id

    def _merge(self, session: Session, row: Message, msg: ChatMessage) -> int | None:
        prev = session.exec(
            select(Message)
            .where(
                Message.chat_id == row.chat_id,
                Message.author_id == row.author_id,
                Message.id != row.id,
                col(Message.deleted).is_(False),
                Message.sent_at <= msg.sent_at,
            )
            .order_by(col(Message.sent_at).desc(), col(Message.id).desc())
            .limit(1)
        ).first()
        if prev is None:
            return None
        prev_msg = _as_chat_message(session, prev, msg.platform, msg.chat_id)
        if not should_merge(prev_msg, msg, self.merge_window):
            return None
        pair = pair_for_message(session, prev.id or 0)
        if pair is None or pair.status != PairStatus.PENDING:
            return None
        last = session.exec(
            select(func.max(PairMessage.position)).where(PairMessage.pair_id == pair.id)
        ).one()
        session.add(PairMessage(pair_id=pair.id or 0, message_id=row.id or 0, position=last + 1))
        pair.answer_text = f"{pair.answer_text}\n{msg.text.strip()}"
        _rehash(pair, resplit=True)
        session.add(pair)
        session.flush()
        return pair.id

    def handle_edit(self, event: EditEvent) -> HarvestOutcome:
        """Update a stored message's text, question flag and the pairs made of it."""
        with session_scope(self.engine) as session:
            found = _stored(session, event.platform, event.chat_id, event.message_id)
            if found is None:
                return HarvestOutcome("ignored")
            chat, row = found
            pairs = edit_message(
                session, chat.id or 0, event.message_id, event.text, event.edited_at
            )
            community = session.get(Community, chat.community_id)
            assert community is not None
            row.is_question = bool(event.text) and is_question(
                event.text, _question_config(community)
            )
            session.add(row)
            for pair in pairs:
                _rehash(pair)
                session.add(pair)
            session.flush()
            return HarvestOutcome(
                "edited", row.id, row.is_question, tuple(p.id or 0 for p in pairs)
            )

    def handle_delete(self, event: DeleteEvent) -> HarvestOutcome:
        """Mark a stored message deleted; its pairs leave every dataset."""
        with session_scope(self.engine) as session:
            found = _stored(session, event.platform, event.chat_id, event.message_id)
            if found is None:
                return HarvestOutcome("ignored")
            chat, row = found
            pairs = delete_message(session, chat.id or 0, event.message_id)
            return HarvestOutcome(
                "deleted", row.id, row.is_question, tuple(p.id or 0 for p in pairs)
            )


def _rehash(pair: QAPair, *, resplit: bool = False) -> None:
    """Recompute the content hash; only a pending pair may move between train and holdout."""
    pair.content_hash = content_hash(pair.question_text, pair.answer_text)
    if resplit and pair.status == PairStatus.PENDING:
        pair.split = split_for_hash(pair.content_hash)
    pair.updated_at = utcnow()


def _stored(
    session: Session, platform: str, chat_external_id: str, message_external_id: str
) -> tuple[Chat, Message] | None:
    """The chat and stored message an edit or delete refers to, if fanqa has both."""
    chat = find_chat(session, platform, chat_external_id)
    if chat is None:
        return None
    row = get_message(session, chat.id or 0, message_external_id)
    return None if row is None else (chat, row)
