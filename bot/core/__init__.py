"""The platform-neutral bot core: events, the port, decisions, and the service tying them."""

from bot.core.command_handler import CommandHandler, Scheduling
from bot.core.events import CommandEvent, DeleteEvent, EditEvent, MessageEvent, ReactionEvent
from bot.core.harvesting import Harvester, HarvestOutcome
from bot.core.moderation import ReactionOutcome, action_for
from bot.core.policy import AnswerPolicy, format_answer
from bot.core.port import ChatPlatform
from bot.core.reactions import ReactionModerator
from bot.core.service import BotService, MessageOutcome

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
    "Scheduling",
    "action_for",
    "format_answer",
]
