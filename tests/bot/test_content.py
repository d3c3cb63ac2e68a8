"""What the bot posts is cleaned of invisible controls and capped to the platform's limit."""

from __future__ import annotations

from bot.core.content import CUT_MARKER, cap, clean, outgoing, utf16_len


def test_zero_width_and_bidi_controls_are_stripped_emoji_joiners_kept() -> None:
    """ZWSP, BOM, RLO/LRI/PDI and friends go; the ZWJ inside 👩‍💻 stays."""
    sneaky = "pay\u200b to\u202e gnp.exe\u202c \u2067x\u2069 \ufeffok 👩\u200d💻 a\u200db"
    assert clean(sneaky) == "pay to gnp.exe x ok 👩\u200d💻 ab"


def test_telegram_counts_utf16_units() -> None:
    """An emoji outside the BMP is two units: 3,000 of them do not fit in 4,096."""
    text = "😀" * 3000
    capped = cap(text, 4096)
    assert (utf16_len(text), utf16_len(capped) <= 4096) == (6000, True)
    assert capped.endswith(CUT_MARKER) and capped.startswith("😀" * 2000)


def test_short_text_is_untouched_and_discord_limit_holds() -> None:
    """Within the limit nothing changes; past Discord's 2,000 the text ends in the marker."""
    assert outgoing("hello", 2000) == "hello"
    long = outgoing("word " * 1000, 2000)
    assert (len(long) <= 2000, long.endswith(CUT_MARKER)) == (True, True)
