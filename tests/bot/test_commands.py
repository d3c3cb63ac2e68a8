"""Slash commands: moderators act, others are refused politely, bad args get a usage line."""

from __future__ import annotations

from sqlmodel import select

from bot.core.commands import REFUSAL
from storage.db import session_scope
from storage.models import Member, Message
from tests.bot.conftest import World, command, message


async def _run(world: World, name: str, *args: str, user: str = "mod", chat: str = "g1") -> str:
    return await world.commands.handle(command(name, *args, user=user, chat=chat), world.platform)


async def test_pending_lists_pairs_for_moderator(world: World) -> None:
    """/pending shows the waiting pair with its id."""
    pair_id = world.qa()
    reply = await _run(world, "pending")
    assert f"#{pair_id} Q: How do I reset my password?" in reply


async def test_pending_lists_the_most_likely_good_pairs_first(world: World) -> None:
    """/pending shows each pair's confidence, the likeliest good one first: a reply with a
    how-to beats a two-word reply."""
    world.harvester.handle_message(message("q2", "carol", "Which fund is best for a newbie?"))
    world.harvester.handle_message(message("a2", "dan", "Index funds", reply_to="q2", at=5))
    world.qa()
    reply = await _run(world, "pending")
    lines = [line for line in reply.splitlines() if line.startswith("    A: ")]
    confidences = [float(line.rsplit("· ", 1)[1]) for line in lines]
    assert len(confidences) == 2 and confidences == sorted(confidences, reverse=True)
    assert "Open settings and tap reset." in lines[0]


async def test_pending_strips_bidi_and_zero_width_controls(world: World) -> None:
    """A pair quoted in /pending loses the bidi override and zero-width space it carried."""
    world.harvester.handle_message(message("q9", "alice", "Is \u202egnp.exe safe\u200b?"))
    world.harvester.handle_message(message("a9", "bob", "No.", reply_to="q9", at=30))
    reply = await _run(world, "pending")
    assert "Q: Is gnp.exe safe?" in reply


async def test_member_is_refused_moderator_commands(world: World) -> None:
    """A plain member gets the polite refusal and nothing changes."""
    pair_id = world.qa()
    reply = await _run(world, "approve", str(pair_id), user="carol")
    assert (reply, world.pairs()[0].status) == (REFUSAL, "pending")


async def test_approve_reject_and_edit(world: World) -> None:
    """/approve, /reject and /edit change the pair and are audited with the actor."""
    pair_id = world.qa()
    approved = await _run(world, "approve", f"#{pair_id}")
    rejected = await _run(world, "reject", str(pair_id))
    edited = await _run(world, "edit", str(pair_id), "去", "设置", "重置。")
    pair = world.pairs()[0]
    actual = (approved, rejected, edited, pair.status, pair.answer_text)
    expected = (
        f"#{pair_id} approved ✅",
        f"#{pair_id} rejected ❌",
        f"#{pair_id} answer updated ✏️",
        "rejected",
        "去 设置 重置。",
    )
    assert actual == expected
    events = world.events()
    assert [(e.action, e.actor_label) for e in events] == [
        ("approve", "fake:mod"),
        ("reject", "fake:mod"),
        ("edit", "fake:mod"),
    ]


async def test_reset_undoes_an_approval_from_the_chat(world: World) -> None:
    """/reset puts an approved pair back to pending (as ``fanqa pairs reset`` and the desk's
    "Back to pending" do), audited; a member may not; a bad id gets the usage line."""
    pair_id = world.qa()
    await _run(world, "approve", str(pair_id))
    refused = await _run(world, "reset", str(pair_id), user="carol")
    assert (refused, world.pairs()[0].status) == (REFUSAL, "approved")
    assert await _run(world, "reset", "x") == "usage: /reset ID"
    assert await _run(world, "reset", f"#{pair_id}") == f"#{pair_id} back to pending ↩️"
    assert world.pairs()[0].status == "pending"
    assert [(e.action, e.actor_label) for e in world.events()] == [
        ("approve", "fake:mod"),
        ("reset", "fake:mod"),
    ]
    assert "/reset ID" in await _run(world, "help", user="carol")


async def test_bad_arguments_get_usage(world: World) -> None:
    """Missing or malformed arguments answer with the usage line."""
    replies = [
        await _run(world, "approve"),
        await _run(world, "approve", "abc"),
        await _run(world, "pending", "x"),
        await _run(world, "expert", "promote", "bob"),
    ]
    expected = [
        "usage: /approve ID",
        "usage: /approve ID",
        "usage: /pending [N]",
        "usage: /expert add|remove USER",
    ]
    assert replies == expected


async def test_other_community_pair_is_refused(world: World) -> None:
    """The game moderator cannot /approve a fund pair from the game chat."""
    pair_id = world.qa()
    reply = await _run(world, "approve", str(pair_id), user="gmod", chat="g2")
    assert (reply, world.pairs()[0].status) == (
        f"pair #{pair_id} belongs to another community",
        "pending",
    )


async def test_status_and_help_open_to_everyone(world: World) -> None:
    """/status and /help answer a plain member."""
    pair_id = world.qa()
    await _run(world, "approve", str(pair_id))
    status = await _run(world, "status", user="carol")
    help_text = await _run(world, "help", user="carol")
    assert status.startswith("Pairs: pending 0, approved 1, rejected 0. Last review: approve")
    assert "/forget USER" in help_text


async def test_expert_add_by_display_name_and_remove_by_id(world: World) -> None:
    """/expert add @Bob then remove bob flips the role and audits both."""
    world.qa()
    added = await _run(world, "expert", "add", "@bob")
    with session_scope(world.engine) as s:
        role_after_add = s.exec(select(Member.role).where(Member.external_id == "bob")).one()
    removed = await _run(world, "expert", "remove", "bob")
    assert (added, role_after_add, removed) == (
        "Bob is now an expert.",
        "expert",
        "Bob is now a member.",
    )


async def test_unknown_user_and_unknown_command(world: World) -> None:
    """An unknown member or command gets a clear one-line answer."""
    missing = await _run(world, "forget", "@nobody")
    unknown = await _run(world, "frobnicate")
    assert (missing, unknown) == (
        "no member @nobody in this community",
        "Unknown command /frobnicate. Try /help.",
    )


async def test_forget_blanks_messages_and_deletes_pairs(world: World) -> None:
    """/forget bob blanks his messages, deletes his pairs and audits the action."""
    world.qa()
    world.harvester.handle_message(message("x9", "carol", "Thanks!", at=500))
    reply = await _run(world, "forget", "bob")
    with session_scope(world.engine) as s:
        rows = s.exec(select(Message.external_id, Message.text, Message.deleted)).all()
    actual = (reply, sorted(rows), world.pairs(live_only=True), world.pairs()[0].answer_text)
    expected = (
        "Forgot fake:bob: 1 message(s), 1 pair(s) removed.",
        [("a1", "", True), ("q1", "How do I reset my password?", False), ("x9", "Thanks!", False)],
        [],
        "",
    )
    assert actual == expected
    assert [e.action for e in world.events()] == ["forget", "forget"]


async def test_unlinked_chat_is_told(world: World) -> None:
    """A command in a chat no community owns says so."""
    reply = await _run(world, "status", chat="elsewhere")
    assert reply.startswith("This chat is not linked to a community.")


def test_every_command_has_its_unit_of_work() -> None:
    """The command table (pure) and the units of work name the same commands."""
    from bot.core.commands import COMMANDS
    from bot.core.units.commands import WORK

    assert sorted(WORK) == sorted(COMMANDS)
