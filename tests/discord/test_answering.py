"""Answers, the port's REST calls, rate limits, sharding and start-up through discord.py."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.discord_bot import DiscordBot
from harvest.errors import PlatformError
from tests.discord.conftest import RecordingService, World, build_world, link
from tests.helpers.discord_emulator import BOT_ID, DiscordEmulator

MESSAGES = "/channels/{channel_id}/messages"


async def approved_pair(world: World) -> tuple[int, int]:
    """The password pair, approved by Mia's ✅: (question message id, pair id)."""
    question, answer, pair_id = await world.qa()
    await world.emu.react(answer, world.users["mia"], "✅")
    await world.service.handled("reaction", answer)
    assert world.pair(pair_id).status == "approved"
    return question, pair_id


async def test_mention_gets_an_answer_with_sources(world: World) -> None:
    """Mentioning the bot gets a reply with the approved answer and a link to its source."""
    question, pair_id = await approved_pair(world)
    ask = await world.say("carol", f"<@{BOT_ID}> how do I reset my password?", mentions=(BOT_ID,))
    reply = await world.emu.wait_sent("Open settings")
    link = f"https://discord.com/channels/{world.fund.id}/{world.general}/{question}"
    assert reply.reply_to == ask
    assert reply.content == f"Open settings and tap reset.\n\nSources: #{pair_id} {link}"
    _, outcome = await world.service.handled("message", ask)
    assert (outcome.answered, outcome.reply_id) == (True, str(reply.id))


async def test_reply_to_the_bot_counts_as_a_mention(world: World) -> None:
    """Replying to one of the bot's answers asks it again, without an @mention."""
    await approved_pair(world)
    await world.say("carol", f"<@{BOT_ID}> how do I reset my password?", mentions=(BOT_ID,))
    first = await world.emu.wait_sent("Open settings")
    again = await world.say("alice", "How do I reset my password again?", reply_to=first.id)
    second = await world.emu.wait_for(
        lambda: next((m for m in world.emu.sent if m.reply_to == again), None)
    )
    assert second.content.startswith("Open settings and tap reset.")


async def test_no_mention_no_answer(world: World) -> None:
    """A plain question is harvested but not answered (the default policy is mention)."""
    await approved_pair(world)
    await world.say("carol", "How do I reset my password?")
    assert world.emu.sent == []


async def test_rate_limit_slows_the_bot_and_nothing_is_lost(world: World) -> None:
    """Two 429s on message creation: the bot waits retry_after each time, then both answers
    arrive."""
    await approved_pair(world)
    world.emu.rate_limit("POST", MESSAGES, times=2, retry_after=0.3)
    asks = [
        await world.emu.post(
            world.general,
            world.users[who],
            f"<@{BOT_ID}> how do I reset my password?",
            mentions=(BOT_ID,),
        )
        for who in ("carol", "alice")
    ]
    await world.emu.wait_for(lambda: len(world.emu.sent) == 2)
    assert sorted(m.reply_to or 0 for m in world.emu.sent) == sorted(asks)
    posts = [(at, status) for m, r, at, status in world.emu.requests if r == MESSAGES]
    assert [status for _, status in posts] == [429, 429, 200, 200]
    first_429, first_ok = posts[0][0], posts[2][0]
    assert first_ok - first_429 >= 0.55  # two waits of retry_after


async def test_long_messages_split_and_photos_and_reactions(world: World, tmp_path: Path) -> None:
    """Over 2,000 characters the text is split on paragraph breaks; photos and reactions post."""
    platform = world.bot.platform
    question = await world.say("alice", "Tell me everything about fees?")
    paragraphs = [f"Paragraph {i}: " + " ".join(["fee"] * 240) for i in range(4)]  # ~970 each
    first_id = await platform.reply(str(world.general), str(question), "\n\n".join(paragraphs))
    chunks = list(world.emu.sent)
    assert [m.content for m in chunks] == [
        "\n\n".join(paragraphs[:2]),
        "\n\n".join(paragraphs[2:]),
    ]
    assert [m.reply_to for m in chunks] == [question, None]
    assert first_id == str(chunks[0].id) and all(len(m.content) <= 2000 for m in chunks)
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n")
    await platform.send_photo(str(world.general), chart, "Training report")
    assert (world.emu.sent[-1].content, world.emu.sent[-1].files) == (
        "Training report",
        ("chart.png",),
    )
    await platform.react(str(world.general), str(question), "👀")
    assert world.emu.reactions == [(world.general, question, "👀")]


