"""A community's harvest settings as the engine's configuration: one function for both feeds.

The importer (``fanqa import``) and the live bots build each chat's
:class:`~harvest.engine.HarvestEngine` from the same community settings through
:func:`community_pairing`, so an export and the same messages seen live are paired by the
same rules: the community's own question patterns, and how messages sent without the reply
button are linked (``reply_linking``):

- ``rules`` (the default): the hand-written linker (:class:`harvest.linking.ImplicitLinker`),
  about 6 µs a message;
- ``learned``: the neural ranker fitted on human-annotated IRC reply links
  (:class:`harvest.reply_model.LearnedLinker`), the rules standing where it is unsure;
  about 0.7 ms a message: for busy channels where people answer by name or not at all;
- ``off``: only the reply button, threads and forum topics pair; no implicit links.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from harvest.errors import InputError
from harvest.linear_regex import usable_patterns

if TYPE_CHECKING:
    from harvest.engine import PairingConfig
    from harvest.questions import QuestionConfig

__all__ = ["DEFAULT_REPLY_LINKING", "REPLY_LINKING", "community_pairing", "question_config"]

REPLY_LINKING: Final = ("rules", "learned", "off")
DEFAULT_REPLY_LINKING: Final = "rules"


def question_config(patterns: Iterable[str] = ()) -> QuestionConfig:
    """Question detection: the built-in rules and a community's own patterns (those RE2
    refuses, stored before patterns were validated, left out)."""
    from harvest.questions import DEFAULT, QuestionConfig  # the settings check loads no engine

    usable = usable_patterns(patterns)
    return QuestionConfig(extra_patterns=usable) if usable else DEFAULT


def community_pairing(
    patterns: Iterable[str] = (),
    reply_linking: str = DEFAULT_REPLY_LINKING,
    base: PairingConfig | None = None,
) -> PairingConfig:
    """``base`` (default: the engine's defaults) with a community's settings applied.

    The community's question patterns apply unless ``base`` names its own question
    detection; ``learned`` turns the learned linker on and ``off`` implicit linking off
    (a ``base`` that already turned implicit linking off, such as ``fanqa import
    --no-implicit``, keeps it off).
    """
    from harvest.engine import PairingConfig
    from harvest.questions import DEFAULT

    if reply_linking not in REPLY_LINKING:
        raise InputError(
            f"one of {', '.join(REPLY_LINKING)}, got {reply_linking!r}", field="reply_linking"
        )
    base = base or PairingConfig()
    changes: dict[str, Any] = {}
    if base.question == DEFAULT:
        question = question_config(patterns)
        if question != DEFAULT:
            changes["question"] = question
            if base.linker is not None:  # it detects questions too: with the same patterns
                changes["linker"] = replace(base.linker, question=question)
    if reply_linking == "learned":
        changes["learned_linking"] = True
    elif reply_linking == "off":
        changes["implicit"] = False
    return replace(base, **changes) if changes else base
