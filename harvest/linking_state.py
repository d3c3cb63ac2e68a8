"""What the implicit linker remembers per conversation: speakers, their names, recent messages."""

from __future__ import annotations

from collections import deque

__all__ = ["STRIP_CHARS", "Conversation", "Recent", "Speaker", "name_aliases"]

# Punctuation around a name ("@bob:", "(bob)") that is not part of it.
STRIP_CHARS = " \t\r\n:：,，>.!?！？。;；-~()（）[]【】\"'“”"


def name_aliases(name: str) -> tuple[str, ...]:
    """The lower-case forms people address ``name`` by: full, without spaces, first word."""
    full = name.strip().lower()
    if not full:
        return ()
    aliases = [full]
    compact = "".join(full.split())
    bare = compact.strip(STRIP_CHARS + "_|`^")
    words = full.split()
    for alias in (compact, bare, words[0] if len(words) > 1 else ""):
        if len(alias) >= 2 and alias not in aliases:
            aliases.append(alias)
    return tuple(aliases)


class Speaker:
    """What the linker remembers about one author in one conversation."""

    __slots__ = (
        "aliases",
        "answers",
        "author_id",
        "called_at",
        "called_by",
        "called_seq",
        "free_id",
        "last_at",
        "last_id",
        "last_seq",
        "name",
        "sent_to",
    )

    def __init__(self, author_id: str, name: str) -> None:
        self.author_id = author_id
        self.name = name
        self.aliases = name_aliases(name)
        self.last_id: str | None = None
        self.last_at = 0.0
        self.last_seq = -1
        self.free_id: str | None = None  # latest message not addressed to someone else
        self.called_by: str | None = None  # latest message addressing this author ...
        self.called_at = 0.0  # ... when ...
        self.called_seq = -1  # ... and its place in the conversation
        self.answers = 0
        self.sent_to: dict[str, tuple[str, float]] = {}  # partner → latest message to them


class Recent:
    """One recent message: enough to find an unanswered question."""

    __slots__ = ("answered", "at", "author_id", "language", "message_id", "question", "text")

    def __init__(self, message_id: str, author_id: str, at: float, text: str) -> None:
        self.message_id = message_id
        self.author_id = author_id
        self.at = at
        self.text = text
        self.answered = False
        self.question: bool | None = None
        self.language: str | None = None  # detect_language(text), once asked for


class Conversation:
    """Linker state of one (chat, thread)."""

    __slots__ = ("aliases", "by_id", "recent", "seq", "speakers")

    def __init__(self, recent_messages: int) -> None:
        self.speakers: dict[str, Speaker] = {}
        self.aliases: dict[str, str] = {}  # lower-case alias → author id (latest wins)
        self.recent: deque[Recent] = deque(maxlen=recent_messages)
        self.by_id: dict[str, Recent] = {}  # the same recent messages by id
        self.seq = 0  # messages seen
