"""What one message's text says, for the reply features: flags, content words, a sketch.

Part of the learned reply linker (:mod:`harvest.reply_features`): English and Chinese
cues (question, greeting, thanks, yes / no, URL, command, code, "btw"), the content words
whose overlap between two messages is weighed by rarity, and a MinHash of the text's byte
trigrams that finds near-duplicates (a question asked again, a typo corrected).
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np
import numpy.typing as npt

from harvest.answer_kinds import starts_new_topic
from harvest.memo import memo_text

__all__ = ["TEXT_FEATURES", "TOKEN_STRIP", "content_words", "text_flags", "text_sketch"]

TOKEN_STRIP: Final = " \t:：,，>.!?！？。;；-~()（）[]【】\"'“”@<"
_WORD_RE: Final = re.compile(r"[a-z0-9_][a-z0-9_'\-\./+#]*[a-z0-9_+#]|[a-z0-9]")
_HAN_RUN: Final = re.compile(r"[\u4e00-\u9fff]+")
_URL: Final = re.compile(r"https?://|www\.|\.com\b|\.org\b|pastebin|paste\.")
_GREETING: Final = re.compile(
    r"^(?:hi|hello|hey|hiya|howdy|yo|morning|good\s+(?:morning|evening|afternoon)|evening|"
    r"greetings|sup|hallo|hola|bonjour)\b|^(?:大家好|你好|您好|早上好|晚上好|各位好)",
    re.IGNORECASE,
)
_THANKS: Final = re.compile(
    r"\b(?:thanks?|thank\s+you|thx|tnx|ty|cheers|appreciated?)\b|谢谢|多谢|感谢|谢了",
    re.IGNORECASE,
)
_YES_NO: Final = re.compile(
    r"^(?:yes|no|yeah|yep|yup|nope|nah|sure|ok|okay|right|correct|exactly|indeed|"
    r"true|false|k)\b|^(?:是的|不是|对的?|没有|好的|不行|可以)",
    re.IGNORECASE,
)
_YOU: Final = re.compile(r"\b(?:you|your|u|ur|you're|youre)\b|你|您", re.IGNORECASE)
_I: Final = re.compile(r"^(?:i|i'm|im|i've|my|me)\b|^我", re.IGNORECASE)
_CODE: Final = re.compile(r"(?:^|\s)(?:sudo|apt-get|apt|cd|ls|cat|/\w+/)|`|\$\s|\w+\.\w{2,4}\b")
_STOP_WORDS: Final = (
    "the and you for are that this with have what how can but not your just was does its "
    "it's i'm don't there use any get then from will all out know try like yes one can't "
    "there's need want has got see ok is it to a of in on i my me do be if so or an at as "
    "no he she we they them am were been had would could should did doing about into than "
    "too very also here some when where which who why thanks thank hi hello hey yeah yep "
    "nope well now still"
)
_STOP: Final = frozenset(_STOP_WORDS.split())
MAX_WORDS: Final = 60  # words of a message kept for overlap
SKETCH_SIZE: Final = 16  # MinHash values per message (near-duplicate text)
GRAM_BYTES: Final = 240  # bytes of a message its trigrams are taken from
SALTS: Final = np.array(
    [(0x9E3779B97F4A7C15 * (i + 1)) & 0xFFFFFFFF | 1 for i in range(SKETCH_SIZE)], dtype=np.uint64
)
PRIME: Final = np.uint64(4294967291)  # the largest prime below 2**32

TEXT_FEATURES: tuple[str, ...] = (
    "question",
    "url",
    "greeting",
    "thanks",
    "yes_no",
    "ack",
    "short",
    "long",
    "command",
    "bot",
    "you",
    "starts_with_i",
    "code",
    "new_topic",
    "names_someone",
    "leads_with_name",
)


def text_flags(text: str, question: bool, ack: bool, bot: bool) -> list[float]:
    """The :data:`TEXT_FEATURES` of one text but the two name flags (set by the caller)."""
    stripped = text.strip()
    words = stripped.split()
    return [
        float(question),
        float(_URL.search(text) is not None),
        float(_GREETING.search(stripped) is not None),
        float(_THANKS.search(text) is not None),
        float(_YES_NO.search(stripped) is not None),
        float(ack),
        float(len(words) <= 3),
        float(len(words) >= 15),
        float(stripped[:1] == "!"),
        float(bot),
        float(_YOU.search(text) is not None),
        float(_I.search(stripped) is not None),
        float(_CODE.search(text) is not None),
        float(starts_new_topic(text)),
    ]


@memo_text
def content_words(low: str) -> frozenset[str]:
    """Content words of a lower-cased text: latin words, and Chinese character pairs."""
    out = [w for w in _WORD_RE.findall(low) if w not in _STOP and len(w) >= 2]
    for run in _HAN_RUN.findall(low):
        if len(run) == 1:
            out.append(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(out[:MAX_WORDS])


def text_sketch(low: str) -> npt.NDArray[np.uint32] | None:
    """MinHash of a text's byte trigrams (``None`` for texts under three bytes)."""
    data = " ".join(low.split()).encode("utf-8")[:GRAM_BYTES]
    if len(data) < 3:
        return None
    b = np.frombuffer(data, dtype=np.uint8).astype(np.uint64)
    grams = np.unique((b[:-2] << np.uint64(16)) | (b[1:-1] << np.uint64(8)) | b[2:])
    mixed = (grams[:, None] * SALTS[None, :] + SALTS[None, :]) % PRIME
    result: npt.NDArray[np.uint32] = mixed.min(axis=0).astype(np.uint32)
    return result
