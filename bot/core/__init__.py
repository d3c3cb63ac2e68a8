"""The platform-neutral bot core: events, the port, harvesting, moderation, commands."""

from bot.core.commands import CommandHandler
from bot.core.events import CommandEvent, DeleteEvent, EditEvent, MessageEvent, ReactionEvent
from bot.core.harvesting import Harvester, HarvestOutcome
from bot.core.moderation import ReactionModerator, ReactionOutcome, action_for
from bot.core.port import ChatPlatform

__all__ = [
    "ChatPlatform",
    "CommandEvent",
    "CommandHandler",
    "DeleteEvent",
    "EditEvent",
    "HarvestOutcome",
    "Harvester",
    "MessageEvent",
    "ReactionEvent",
    "ReactionModerator",
    "ReactionOutcome",
    "action_for",
]
