"""The live harvesting path: store, pair, merge, edit, delete, ignore."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from bot.core import DeleteEvent, EditEvent, MessageEvent
from storage.db import session_scope
from storage.models import Message, PairMessage
from tests.bot.conftest import PLATFORM, T0, World, message


def _message_count(world: World) -> int:
    with session_scope(world.engine) as s:
        return s.exec(select(func.count()).select_from(Message)).one()


def test_reply_to_question_creates_pending_pair(world: World) -> None:
    """A member's reply to a stored question becomes one pending pair with its answer link."""
    pair_id = world.qa()
    [pair] = world.pairs()
    actual = (pair.id, pair.status, pair.question_text, pair.answer_text, pair.source_key)
    expected = (
        pair_id,
        "pending",
        "How do I reset my password?",
        "Open settings and tap reset.",
        "fake:g1:q1:a1",
    )
    assert actual == expected
    with session_scope(world.engine) as s:
        links = s.exec(select(PairMessage).where(PairMessage.pair_id == pair_id)).all()
    assert len(links) == 1


def test_question_flag_in_chinese(world: World) -> None:
    """A Chinese question is flagged; a statement is not."""
    asked = world.harvester.handle_message(message("z1", "li", "请问怎么开户？"))
    said = world.harvester.handle_message(message("z2", "li", "今天天气不错", at=5))
    assert (asked.is_question, said.is_question) == (True, False)


def test_same_message_twice_is_one_row(world: World) -> None:
    """A re-delivered update changes nothing: one message row, one pair."""
    world.qa()
    again = world.harvester.handle_message(
        message("a1", "bob", "Open settings and tap reset.", reply_to="q1", at=30)
    )
    assert (again.kind, _message_count(world), len(world.pairs())) == ("duplicate", 2, 1)


def test_unknown_chat_is_ignored(world: World) -> None:
    """A message from a chat no community owns is not stored."""
    outcome = world.harvester.handle_message(message("x1", "eve", "Anyone here?", chat="zz"))
    assert (outcome.kind, _message_count(world)) == ("ignored", 0)


def test_self_reply_and_non_question_make_no_pair(world: World) -> None:
    """The asker answering themself, or a reply to a statement, creates no pair."""
    world.harvester.handle_message(message("q1", "alice", "How do I reset my password?"))
    world.harvester.handle_message(message("s1", "carol", "I love this fund.", at=1))
    world.harvester.handle_message(
        message("a1", "alice", "Never mind, found it.", reply_to="q1", at=200)
    )
    world.harvester.handle_message(message("a2", "bob", "Me too!", reply_to="s1", at=300))
    assert world.pairs() == []


def test_duplicate_content_in_community_is_skipped(world: World) -> None:
    """The same question and answer again in another thread is not a second pair."""
    world.qa()
    world.harvester.handle_message(message("q2", "dan", "How do I reset my password?", at=600))
    outcome = world.harvester.handle_message(
        message("a2", "bob", "Open settings and tap reset.", reply_to="q2", at=630)
    )
    assert (outcome.kind, len(world.pairs())) == ("stored", 1)


def test_follow_up_within_window_merges(world: World) -> None:
    """The answerer's follow-up within the merge window joins their pending answer."""
    pair_id = world.qa()
    outcome = world.harvester.handle_message(message("a1b", "bob", "Then check your email.", at=60))
    late = world.harvester.handle_message(message("a1c", "bob", "Good luck!", at=1000))
    [pair] = world.pairs()
    actual = (outcome.kind, outcome.pair_ids, late.kind, pair.answer_text)
    expected = (
        "merged",
        (pair_id,),
        "stored",
        "Open settings and tap reset.\nThen check your email.",
    )
    assert actual == expected


def test_follow_up_replying_to_someone_else_does_not_merge(world: World) -> None:
    """A follow-up that replies to another member's message starts something new."""
    world.qa()
    world.harvester.handle_message(message("c1", "carol", "Thanks bob", at=40))
    outcome = world.harvester.handle_message(
        message("a1b", "bob", "No problem", reply_to="c1", at=50)
    )
    assert (outcome.kind, world.pairs()[0].answer_text) == (
        "stored",
        "Open settings and tap reset.",
    )


def test_edit_updates_message_and_pair(world: World) -> None:
    """Editing the answer message rewrites the pair's answer and its content hash."""
    world.qa()
    old_hash = world.pairs()[0].content_hash
    edited = world.harvester.handle_edit(
        EditEvent(PLATFORM, "g1", "a1", "Settings → Security → Reset.", T0 + timedelta(minutes=5))
    )
    [pair] = world.pairs()
    actual = (edited.kind, pair.answer_text, pair.content_hash != old_hash)
    assert actual == ("edited", "Settings → Security → Reset.", True)


def test_delete_removes_pair(world: World) -> None:
    """Deleting the answer message takes its pair out of every dataset."""
    world.qa()
    deleted = world.harvester.handle_delete(DeleteEvent(PLATFORM, "g1", "a1"))
    assert (deleted.kind, world.pairs(live_only=True)) == ("deleted", [])


