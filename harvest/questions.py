"""Question detection for English and Chinese chat messages, tunable per community."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from harvest.errors import InputError
from harvest.linear_regex import compile_linear
from harvest.memo import memo_text
from harvest.question_rules import (
    ACK_STRIP,
    ACKS,
    ADDRESS_RE,
    ASKS_ADDRESSEE,
    BOT_COMMAND,
    CODE_RE,
    FILLER,
    GUARD_NAMES,
    GUARDS,
    HAN_RE,
    LATIN_WORD_RE,
    MENTION_RE,
    PATTERN_NAMES,
    PROGRESSIVE_RE,
    RULES,
    SMALL_TALK,
    URL_RE,
    WORD_RE,
)
from harvest.screened import Screened, Screens

__all__ = [
    "DEFAULT",
    "GUARD_NAMES",
    "PATTERN_NAMES",
    "QuestionConfig",
    "asks_addressee",
    "detect_language",
    "is_question",
    "is_small_talk",
]


@dataclass(frozen=True, slots=True)
class QuestionConfig:
    """How one community's questions look.

    ``extra_patterns`` are regular expressions (searched case-insensitively) that also mark
    a question; ``disabled_patterns`` names built-in patterns or guards to switch off (see
    ``PATTERN_NAMES`` / ``GUARD_NAMES``); ``extra_non_questions`` are expressions that mark a
    statement unless it carries a question mark; texts shorter than ``min_length``
    non-space characters are never questions.
    """

    extra_patterns: tuple[str, ...] = ()
    disabled_patterns: frozenset[str] = frozenset()
    extra_non_questions: tuple[str, ...] = ()
    min_length: int = 3
    _detect: Callable[[str], bool] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        unknown = set(self.disabled_patterns) - set(PATTERN_NAMES) - set(GUARD_NAMES)
        if unknown:
            raise InputError(
                f"unknown question pattern(s): {', '.join(sorted(unknown))}",
                field="disabled_patterns",
            )
        if self.min_length < 0:
            raise InputError("min_length must be >= 0", field="min_length")
        object.__setattr__(self, "_detect", memo_text(_build_detector(self)))

    def __reduce__(self) -> tuple[type[QuestionConfig], tuple[object, ...]]:
        # Pickle the settings, not the compiled detector (rebuilt on load).
        fields = (self.extra_patterns, self.disabled_patterns, self.extra_non_questions)
        return (QuestionConfig, (*fields, self.min_length))


def _compile_all(
    sources: list[str], field_name: str, flags: int = 0, *, flat: bool = False
) -> re.Pattern[str] | None:
    """Join expressions into one alternation; a bad expression names its field.

    ``flat`` joins the expressions without wrapping each in a group, so that when each
    alternative starts with a literal, sre can skip ahead to the possible first characters.
    """
    for source in sources:
        try:
            re.compile(source, flags)
        except re.error as exc:
            raise InputError(f"invalid pattern {source!r}: {exc}", field=field_name) from exc
    if not sources:
        return None
    return re.compile("|".join(sources if flat else (f"(?:{s})" for s in sources)), flags)


def _search_word(screened: Screened, text: str) -> bool:
    """True when the pattern matches ``text`` starting at a word boundary."""
    if not screened.possible(text):
        return False
    rx = screened.exact
    pos = 0
    while (m := rx.search(text, pos)) is not None:
        start = m.start()
        if start == 0 or not text[start - 1].isalnum():
            return True
        pos = start + 1
    return False


def _search_zh(rx: re.Pattern[str], text: str) -> bool:
    """True when ``rx`` matches ``text``, skipping a progressive "在…呢" statement."""
    for m in rx.finditer(text):
        if m.group() != "呢":
            return True
        if PROGRESSIVE_RE.search(text, 0, m.start()) is None:
            return True
    return False


def _build_detector(config: QuestionConfig) -> Callable[[str], bool]:
    """Compile the enabled patterns of ``config`` into one fast predicate."""
    off = config.disabled_patterns
    rules = [(n, kind, p) for n, kind, p in RULES if n not in off]
    en_start = _compile_all([p for n, k, p in rules if k == "start"], "patterns")
    en_start_re = en_next_re = None
    if en_start is not None:  # at the text's start / after a sentence end (fast: a charset)
        en_start_re = re.compile(f"{FILLER}(?:{en_start.pattern})")
        # a sentence end, or a dash between clauses ("nick - can you give me the command")
        en_next_re = re.compile(rf"(?:[.!;。！；\n]|\s[-–—]+)\s*{FILLER}(?:{en_start.pattern})")
    en_any = [p for n, k, p in rules if k == "any" and n.startswith("en_")]
    en_any_re = _compile_all(en_any, "patterns", flat=True)
    zh_re = _compile_all([p for n, k, p in rules if n.startswith("zh_")], "patterns", flat=True)
    extra_re = compile_linear(config.extra_patterns, field="extra_patterns")  # RE2: no stall
    guards = [(n, kind, p) for n, kind, p in GUARDS if n not in off]
    en_guard_start = _compile_all([p for n, k, p in guards if k == "start"], "patterns")
    en_guard_any = [p for n, k, p in guards if k == "any" and n.startswith("en_")]
    en_guard_any_re = _compile_all(en_guard_any, "patterns", flat=True)
    zh_guard = [p for n, k, p in guards if n.startswith("zh_")]
    zh_guard_re = _compile_all(zh_guard, "patterns", flat=True)
    extra_non_re = compile_linear(config.extra_non_questions, field="extra_non_questions")
    use_mark = "question_mark" not in off
    use_acks = "acknowledgement" not in off
    use_small_talk = "small_talk" not in off
    use_commands = "bot_command" not in off
    min_length = config.min_length
    # The alternations searched anywhere in a text, behind RE2 screens (harvest.screened):
    # one scan of the text rules out most of them.
    screens = Screens()
    next_start = None if en_next_re is None else Screened(en_next_re, screens)
    any_words = None if en_any_re is None else Screened(en_any_re, screens)
    guard_words = None if en_guard_any_re is None else Screened(en_guard_any_re, screens)
    # small talk too: every text it reaches is scanned once, for all four
    small_talk = Screened(SMALL_TALK.exact, screens) if use_small_talk else None

    def english(low: str) -> bool:
        """Worded as an English question and not guarded as a statement."""
        found = en_start_re is not None and (
            en_start_re.match(low) is not None
            or (next_start is not None and next_start.search(low) is not None)
        )
        if not found and (any_words is None or not _search_word(any_words, low)):
            return False
        if en_guard_start is not None and en_guard_start.match(low):
            return False
        return guard_words is None or not _search_word(guard_words, low)

    def detect(text: str) -> bool:
        s = text.strip()
        if extra_re is not None and extra_re.search(s):
            return True
        if use_commands and s[:1] in "!/" and BOT_COMMAND.match(s) is not None:
            return False
        marked = use_mark and ("?" in s or "？" in s)
        if marked and ("/" in s or "`" in s):
            s = CODE_RE.sub(" ", URL_RE.sub(" ", s)).strip()
            marked = "?" in s or "？" in s
        if not marked and extra_non_re is not None and extra_non_re.search(s):
            return False
        low = s.lower()
        if ":" in low or "：" in low or low[:1] == "@":
            low = ADDRESS_RE.sub("", low, count=1)
        if len(low) - low.count(" ") < min_length:
            return False
        if use_acks and len(low) <= 24 and low.strip(ACK_STRIP) in ACKS:
            return False
        if small_talk is not None and small_talk.search(low) is not None:
            return False  # chit-chat asks for nothing worth learning, "?" or not
        if marked:
            return WORD_RE.search(low) is not None
        if low.isascii():
            return english(low)
        if zh_re is not None and _search_zh(zh_re, low):
            return zh_guard_re is None or zh_guard_re.search(low) is None
        return english(low)

    return detect


DEFAULT = QuestionConfig()


def is_question(text: str, config: QuestionConfig = DEFAULT) -> bool:
    """True when ``text`` reads as a question (English or Chinese) under ``config``."""
    return config._detect(text)


def asks_addressee(text: str) -> bool:
    """True for a question about the one it is said to ("nick: have you tried X?", "did you
    try it already?", 你装了驱动没有？): a detail of their setup or of what they did, asked
    to help them, not a question of the asker's to learn an answer to."""
    return ASKS_ADDRESSEE.search(text.strip()) is not None


def is_small_talk(text: str) -> bool:
    """True for chit-chat questions ("how is everyone doing?", "who here is still on 1.x",
    大家最近怎么样): they ask for no information a model should learn."""
    return SMALL_TALK.search(MENTION_RE.sub("", text).strip()) is not None


def detect_language(text: str) -> Literal["zh", "en"]:
    """``"zh"`` when Han characters outnumber Latin words in ``text``, else ``"en"``."""
    if text.isascii():
        return "en"
    han = len(HAN_RE.findall(text))
    words = len(LATIN_WORD_RE.findall(text))
    return "zh" if han > words else "en"
