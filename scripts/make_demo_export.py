"""Write bot/demo/sample_telegram_export.json: a seeded Telegram forum-group export (demo).

Four weeks of a bilingual fund-investing group: recurring questions in paraphrased forms
asked by different members, answered by two admins and one expert (by reply, by the next
message, by @mention, over several messages, or late), chit-chat, thanks, stickers and
photos, edits, two forum topics, inline-bot posts and a few self-answers. Deterministic:
the same seed writes the same bytes. Run ``python scripts/make_demo_export.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from demo_content import (
    CHAT_EN,
    CHAT_ZH,
    GREETINGS_EN,
    GREETINGS_ZH,
    TOPICS,
    WELCOMES,
    Topic,
)

from bot.demo import DEMO_CHAT_ID, DEMO_CHAT_TITLE, DEMO_EXPERTS, DEMO_EXPORT, DEMO_MODERATORS

SEED = 20240304
FIRST_DAY = datetime(2024, 3, 4)  # a Monday, local time (UTC+8)
DAYS = 26
LOCAL = timedelta(hours=8)


@dataclass(frozen=True)
class Person:
    """A member of the demo group."""

    user_id: int
    name: str
    username: str | None
    langs: str  # "zh", "en" or "zh en"


STAFF = {
    "lin": Person(7001001, DEMO_MODERATORS["7001001"], "lin_laoshi", "zh en"),
    "grace": Person(7001002, DEMO_MODERATORS["7001002"], "grace_wu", "zh en"),
    "zhou": Person(7001003, DEMO_EXPERTS["7001003"], None, "zh en"),
}
MEMBERS = (
    Person(5000101, "小李", "xiaoli_88", "zh"),
    Person(5000102, "阿强", None, "zh"),
    Person(5000103, "Momo", "momo_fund", "zh en"),
    Person(5000104, "Kevin Zhou", "kevinz", "en"),
    Person(5000105, "老王", None, "zh"),
    Person(5000106, "Jenny L.", "jennyl", "en"),
    Person(5000107, "韭菜本菜", "jiucai_me", "zh"),
    Person(5000108, "Tom W.", "tomw", "en"),
    Person(5000109, "猫猫", None, "zh"),
    Person(5000110, "Lucy Chen", "lucychen", "zh en"),
    Person(5000111, "大刘", "daliu", "zh"),
    Person(5000112, "Sam", "sam_dca", "en"),
    Person(5000113, "小雨", None, "zh"),
    Person(5000114, "Ravi", "ravi_k", "en"),
)
# People who only join later: they appear after their join message.
NEWCOMERS = (
    (Person(5000115, "小张", None, "zh"), 11, None),
    (Person(5000116, "Olivia", "olivia_m", "en"), 17, "grace"),
)
# Who answers, by the question's language (weights for lin, grace, zhou).
ANSWERER_WEIGHTS = {"zh": (50, 15, 35), "en": (10, 55, 35)}
# Each expert's habitual openings, by language; the answer itself stays the same.
LEAD_INS = {
    "zh": {
        "lin": ("简单说一下：", "这个我来答："),
        "grace": ("这个问题很常见：",),
        "zhou": ("我的理解是：",),
    },
    "en": {
        "lin": ("Generally, ",),
        "grace": ("Short answer: ", "Good question! "),
        "zhou": ("Basically, ",),
    },
}
THANKS_ZH = ("谢谢老师！", "明白了，多谢🙏", "懂了懂了", "感谢解答", "原来如此，谢谢", "好的，收到")
THANKS_EN = ("thanks!", "got it, thx 🙏", "that makes sense, thank you", "perfect, thanks a lot")
HEDGES_ZH = ("我记得好像是这样，等老师确认下", "不太确定，我之前好像看过类似的", "坐等大佬回答")
HEDGES_EN = ("not 100% sure, I think it depends on the fund?", "following, I want to know too")
SELF_LEADS_ZH = ("自问自答一下，查到了：", "找到答案了：")
SELF_LEADS_EN = ("nvm, found it in the FAQ: ", "answering myself: ")
STICKERS = ("🙏", "😂", "😭", "👍", "🐂", "🤔")
UNANSWERED = (
    ("zh", "有人知道今天为什么突然大跌吗？"),
    ("en", "Does anyone have a good book on index investing?"),
    ("zh", "群里有人买过REITs吗"),
    ("en", "Anyone tried those robo-advisor portfolios?"),
)
HOWTO_TOPIC = ("App操作 / How-to", {"setup_plan_app", "debit_failed", "dividend_mode"}, 10)
NEWBIE_TOPIC = (
    "新手问答 / Newbie Q&A",
    {"csi300_dca", "pick_index_fund", "etf_vs_feeder", "money_market", "a_vs_c"},
    7,
)


@dataclass
class Draft:
    """A message before ids are known: ``minute`` since the first day's midnight (local)."""

    minute: float
    author: Person
    parts: list[Any]
    reply_to: Draft | None = None
    service: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    edited_after: float | None = None  # minutes
    msg_id: int = 0


