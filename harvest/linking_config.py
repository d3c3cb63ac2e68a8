"""The implicit linker's configuration: time windows, look-backs and memory bounds."""

from __future__ import annotations

from dataclasses import dataclass, field

from harvest.errors import InputError
from harvest.questions import DEFAULT, QuestionConfig

__all__ = ["LinkerConfig"]


@dataclass(frozen=True, slots=True)
class LinkerConfig:
    """Time windows and bounds of the implicit linker.

    ``window_seconds``: how long ago an addressed speaker may have spoken, and how old a
    message addressing the author may be, to be linked. ``continuation_seconds``: an
    author's unaddressed message within this time of their previous one continues it.
    ``question_seconds`` / ``question_lookback``: an unanswered question this recent (and
    among this many latest messages) is answered by the next message of a regular
    answerer: an expert / moderator, or a member who already answered
    ``regular_min_answers`` others (0: anyone); for an expert / moderator by role the
    question may be ``ranked_question_seconds`` old (they answer later, not in a hurry).
    ``recent_messages`` and ``max_speakers`` (up to twice as many between prunings) bound
    memory per conversation, ``max_conversations`` the (chat, thread) conversations
    tracked (least recently active dropped first). ``learned_min_confidence``: with the
    learned linker (:class:`harvest.reply_model.LearnedLinker`), a link the rules did not
    make is kept only when the model gives it at least this probability, else the rules'
    choice stands (0.7: the best pair precision on the labelled chats, not the held-out
    IRC region; 0 lets the model decide alone).
    """

    window_seconds: float = 900.0
    continuation_seconds: float = 180.0
    question_seconds: float = 120.0
    ranked_question_seconds: float = 1800.0
    question_lookback: int = 8
    regular_min_answers: int = 3
    recent_messages: int = 256
    max_speakers: int = 1000
    max_conversations: int = 500
    question: QuestionConfig = field(default=DEFAULT)
    learned_min_confidence: float = 0.7

    def __post_init__(self) -> None:
        for name in (
            "window_seconds",
            "continuation_seconds",
            "question_seconds",
            "ranked_question_seconds",
        ):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be >= 0", field=name)
        if not 0.0 <= self.learned_min_confidence <= 1.0:
            raise InputError(
                "learned_min_confidence must be in [0, 1]", field="learned_min_confidence"
            )
        for name in ("question_lookback", "recent_messages", "max_speakers", "max_conversations"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be >= 1", field=name)
