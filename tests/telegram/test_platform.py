"""The ChatPlatform port on Telegram: admins cache, long texts, photos, reactions, rights."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from bot.core.service import BotService
from bot.telegram_bot import TelegramBot, split_text
from storage.db import session_scope
from storage.models import Community
from tests.helpers.telegram_emulator import TelegramEmulator
from tests.telegram.conftest import BOB, CAROL, FUND, GAME, OLGA, TOKEN, World, make_world_db


async def test_admins_are_cached_for_the_ttl(sqlite_engine: Engine, tg: TelegramEmulator) -> None:
    """getChatAdministrators is asked once per TTL; a new admin counts after it expires."""
    now = [0.0]
    bot = TelegramBot(BotService(sqlite_engine), TOKEN, base_url=tg.base_url, clock=lambda: now[0])
    await bot.application.initialize()
    try:
        platform = bot.platform
        assert await platform.is_moderator(str(FUND), str(OLGA))
        tg.chats[FUND].admins.add(BOB)
        assert not await platform.is_moderator(str(FUND), str(BOB))
        now[0] = 61.0
        assert await platform.is_moderator(str(FUND), str(BOB))
        assert tg.count("getChatAdministrators") == 2
    finally:
        await bot.application.shutdown()


async def test_long_text_is_split_and_photo_sent(world: World, tmp_path: Path) -> None:
    """A 9,000-character message goes out in three parts; a chart goes out as a photo."""
    text = ("Redemption takes two working days. " * 300).strip()
    first = await world.bot.platform.send(str(FUND), text)
    parts = [m for m in world.tg.sent if m["chat"]["id"] == FUND]
    assert [len(m["text"]) <= 4096 for m in parts] == [True] * 3
    assert " ".join(m["text"] for m in parts) == text
    assert first == str(parts[0]["message_id"])
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 200)
    await world.bot.platform.send_photo(str(FUND), chart, "Weekly report / 周报")
    photo = world.tg.sent[-1]
    assert (photo["caption"], photo["photo"][0]["file_size"]) == ("Weekly report / 周报", 208)


def test_split_text_keeps_short_texts_whole() -> None:
    """Short texts stay one piece; a long word is cut hard."""
    assert split_text("hello") == ["hello"]
    assert split_text("x" * 10, limit=4) == ["xxxx", "xxxx", "xx"]


async def test_react_maps_verdicts_onto_telegrams_reactions(world: World) -> None:
    """✅ is no Telegram reaction: the bot puts 👍 instead."""
    question = await world.tg.post(FUND, CAROL, "hello")
    await world.bot.platform.react(str(FUND), str(question["message_id"]), "✅")
    assert world.tg.bot_reactions == [(FUND, question["message_id"], ["👍"])]


async def test_message_links_only_for_supergroups(world: World) -> None:
    """t.me/c links drop the -100 prefix; basic groups have none."""
    assert world.bot.platform.message_link("-1001111111111", "42") == (
        "https://t.me/c/1111111111/42"
    )
    assert world.bot.platform.message_link("-4242", "42") is None


async def test_missing_admin_rights_are_reported(
    sqlite_engine: Engine, tg: TelegramEmulator
) -> None:
    """Started as a plain member, the bot tells the community's moderator chat; demoted
    later, it tells the chat itself when the community has no moderator chat."""
    fund_id, _ = make_world_db(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        fund = s.get(Community, fund_id)
        assert fund is not None
        fund.moderator_platform, fund.moderator_chat_id = "telegram", str(FUND)
        s.add(fund)
    tg.chats[-1003333333333].bot_status = "member"
    bot = TelegramBot(BotService(sqlite_engine), TOKEN, base_url=tg.base_url)
    await bot.start()
    try:
        notice = await tg.wait_sent("not an administrator of “Fund forum”", chat_id=FUND)
        assert "管理员" in notice["text"]
        await tg.set_bot_status(GAME, "member", by_user=OLGA)
        demoted = await tg.wait_sent("not an administrator", chat_id=GAME)
        assert "“Game club”" in demoted["text"]
    finally:
        await bot.stop()
