"""What the live harvester keeps in memory: linked chats, their authors, each chat's window.

A chat's window is its :class:`harvest.engine.HarvestEngine` (the messages it still pairs)
and the community roles it ranks answerers by; after a restart, or when the least recently
active chats were dropped, it is rebuilt from the chat's latest stored messages (and any
older message a new one replies to). Chats and authors are cached ``cache_ttl`` seconds, so
a message costs no look-up of either.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.events import MessageEvent
from harvest.community_config import community_pairing
from harvest.community_config import question_config as community_questions
from harvest.engine import HarvestEngine, PairingConfig
from harvest.engine.scoring import Scorer, score_pair
from harvest.model import ChatMessage, Role
from harvest.questions import QuestionConfig
from storage.models import Community, Member
from storage.repo.communities import find_chat, get_or_create_member, members_of
from storage.repo.harvested import recent_messages, stored_chat_message, thread_starter

__all__ = ["ChatWindow", "HarvestMemory", "question_config"]


def question_config(community: Community) -> QuestionConfig:
    """A community's question detection: the built-in rules and its own patterns."""
    return community_questions(community.question_patterns or ())


class ChatWindow:
    """One chat's engine and the community roles it ranks answerers by."""

    __slots__ = ("community_id", "engine", "ids", "roles")

    def __init__(self, community_id: int, engine: HarvestEngine, roles: dict[str, Role]) -> None:
        self.community_id = community_id
        self.engine = engine
        self.roles = roles
        self.ids: OrderedDict[str, int] = OrderedDict()  # recent message id → stored id

    def remember_id(self, message_id: str, row_id: int) -> None:
        ids = self.ids
        ids[message_id] = row_id
        if len(ids) > 2_000:
            ids.popitem(last=False)


