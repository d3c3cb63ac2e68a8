"""Moderator reactions and slash commands through the real discord.py client."""

from __future__ import annotations

from sqlmodel import select

from bot.core.commands import COMMANDS, REFUSAL
from bot.discord_bot.commands import APPROVE_MENU, INFO_GROUP, MAIN_GROUP
from storage.db import session_scope
from storage.models import ReviewEvent
from tests.discord.conftest import World


async def test_moderator_check_mark_approves_others_change_nothing(world: World) -> None:
    """A member's ✅ and another guild's moderator's ✅ do nothing; the moderator's approves."""
    _, answer, pair_id = await world.qa()
    users = world.users
    verdicts = []
    for who in ("carol", "gus", "mia"):
        await world.emu.react(answer, users[who], "✅")
        _, outcome = await world.service.handled("reaction", answer)
        verdicts.append((who, outcome.reason, world.pair(pair_id).status))
        world.service.seen.clear()
    assert verdicts == [
        ("carol", "not a moderator", "pending"),
        ("gus", "not a moderator", "pending"),
        ("mia", "done", "approved"),
    ]
    with session_scope(world.engine) as s:
        [event] = s.exec(select(ReviewEvent)).all()
        assert (event.action, event.actor_label) == ("approve", f"discord:{users['mia']}")


async def test_removing_the_reaction_undoes_it(world: World) -> None:
    """Removing the moderator's ✅ (the raw remove event, no member attached) resets the pair."""
    _, answer, pair_id = await world.qa()
    await world.emu.react(answer, world.users["mia"], "✅")
    await world.service.handled("reaction", answer)
    world.service.seen.clear()
    await world.emu.unreact(answer, world.users["mia"], "✅")
    _, outcome = await world.service.handled("reaction", answer)
    assert (outcome.action, world.pair(pair_id).status) == ("reset", "pending")


async def test_moderator_not_in_the_cache_is_fetched(world: World) -> None:
    """A moderator who joined after start-up is looked up through the REST API."""
    _, answer, pair_id = await world.qa()
    late = world.emu.add_user("Lena")
    [role] = [int(r["id"]) for r in world.fund.roles.values() if r["name"] == "Moderator"]
    world.emu.add_member(world.fund, late, role)
    await world.emu.react(answer, late, "✅", with_member=False)
    _, outcome = await world.service.handled("reaction", answer)
    assert (outcome.action, world.pair(pair_id).status) == ("approve", "approved")
    assert ("GET", "/guilds/{guild_id}/members/{user_id}") in {
        (m, r) for m, r, _, status in world.emu.requests if status == 200
    }


async def test_slash_commands_synced_per_linked_guild(world: World) -> None:
    """Every core command is a /fanqa sub-command, hidden from non-moderators by default;
    only guilds with a linked channel get them."""
    emu = world.emu
    assert set(emu.commands) == {world.fund.id, world.game.id}
    synced = {c["name"]: c for c in emu.commands[world.fund.id]}
    main, info = synced[MAIN_GROUP], synced[INFO_GROUP]
    assert [o["name"] for o in main["options"]] == list(COMMANDS)
    assert int(main["default_member_permissions"]) == 8192  # Manage Messages only
    assert info.get("default_member_permissions") is None
    assert [o["name"] for o in info["options"]] == [
        n for n, spec in COMMANDS.items() if not spec.moderator_only
    ]


async def test_slash_commands_work_for_moderators_and_are_refused_to_members(
    world: World,
) -> None:
    """/fanqa pending and approve work for a moderator (ephemeral); a member is refused."""
    _, _, pair_id = await world.qa()
    emu, users = world.emu, world.users
    member = await emu.wait_response(
        await emu.slash(world.general, users["carol"], MAIN_GROUP, "approve", str(pair_id))
    )
    assert (member["content"], member["ephemeral"], world.pair(pair_id).status) == (
        REFUSAL,
        True,
        "pending",
    )
    pending = await emu.wait_response(
        await emu.slash(world.general, users["mia"], MAIN_GROUP, "pending")
    )
    assert f"#{pair_id} Q: How do I reset my password?" in pending["content"]
    assert pending["ephemeral"] is True
    approve = await emu.wait_response(
        await emu.slash(world.general, users["mia"], MAIN_GROUP, "approve", f"#{pair_id}")
    )
    assert (approve["content"], world.pair(pair_id).status) == (
        f"#{pair_id} approved ✅",
        "approved",
    )
    status = await emu.wait_response(
        await emu.slash(world.general, users["carol"], INFO_GROUP, "status")
    )
    assert status["content"].startswith("Pairs: ") and status["ephemeral"] is False


async def test_moderator_of_another_guild_cannot_use_commands_here(world: World) -> None:
    """Gus moderates the game guild; in the fund guild his /fanqa approve is refused."""
    _, _, pair_id = await world.qa()
    emu = world.emu
    here = await emu.wait_response(
        await emu.slash(world.general, world.users["gus"], MAIN_GROUP, "approve", str(pair_id))
    )
    there = await emu.wait_response(
        await emu.slash(world.lobby, world.users["gus"], MAIN_GROUP, "pending")
    )
    assert (here["content"], world.pair(pair_id).status) == (REFUSAL, "pending")
    assert there["content"].startswith("Nothing pending")


async def test_approve_answer_context_menu(world: World) -> None:
    """The "Approve answer" message menu approves for a moderator and refuses a member."""
    _, answer, pair_id = await world.qa()
    emu = world.emu
    refused = await emu.wait_response(
        await emu.context_menu(world.general, world.users["carol"], APPROVE_MENU, answer)
    )
    assert (refused["content"], world.pair(pair_id).status) == (REFUSAL, "pending")
    done = await emu.wait_response(
        await emu.context_menu(world.general, world.users["mia"], APPROVE_MENU, answer)
    )
    assert (done["content"], done["ephemeral"], world.pair(pair_id).status) == (
        f"#{pair_id} → approved (approve)",
        True,
        "approved",
    )


async def test_slow_command_is_deferred_then_followed_up(world: World) -> None:
    """A command slower than ``defer_after`` is acknowledged first, answered by a follow-up."""
    world.bot.defer_after = 0.0
    token = await world.emu.slash(world.general, world.users["mia"], MAIN_GROUP, "pending")
    await world.emu.wait_for(
        lambda: len([r for r in world.emu.responses if r["token"] == token]) == 2
    )
    ack, answer = [r for r in world.emu.responses if r["token"] == token]
    assert (ack["type"], ack["ephemeral"]) == (5, True)  # deferred, "thinking…"
    assert (answer["type"], answer["content"], answer["ephemeral"]) == (
        "followup",
        "Nothing pending. / 没有待审核的问答。",
        True,
    )
