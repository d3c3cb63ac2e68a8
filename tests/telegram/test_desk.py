"""/desk on Telegram: the login link goes to the moderator's private chat, never the group."""

from __future__ import annotations

from bot.core.commands import DESK_SENT, NO_PRIVATE, REFUSAL
from tests.telegram.conftest import CAROL, FUND, OLGA, World


def replies_to(message: dict) -> object:
    return lambda sent: sent.get("reply_to_message", {}).get("message_id") == message["message_id"]


async def test_desk_link_arrives_in_private_only(world: World) -> None:
    """An admin's /desk: the group gets a note, the private chat the one-time link."""
    world.service.commands.desk_url = "https://desk.example.org"
    world.tg.add_chat(OLGA, "Olga", kind="private")  # Olga has opened a chat with the bot
    asked = await world.tg.post(FUND, OLGA, "/desk")
    note = await world.tg.wait_sent(replies_to(asked))
    private = await world.tg.wait_sent(chat_id=OLGA)
    assert note["text"] == DESK_SENT
    assert "https://desk.example.org/login/" in private["text"]
    in_group = [m["text"] for m in world.tg.sent if m["chat"]["id"] == FUND]
    assert not any("/login/" in text for text in in_group)


async def test_desk_without_a_private_chat_or_rights(world: World) -> None:
    """No private chat yet: the group is told how; a member is refused; no link anywhere."""
    world.service.commands.desk_url = "https://desk.example.org"
    asked = await world.tg.post(FUND, OLGA, "/desk")
    assert (await world.tg.wait_sent(replies_to(asked)))["text"] == NO_PRIVATE
    member = await world.tg.post(FUND, CAROL, "/desk")
    assert (await world.tg.wait_sent(replies_to(member)))["text"] == REFUSAL
    assert not any("/login/" in m.get("text", "") for m in world.tg.sent)