def test_forum_post_is_a_question_even_without_a_question_mark(world: World) -> None:
    """A post that starts its own thread asks by nature; a plain statement still does not."""
    post = message("p1", "alice", "Login fails after the 2.3 update")
    post = type(post)(replace(post.message, thread_id="p1"))
    world.harvester.handle_message(post)
    reply = message("r1", "bob", "Clear the app cache, then log in again.", reply_to="p1", at=60)
    reply = type(reply)(replace(reply.message, thread_id="p1"))
    outcome = world.harvester.handle_message(reply)
    assert outcome.kind == "paired"
    assert [(p.question_text, p.answer_text) for p in world.pairs()] == [
        ("Login fails after the 2.3 update", "Clear the app cache, then log in again.")
    ]


def test_a_restart_loses_no_pairing_context(world: World) -> None:
    """A new Harvester (the bot restarted) rebuilds the chat's window from the database:
    an expert's answer without the reply button still pairs with the two-line question."""
    from bot.core import Harvester
    from storage.repo.communities import get_or_create_member, set_role

    with session_scope(world.engine) as s:
        bob = get_or_create_member(s, world.fund_id, PLATFORM, "bob", "Bob")
        set_role(s, bob.id or 0, "expert")
    world.harvester.handle_message(message("q1", "alice", "My redemption was 5 days ago."))
    world.harvester.handle_message(message("q2", "alice", "When will the money arrive?", at=20))
    restarted = Harvester(world.engine)
    outcome = restarted.handle_message(
        message("a1", "bob", "QDII funds take up to T+7 to settle.", at=40)
    )
    [pair] = world.pairs()
    actual = (outcome.kind, pair.method, pair.question_text, pair.answer_text)
    expected = (
        "paired",
        "implicit",
        "My redemption was 5 days ago.\nWhen will the money arrive?",
        "QDII funds take up to T+7 to settle.",
    )
    assert actual == expected


def test_edit_of_an_approved_pair_reopens_it_and_is_audited(world: World) -> None:
    """An approved answer edited into something else is pending again with the new text;
    the audit log keeps the approved text; a pending pair's edit is audited too."""
    from storage.repo.pairs import review_pair

    pair_id = world.qa()
    with session_scope(world.engine) as s:
        review_pair(s, pair_id, "approve", community_id=world.fund_id)
    outcome = world.harvester.handle_edit(
        EditEvent(PLATFORM, "g1", "a1", "DM me your password", T0 + timedelta(minutes=5))
    )
    again = world.harvester.handle_edit(
        EditEvent(PLATFORM, "g1", "a1", "Settings → Reset.", T0 + timedelta(minutes=6))
    )
    [pair] = world.pairs()
    actions = [(e.action, (e.before or {}).get("answer_text")) for e in world.events()][-2:]
    assert (outcome.kind, outcome.review, outcome.review_note) == (
        "reopened",
        (pair_id,),
        "edited after approval",
    )
    assert (again.kind, pair.status, pair.answer_text) == ("edited", "pending", "Settings → Reset.")
    assert actions == [
        ("reopened", "Open settings and tap reset."),
        ("edited", "DM me your password"),
    ]


def test_live_harvest_on_every_backend(engine) -> None:
    """The live path's insert-or-ignore and pair writes work on SQLite and PostgreSQL."""
    from bot.core import Harvester
    from storage.repo.communities import get_or_create_community, upsert_chat

    with session_scope(engine) as s:
        fund = get_or_create_community(s, "fund")
        upsert_chat(s, fund.id or 0, PLATFORM, "g1", "Fund chat")
    harvester = Harvester(engine)
    harvester.handle_message(message("q1", "alice", "How do I reset my password?"))
    answer = message("a1", "bob", "Open settings and tap reset.", reply_to="q1", at=30)
    kinds = [harvester.handle_message(answer).kind, harvester.handle_message(answer).kind]
    grown = harvester.handle_message(message("a2", "bob", "Then check your mail.", at=60))
    assert (*kinds, grown.kind) == ("paired", "duplicate", "merged")