class HarvestMemory:
    """Linked chats, authors and chat windows of the live harvester (``Harvester``).

    ``merge_window``: seconds within which an answerer's follow-up joins their answer.
    ``window_messages``: messages each chat's engine keeps; ``restore_messages``: how many
    of a chat's latest stored messages rebuild its window after a restart; ``max_chats``:
    chat windows kept in memory (the least recently active is restored again if needed).
    ``scorers``: a community's pair scorer (its classifier's, ``bot.learning``), else
    ``scorer`` for every community.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        merge_window: float = 120.0,
        cache_ttl: float = 30.0,
        window_messages: int = 5_000,
        restore_messages: int = 500,
        max_chats: int = 1_000,
        scorer: Scorer = score_pair,
        scorers: Callable[[int], Scorer] | None = None,
    ) -> None:
        self.engine = engine
        self.merge_window = merge_window
        self.cache_ttl = cache_ttl
        self.window_messages = window_messages
        self.restore_messages = restore_messages
        self.max_chats = max_chats
        self.scorer = scorer
        self.scorers = scorers
        # (platform, chat) → (expires, chat id, community id, engine config): a linked chat
        # and its community's harvest settings, so a message costs no look-up of either.
        self._chats: dict[tuple[str, str], tuple[float, int, int, PairingConfig]] = {}
        self._windows: OrderedDict[tuple[str, str], ChatWindow] = OrderedDict()
        # (community, platform, author) → (expires, member id, role, name)
        self._members: dict[tuple[int, str, str], tuple[float, int, str, str]] = {}

    def linked(
        self, session: Session, platform: str, chat_id: str
    ) -> tuple[int, int, PairingConfig] | None:
        """(chat id, community id, engine config) of a linked chat, cached ``cache_ttl`` s."""
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
        pairing = community_pairing(
            community.question_patterns or (),
            community.reply_linking,
            PairingConfig(merge_window=self.merge_window, max_tracked=self.window_messages),
        )
        entry = (now + self.cache_ttl, chat.id or 0, chat.community_id, pairing)
        if len(self._chats) > 10_000:
            self._chats.clear()
        if hit is not None and hit[1:] != entry[1:]:
            self._windows.pop(key, None)  # re-linked or new settings: rebuild its window
        self._chats[key] = entry
        return entry[1:]

    def forget_cache(self) -> None:
        """Drop cached chats, members and windows (after re-linking a chat, changing
        patterns or roles)."""
        self._chats.clear()
        self._members.clear()
        self._windows.clear()

    def _member(self, session: Session, community_id: int, msg: ChatMessage) -> tuple[int, str]:
        """(member id, role) of the author: cached ``cache_ttl`` s, created when new."""
        key = (community_id, msg.platform, msg.author_id)
        name = msg.author_name[:255]
        hit = self._members.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now and hit[3] == name:
            return hit[1], hit[2]
        author = get_or_create_member(
            session, community_id, msg.platform, msg.author_id, name, is_bot=msg.is_bot
        )
        self._remember_members({key: (author.id or 0, author.role, name)}, now)
        return author.id or 0, author.role

    def _remember_members(
        self, found: dict[tuple[int, str, str], tuple[int, str, str]], now: float
    ) -> None:
        """Cache (member id, role, name) by (community, platform, author) for ``cache_ttl`` s."""
        if len(self._members) > 50_000:
            self._members.clear()
        expires = now + self.cache_ttl
        for key, (mid, role, name) in found.items():
            self._members[key] = (expires, mid, role, name)

    def _fetch_members(self, session: Session, events: Sequence[MessageEvent]) -> None:
        """Cache the batch's authors that are not cached: a few statements for them all."""
        now = time.monotonic()
        wanted: dict[tuple[int, str], dict[str, tuple[str, bool]]] = {}
        for event in events:
            msg = event.message
            linked = self.linked(session, msg.platform, msg.chat_id)
            if linked is None:
                continue
            key = (linked[1], msg.platform, msg.author_id)
            hit = self._members.get(key)
            name = msg.author_name[:255]
            if hit is None or hit[0] <= now or hit[3] != name:
                wanted.setdefault(key[:2], {})[msg.author_id] = (name, msg.is_bot)
        for (community_id, platform), authors in wanted.items():
            found = members_of(session, community_id, platform, authors)
            self._remember_members(
                {
                    (community_id, platform, ext): (mid, role, authors[ext][0])
                    for ext, (mid, role) in found.items()
                },
                now,
            )

    def _member_ids(self, community_id: int, platform: str) -> Callable[[str], int | None]:
        """Author id → cached member id of a community on a platform (None if not cached)."""
        members = self._members

        def find(author_id: str) -> int | None:
            hit = members.get((community_id, platform, author_id))
            return None if hit is None else hit[1]

        return find

    def _window(
        self,
        session: Session,
        msg: ChatMessage,
        chat_pk: int,
        community_id: int,
        pairing: PairingConfig,
    ) -> ChatWindow:
        """The chat's engine; built from its latest stored messages when not in memory."""
        key = (msg.platform, msg.chat_id)
        window = self._windows.get(key)
        if window is not None:
            self._windows.move_to_end(key)
            return window
        roles = {
            ext: Role(role)
            for ext, role in session.exec(
                select(Member.external_id, Member.role).where(
                    Member.community_id == community_id, col(Member.role) != Role.MEMBER
                )
            ).all()
        }
        scorer = self.scorers(community_id) if self.scorers is not None else self.scorer
        engine = HarvestEngine(pairing, roles, scorer=scorer)
        for old in recent_messages(
            session, chat_pk, msg.platform, msg.chat_id, self.restore_messages
        ):
            self._recall_context(session, engine, chat_pk, old)
            engine.feed(old)  # what it decides was decided (and stored) before
        window = self._windows[key] = ChatWindow(community_id, engine, roles)
        if len(self._windows) > self.max_chats:
            self._windows.popitem(last=False)
        return window

    @staticmethod
    def _recall_context(
        session: Session, engine: HarvestEngine, chat_pk: int, msg: ChatMessage
    ) -> None:
        """Give the engine the older stored messages ``msg`` refers to: the message it
        replies to and its thread's starter, when they left (or never were in) the window."""
        chat = msg.chat_id
        target = None if msg.is_topic_root else msg.reply_to_id
        if target is not None and not engine.knows(chat, target):
            found = stored_chat_message(session, chat_pk, msg.platform, chat, target)
            if found is not None:
                engine.recall(found)
        thread = msg.thread_id
        if thread is not None and thread != msg.message_id and not engine.has_root(chat, thread):
            starter = thread_starter(session, chat_pk, msg.platform, chat, thread)
            if starter is not None and starter.message_id != msg.message_id:
                engine.recall(starter, root=True)