async def test_reply_in_a_thread_lands_in_the_thread(world: World) -> None:
    """The bot answers a question asked in a forum post inside that post's thread."""
    await approved_pair(world)
    thread = await world.emu.create_thread(
        world.forum, world.users["carol"], "reset", first_message="hi"
    )
    await world.service.handled("message", thread)
    ask = await world.say(
        "carol", f"<@{BOT_ID}> how do I reset my password?", channel=thread, mentions=(BOT_ID,)
    )
    reply = await world.emu.wait_sent("Open settings")
    assert (reply.channel_id, reply.reply_to) == (thread, ask)


async def test_start_logs_the_user_never_the_token(
    emu: DiscordEmulator, sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Start-up logs who the bot is; the token appears in no log record."""
    caplog.set_level(logging.DEBUG)
    build_world(emu)
    bot = DiscordBot(RecordingService(sqlite_engine), emu.token, guild_ready_timeout=0.05)
    await bot.start(timeout=10)
    await bot.stop()
    assert "logged in to Discord as fanqa (id 900000000000000002)" in caplog.text
    assert emu.token not in caplog.text
    assert emu.unauthorized == [] and bot.client.is_closed()


async def test_unreachable_discord_is_a_clear_error(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No network to Discord: start() fails with one line naming the problem, no token."""
    import socket

    import discord

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    secret = "token-that-must-not-leak"
    bot = DiscordBot(RecordingService(sqlite_engine), secret)
    with pytest.raises(PlatformError, match="cannot reach Discord") as info:
        await bot.start(timeout=5)
    assert secret not in str(info.value) and bot.client.is_closed()


async def test_sharded_client_harvests_on_every_shard(
    sqlite_engine: Engine,
) -> None:
    """With AutoShardedClient both shards identify at once (max_concurrency 2) and messages
    of guilds on both arrive."""
    async with DiscordEmulator(shards=2, max_concurrency=2) as emu:
        with emu.patched():
            alice = emu.add_user("Alice")
            channels = []
            for shard in (0, 1):
                guild = emu.add_guild(f"guild {shard}", shard=shard)
                emu.add_member(guild, alice)
                channels.append(emu.add_channel(guild, "general"))
            link(sqlite_engine, "fund", *channels)
            service = RecordingService(sqlite_engine)
            bot = DiscordBot(service, emu.token, sharded=True, guild_ready_timeout=0.05)
            await bot.start(timeout=10)
            try:
                ids = [await emu.post(c, alice, "Is this shard alive?") for c in channels]
                for mid in ids:
                    _, outcome = await service.handled("message", mid)
                    assert outcome.harvest.kind == "stored"
                assert sorted(i["shard"] for i in emu.identified) == [[0, 2], [1, 2]]
                assert bot.client.shard_count == 2
            finally:
                await bot.stop()


async def test_long_answer_is_cleaned_and_capped_to_2000_characters(world: World) -> None:
    """An approved answer of 3,000 characters with a zero-width space and a bidi override is
    posted as one message of at most 2,000 characters, ending in the cut marker."""
    from bot.core.content import CUT_MARKER, INVISIBLE

    q = await world.say("alice", "How do I close my account?")
    a = await world.emu.post(
        world.general,
        world.users["bob"],
        "Write\u200b to\u202e support. " + "Then wait for the confirmation. " * 100,
        reply_to=q,
    )
    _, outcome = await world.service.handled("message", a)
    await world.emu.react(a, world.users["mia"], "✅")
    await world.service.handled("reaction", a)
    ask = await world.say("carol", f"<@{BOT_ID}> how do I close my account?", mentions=(BOT_ID,))
    reply = await world.emu.wait_sent("Write to support.")
    assert reply.reply_to == ask
    assert (len(reply.content) <= 2000, reply.content.endswith(CUT_MARKER)) == (True, True)
    assert not INVISIBLE & set(reply.content)
    assert [m for m in world.emu.sent if m.reply_to == ask] == [reply]
    assert outcome.harvest.kind == "paired"
