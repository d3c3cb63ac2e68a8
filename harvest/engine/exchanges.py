"""Who is helping whom: a helper's questions to the member they help are not questions to learn.

A member B *helps* A once B's message replies to (or names) A on a message of A's that was
not directed at B, while A seeks help: the message asks, or A asked something, or told
everyone of a problem ("it does not show any interface :(", :func:`tells_trouble`), within
``HELPER_SECONDS``. A's question back to B does not make B a
helper, nor does a comment on an announcement. For
``HELPER_SECONDS`` after B last directed a message at A, B is A's helper, and a question B
directs at A ("are you running kde or gnome?", "does the device show up in sudo fdisk -l?")
is a diagnostic question: A's replies to it answer the helper, they are no pairs. A question
A directs at B (the asker's follow-up, "do I run that as root?") stays a question. Only
explicit direction counts (the reply button or a name; a message the learned linker tied to
one of A's that opens with A's name, :func:`names`, is directed at A too): a message linked
by turn-taking or by topic says nothing of roles.

The question of A's that B last took up is the exchange's topic while B helps A: B's later
message to a line A said to B that asks nothing ("done that", "it s not in the list")
answers it, so a solution found after diagnostic back-and-forth pairs with the question.
Once A thanked B (by a reply or a name; not "thanks, but it still fails", nor a thanks
that asks on), that exchange is closed: a later message of B's
that a guess, not the reply button, ties to a question A asked before the thanks answers
newer talk ("you could also change that with grub-customizer"), not that question.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import TypeVar

from harvest.engine.state import Answer, Group, names
from harvest.model import ChatMessage, PairMethod
from harvest.question_rules import ZH_FAILURES
from harvest.questions import asks_addressee
from harvest.screened import screened

__all__ = [
    "DIRECTED_LINKS",
    "HELPER_SECONDS",
    "Exchanges",
    "addresses_other",
    "directs",
    "relays",
    "says_thanks",
    "tells_trouble",
]

HELPER_SECONDS = 30 * 60.0

# Link reasons that direct a message at someone (harvest.linking's ``last_reason``).
DIRECTED_LINKS = frozenset({"reply", "addressed"})

_Key = tuple[str, str, str]  # (chat, helper, helped)
_K = TypeVar("_K")
_V = TypeVar("_V")
_TURNS_TAKEN = 2  # others' messages after an open question that make a turn no answer
_TOLD = 4  # a member's latest messages to everyone kept

# Trouble told without asking ("it does not show any network interface :(", "it wouldn t
# mount", 装不上): whoever answers it helps its author, as if they had asked.
_TROUBLE = screened(
    r"\b(?:doesn'?t|doesn\s+t|does\s+not|won'?t|won\s+t|wouldn'?t|wouldn\s+t|can'?t|can\s+t|"
    r"cannot|isn'?t|is\s+not|not)\s+(?:seem\s+to\s+)?(?:work|show|mount|boot|start|load|"
    r"connect|detect|recogni[sz]e|find|see|play|open|install|run)|\berrors?\b|\bfail(?:s|ed|"
    r"ing|ure)?\b|\bbroken\b|\bcrash|\bstuck\b|:\(|\bstopped\s+working\b|"
    rf"不了|失败|{ZH_FAILURES}",
    re.IGNORECASE,
)


# Thanks said to someone (by a reply or a name) closes the exchange on what they answered.
_THANKS = re.compile(
    r"\b(?:thanks|thank\s+(?:you|u)|thx|tnx|ty|tysm|cheers)\b|谢谢|多谢|感谢|谢了|谢啦",
    re.IGNORECASE,
)


def says_thanks(text: str) -> bool:
    """Whether ``text`` thanks someone ("thanks!", "ty", "cheers", 谢谢, 多谢, 感谢)."""
    low = text.lower()  # cheap test first: most messages thank no one
    hinted = "hank" in low or "ty" in low or "谢" in low or "thx" in low or "tnx" in low
    return (hinted or "cheers" in low) and _THANKS.search(text) is not None


def _remember(store: OrderedDict[_K, _V], key: _K, value: _V, limit: int) -> None:
    """Keep ``value`` under ``key`` as the newest entry; past ``limit`` the oldest goes."""
    store.pop(key, None)
    store[key] = value
    if len(store) > limit:
        store.popitem(last=False)


def directs(reason: str, text: str, target: Group | None) -> bool:
    """Whether a message linked for ``reason`` to a message of ``target`` is directed at
    its author: a reply or a name the rules read, or a learned link to someone the text
    opens with (the model, not a name rule, chose it)."""
    if reason in DIRECTED_LINKS:
        return True
    return reason == "learned" and target is not None and names(text, target.msgs[0].author_name)


# A leading IRC-style addressee: one word, a colon and a space ("oga: all I can suggest
# …", "王五: …"; not 方法：…, not an @handle, which need not be its owner's shown name).
_ADDRESSEE = re.compile(r"^\s*[^\s:：/@]{2,32}[:：](?:\s|$)")


# A command to a chat bot said for someone ("!ipod | max82fr", "max82fr: !lts"): said in
# answer to their question, the bot's reply to it answers that question. Not one said to
# no one ("!usb": for whom is a guess) nor one the bot answers in private ("!appdb > x").
_COMMAND = re.compile(
    r"^\s*(?:![a-z][^|\n]{0,60}\|\s*([^\s|]+)|([^\s:：/@!]{2,32})[:,：]\s*![a-z][\w-]*(?:\s|$))",
    re.IGNORECASE,
)


def relays(said_by: Group, target: str | None, author: str) -> Group | None:
    """The question ``author``'s reply to ``target``, a message of ``said_by``, answers when
    ``target`` is a bot command said for the member whose question ``said_by`` answers, by
    that member's name (the bot's factoid: "max82fr: For information on … iPod, see …");
    else ``None``. A command for someone else ("!lts | carol" while helping Alice) relays
    nothing to Alice's question."""
    question = said_by.answers_to
    if question is None or author in (said_by.author_id, question.author_id):
        return None
    said = said_by.message(target)
    command = _COMMAND.match(said.text) if said is not None else None
    if command is None:
        return None
    # whom it is said for: the name after "|" ("!ipod | max82fr"), or the addressee before
    # it ("max82fr: !lts"; up to its first comma, as "carol, bob: !lts" is for carol)
    piped, addressee = command.group(1, 2)
    for_whom = (piped.rstrip(":,") if piped else addressee.split(",", 1)[0]).lower()
    first = question.msgs[0]
    return question if for_whom in (first.author_name.lower(), first.author_id.lower()) else None


