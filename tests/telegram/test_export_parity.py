"""Every Telegram fixture export and the same messages seen live yield the same pairs.

Each export goes through ``fanqa import telegram`` into community "exported"; its
messages are then replayed, in time order and with their timestamps, through the Bot API
emulator to the real python-telegram-bot bot, in chats of community "live" (forum topics
created where the export created them). Ids differ (the emulator mints new ones); the
question and answer texts and the methods must not.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.core.service import BotService
from bot.demo import DEMO_EXPORT
from bot.settings import get_settings
from bot.telegram_bot import TelegramBot
from harvest.exports import ExportChatInfo, read_export
from harvest.model import ChatMessage
from storage import make_engine, upgrade
from storage.db import session_scope
from storage.models import Community, QAPair
from storage.repo.communities import get_or_create_community, upsert_chat
from tests.helpers.pair_rows import pair_rows
from tests.helpers.telegram_emulator import TelegramEmulator

TOKEN = "424242:AAE-parity-token"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
SOURCES = [
    FIXTURES / "single_chat.json",
    FIXTURES / "forum.json",
    FIXTURES / "forum_announcements.json",
    FIXTURES / "account.json",
    DEMO_EXPORT,
]
SETTLER = 999_999


def fanqa(engine: Engine, monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    """``fanqa ARGS…`` on the test database; it must succeed."""
    monkeypatch.setenv("FANQA_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output
    finally:
        get_settings.cache_clear()


def fanqa_import(engine: Engine, source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``fanqa import telegram SOURCE -c exported`` on the test database."""
    fanqa(engine, monkeypatch, "import", "telegram", str(source), "-c", "exported", "--json")


def pairs_of(engine: Engine, community: str) -> list[tuple[str, str, str]]:
    """(question, answer, method) of every live pair of ``community``, sorted."""
    with Session(engine) as s:
        found = s.exec(
            select(QAPair.question_text, QAPair.answer_text, QAPair.method)
            .join(Community, Community.id == QAPair.community_id)  # type: ignore[arg-type]
            .where(Community.name == community)
        ).all()
    return sorted((q, a, m) for q, a, m in found)


class Replay:
    """Posts an export's messages through the emulator as the users who wrote them."""

    def __init__(self, tg: TelegramEmulator, items: list[ExportChatInfo | ChatMessage]) -> None:
        self.tg = tg
        self.messages = [m for m in items if isinstance(m, ChatMessage)]
        self.chats: dict[str, int] = {}  # export chat id → live chat id
        self.users: dict[str, int] = {}
        self.ids: dict[tuple[str, str], int] = {}  # (chat, export message id) → live id
        topics = {(m.chat_id, m.thread_id) for m in self.messages if m.thread_id}
        for n, info in enumerate(i for i in items if isinstance(i, ExportChatInfo)):
            live = -1_009_000_000_000 - n
            forum = any(chat == info.chat_id for chat, _ in topics)
            tg.add_chat(live, f"{info.title} (live)", forum=forum, owner=SETTLER)
            self.chats[info.chat_id] = live
        tg.add_user(SETTLER, "Settler")
        self.topics = topics

    def user(self, msg: ChatMessage) -> int:
        if msg.author_id not in self.users:
            uid = 500_000 + len(self.users)
            self.tg.add_user(uid, msg.author_name or f"user {msg.author_id}")
            self.users[msg.author_id] = uid
        return self.users[msg.author_id]

    def live_id(self, chat: str, export_id: str | None, author: int) -> int | None:
        """The live id of a message; a ghost the bot never saw if it was not replayed."""
        if export_id is None:
            return None
        key = (chat, export_id)
        if key not in self.ids:
            self.ids[key] = self.tg.ghost(self.chats[chat], author)
        return self.ids[key]

    async def run(self) -> None:
        for msg in self.messages:
            chat = self.chats[msg.chat_id]
            at = int(msg.sent_at.timestamp())
            author = self.user(msg)
            if msg.is_service:
                if (msg.chat_id, msg.message_id) in self.topics:
                    topic = await self.tg.create_topic(chat, author, msg.text or "topic", at=at)
                    self.ids[(msg.chat_id, msg.message_id)] = topic
                continue
            if msg.is_bot or not (msg.text.strip() or msg.has_media):
                continue
            topic = self.ids.get((msg.chat_id, msg.thread_id)) if msg.thread_id else None
            reply = self.live_id(msg.chat_id, msg.reply_to_id, author)
            if msg.has_media:
                sent = await self.tg.post_photo(
                    chat, author, msg.text, reply_to=reply, topic=topic, at=at
                )
            else:
                sent = await self.tg.post(
                    chat, author, msg.text, reply_to=reply, topic=topic, at=at
                )
            self.ids[(msg.chat_id, msg.message_id)] = int(sent["message_id"])

    async def settle(self) -> None:
        """Return once the bot handled every update (it answers /help in order)."""
        for chat in self.chats.values():
            before = len(self.tg.sent)
            asked = await self.tg.post(chat, SETTLER, "/help")
            await self.tg.wait_sent(
                lambda m, asked=asked: (
                    m.get("reply_to_message", {}).get("message_id") == asked["message_id"]
                ),
                after=before,
                timeout=120,  # hundreds of updates on a busy machine
            )