class Conversation:
    """Collects drafts for the whole period, then lays them out as a Telegram export."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.drafts: list[Draft] = []

    def post(self, minute: float, author: Person, parts: list[Any], **kw: Any) -> Draft:
        """Add one message; ``parts`` are strings and entity dicts."""
        draft = Draft(minute, author, parts, **kw)
        self.drafts.append(draft)
        return draft

    def export(self) -> dict[str, Any]:
        """The export object: drafts sorted by time, numbered with a few deleted gaps."""
        self.drafts.sort(key=lambda d: d.minute)
        next_id = 1
        for draft in self.drafts:
            draft.msg_id = next_id
            next_id += 1
            if self.rng.random() < 0.04:  # a deleted message leaves a gap
                next_id += self.rng.randint(1, 3)
        return {
            "name": DEMO_CHAT_TITLE,
            "type": "private_supergroup",
            "id": int(DEMO_CHAT_ID),
            "messages": [_render(d) for d in self.drafts],
        }


def _stamp(minute: float) -> tuple[str, str]:
    """Telegram's local ``date`` string and ``date_unixtime`` for a minute offset."""
    local = FIRST_DAY + timedelta(minutes=minute)
    unix = int((local - LOCAL).replace(tzinfo=UTC).timestamp())
    return local.strftime("%Y-%m-%dT%H:%M:%S"), str(unix)


def _entities(parts: list[Any]) -> tuple[Any, list[dict[str, Any]]]:
    """``text`` (a string, or a list when there are entities) and ``text_entities``."""
    if all(isinstance(p, str) for p in parts):
        text = "".join(parts)
        return text, ([{"type": "plain", "text": text}] if text else [])
    entities = [p if isinstance(p, dict) else {"type": "plain", "text": p} for p in parts]
    return list(parts), entities


def _render(draft: Draft) -> dict[str, Any]:
    """One message object with Telegram Desktop's key order."""
    date, unix = _stamp(draft.minute)
    out: dict[str, Any] = {"id": draft.msg_id, "type": "message", "date": date}
    out["date_unixtime"] = unix
    if draft.service is not None:
        out["type"] = "service"
        out["actor"] = draft.author.name
        out["actor_id"] = f"user{draft.author.user_id}"
        for key, value in draft.service.items():
            if key == "pin":  # the pinned message, known by its id only now
                out["message_id"] = value.msg_id
            else:
                out[key] = value
        out["text"], out["text_entities"] = "", []
        return out
    if draft.edited_after is not None:
        out["edited"], out["edited_unixtime"] = _stamp(draft.minute + draft.edited_after)
    out["from"] = draft.author.name
    out["from_id"] = f"user{draft.author.user_id}"
    if draft.reply_to is not None:
        out["reply_to_message_id"] = draft.reply_to.msg_id
    out.update(draft.extra)
    out["text"], out["text_entities"] = _entities(draft.parts)
    return out


