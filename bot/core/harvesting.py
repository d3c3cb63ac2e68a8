"""The live harvesting path: each chat's engine window in memory, its decisions stored.

Pairing is :class:`harvest.engine.HarvestEngine`'s, the same engine ``fanqa import``
feeds; the database records what it decided and, after a restart, gives each chat's
window back (its latest messages, and any older message a new one replies to).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.events import DeleteEvent, EditEvent, MessageEvent
from bot.core.harvest_rows import StagedMessage, message_row, outcome_of
from bot.core.outcomes import HarvestOutcome
from harvest.engine import (
    DecisionKind,
    HarvestEngine,
    PairingConfig,
    decide_delete,
    decide_edit,
)
from harvest.engine.edits import EDITED_AFTER_APPROVAL
from harvest.engine.scoring import Scorer, score_pair
from harvest.linear_regex import usable_patterns
from harvest.model import ChatMessage, PairedAnswer, Role
from harvest.questions import QuestionConfig, is_question
from storage.db import session_scope
from storage.models import Community, Member
from storage.repo.communities import find_chat, get_or_create_member, members_of
from storage.repo.harvested import (
    apply_change,
    recent_messages,
    stored_chat_message,
    stored_pair,
    thread_starter,
)
from storage.repo.harvested import source_key as _source_key
from storage.repo.messages import (
    delete_message,
    edit_message,
    get_message,
    insert_messages,
    pairs_of_message,
    stored_message,
)
from storage.repo.pair_batch import PairBatch

__all__ = ["HarvestOutcome", "Harvester", "source_key"]


def source_key(platform: str, pair: PairedAnswer) -> str:
    """The key that makes a pair unique in its community (the importer uses the same)."""
    return _source_key(platform, (pair.chat_id, pair.question_id, pair.answer_ids[0]))


def _question_config(community: Community) -> QuestionConfig:
    return QuestionConfig(extra_patterns=usable_patterns(community.question_patterns or ()))


class _Window:
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


class Harvester:
    """Stores messages of chats that belong to a community and pairs them with the engine.

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
        # (platform, chat) → (expires, chat id, community id, question config): a linked chat
        # and its community's question patterns, so a message costs no look-up of either.
        self._chats: dict[tuple[str, str], tuple[float, int, int, QuestionConfig]] = {}
        self._windows: OrderedDict[tuple[str, str], _Window] = OrderedDict()
        # (community, platform, author) → (expires, member id, role, name)
        self._members: dict[tuple[int, str, str], tuple[float, int, str, str]] = {}

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
        if hit is not None and hit[1:] != entry[1:]:
            self._windows.pop(key, None)  # re-linked or new patterns: rebuild its window
        self._chats[key] = entry
        return entry[1:]

    def forget_cache(self) -> None:
        """Drop cached chats, members and windows (after re-linking a chat, changing
        patterns or roles)."""
        self._chats.clear()
        self._members.clear()
        self._windows.clear()

    # -- messages -------------------------------------------------------------------------

    def handle_message(self, event: MessageEvent) -> HarvestOutcome:
        """Store a new message and write what the engine decided about it."""
        [outcome] = self.handle_messages([event])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def handle_messages(self, events: Sequence[MessageEvent]) -> list[HarvestOutcome | Exception]:
        """``handle_message`` for many, in order, in one transaction (what a busy chat needs).

        The batch first runs as one plain transaction (no savepoint per message). Should any
        message fail, that transaction is rolled back, what the windows learned from it is
        dropped, and the batch runs again with each message in its own savepoint: the one
        that fails (its exception is returned in its place) leaves the others stored, and its
        chat's window is rebuilt from the database at its next message.
        """
        try:
            with session_scope(self.engine) as session:
                return list(self._handle_batch(session, events))
        except Exception:  # retried message by message below, where it is reported
            self._forget_windows(events)
        except BaseException:
            self._forget_windows(events)
            raise
        out: list[HarvestOutcome | Exception] = []
        try:
            with session_scope(self.engine) as session:
                for event in events:
                    try:
                        with session.begin_nested():
                            out.extend(self._handle_batch(session, [event]))
                    except Exception as exc:  # reported to that message's caller only
                        self._windows.pop((event.message.platform, event.message.chat_id), None)
                        self._members.clear()  # it may have cached a member rolled back
                        out.append(exc)
        except BaseException:  # the transaction is lost: so is what the windows learned
            self._forget_windows(events)
            raise
        return out

    def _forget_windows(self, events: Sequence[MessageEvent]) -> None:
        """Drop the windows and members a rolled-back transaction taught (rebuilt later)."""
        for event in events:
            self._windows.pop((event.message.platform, event.message.chat_id), None)
        self._members.clear()

    def _handle_batch(
        self, session: Session, events: Sequence[MessageEvent]
    ) -> list[HarvestOutcome]:
        """The batch in a few statements: its messages in one multi-row insert, then fed to
        their chats' engines in order, the pairs they decide written together."""
        staged: list[StagedMessage | None] = []
        rows: dict[tuple[int, str], dict[str, object]] = {}
        self._fetch_members(session, events)
        for event in events:
            msg = event.message
            linked = self.linked(session, msg.platform, msg.chat_id)
            if linked is None:
                staged.append(None)
                continue
            chat_pk, community_id, config = linked
            member_id, role = self._member(session, community_id, msg)
            window = self._window(session, msg, chat_pk, community_id, config)
            asks = window.engine.asks(msg)
            staged.append(StagedMessage(msg, chat_pk, community_id, window, role, asks))
            if (chat_pk, msg.message_id) not in rows:  # twice in one batch: the first counts
                rows[(chat_pk, msg.message_id)] = message_row(msg, chat_pk, member_id, asks)
        new_ids = insert_messages(session, list(rows.values()))
        writes = PairBatch(session)
        results: list[HarvestOutcome | tuple[int, bool, Any]] = []
        for item in staged:
            if item is None:
                results.append(HarvestOutcome("ignored"))
                continue
            msg, window = item.msg, item.window
            row_id = new_ids.pop((item.chat_pk, msg.message_id), None)
            if row_id is None:
                row = get_message(session, item.chat_pk, msg.message_id)
                assert row is not None
                results.append(HarvestOutcome("duplicate", row.id, row.is_question))
                continue
            if item.role != Role.MEMBER:
                window.roles[msg.author_id] = Role(item.role)
            else:
                window.roles.pop(msg.author_id, None)
            window.remember_id(msg.message_id, row_id)
            self._recall_context(session, window.engine, item.chat_pk, msg)
            fed = window.engine.feed(msg, asks=item.asks)
            ticket = writes.add(
                community_id=item.community_id,
                chat_pk=item.chat_pk,
                platform=msg.platform,
                decisions=fed.decisions,
                message_ids=window.ids,
                member_ids=self._member_ids(item.community_id, msg.platform),
            )
            results.append((row_id, fed.is_question, ticket))
        writes.write()
        return [r if isinstance(r, HarvestOutcome) else outcome_of(*r) for r in results]

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
        if len(self._members) > 50_000:
            self._members.clear()
        self._members[key] = (now + self.cache_ttl, author.id or 0, author.role, name)
        return author.id or 0, author.role

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
        if len(self._members) > 50_000:
            self._members.clear()
        for (community_id, platform), authors in wanted.items():
            for ext, (mid, role) in members_of(session, community_id, platform, authors).items():
                name = authors[ext][0]
                self._members[(community_id, platform, ext)] = (
                    now + self.cache_ttl,
                    mid,
                    role,
                    name,
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
        config: QuestionConfig,
    ) -> _Window:
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
        pairing = PairingConfig(
            merge_window=self.merge_window, max_tracked=self.window_messages, question=config
        )
        scorer = self.scorers(community_id) if self.scorers is not None else self.scorer
        engine = HarvestEngine(pairing, roles, scorer=scorer)
        for old in recent_messages(
            session, chat_pk, msg.platform, msg.chat_id, self.restore_messages
        ):
            self._recall_context(session, engine, chat_pk, old)
            engine.feed(old)  # what it decides was decided (and stored) before
        window = self._windows[key] = _Window(community_id, engine, roles)
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

    # -- edits and deletes ------------------------------------------------------------------

    def handle_edit(self, event: EditEvent) -> HarvestOutcome:
        """Store a message's new text; the engine decides what it does to its pairs."""
        with session_scope(self.engine) as session:
            found = stored_message(session, event.platform, event.chat_id, event.message_id)
            if found is None:
                return HarvestOutcome("ignored")
            chat, row = found
            community = session.get(Community, chat.community_id)
            assert community is not None
            asks = bool(event.text) and is_question(event.text, _question_config(community))
            edited = edit_message(
                session, chat.id or 0, event.message_id, event.text, event.edited_at
            )
            if edited is None:
                return HarvestOutcome("edited", row.id, row.is_question)
            row, old_text = edited
            row.is_question = asks and not row.is_bot
            session.add(row)
            window = self._windows.get((event.platform, event.chat_id))
            if window is not None:
                window.engine.edit(event.chat_id, event.message_id, event.text)
            touched: list[int] = []
            review: list[int] = []
            for pair in pairs_of_message(session, row.id or 0):
                snapshot = stored_pair(session, pair, {row.id or 0: old_text})
                change = decide_edit(snapshot, event.message_id, old_text, event.text)
                if change is None:
                    continue
                apply_change(session, pair, change, actor_label=f"{event.platform}:edit")
                touched.append(pair.id or 0)
                if change.kind is DecisionKind.REOPEN:
                    review.append(pair.id or 0)
            kind, note = ("reopened", EDITED_AFTER_APPROVAL) if review else ("edited", "")
            return HarvestOutcome(
                kind, row.id, row.is_question, tuple(touched), tuple(review), note
            )

    def handle_delete(self, event: DeleteEvent) -> HarvestOutcome:
        """Mark a stored message deleted; its pairs leave every future dataset."""
        with session_scope(self.engine) as session:
            found = stored_message(session, event.platform, event.chat_id, event.message_id)
            if found is None:
                return HarvestOutcome("ignored")
            chat, row = found
            pairs = pairs_of_message(session, row.id or 0)
            delete_message(session, chat.id or 0, event.message_id)
            window = self._windows.get((event.platform, event.chat_id))
            if window is not None:
                window.engine.delete(event.chat_id, event.message_id)
            for pair in pairs:
                change = decide_delete(stored_pair(session, pair, {}), event.message_id)
                apply_change(session, pair, change, actor_label=f"{event.platform}:delete")
            return HarvestOutcome(
                "deleted", row.id, row.is_question, tuple(p.id or 0 for p in pairs)
            )