def test_a_failing_message_in_a_batch_leaves_the_others_stored(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One message that fails in a batch is reported in its place; the rest are stored."""
    import bot.core.harvesting as harvesting

    real_many = harvesting.insert_messages

    def flaky_many(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
        if any(values["external_id"] == "bad" for values in rows):
            raise RuntimeError("disk on fire")
        return real_many(session, rows)

    monkeypatch.setattr(harvesting, "insert_messages", flaky_many)
    events = [
        message("q1", "alice", "How do I reset my password?"),
        message("bad", "eve", "this one fails", at=5),
        message("a1", "bob", "Open settings and tap reset.", reply_to="q1", at=30),
    ]
    outcomes = world.harvester.handle_messages(events)
    kinds = [o.kind if not isinstance(o, Exception) else type(o).__name__ for o in outcomes]
    actual = (
        kinds,
        _message_count(world),
        [(p.question_text, p.answer_text) for p in world.pairs()],
    )
    expected = (
        ["stored", "RuntimeError", "paired"],
        2,
        [("How do I reset my password?", "Open settings and tap reset.")],
    )
    assert actual == expected


def _conversation() -> list[Any]:
    """Questions, replies, answers that grow, a pair whose content another pair has, a
    message delivered twice, and a second chat."""
    return [
        message("q1", "alice", "How do I reset my password?"),
        message("q2", "dan", "请问怎么开户？", chat="g2", at=1),
        message("a1", "bob", "Open settings and tap reset.", reply_to="q1", at=30),
        message("a1", "bob", "Open settings and tap reset.", reply_to="q1", at=30),
        message("a2", "bob", "Then check your mail.", at=60),
        message("z1", "li", "在App里点开户就行。", chat="g2", reply_to="q2", at=61),
        message("q3", "carol", "How do I reset my password?", at=600),
        message("a3", "bob", "Open settings and tap reset.", reply_to="q3", at=630),
        message("a4", "erin", "Then check your mail.", reply_to="q3", at=640),
        message("q4", "frank", "What is the fee for a redemption?", at=900),
        message("a5", "bob", "Redemptions cost 0.5 % within a week.", reply_to="q4", at=930),
        message("a6", "bob", "After that it is free.", at=940),
        message("a7", "bob", "And QDII funds settle later.", at=950),
        message("q5", "gina", "How do I reset my password?", at=1200),
        message("a8", "bob", "Open settings and tap reset.", reply_to="q5", at=1230),
    ]


def _state(engine: Any) -> list[tuple[Any, ...]]:
    from storage.models import Member, QAPair

    asker = select(Member.external_id).where(Member.id == QAPair.asker_id).scalar_subquery()
    answerer = select(Member.external_id).where(Member.id == QAPair.answerer_id).scalar_subquery()
    question = (
        select(Message.external_id)
        .where(Message.id == QAPair.question_message_id)
        .scalar_subquery()
    )
    with session_scope(engine) as s:
        pairs = s.exec(
            select(
                QAPair.source_key,
                QAPair.question_text,
                QAPair.answer_text,
                QAPair.status,
                question,
                asker,
                answerer,
            )
        ).all()
        links = s.exec(
            select(QAPair.source_key, Message.external_id, PairMessage.position)
            .join(PairMessage, PairMessage.pair_id == QAPair.id)
            .join(Message, Message.id == PairMessage.message_id)
        ).all()
        messages = s.exec(select(func.count()).select_from(Message)).one()
    return [*sorted(pairs), *sorted(links), ("messages", messages)]


def _fresh(engine: Any) -> Any:
    from bot.core import Harvester
    from storage.repo.communities import get_or_create_community, upsert_chat

    with session_scope(engine) as s:
        fund = get_or_create_community(s, f"fund-{id(engine)}")
        for chat in ("g1", "g2"):
            upsert_chat(s, fund.id or 0, PLATFORM, chat, chat)
    return Harvester(engine)


@pytest.mark.parametrize("split", [None, 5])
def test_a_batch_stores_what_messages_one_by_one_store(
    tmp_path: Any, engine: Any, split: int | None
) -> None:
    """Harvested in batches or one message at a time: the same outcomes, pairs, answer
    links and messages (on SQLite and PostgreSQL; split: an answer grows in the next batch,
    after the windows and members were forgotten as by a restart)."""
    from storage import make_engine, upgrade

    single = make_engine(f"sqlite:///{tmp_path / 'single.db'}")
    upgrade(single)
    one_by_one = _fresh(single)
    expected_kinds = [one_by_one.handle_message(e).kind for e in _conversation()]
    batched = _fresh(engine)
    events = _conversation()
    batches = [events] if split is None else [events[:split], events[split:]]
    kinds = []
    for batch in batches:
        kinds += [o.kind for o in batched.handle_messages(batch)]  # type: ignore[union-attr]
        batched.forget_cache()  # as after a restart: ids and members looked up again
    assert (kinds, _state(engine)) == (expected_kinds, _state(single))
    assert (kinds[3], kinds[4], kinds[-1]) == ("duplicate", "merged", "stored")


def test_a_batch_creates_its_new_authors_and_keeps_names_current(engine: Any) -> None:
    """Authors first seen in a batch become members once each (also when they write twice);
    an author who changed their name is renamed (SQLite and PostgreSQL)."""
    from storage.models import Member

    harvester = _fresh(engine)
    harvester.handle_messages([message("m1", "alice", "hello"), message("m2", "bob", "hi", at=1)])
    harvester.forget_cache()
    renamed = replace(message("m3", "alice", "again", at=2).message, author_name="Alice Liddell")
    harvester.handle_messages(
        [
            MessageEvent(renamed),
            message("m4", "carol", "yo", at=3),
            message("m5", "carol", "!", at=4),
        ]
    )
    with session_scope(engine) as s:
        members = sorted(s.exec(select(Member.external_id, Member.display_name)).all())
        authors = s.exec(select(func.count(func.distinct(Message.author_id)))).one()
    assert (members, authors) == (
        [("alice", "Alice Liddell"), ("bob", "Bob"), ("carol", "Carol")],
        3,
    )