async def replay_live(engine: Engine, source: Path) -> None:
    """Replay ``source`` through the emulator to the real bot, in chats of community "live"."""
    items = list(read_export(source))
    async with TelegramEmulator(TOKEN) as tg:
        replay = Replay(tg, items)
        with session_scope(engine) as s:
            live = get_or_create_community(s, "live")
            for chat in replay.chats.values():
                upsert_chat(s, live.id or 0, "telegram", str(chat), "live")
        bot = TelegramBot(BotService(engine), TOKEN, base_url=tg.base_url, poll_timeout=5)
        await bot.start()
        try:
            await replay.run()
            await replay.settle()
        finally:
            await bot.stop()


def assert_same_pairs(engine: Engine) -> list[tuple[str, str, str]]:
    """Community "live" holds exactly the pairs of community "exported"; those pairs."""
    exported = pairs_of(engine, "exported")
    assert exported  # every fixture holds at least one pair
    assert pairs_of(engine, "live") == exported
    # field by field: both wrote through the one pair writer (user ids differ: names)
    rows = pair_rows(engine, "exported", people="display_name")
    assert pair_rows(engine, "live", people="display_name") == rows
    return exported


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
async def test_live_replay_yields_the_same_pairs_as_the_import(
    source: Path, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replaying a Telegram export through the live bot gives the import's pair set."""
    fanqa_import(sqlite_engine, source, monkeypatch)
    await replay_live(sqlite_engine, source)
    assert_same_pairs(sqlite_engine)


async def test_learned_reply_linking_pairs_alike_on_import_and_live(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A community set to ``reply_linking=learned`` links answers sent without the reply
    button with the learned model on import and live alike, and that changes its pairs."""
    for name in ("exported", "live"):
        fanqa(sqlite_engine, monkeypatch, "community", "create", name)
        fanqa(sqlite_engine, monkeypatch, "community", "set", name, "reply_linking=learned")
    fanqa_import(sqlite_engine, DEMO_EXPORT, monkeypatch)
    await replay_live(sqlite_engine, DEMO_EXPORT)
    learned = assert_same_pairs(sqlite_engine)
    with_rules = make_engine(f"sqlite:///{tmp_path / 'rules.db'}")  # the default: rules
    upgrade(with_rules)
    fanqa_import(with_rules, DEMO_EXPORT, monkeypatch)
    rules = pairs_of(with_rules, "exported")
    assert [p for p in learned if p[2] == "reply"] == [p for p in rules if p[2] == "reply"]
    implicit = {p for p in learned if p[2] == "implicit"}
    assert implicit != {p for p in rules if p[2] == "implicit"}
    assert len(implicit) > len([p for p in rules if p[2] == "implicit"])


def test_announcement_topic_yields_no_pairs(engine: Engine) -> None:
    """Posts in a Telegram announcement topic are not answers to its opening post; a help
    topic whose first post asks pairs with the answer given without the reply button."""
    from bot.importer import import_export

    import_export(engine, FIXTURES / "forum_announcements.json", community="forum")
    actual = [(q, a, m) for q, a, m in pairs_of(engine, "forum")]
    expected = [
        (
            "How do I switch my plan from monthly to weekly investing?",
            "Open the plan, tap Edit and choose Weekly; it applies from the next cycle.",
            "thread",
        )
    ]
    assert actual == expected