def _sticker(emoji: str) -> dict[str, Any]:
    """The media members of a sticker message (it has no text)."""
    return {
        "file": "stickers/sticker.webp",
        "thumbnail": "stickers/sticker.webp_thumb.jpg",
        "media_type": "sticker",
        "sticker_emoji": emoji,
        "width": 512,
        "height": 512,
    }


def _mention(person: Person) -> dict[str, Any]:
    """A mention entity: ``@username``, or a name link for people without one."""
    if person.username:
        return {"type": "mention", "text": f"@{person.username}"}
    return {"type": "mention_name", "text": person.name, "user_id": person.user_id}


def _split(answer: str) -> tuple[str, str] | None:
    """An answer cut after its first sentence, for answers sent as two messages."""
    for mark in ("。", ". ", "; "):
        head, sep, tail = answer.partition(mark)
        if tail:
            return head + sep.strip(), tail
    return None


class Group:
    """Writes the episodes of the demo chat into a Conversation."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.chat = Conversation(self.rng)
        self.topics: dict[str, Draft] = {}
        self.photo = 0
        self.recent: list[str] = []

    def speakers(self, lang: str) -> list[Person]:
        """Members who write in ``lang``."""
        return [m for m in MEMBERS if lang in m.langs]

    def day_start(self, day: int, earliest: float = 8 * 60) -> float:
        """A random time of day (minutes since the first midnight) for an episode."""
        return day * 1440 + self.rng.uniform(earliest, 22 * 60)

    def small_talk(self, minute: float, lang: str) -> str:
        """A line of small talk that fits the time, not one of the last dozen used."""
        rng = self.rng
        local = FIRST_DAY + timedelta(minutes=minute)
        weekday, hour = local.weekday(), local.hour
        fits = {
            "am": weekday < 5 and hour < 11,
            "pm": weekday < 5 and hour >= 15,
            "eve": hour >= 21,
            "fri": weekday == 4 and hour >= 15,
            "wkd": weekday >= 5,
            "any": True,
        }
        pool = CHAT_ZH if lang == "zh" else CHAT_EN
        lines = [t for t, when in pool if fits[when] and t not in self.recent]
        line = rng.choice(lines)
        self.recent = [*self.recent[-11:], line]
        pct = f"{rng.uniform(-2.2, 2.2):+.2f}%"
        return line.replace("{pct}", pct).replace("{week}", str(rng.randint(8, 130)))

    def chit_chat(self, day: int) -> None:
        """A short burst of small talk, sometimes with a reply, a sticker or a photo."""
        rng = self.rng
        lang = rng.choice(("zh", "zh", "en"))
        minute = self.day_start(day)
        previous: Draft | None = None
        for _ in range(rng.randint(1, 3)):
            author = rng.choice(self.speakers(lang))
            minute += rng.uniform(0.3, 6)
            reply = previous if previous is not None and rng.random() < 0.2 else None
            roll = rng.random()
            if roll < 0.1:
                extra = _sticker(rng.choice(STICKERS))
                previous = self.chat.post(minute, author, [], reply_to=reply, extra=extra)
            elif roll < 0.16:
                caption = rng.choice(("", "看我的收益曲线", "chart of the day"))
                extra = self.photo_extra(minute)
                previous = self.chat.post(minute, author, [caption], extra=extra)
            else:
                text = self.small_talk(minute, lang)
                previous = self.chat.post(minute, author, [text], reply_to=reply)

    def arrival(self, person: Person, minute: float, inviter: str | None) -> None:
        """Someone joins (by link, or added by an admin), says hello and is welcomed."""
        rng, chat = self.rng, self.chat
        if inviter is None:
            chat.post(minute, person, [], service={"action": "join_group_by_link"})
        else:
            service = {"action": "invite_members", "members": [person.name]}
            chat.post(minute, STAFF[inviter], [], service=service)
        greetings = GREETINGS_ZH if "zh" in person.langs else GREETINGS_EN
        hello = chat.post(minute + rng.uniform(1, 5), person, [rng.choice(greetings)])
        greeter = rng.choice([*MEMBERS[:6], STAFF["lin"]])
        reply = hello if rng.random() < 0.5 else None
        chat.post(minute + rng.uniform(6, 12), greeter, [rng.choice(WELCOMES)], reply_to=reply)

    def photo_extra(self, minute: float) -> dict[str, Any]:
        """The media members of a photo message."""
        self.photo += 1
        local = FIRST_DAY + timedelta(minutes=minute)
        name = f"photos/photo_{self.photo}@{local.strftime('%d-%m-%Y_%H-%M-%S')}.jpg"
        return {"photo": name, "width": 1280, "height": self.rng.choice((720, 960, 1706))}

    def open_topic(self, title: str, day: int) -> Draft:
        """An admin creates a forum topic and welcomes people into it."""
        minute = day * 1440 + 9 * 60 + self.rng.uniform(0, 30)
        service = {"action": "topic_created", "title": title, "icon_emoji_id": 5377498341074542641}
        topic = self.chat.post(minute, STAFF["lin"], [], service=service)
        welcome = "这里专门放这类问题，大家有问题直接在这个话题里问～ / Ask these here, thanks!"
        self.chat.post(minute + 2, STAFF["lin"], [welcome], reply_to=topic)
        return topic

    def question(self, topic: Topic, lang: str, text: str, asker: Person, day: int) -> None:
        """One asked variant and what follows: answers, follow-ups, thanks."""
        rng, chat = self.rng, self.chat
        answer = topic.answer_zh if lang == "zh" else topic.answer_en
        forum = self.forum_for(topic.key, day)
        minute = self.day_start(day, 10 * 60 if forum else 8 * 60)
        extra = self.photo_extra(minute) if rng.random() < 0.05 else {}
        edited = rng.uniform(1, 4) if rng.random() < 0.04 else None
        asked = chat.post(minute, asker, [text], reply_to=forum, extra=extra, edited_after=edited)
        style = rng.choices(
            ("reply", "next", "mention", "multi", "late", "self", "member_first"),
            weights=(40, 14, 14, 14, 9, 4, 5) if forum is None else (70, 0, 0, 15, 5, 5, 5),
        )[0]
        minute += rng.uniform(1, 20)
        if style == "self":
            lead = rng.choice(SELF_LEADS_ZH if lang == "zh" else SELF_LEADS_EN)
            chat.post(minute + 10, asker, [lead + answer], reply_to=forum)
            return
        if style == "member_first":
            helper = rng.choice([m for m in self.speakers(lang) if m != asker])
            hedge = rng.choice(HEDGES_ZH if lang == "zh" else HEDGES_EN)
            chat.post(minute, helper, [hedge], reply_to=asked)
            minute += rng.uniform(2, 15)
        key = rng.choices(("lin", "grace", "zhou"), weights=ANSWERER_WEIGHTS[lang])[0]
        expert = STAFF[key]
        lead = rng.choice(LEAD_INS[lang][key]) if rng.random() < 0.25 else ""
        if lead.endswith(", ") and answer[:2].istitle():  # "Basically, yes - ..."
            answer = answer[0].lower() + answer[1:]
        edit = rng.uniform(2, 9) if rng.random() < 0.06 else None
        if style == "late":
            minute += rng.uniform(40, 150)
        parts: list[Any] = [lead + answer]
        reply_to: Draft | None = asked
        if style == "next":
            reply_to = forum
        elif style == "mention":
            parts, reply_to = [_mention(asker), " " + answer], forum
        last: Draft
        halves = _split(answer) if style == "multi" else None
        if halves is not None:
            first = chat.post(minute, expert, [lead + halves[0]], reply_to=asked, edited_after=edit)
            minute += rng.uniform(0.3, 1.5)
            last = chat.post(minute, expert, [halves[1]], reply_to=forum)
            last = first if rng.random() < 0.5 else last
        else:
            last = chat.post(minute, expert, parts, reply_to=reply_to, edited_after=edit)
        if rng.random() < 0.55:
            minute += rng.uniform(0.5, 10)
            if rng.random() < 0.15:
                chat.post(minute, asker, [], reply_to=last, extra=_sticker("🙏"))
            else:
                thanks = rng.choice(THANKS_ZH if lang == "zh" else THANKS_EN)
                chat.post(minute, asker, [thanks], reply_to=last if rng.random() < 0.6 else forum)

    def forum_for(self, key: str, day: int) -> Draft | None:
        """The forum topic a question about ``key`` is asked in on ``day``, if any."""
        for title, keys, opened in (HOWTO_TOPIC, NEWBIE_TOPIC):
            in_topic = title == HOWTO_TOPIC[0] or self.rng.random() < 0.6
            if key in keys and day >= opened and title in self.topics and in_topic:
                return self.topics[title]
        return None

    def extras(self) -> None:
        """Joins, the pinned rules, inline-bot posts and questions nobody answered."""
        chat, rng = self.chat, self.rng
        self.arrival(MEMBERS[12], 8 * 60 + 5, None)
        for person, day, inviter in NEWCOMERS:
            self.arrival(person, self.day_start(day, 9 * 60), inviter)
        rules = chat.post(
            9 * 60,
            STAFF["lin"],
            [
                "群规：禁止广告和荐股，提问请写清楚基金名称。 / Rules: no ads or stock tips; ",
                {"type": "bold", "text": "name the fund"},
                " when you ask. FAQ: ",
                {"type": "link", "text": "https://fundclub.example/faq"},
            ],
        )
        chat.post(9 * 60 + 1, STAFF["lin"], [], service={"action": "pin_message", "pin": rules})
        for day in (2, 9, 15, 22):
            nav = round(3.3 + rng.uniform(0, 0.4), 3)
            change = round(rng.uniform(-1.5, 1.5), 2)
            text = f"📈 沪深300ETF (510300) 净值 {nav} {change:+.2f}%"
            poster = rng.choice(MEMBERS)
            chat.post(self.day_start(day), poster, [text], extra={"via_bot": "@fund_nav_bot"})
        for index, (lang, text) in enumerate(UNANSWERED):
            chat.post(self.day_start(3 + index * 6), rng.choice(self.speakers(lang)), [text])

    def build(self) -> dict[str, Any]:
        """Lay out the whole four weeks and return the export object."""
        rng = self.rng
        self.extras()
        for title, _keys, day in (NEWBIE_TOPIC, HOWTO_TOPIC):
            self.topics[title] = self.open_topic(title, day)
        asked: list[tuple[int, Topic, str, str, Person]] = []
        for topic in TOPICS:
            days = rng.sample(range(DAYS), len(topic.zh) + len(topic.en))
            askers = rng.sample(self.speakers("zh"), len(topic.zh))
            pool = [m for m in self.speakers("en") if m not in askers]
            askers += rng.sample(pool, len(topic.en))
            texts = [("zh", t) for t in topic.zh] + [("en", t) for t in topic.en]
            for day, (lang, text), asker in zip(days, texts, askers, strict=True):
                asked.append((day, topic, lang, text, asker))
        asked.sort(key=lambda a: a[0])
        for day, topic, lang, text, asker in asked:
            self.question(topic, lang, text, asker, day)
        for day in range(DAYS):
            weekend = (FIRST_DAY + timedelta(days=day)).weekday() >= 5
            for _ in range(rng.randint(1, 3) if weekend else rng.randint(3, 5)):
                self.chit_chat(day)
        return self.chat.export()


def main(argv: list[str] | None = None) -> int:
    """Write the export and print a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMO_EXPORT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    export = Group(args.seed).build()
    args.out.write_text(json.dumps(export, ensure_ascii=False, indent=1) + "\n", "utf-8")
    summary = {"path": str(args.out), "messages": len(export["messages"]), "seed": args.seed}
    json.dump(summary, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
