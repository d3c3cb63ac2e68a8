"""Echo questions: a short question made only of words another member just said.

"partition order?" right after "… the partition order in the menu will change", "what
doesn't Ubuntu have that Windows 3.1 has?" after "surprising that windows 3.1 had this,
but ubuntu doesn't", 网卡驱动没了？ after 重装以后网卡驱动没了: it asks back about what they
said (a clarifying question), it asks nothing a chat would learn an answer to.
"""

from __future__ import annotations

import re

__all__ = ["ECHO_SCAN", "ECHO_SECONDS", "ECHO_WORDS", "content_words"]

ECHO_SCAN = 6  # messages back
ECHO_SECONDS = 180.0
ECHO_WORDS = 5  # an echo question is short
_WORD = re.compile(r"[a-z0-9][a-z0-9.+_-]*[a-z0-9+]|[\u4e00-\u9fff]+")
_STOP = frozenset(
    [
        "the",
        "and",
        "are",
        "was",
        "were",
        "does",
        "did",
        "have",
        "has",
        "had",
        "you",
        "your",
        "can",
        "could",
        "would",
        "should",
        "will",
        "not",
        "any",
        "some",
        "there",
        "here",
        "been",
        "but",
        "then",
        "than",
        "that",
        "this",
        "what",
        "which",
        "how",
        "why",
        "who",
        "where",
        "when",
        "with",
        "for",
        "its",
        "it's",
        "yes",
        "from",
        "about",
        "just",
    ]
)
_LEAD = re.compile(
    r"^\s*@?(?:[^\s:：,，]{1,32}[:：]|[\w\-\[\]|`^{}.]{1,32}[,，](?<![\u4e00-\u9fff][,，]))\s*"
)


def content_words(text: str) -> frozenset[str]:
    """The words of ``text`` that carry content (3+ letters, not function words; pairs of
    Han characters), its leading addressee left out."""
    out: set[str] = set()
    for word in _WORD.findall(_LEAD.sub("", text, count=1).lower()):
        if "\u4e00" <= word[0] <= "\u9fff":
            out.update(word[i : i + 2] for i in range(max(1, len(word) - 1)))
        elif len(word) >= 3 and word not in _STOP:
            out.add(word)
    return frozenset(out)
