"""A community's settings become the engine's configuration in one place (import and live)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harvest.community_config import REPLY_LINKING, community_pairing, question_config
from harvest.engine import PairingConfig
from harvest.errors import InputError
from harvest.linking_config import LinkerConfig
from harvest.model import ChatMessage, Role
from harvest.pairing import pair_all
from harvest.questions import DEFAULT, QuestionConfig, is_question


def test_defaults_are_the_engines() -> None:
    assert community_pairing() == PairingConfig()
    assert REPLY_LINKING[0] == "rules"


def test_patterns_apply_to_detection_and_to_the_linker() -> None:
    base = PairingConfig(linker=LinkerConfig(window_seconds=60.0))
    pairing = community_pairing([r"\bplz\b"], base=base)
    assert is_question("send the fee table plz", pairing.question)
    assert not is_question("send the fee table plz", DEFAULT)
    assert pairing.linker is not None
    assert pairing.linker.question == pairing.question  # the linker detects with them too
    assert pairing.linker.window_seconds == 60.0  # the rest of the caller's linker kept


def test_a_pattern_re2_refuses_is_left_out() -> None:
    """Stored before patterns were validated: skipped, not an error at harvest time."""
    assert question_config([r"(a)\1"]) == DEFAULT
    assert question_config([r"(a)\1", r"\bplz\b"]) == QuestionConfig(extra_patterns=(r"\bplz\b",))


def test_a_callers_own_question_config_wins() -> None:
    own = QuestionConfig(extra_patterns=(r"\bhelp\b",))
    pairing = community_pairing([r"\bplz\b"], base=PairingConfig(question=own))
    assert pairing.question == own


@pytest.mark.parametrize(
    ("linking", "implicit", "learned"),
    [("rules", True, False), ("learned", True, True), ("off", False, False)],
)
def test_reply_linking(linking: str, implicit: bool, learned: bool) -> None:
    pairing = community_pairing(reply_linking=linking)
    assert (pairing.implicit, pairing.learned_linking) == (implicit, learned)


def _expert_answers_without_reply(pairing: PairingConfig) -> list[str]:
    """The answers paired when an expert answers an open question without the reply button."""
    t0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    chat = [
        ("1", "alice", "How do I redeem my units of fund 3 before the cut-off?"),
        ("2", "bob", "Open the app, Assets > Redeem, before 15:00 on a trading day."),
    ]
    messages = [
        ChatMessage("telegram", "g1", mid, who, who, text, t0 + timedelta(seconds=30 * i))
        for i, (mid, who, text) in enumerate(chat)
    ]
    return [p.answer_text for p in pair_all(messages, pairing, {"bob": Role.EXPERT})]


def test_off_pairs_no_implicit_answer_and_rules_do() -> None:
    assert _expert_answers_without_reply(community_pairing(reply_linking="rules")) == [
        "Open the app, Assets > Redeem, before 15:00 on a trading day."
    ]
    assert _expert_answers_without_reply(community_pairing(reply_linking="off")) == []


def test_no_implicit_stays_off_whatever_the_community_says() -> None:
    """``fanqa import --no-implicit`` on a community that links with the learned model."""
    pairing = community_pairing(reply_linking="learned", base=PairingConfig(implicit=False))
    assert not pairing.implicit
    assert _expert_answers_without_reply(pairing) == []


def test_an_unknown_mode_names_the_field() -> None:
    with pytest.raises(InputError) as caught:
        community_pairing(reply_linking="smart")
    assert caught.value.field == "reply_linking"
    assert "rules, learned, off" in str(caught.value)
