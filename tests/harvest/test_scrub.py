"""PII scrubber: what is replaced, and what must be left alone."""

from __future__ import annotations

import pytest

from harvest.scrub import PiiKind, ScrubResult, scrub


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at alice.smith+fund@example.co.uk please", "mail me at [EMAIL] please"),
        ("我的邮箱是 zhang_san@qq.com", "我的邮箱是 [EMAIL]"),
        ("call 13812345678 or 138-1234-5678", "call [PHONE] or [PHONE]"),
        ("手机：+86 138 1234 5678", "手机：[PHONE]"),
        ("手机：+8613812345678。", "手机：[PHONE]。"),
        ("手机13812345678，邮箱li.wei@example.com谢谢", "手机[PHONE]，邮箱[EMAIL]谢谢"),
        ("US (415) 555-2671 / 415-555-2671", "US [PHONE] / [PHONE]"),
        ("UK office +44 20 7946 0958", "UK office [PHONE]"),
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz123456 leaked", "key [SECRET] leaked"),
        ("token 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8", "token [SECRET]"),
        (
            "MTA4NzY1NDMyMTA5ODc2NTQzMg.GhIjKl.abcdefghijklmnopqrstuvwxyz012345 is my bot",
            "[SECRET] is my bot",
        ),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[SECRET]"),
        ("aws AKIAIOSFODNN7EXAMPLE", "aws [SECRET]"),
        ("url?token=3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c&x=1", "url?token=[SECRET]&x=1"),
        ("api_key: 'ZXhhbXBsZXNlY3JldGtleTEyMzQ1Ng=='", "api_key: '[SECRET]'"),
        (
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123",
            "Authorization: [SECRET]",
        ),
        ("card 4111 1111 1111 1111", "card [CARD]"),
        ("卡号 6222-0212-3456-7890-128 谢谢", "卡号 [CARD] 谢谢"),
        ("身份证 11010519491231002X", "身份证 [ID]"),
    ],
)
def test_replaces_personal_data(text: str, expected: str) -> None:
    """Each kind of personal data or secret becomes its placeholder."""
    assert scrub(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "基金代码 000001 和 510300、161725",
        "定投日期 2024-03-01，2024/03/01 或 2024.03.01，2024年3月1日",
        "price ¥1,299.00 or $12.50, fee 0.15%, 成交额 8,765亿",
        "python 3.11.7, version 1.2.3, v10.4.21, build 20240301.1",
        "timestamp 1709283600 and NAV 3.5120, 份额 12345.67 份",
        "order 20240301123456 and 1,234,567,890",
        "ip 192.168.1.1 at 12:30",
        "T+1 确认, T+2 到账, QDII T+7",
        "snowflake 1100000000000000040 and <@300000000000000001>",
        "the key is to keep investing; token=short",
        "11010519491231002Y is not an ID and 4111 1111 1111 1112 fails Luhn",
    ],
)
def test_leaves_ordinary_numbers_alone(text: str) -> None:
    """Fund codes, dates, prices, versions, ids and invalid checksums are not PII."""
    assert scrub(text) == ScrubResult(text)


def test_counts_per_kind() -> None:
    """The result counts replacements per kind."""
    result = scrub("a@b.io, c@d.io, 13812345678, sk-abcdefghijklmnopqrstuvwx")
    assert (dict(result.counts), result.total, result.changed) == (
        {PiiKind.SECRET: 1, PiiKind.EMAIL: 2, PiiKind.PHONE: 1},
        4,
        True,
    )


def test_nothing_to_scrub() -> None:
    """Plain text comes back unchanged with no counts."""
    result = scrub("沪深300适合定投吗？")
    assert (result.text, dict(result.counts), result.changed) == ("沪深300适合定投吗？", {}, False)


def test_placeholders() -> None:
    """Every kind has a bracketed upper-case placeholder."""
    assert [k.placeholder for k in PiiKind] == ["[SECRET]", "[EMAIL]", "[ID]", "[CARD]", "[PHONE]"]
