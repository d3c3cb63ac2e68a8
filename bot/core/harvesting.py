"""The live harvesting path: messages stored in batches, each chat's engine deciding the pairs.

Pairing is :class:`harvest.engine.HarvestEngine`'s, the same engine ``fanqa import``
feeds; the database records what it decided. What the harvester keeps in memory (linked
chats, authors, each chat's window, restored from the database after a restart) is
``bot.core.harvest_memory``'s; edits and deletes are decided by the engine too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session

from bot.core.events import DeleteEvent, EditEvent, MessageEvent
from bot.core.harvest_memory import HarvestMemory, question_config
from bot.core.harvest_rows import StagedMessage, message_row, outcome_of
from bot.core.outcomes import HarvestOutcome
from harvest.engine import (
    DecisionKind,
    decide_delete,
    decide_edit,
)
from harvest.engine.edits import EDITED_AFTER_APPROVAL
from harvest.model import PairedAnswer, Role
from harvest.questions import is_question
from storage.db import session_scope
from storage.models import Community
from storage.repo.harvested import (
    apply_change,
    stored_pair,
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


class Harvester(HarvestMemory):
    """Stores messages of chats that belong to a community and pairs them with the engine
    (the options are ``HarvestMemory``'s)."""

    # -- messages -------------------------------------------------------------------------

    def handle_message(self, event: MessageEvent) -> HarvestOutcome:
        """Store a new message and write what the engine decided about it."""
        [outcome] = self.handle_messages([event])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def handle_messages(
        self,
        events: Sequence[MessageEvent],
        *,
        then: Callable[[Session, list[HarvestOutcome | Exception]], None] | None = None,
    ) -> list[HarvestOutcome | Exception]:
        """``handle_message`` for many, in order, in one transaction (what a busy chat needs).

        The batch first runs as one plain transaction (no savepoint per message). Should any
        message fail, that transaction is rolled back, what the windows learned from it is
        dropped, and the batch runs again with each message in its own savepoint: the one
        that fails (its exception is returned in its place) leaves the others stored, and its
        chat's window is rebuilt from the database at its next message.

        ``then(session, outcomes)`` runs last in the same transaction (the service looks up
        what follows from the batch there); should it fail, so does the batch.
        """
        try:
            with session_scope(self.engine) as session:
                done: list[HarvestOutcome | Exception] = list(self._handle_batch(session, events))
                if then is not None:
                    then(session, done)
                return done
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
                        self._forget_windows([event])  # and members it may have cached
                        out.append(exc)
                if then is not None:
                    then(session, out)
        except BaseException:  # the transaction is lost: so is what the windows learned
            self._forget_windows(events)
            raise
        return out

    def handle_in(self, session: Session, events: Sequence[MessageEvent]) -> list[HarvestOutcome]:
        """The batch in ``session``'s transaction, committed or rolled back by the caller
        (no retry message by message: ``bot.core.warm_up`` rolls it back whatever happens)."""
        return self._handle_batch(session, events)

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
            asks = bool(event.text) and is_question(event.text, question_config(community))
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
