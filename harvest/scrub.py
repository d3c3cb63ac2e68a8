"""PII scrubber: e-mails, phone numbers, secrets, card and ID numbers become placeholders."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

__all__ = ["PiiKind", "ScrubResult", "scrub"]


class PiiKind(StrEnum):
    """What was removed; the placeholder is the upper-case name in brackets."""

    SECRET = "secret"
    EMAIL = "email"
    ID_NUMBER = "id"
    CARD = "card"
    PHONE = "phone"

    @property
    def placeholder(self) -> str:
        """``[SECRET]``, ``[EMAIL]``, ``[ID]``, ``[CARD]``, ``[PHONE]``."""
        return f"[{self.value.upper()}]"


@dataclass(frozen=True, slots=True)
class ScrubResult:
    """The scrubbed text and how many of each kind were replaced."""

    text: str
    counts: Mapping[PiiKind, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def total(self) -> int:
        """Replacements of every kind."""
        return sum(self.counts.values())

    @property
    def changed(self) -> bool:
        """Whether anything was replaced."""
        return self.total > 0


# --- secrets: vendor formats first, then "token=..." style values ---------------------
_SECRET_PATTERNS = (
    r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}",  # OpenAI / Anthropic
    r"(?<![\w:])\d{8,10}:[A-Za-z0-9_-]{35}(?![\w-])",  # Telegram bot token
    r"\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b",  # Discord
    r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{22,}\b",
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
    r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API key
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b",  # Slack
    r"(?i:\bbearer)\s+[A-Za-z0-9._~+/-]{20,}=*",
)
_SECRET = re.compile("|".join(f"(?:{p})" for p in _SECRET_PATTERNS))
# The value after token= / key= / secret: ..., when it looks generated: 16+ characters of
# hex/base64 alphabet with at least one digit and one letter.
_ASSIGNED_SECRET = re.compile(
    r"(?i)\b(?P<name>[a-z_]*(?:token|key|secret|passw(?:or)?d|pwd))(?P<sep>\s*[=:]\s*[\"']?)"
    r"(?P<value>(?=[A-Za-z0-9+/=_.-]*\d)(?=[A-Za-z0-9+/=_.-]*[A-Za-z])[A-Za-z0-9+/=_.-]{16,})"
)

_EMAIL = re.compile(
    # ASCII-only boundaries: "邮箱li.wei@example.com" glues CJK (a \w) to the address.
    r"(?<![A-Za-z0-9_.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9_])"
)

# Mainland China resident ID: region, birth date, sequence, ISO 7064 check character.
_CN_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[0-9Xx](?![0-9A-Za-z])"
)
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"

# Card-like: 13-19 digits, optionally grouped by single spaces or dashes, starting like a
# card network's numbers (3 Amex/Diners/JCB, 4 Visa, 5 and 22-27 Mastercard, 6 UnionPay/
# Discover), Luhn-checked. Not after + (phone), @ # & : (Discord mentions, emoji ids).
_CARD = re.compile(r"(?<![\d.,+@#&:-])(?:[3-6]|2[2-7])(?:[ -]?\d){12,18}(?![\d.,]\d|\d)")

_PHONE_PATTERNS = (
    # China mainland mobile: 1[3-9]x xxxx xxxx, optional +86 / 0086, separators allowed.
    r"(?:(?:\+|00)86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}",
    # International: a leading + and 8-15 digits in groups.
    r"\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,5}",
    # US/Canada, written with separators or parentheses (a bare 10-digit run is too often
    # an order number or a timestamp).
    r"(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[.-]|[2-9]\d{2} )[2-9]\d{2}[ .-]\d{4}",
)
_PHONE = re.compile(
    r"(?<![A-Za-z0-9_+.,/:-])(?:"  # ASCII-only: "手机13812345678" must still match
    + "|".join(f"(?:{p})" for p in _PHONE_PATTERNS)
    + r")(?![\w.,/:-]?\d)"
)


def _luhn_ok(digits: str) -> bool:
    """Luhn checksum of a digit string."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _cn_id_ok(number: str) -> bool:
    """ISO 7064 MOD 11-2 check character of an 18-character resident ID."""
    total = sum(int(d) * w for d, w in zip(number[:17], _CN_ID_WEIGHTS, strict=True))
    return _CN_ID_CHECK[total % 11] == number[17].upper()


def _card_ok(candidate: str) -> bool:
    """Looks like a payment card number: Luhn-valid and not one digit repeated."""
    digits = candidate.replace(" ", "").replace("-", "")
    return len(set(digits)) > 1 and _luhn_ok(digits)


def _phone_ok(candidate: str) -> bool:
    """Enough digits for a real number (7 is a local number without area code)."""
    digits = sum(c.isdigit() for c in candidate)
    return 8 <= digits <= 15


def _replace(
    pattern: re.Pattern[str],
    kind: PiiKind,
    text: str,
    counts: dict[PiiKind, int],
    accept: Callable[[str], bool] | None = None,
) -> str:
    """Replace every accepted match of ``pattern`` with ``kind``'s placeholder."""

    def substitute(match: re.Match[str]) -> str:
        if accept is not None and not accept(match.group(0)):
            return match.group(0)
        counts[kind] = counts.get(kind, 0) + 1
        return kind.placeholder

    return pattern.sub(substitute, text)


def _replace_assigned(text: str, counts: dict[PiiKind, int]) -> str:
    """``api_key=3f9a...`` → ``api_key=[SECRET]`` (the name stays, it is not secret)."""

    def substitute(match: re.Match[str]) -> str:
        counts[PiiKind.SECRET] = counts.get(PiiKind.SECRET, 0) + 1
        return match.group("name") + match.group("sep") + PiiKind.SECRET.placeholder

    return _ASSIGNED_SECRET.sub(substitute, text)


def scrub(text: str) -> ScrubResult:
    """Replace personal data and secrets in ``text`` with placeholders.

    Order matters and is fixed: secrets, e-mails, Chinese ID numbers (checksum), card
    numbers (Luhn), phone numbers. Placeholders contain no digits, so a later pattern
    never matches inside an earlier replacement. Fund codes (``000001``), dates, prices,
    version numbers and Unix timestamps are left alone.
    """
    counts: dict[PiiKind, int] = {}
    out = _replace(_SECRET, PiiKind.SECRET, text, counts)
    out = _replace_assigned(out, counts)
    out = _replace(_EMAIL, PiiKind.EMAIL, out, counts)
    out = _replace(_CN_ID, PiiKind.ID_NUMBER, out, counts, _cn_id_ok)
    out = _replace(_CARD, PiiKind.CARD, out, counts, _card_ok)
    out = _replace(_PHONE, PiiKind.PHONE, out, counts, _phone_ok)
    return ScrubResult(out, MappingProxyType(counts))
