"""The platform-neutral bot core: events, the port, harvesting, moderation, commands."""

from bot.core.commands import CommandHandler
from bot.core.events import CommandEvent, DeleteEvent, EditEvent, MessageEvent, ReactionEvent
from bot.core.harvesting import Harvester, HarvestOutcome
from bot.core.moderation import ReactionModerator, ReactionOutcome, action_for
from bot.core.port import ChatPlatform
from bot.core.service import AnswerPolicy, BotService, MessageOutcome, format_answer

__all__ = [
    "AnswerPolicy",
    "BotService",
    "ChatPlatform",
    "CommandEvent",
    "CommandHandler",
    "DeleteEvent",
    "EditEvent",
    "HarvestOutcome",
    "Harvester",
    "MessageEvent",
    "MessageOutcome",
    "ReactionEvent",
    "ReactionModerator",
    "ReactionOutcome",
    "action_for",
    "format_answer",
]
