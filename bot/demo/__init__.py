"""Demo data: a generated Telegram forum-group export, and who moderates that group.

``sample_telegram_export.json`` is written by ``scripts/make_demo_export.py`` (seeded,
deterministic). Ids here are the ``author_id`` values the export reader produces
(Telegram's ``from_id`` ``user7001001`` becomes ``7001001``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

__all__ = [
    "DEMO_CHAT_ID",
    "DEMO_CHAT_TITLE",
    "DEMO_EXPERTS",
    "DEMO_EXPORT",
    "DEMO_MODERATORS",
]

DEMO_EXPORT = Path(__file__).with_name("sample_telegram_export.json")
DEMO_CHAT_ID = "1789012345"
DEMO_CHAT_TITLE = "基金定投交流群 / Fund DCA club"
# Group admins: may approve pairs; they also answer most questions.
DEMO_MODERATORS: Mapping[str, str] = MappingProxyType(
    {"7001001": "林老师 Lin", "7001002": "Grace Wu"}
)
# Trusted answerers who are not admins.
DEMO_EXPERTS: Mapping[str, str] = MappingProxyType({"7001003": "老周 Zhou"})
