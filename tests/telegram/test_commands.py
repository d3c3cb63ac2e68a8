"""Slash commands in a Telegram group: registration, moderators, refusals."""

from __future__ import annotations

from bot.core.commands import COMMANDS, REFUSAL
from tests.telegram.conftest import CAROL, FUND, OLGA, World


def replies_to(message: dict) -> object:
    return lambda sent: sent.get("reply_to_message", {}).get("message_id") == message["message_id"]


async def test_commands_are_registered_moderator_ones_for_admins_only(world: World) -> None:
    """Everyone sees the public commands; chat admins see all of them."""
    everyone = {c["command"] for c in world.tg.commands["default"]}
    admins = {c["command"] for c in world.tg.commands["all_chat_administrators"]}
    assert admins == set(COMMANDS)
    assert everyone == {n for n, spec in COMMANDS.items() if not spec.moderator_only}
    assert "approve" not in everyone


async def test_admin_lists_pending_and_approves_by_id(world: World) -> None:
    """/pending shows the pair to an admin and /approve ID approves it."""
    await world.qa()
    [pair] = world.pairs()
    listing = await world.tg.post(FUND, OLGA, "/pending@fanqa_bot")
    shown = await world.tg.wait_sent(replies_to(listing))
    assert f"#{pair.id} Q: How do I redeem fund number 1?" in shown["text"]
    approve = await world.tg.post(FUND, OLGA, f"/approve {pair.id}")
    done = await world.tg.wait_sent(replies_to(approve))
    assert done["text"] == f"#{pair.id} approved ✅"
    assert [p.status for p in world.pairs()] == ["approved"]


async def test_member_is_refused_politely(world: World) -> None:
    """A member's /pending and /approve get the refusal and change nothing."""
    await world.qa()
    [pair] = world.pairs()
    for text in ("/pending", f"/approve {pair.id}"):
        asked = await world.tg.post(FUND, CAROL, text)
        refused = await world.tg.wait_sent(replies_to(asked))
        assert refused["text"] == REFUSAL
    assert [p.status for p in world.pairs()] == ["pending"]


async def test_other_bots_commands_are_ignored(world: World) -> None:
    """/pending@other_bot and unknown /commands of other bots get no answer."""
    before = len(world.tg.sent)
    await world.tg.post(FUND, OLGA, "/pending@other_bot")
    await world.tg.post(FUND, OLGA, "/weather london")
    await world.settle()
    assert len(world.tg.sent) == before + 1  # only settle's /help
