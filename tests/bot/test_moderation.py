"""Reactions: moderators approve / reject / undo; everyone else changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.event import listen

from bot.core import action_for
from bot.core.units.reactions import track_card
from storage.database import Database
from tests.bot.conftest import PLATFORM, World, message, reaction


@pytest.mark.parametrize(
    ("emoji", "added", "status", "expected"),
    [
        ("✅", True, "pending", "approve"),
        ("👍🏽", True, "pending", "approve"),
        ("✔️", True, "rejected", "approve"),
        ("❌", True, "pending", "reject"),
        ("👎", True, "approved", "reject"),
        ("✅", True, "approved", None),
        ("✅", False, "approved", "reset"),
        ("✅", False, "rejected", None),
        ("🎉", True, "pending", None),
    ],
)
def test_action_for(emoji: str, added: bool, status: str, expected: str | None) -> None:
    """Each emoji maps to its action; removal only undoes the status that emoji set."""
    assert action_for(emoji, added, status) == expected


async def test_moderator_check_mark_approves_and_audits(world: World) -> None:
    """A moderator's ✅ on the answer approves the pair and lands in review_events."""
    pair_id = world.qa()
    outcome = await world.moderation.handle_reaction(reaction("a1", "mod"), world.platform)
    [event] = world.events()
    actual = (outcome.action, outcome.pair_id, world.pairs()[0].status, event.actor_label)
    assert actual == ("approve", pair_id, "approved", "fake:mod")
    assert (event.action, event.before["status"], event.after["status"]) == (
        "approve",
        "pending",
        "approved",
    )


async def test_platform_admin_thumbs_down_rejects(world: World) -> None:
    """A platform admin (no stored role) may reject with 👎."""
    world.qa()
    world.platform.admins.add(("g1", "owner"))
    outcome = await world.moderation.handle_reaction(reaction("a1", "owner", "👎"), world.platform)
    assert (outcome.action, world.pairs()[0].status) == ("reject", "rejected")


async def test_member_reaction_changes_nothing(world: World) -> None:
    """A plain member's ✅ leaves the pair pending and writes no audit row."""
    world.qa()
    outcome = await world.moderation.handle_reaction(reaction("a1", "carol"), world.platform)
    actual = (outcome.action, outcome.reason, world.pairs()[0].status, world.events())
    assert actual == (None, "not a moderator", "pending", [])


async def test_moderator_of_other_community_cannot_approve(world: World) -> None:
    """The game community's moderator reacting in the fund chat changes nothing."""
    world.qa()
    world.platform.admins.add(("g2", "gmod"))
    outcome = await world.moderation.handle_reaction(reaction("a1", "gmod"), world.platform)
    assert (outcome.action, world.pairs()[0].status) == (None, "pending")


async def test_removing_reaction_resets_to_pending(world: World) -> None:
    """Taking the ✅ back undoes the approval; the audit shows approve then reset."""
    world.qa()
    await world.moderation.handle_reaction(reaction("a1", "mod"), world.platform)
    undo = await world.moderation.handle_reaction(
        reaction("a1", "mod", added=False), world.platform
    )
    actual = (undo.action, world.pairs()[0].status, [e.action for e in world.events()])
    assert actual == ("reset", "pending", ["approve", "reset"])


async def test_reaction_on_question_or_unknown_message_does_nothing(world: World) -> None:
    """Reacting on the question itself or an unknown message is not a review."""
    world.qa()
    on_question = await world.moderation.handle_reaction(reaction("q1", "mod"), world.platform)
    unknown = await world.moderation.handle_reaction(reaction("nope", "mod"), world.platform)
    assert (on_question.action, unknown.action, world.events()) == (None, None, [])


async def test_bot_message_naming_a_pair_is_no_review_card(world: World) -> None:
    """A ✅ on a bot message that says `#id` (an answer's sources, say) but is not a tracked
    review card reviews nothing."""
    pair_id = world.qa()
    text = f"Open settings.\n\nSources: #{pair_id}"
    world.harvester.handle_message(message("ans1", "fanqa", text, at=90, is_bot=True))
    outcome = await world.moderation.handle_reaction(reaction("ans1", "mod"), world.platform)
    assert (outcome.action, world.pairs()[0].status) == (None, "pending")


async def test_member_message_quoting_a_pair_approves_nothing(world: World) -> None:
    """A ✅ on a member's message quoting "#3" approves nothing."""
    world.qa()
    world.harvester.handle_message(message("m1", "carol", "see #1 and #3", at=95))
    outcome = await world.moderation.handle_reaction(reaction("m1", "mod"), world.platform)
    assert (outcome.action, [p.status for p in world.pairs()]) == (None, ["pending"])


async def test_card_in_other_community_cannot_reach_pair(world: World) -> None:
    """A card in the game chat naming a fund pair is refused by the community check."""
    pair_id = world.qa()
    world.harvester.handle_message(
        message("card2", "fanqa", f"Review #{pair_id}", chat="g2", is_bot=True)
    )
    Database(world.engine).call(track_card, PLATFORM, "g2", "card2", pair_id)
    outcome = await world.moderation.handle_reaction(
        reaction("card2", "gmod", chat="g2"), world.platform
    )
    assert (outcome.action, world.pairs()[0].status) == (None, "pending")


async def test_a_moderators_approval_is_one_short_unit_of_work(world: World) -> None:
    """A stored moderator's ✅ is decided and applied in one transaction, no platform call."""
    world.qa()
    commits: list[int] = []
    listen(world.engine, "commit", lambda _conn: commits.append(1))
    outcome = await world.moderation.handle_reaction(reaction("a1", "mod"), world.platform)
    assert (outcome.action, len(commits), world.pairs()[0].status) == ("approve", 1, "approved")