def addresses_other(text: str, name: str) -> bool:
    """Whether ``text`` opens by addressing someone ("nick: …") other than ``name``."""
    return _ADDRESSEE.match(text) is not None and not names(text, name)


def tells_trouble(text: str) -> bool:
    """Whether ``text`` tells of a problem (a failure, an error), asked or not."""
    return _TROUBLE.search(text) is not None


class Exchanges:
    """Bounded memory of who each message was directed at and who helps whom, per chat."""

    __slots__ = (
        "_asked",
        "_directed",
        "_helps",
        "_max",
        "_named",
        "_thanks",
        "_told",
        "_topics",
    )

    def __init__(self, max_tracked: int) -> None:
        self._max = max_tracked
        self._directed: OrderedDict[tuple[str, str], str] = OrderedDict()
        # the same for messages directed by a reply or a name only (not turn-taking)
        self._named: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._helps: OrderedDict[_Key, float] = OrderedDict()
        self._asked: OrderedDict[tuple[str, str], float] = OrderedDict()
        # each member's latest messages to everyone: read (for trouble told) only when
        # someone takes one of their messages up, not for every message
        self._told: dict[tuple[str, str], list[tuple[float, str]]] = {}
        # (chat, helper, helped) → the question of the helped the helper last took up
        self._topics: OrderedDict[_Key, Group] = OrderedDict()
        # (chat, thanked, thanker) → when the thanker last thanked them by a reply or a name
        self._thanks: OrderedDict[_Key, float] = OrderedDict()

    def note(
        self,
        msg: ChatMessage,
        at: float,
        asks: bool,
        target: str | None,
        to: str | None,
        directed: bool,
        target_asks: bool,
    ) -> bool:
        """Record what ``msg`` (which ``asks`` or not; linked to ``target`` of ``to``,
        ``directed`` at them: a reply or a name, ``target_asks`` when that message asks)
        says of who helps whom; return whether it asks as a question to pair: a helper's
        question to whom they help does not."""
        chat, author = msg.chat_id, msg.author_id
        asking = asks
        if to is not None and to != author:
            assert target is not None
            self.direct(chat, msg.message_id, to)
            if directed:
                _remember(self._named, (chat, msg.message_id), to, self._max)
                self.respond(chat, author, target, to, at, target_asks)
                if not asks and says_thanks(msg.text) and not tells_trouble(msg.text):
                    # (not "thanks, but it still fails")
                    _remember(self._thanks, (chat, to, author), at, self._max)
                asking = asks and not self.helping(chat, author, to, at)
        if asking and asks_addressee(msg.text):
            asking = False  # "nick: have you tried X?" asks about them, for them
        if asking:
            self.ask(chat, author, at)
        elif to is None or to == author:
            self.tell(chat, author, at, msg.text)  # a problem told to all also seeks help
        return asking

    def tell(self, chat: str, author: str, at: float, text: str) -> None:
        """``author`` said ``text`` to everyone (no reply, no name) at ``at``."""
        told = self._told
        recent = told.get((chat, author))
        if recent is None:
            if len(told) >= self._max:
                del told[next(iter(told))]
            told[(chat, author)] = [(at, text)]
        else:
            recent.append((at, text))
            if len(recent) > _TOLD:
                del recent[0]

    def _seeks_help(self, chat: str, member: str, at: float) -> bool:
        """Whether ``member`` asked, or told everyone of a problem, within the window."""
        asked = self._asked.get((chat, member))
        if asked is not None and at - asked <= HELPER_SECONDS:
            return True
        recent = self._told.get((chat, member), ())
        return any(at - t <= HELPER_SECONDS and tells_trouble(text) for t, text in recent)

    def ask(self, chat: str, author: str, at: float) -> None:
        """``author`` asked something (to anyone) at ``at``."""
        _remember(self._asked, (chat, author), at, self._max)

    def direct(self, chat: str, message_id: str, to_author: str) -> None:
        """``message_id`` answers or replies to ``to_author`` (however it was linked)."""
        _remember(self._directed, (chat, message_id), to_author, self._max)

    def answers_nothing(
        self,
        msg: ChatMessage,
        asks: bool,
        reason: str,
        target: str,
        question: Group,
        turns: int = 0,
    ) -> bool:
        """Whether ``msg``, linked to another member's question ``target`` (of
        ``question``) but not directed at it (by turn-taking or topic only), is no answer to
        it: it asks itself (a question of its own); it opens by addressing someone else
        ("oga: all I can suggest is …"); it is a turn taken after a question that was not
        said to its author by a reply or a name; or it follows an open question only and
        tells a trouble of its own ("Sound stopped working") or comes ``turns`` messages of
        others after it, two or more ("sorry i did get phone call" three lines on: talk of
        its own; the linker counts none for an expert's or a moderator's message)."""
        if asks or addresses_other(msg.text, question.msgs[0].author_name):
            return True
        if reason == "called":
            return self._named.get((msg.chat_id, target)) != msg.author_id
        if reason != "question":
            return False
        return turns >= _TURNS_TAKEN or tells_trouble(msg.text)

    def said_aside(self, answer: Answer, message_id: str) -> bool:
        """Whether ``message_id``, the answerer's own message outside ``answer``, was said
        to someone other than the asker: what follows it continues that talk, not the
        answer."""
        if any(m.message_id == message_id for m in answer.msgs):
            return False
        to = self._directed.get((answer.msgs[0].chat_id, message_id))
        return to is not None and to != answer.group.author_id

    def respond(
        self,
        chat: str,
        author: str,
        target_id: str,
        target_author: str,
        at: float,
        target_asks: bool,
    ) -> None:
        """``author`` directs a message at ``target_author``'s ``target_id`` (which asks or
        not): when that message was not directed at ``author`` and ``target_author`` seeks
        help, ``author`` now helps them; a helper's every message to them keeps it so."""
        helps = self._helps
        key = (chat, author, target_author)
        if key not in helps:
            if self._directed.get((chat, target_id)) == author:
                return
            if not target_asks and not self._seeks_help(chat, target_author, at):
                return
        _remember(helps, key, at, self._max)

    def helping(self, chat: str, helper: str, helped: str, at: float) -> bool:
        """Whether ``helper`` helps ``helped`` now: within ``HELPER_SECONDS`` of their last
        message to them, and more recently than the other way round."""
        since = self._helps.get((chat, helper, helped))
        if since is None or at - since > HELPER_SECONDS:
            return False
        back = self._helps.get((chat, helped, helper))
        return back is None or back < since

    def thanked(self, chat: str, question: Group, author: str, method: PairMethod) -> bool:
        """Whether ``author``'s message, linked (not by a reply button) to ``question``,
        comes after its asker thanked ``author`` by a reply or a name: the asker closed
        that exchange, what the helper says now answers newer talk, not the question."""
        if method is not PairMethod.IMPLICIT:
            return False
        since = self._thanks.get((chat, author, question.author_id))
        return since is not None and since > question.last_at

    def take_up(self, chat: str, helper: str, question: Group) -> None:
        """``helper`` answers (or asks back about) ``question``: the exchange's topic now."""
        _remember(self._topics, (chat, helper, question.author_id), question, self._max)

    def answered(
        self,
        chat: str,
        helper: str,
        entry: Group,
        target_id: str,
        latest: Group | None,
        named: bool,
        at: float,
    ) -> Group:
        """What ``helper``'s message to ``target_id`` (of ``entry``, a member's messages that
        ask nothing or were answered already) answers. Named (not by the reply button,
        which names its message), the member's ``latest`` group when it asks, is
        unanswered and came since: an answer goes to the open question its author last
        asked (a follow-up said to another helper included). Else, when ``target_id`` was
        said to ``helper`` ("done that", "it s not in the list") while they help that
        member, the question of theirs the helper last took up: a solution found
        after diagnostic back-and-forth answers the problem. Else ``entry`` itself."""
        if (
            named
            and latest is not None
            and latest is not entry
            and latest.qidx >= 0
            and not latest.answered
            and latest.last_at >= entry.last_at
        ):
            return latest
        if entry.qidx >= 0 or self._directed.get((chat, target_id)) != helper:
            return entry
        topic = self._topics.get((chat, helper, entry.author_id))
        if topic is None or not self.helping(chat, helper, entry.author_id, at):
            return entry
        return topic
