"""Write the hand-labelled fixture exports and their labels (bench/labels/*.json).

Two chats written by hand in the exporters' real formats: a Discord support channel
(DiscordChatExporter JSON) and a Telegram forum supergroup with announcement topics
(Telegram Desktop JSON). Every message that answers a question, and every message that
looks like an answer but is not (with its failure class), is labelled where it is
written. Run ``python scripts/make_label_fixtures.py``; the output is deterministic.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_labels import demo_labels

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "labelled"
LABELS = ROOT / "bench" / "labels"

# A message: (n, minute, author, text, reply_to n or None, labels). A label is
# ("good", question n) or ("bad", question n, failure class).
Spec = tuple[int, float, str, str, int | None, tuple[tuple[Any, ...], ...]]

DISCORD_PEOPLE = {
    "mira": ("Mira", ["Moderator"]),
    "tom": ("dev_tom", ["Helper"]),
    "ana": ("ana", []),
    "bilal": ("bilal", []),
    "chen": ("chen", []),
    "dora": ("dora", []),
    "eli": ("eli", []),
    "farid": ("farid", []),
    "gus": ("gus", []),
    "hana": ("hana", []),
    "ivan": ("ivan", []),
    "jules": ("jules", []),
    "kai": ("kai", []),
    "lena": ("lena", []),
    "lin": ("小林", []),
    "wang": ("王磊", []),
}

G, B = "good", "bad"

# fmt: off
DISCORD: tuple[Spec, ...] = (
    (1, 0, "ana", "hey, where do I download the desktop app?", None, ()),
    (2, 2, "mira", "Releases page: https://lumen.example/download, pick the AppImage on Linux.", 1, ((G, 1),)),
    (3, 3, "ana", "thanks!", 2, ()),
    (4, 10, "bilal", "web login broken after the update, anyone else?", None, ()),
    (5, 12, "tom", "which URL are you using?", 4, ((B, 4, "clarifying"),)),
    (6, 14, "bilal", "https://notes.mydomain.net/login, it shows 404", 5, ((B, 5, "chain"),)),
    (7, 16, "tom", "The login route moved to /auth/login in 2.0: update your reverse proxy rule to forward /auth as well.", 6, ((G, 4),)),
    (8, 18, "bilal", "that fixed it, thank you!", 7, ()),
    (9, 30, "chen", "Is there a way to sync notes between two laptops without the cloud plan?", None, ()),
    (10, 31, "dora", "same question here", 9, ((B, 9, "ack"),)),
    (11, 32, "eli", "^same question", None, ((B, 9, "ack"),)),
    (12, 33, "mira", "looking into it", 9, ((B, 9, "ack"),)),
    (13, 55, "mira", "Yes: enable the WebDAV backend under Settings → Sync and point both laptops at the same folder on your NAS.", 9, ((G, 9),)),
    (14, 58, "farid", "+1 this works for me too", 13, ()),
    (15, 70, "gus", "anyone know why the android app crashes on startup since yesterday?", None, ()),
    (16, 71, "hana", "pinging @dev_tom", 15, ((B, 15, "ack"),)),
    (17, 80, "tom", "Known bug in 3.1.0 on Android 14; 3.1.1 with the fix is rolling out on the Play Store now.", 15, ((G, 15),)),
    (18, 90, "ivan", "How do I export everything to markdown?", None, ()),
    (19, 91, "jules", "do you mean the whole vault or a single notebook?", 18, ((B, 18, "counter_question"),)),
    (20, 92, "ivan", "whole vault", 19, ((B, 19, "chain"),)),
    (21, 95, "mira", "File → Export vault → Markdown; it keeps the folder tree and puts attachments in _assets.", 20, ((G, 18),)),
    (22, 110, "kai", "search doesn't work for me, any idea?", None, ()),
    (23, 111, "tom", "mind to elaborate? what do you type and what happens?", 22, ((B, 22, "clarifying"),)),
    (24, 113, "kai", "typing any word returns nothing, even note titles", 23, ((B, 23, "chain"),)),
    (25, 116, "tom", "Then the search index is corrupt: run Tools → Rebuild index, it takes a minute on big vaults.", 24, ((G, 22),)),
    (26, 118, "kai", "works now 🙏", 25, ()),
    (27, 130, "lena", "how is everyone doing today?", None, ()),
    (28, 131, "ana", "pretty good, just migrated my vault to 2.0", 27, ((B, 27, "small_talk"),)),
    (29, 140, "chen", "how was your weekend guys?", None, ()),
    (30, 141, "dora", "went hiking, it was great", None, ((B, 29, "small_talk"),)),
    (31, 150, "farid", "Can I self-host the sync server on a Raspberry Pi?", None, ()),
    (32, 152, "mira", "Yes, the arm64 docker image runs fine on a Pi 4 with 2 GB RAM or more.", 31, ((G, 31),)),
    (33, 153, "mira", "which Pi model do you have?", None, ((B, 31, "follow_up_question"),)),
    (34, 155, "farid", "a Pi 4 with 4 GB", 33, ((B, 33, "roles_reversed"),)),
    (35, 156, "mira", "then you're fine", 34, ()),
    (36, 170, "gus", "I was looking for the link to the plugin docs but can't find it", None, ()),
    (37, 172, "mira", "Plugin docs live at https://lumen.example/docs/plugins", 36, ((G, 36),)),
    (38, 180, "wang", "求一个导入印象笔记的方法", None, ()),
    (39, 183, "lin", "用 Evernote 导出 .enex 文件，然后在 Lumen 里选 文件 → 导入 → ENEX 就行", 38, ((G, 38),)),
    (40, 184, "wang", "谢谢", 39, ()),
    (41, 190, "lin", "有人知道怎么把字体调大", None, ()),
    (42, 191, "wang", "同问", 41, ((B, 41, "ack"),)),
    (43, 195, "mira", "设置 → 外观 → 字号，拖到 18 左右就很清楚了", 41, ((G, 41),)),
    (44, 196, "lin", "收到，谢谢", 43, ()),
    (45, 210, "hana", "does the iOS app support widgets?", None, ()),
    (46, 211, "bilal", "lol my cat just walked on the keyboard", None, ((B, 45, "wrong_implicit"),)),
    (47, 214, "tom", "@hana yes, since 2.3 there is a small and a medium widget; long-press the home screen to add one", None, ((G, 45),)),
    (48, 230, "ivan", "where can I find the changelog for 2.0?", None, ()),
    (49, 231, "jules", "is there a list of what changed in 2.0?", None, ()),
    (50, 232, "kai", "I can't find the 2.0 release notes anywhere", None, ()),
    (51, 236, "mira", "@ivan @jules @kai the 2.0 changelog is at https://lumen.example/changelog/2.0", None, ((G, 48), (G, 49), (G, 50))),
    (52, 250, "lena", "what's the keyboard shortcut for a new note?", None, ()),
    (53, 251, "tom", "btw the 3.1.1 android build is live now for everyone", None, ((B, 52, "wrong_implicit"),)),
    (54, 253, "mira", "Ctrl+N, or Cmd+N on macOS", 52, ((G, 52),)),
    (55, 270, "mira", "Who here is still on the 1.x sync server? We want to know before dropping support", None, ()),
    (56, 272, "eli", "me, still on 1.9", 55, ((B, 55, "small_talk"),)),
    (57, 290, "dora", "How do I change the default notebook for new notes?", None, ()),
    (58, 291, "tom", "are you on desktop or mobile?", 57, ((B, 57, "clarifying"),)),
    (59, 292, "dora", "desktop, windows", 58, ((B, 58, "chain"),)),
    (60, 294, "tom", "Right-click the notebook in the sidebar and pick Set as default.", 59, ((G, 57),)),
    (61, 310, "eli", "Can I password-protect a single notebook?", None, ()),
    (62, 313, "mira", "Not yet, it's on the roadmap for 3.2; for now encrypt the whole vault in Settings → Security.", 61, ((G, 61),)),
    (63, 320, "farid", "what's the max attachment size?", None, ()),
    (64, 322, "tom", "50 MB per file on the hosted plan, no limit when self-hosting.", 63, ((G, 63),)),
    (65, 330, "gus", "is there a dark mode?", None, ()),
    (66, 331, "ana", "yes, View → Theme → Dark", 65, ((G, 65),)),
    (67, 332, "gus", "nice, ty", 66, ()),
    (68, 340, "hana", "why are my images not showing in the PDF export?", None, ()),
    (69, 342, "mira", "do you mean the inline images or the attachments list?", 68, ((B, 68, "clarifying"),)),
    (70, 343, "hana", "inline ones", 69, ((B, 69, "chain"),)),
    (71, 345, "mira", "Inline images are only embedded when 'Include media' is checked in the export dialog.", 70, ((G, 68),)),
    (72, 360, "wang", "移动端能离线使用吗？", None, ()),
    (73, 361, "lin", "同问+1", 72, ((B, 72, "ack"),)),
    (74, 366, "mira", "可以，移动端默认把最近 30 天的笔记缓存在本地，离线也能看和改。", 72, ((G, 72),)),
    (75, 367, "wang", "收到 谢谢", 74, ()),
    (76, 380, "jules", "sync has been stuck on 'connecting' for an hour, is the server down?", None, ()),
    (77, 381, "tom", "looking into it", 76, ((B, 76, "ack"),)),
    (78, 383, "tom", "The EU sync node ran out of disk; it's back now, restart the app and it reconnects.", None, ((G, 76),)),
    (79, 384, "jules", "yep, connected again", 78, ()),
    (80, 400, "chen", "Does the web clipper work in Firefox?", None, ()),
    (81, 401, "dora", "+1", 80, ((B, 80, "ack"),)),
    (82, 404, "tom", "Yes, install it from addons.mozilla.org; search for Lumen Clipper.", 80, ((G, 80),)),
    (83, 404.5, "tom", "did you try it already?", None, ((B, 80, "follow_up_question"),)),
    (84, 406, "chen", "not yet, will do tonight", 83, ((B, 83, "roles_reversed"),)),
    (85, 420, "kai", "what's up everyone?", None, ()),
    (86, 421, "eli", "not much, waiting for 3.2", 85, ((B, 85, "small_talk"),)),
    (87, 430, "lena", "How often does the desktop app check for updates?", None, ()),
    (88, 431, "bilal", "good question", 87, ((B, 87, "ack"),)),
    (89, 435, "tom", "Once a day at start-up; Help → Check for updates forces it.", 87, ((G, 87),)),
    (90, 450, "ivan", "有人知道 Linux 版的配置文件放在哪", None, ()),
    (91, 452, "lin", "你是说同步配置还是外观配置？", 90, ((B, 90, "counter_question"),)),
    (92, 453, "ivan", "同步的", 91, ((B, 91, "chain"),)),
    (93, 455, "lin", "同步配置在 ~/.config/lumen/sync.toml，改完重启一下应用", 92, ((G, 90),)),
    (94, 470, "hana", "Is the API rate limited?", None, ()),
    (95, 472, "mira", "Yes, 600 requests per minute per token; the response headers tell you what's left.", 94, ((G, 94),)),
    (96, 473, "hana", "perfect, thanks Mira", 95, ()),
)

# fmt: on

TELEGRAM_PEOPLE = {
    "admin": (9001, "Lumen Team"),
    "nora": (9002, "Nora (staff)"),
    "a": (1101, "Ahmed"),
    "b": (1102, "Beatriz"),
    "c": (1103, "陈晨"),
    "d": (1104, "Dmitri"),
    "e": (1105, "Emma"),
    "f": (1106, "Fang"),
}

# Telegram: (n, minute, author, text, reply_to n or None, labels, topic n or None).
# A topic is opened by a ``topic_created`` service message whose id is the topic id.
TgSpec = tuple[int, float, str, str, int | None, tuple[tuple[Any, ...], ...], int | None]
TOPIC_TITLES = {1: "📣 Announcements", 20: "🚀 Releases", 40: "🆘 Help"}

# fmt: off
TELEGRAM: tuple[TgSpec, ...] = (
    (1, 0, "admin", "", None, (), None),  # topic_created "Announcements"
    (2, 1, "admin", "Lumen 3.0 is out! Faster sync, a new editor and end-to-end encryption for every plan.", None, (), 1),
    (3, 3, "a", "great news, congrats team!", None, ((B, 2, "announcement_comment"),), 1),
    (4, 4, "b", "finally 🎉", None, ((B, 2, "announcement_comment"),), 1),
    (5, 6, "c", "太棒了，终于等到了", None, ((B, 2, "announcement_comment"),), 1),
    (6, 8, "d", "Will my old API keys keep working after the upgrade?", 2, (), 1),
    (7, 12, "nora", "Yes, keys from 2.x keep working; they just can't use the new encryption endpoints.", 6, ((G, 6),), 1),
    (8, 13, "d", "thanks!", 7, (), 1),
    (9, 20, "e", "love the new editor", None, ((B, 2, "announcement_comment"),), 1),
    (10, 60, "admin", "Scheduled maintenance on Saturday 02:00-03:00 UTC, sync will be read-only.", None, (), 1),
    (11, 62, "f", "收到", None, ((B, 10, "announcement_comment"),), 1),
    (12, 63, "a", "thanks for the heads-up", None, ((B, 10, "announcement_comment"),), 1),
    (13, 64, "b", "noted", None, ((B, 10, "announcement_comment"),), 1),
    (14, 66, "c", "维护期间手机端还能看笔记吗？", 10, (), 1),
    (15, 70, "nora", "可以，本地缓存的笔记都能看，只是改动要等维护结束才会同步。", 14, ((G, 14),), 1),
    (16, 90, "admin", "We're hiring a community manager, details on the blog.", None, (), 1),
    (17, 92, "e", "👀", None, (), 1),
    (18, 93, "d", "cool", None, ((B, 16, "announcement_comment"),), 1),
    (20, 100, "admin", "", None, (), None),  # topic_created "Releases"
    (21, 101, "admin", "3.0.1: fixes the crash when pasting images on Windows.", None, (), 20),
    (22, 103, "f", "nice", None, ((B, 21, "announcement_comment"),), 20),
    (23, 104, "a", "updated, works 👍", None, ((B, 21, "announcement_comment"),), 20),
    (24, 140, "admin", "3.0.2: the Linux AppImage now ships with Wayland support.", None, (), 20),
    (25, 141, "b", "wayland finally!", None, ((B, 24, "announcement_comment"),), 20),
    (26, 143, "c", "AppImage 在 Ubuntu 24.04 上能直接跑吗？", None, (), 20),
    (27, 147, "nora", "能，24.04 上需要先装 libfuse2，然后直接双击就行。", 26, ((G, 26),), 20),
    (28, 149, "d", "same here, great release", None, ((B, 24, "announcement_comment"),), 20),
    (40, 200, "admin", "", None, (), None),  # topic_created "Help"
    (41, 201, "e", "How do I move my vault to a new phone?", None, (), 40),
    (42, 205, "nora", "Log in on the new phone and pick 'Restore from sync'; everything comes back in a few minutes.", 41, ((G, 41),), 40),
    (43, 206, "e", "thank you!", 42, (), 40),
    (44, 220, "f", "为什么我的标签不见了", None, (), 40),
    (45, 222, "a", "同问", 44, ((B, 44, "ack"),), 40),
    (46, 226, "nora", "3.0 把标签移到了侧栏底部，点“标签”就能展开。", 44, ((G, 44),), 40),
    (47, 240, "b", "Is there a way to import from Notion?", None, (), 40),
    (48, 241, "d", "do you mean pages or databases?", 47, ((B, 47, "counter_question"),), 40),
    (49, 242, "b", "pages", 48, ((B, 48, "chain"),), 40),
    (50, 245, "nora", "For pages: export them from Notion as Markdown & CSV, then File → Import → Markdown folder.", 49, ((G, 47),), 40),
    (51, 260, "c", "求一个把笔记导出成 PDF 的方法", None, (), 40),
    (52, 264, "nora", "打开笔记，右上角 ⋯ → 导出 → PDF，可以选是否包含图片。", None, ((G, 51),), 40),
    (53, 280, "a", "how's everyone finding 3.0 so far?", None, (), 40),
    (54, 282, "f", "pretty smooth for me", 53, ((B, 53, "small_talk"),), 40),
)

# fmt: on


def _discord_id(n: int) -> str:
    return str(1_300_000_000_000_000_000 + n)


def discord_export() -> dict[str, Any]:
    """The DiscordChatExporter JSON of the support channel."""
    start = datetime(2025, 5, 10, 14, 0, tzinfo=UTC)
    messages = []
    for n, minute, who, text, reply, _ in DISCORD:
        name, roles = DISCORD_PEOPLE[who]
        stamp = (start + timedelta(minutes=minute)).isoformat(timespec="milliseconds")
        mentions = [
            {"id": str(400 + i), "name": DISCORD_PEOPLE[k][0], "nickname": None, "isBot": False}
            for i, k in enumerate(DISCORD_PEOPLE)
            if "@" + DISCORD_PEOPLE[k][0] in text
        ]
        msg: dict[str, Any] = {
            "id": _discord_id(n),
            "type": "Reply" if reply else "Default",
            "timestamp": stamp,
            "timestampEdited": None,
            "callEndedTimestamp": None,
            "isPinned": False,
            "content": text,
            "author": {
                "id": str(400 + list(DISCORD_PEOPLE).index(who)),
                "name": name,
                "discriminator": "0000",
                "nickname": name,
                "color": None,
                "isBot": False,
                "roles": [
                    {"id": str(77 + i), "name": r, "color": None, "position": 1}
                    for i, r in enumerate(roles)
                ],
                "avatarUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
            },
            "attachments": [],
            "embeds": [],
            "stickers": [],
            "reactions": [],
            "mentions": mentions,
            "inlineEmojis": [],
        }
        if reply:
            msg["reference"] = {
                "messageId": _discord_id(reply),
                "channelId": "1250000000000000001",
                "guildId": "1240000000000000001",
            }
        messages.append(msg)
    return {
        "guild": {"id": "1240000000000000001", "name": "Lumen Notes", "iconUrl": ""},
        "channel": {
            "id": "1250000000000000001",
            "type": "GuildTextChat",
            "categoryId": "1250000000000000000",
            "category": "Support",
            "name": "help",
            "topic": "Ask for help with Lumen here",
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2025-05-11T00:00:00.000+00:00",
        "messages": messages,
        "messageCount": len(messages),
    }


def telegram_export() -> dict[str, Any]:
    """The Telegram Desktop JSON (single chat) of the forum supergroup."""
    start = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    messages = []
    for n, minute, who, text, reply, _, topic in TELEGRAM:
        user_id, name = TELEGRAM_PEOPLE[who]
        at = start + timedelta(minutes=minute)
        common = {
            "id": n,
            "date": at.replace(tzinfo=None).isoformat(),
            "date_unixtime": str(int(at.timestamp())),
        }
        if n in TOPIC_TITLES:
            messages.append(
                {
                    **common,
                    "type": "service",
                    "actor": name,
                    "actor_id": f"user{user_id}",
                    "action": "topic_created",
                    "title": TOPIC_TITLES[n],
                    "text": "",
                    "text_entities": [],
                }
            )
            continue
        msg: dict[str, Any] = {
            **common,
            "type": "message",
            "from": name,
            "from_id": f"user{user_id}",
        }
        # In a topic, a message that replies to nothing replies to the topic's creation.
        target = reply if reply is not None else topic
        if target is not None:
            msg["reply_to_message_id"] = target
        msg["text"] = text
        msg["text_entities"] = [{"type": "plain", "text": text}]
        messages.append(msg)
    return {
        "name": "Lumen Community",
        "type": "private_supergroup",
        "id": 2090001234,
        "messages": messages,
    }


def labels(
    name: str, export: str, specs: list[tuple[int, tuple[tuple[Any, ...], ...]]], ident: Any
) -> dict[str, Any]:
    """The labels of one dataset, by message id."""
    pairs = []
    for n, marks in specs:
        for mark in marks:
            entry = {"question": ident(mark[1]), "answer": ident(n), "label": mark[0]}
            if mark[0] == B:
                entry["class"] = mark[2]
            pairs.append(entry)
    return {"dataset": name, "export": export, "pairs": pairs}


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    LABELS.mkdir(parents=True, exist_ok=True)
    out = {
        "discord_support.json": discord_export(),
        "telegram_forum.json": telegram_export(),
    }
    for name, data in out.items():
        (FIXTURES / name).write_text(
            json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    sets = {
        "discord_support": labels(
            "discord_support",
            "tests/fixtures/labelled/discord_support.json",
            [(s[0], s[5]) for s in DISCORD],
            _discord_id,
        ),
        "telegram_forum": labels(
            "telegram_forum",
            "tests/fixtures/labelled/telegram_forum.json",
            [(s[0], s[5]) for s in TELEGRAM],
            str,
        ),
    }
    sets["demo_export"] = demo_labels()  # derived from the demo generator's tables
    for name, data in sets.items():
        (LABELS / f"{name}.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
