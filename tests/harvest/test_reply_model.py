"""The learned reply linker: model files, features, and links from the shipped model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harvest.errors import InputError
from harvest.model import ChatMessage
from harvest.reply_model import FEATURES, LearnedLinker, ReplyModel, default_model

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def msg(mid: str, author: str, text: str, t: float, **kw: object) -> ChatMessage:
    """An IRC-like message ``t`` seconds after T0."""
    return ChatMessage(
        platform="irc",
        chat_id="c",
        message_id=mid,
        author_id=author,
        author_name=author,
        text=text,
        sent_at=T0 + timedelta(seconds=t),
        **kw,  # type: ignore[arg-type]
    )


def only(name: str, weight: float = 1.0, self_weight: float = 0.0) -> ReplyModel:
    """A model that scores one feature (and optionally "self")."""
    weights = [0.0] * len(FEATURES)
    weights[FEATURES.index(name)] = weight
    weights[FEATURES.index("self")] = self_weight
    return ReplyModel(tuple(weights))


def test_json_round_trip_and_feature_check() -> None:
    """A model reads back as written; one for other features is refused."""
    model = only("child_names_parent", 2.0, -0.5)
    assert ReplyModel.from_json(model.to_json()) == model
    with pytest.raises(InputError):
        ReplyModel.from_json('{"features": ["x"], "weights": [1.0]}')
    with pytest.raises(InputError):
        ReplyModel((1.0,))


def test_the_best_scoring_candidate_wins() -> None:
    """With only "names the parent's author" weighted, a mention picks that author."""
    linker = LearnedLinker(model=only("child_names_parent", 2.0, 1.0))
    assert linker.feed(msg("1", "alice", "how do I mount a usb disk?", 0)) is None
    assert linker.feed(msg("2", "carol", "anyone seen the new release", 20)) is None
    assert linker.feed(msg("3", "bob", "alice: try pmount /dev/sdb1", 40)) == "1"
    assert linker.last_reason == "addressed"


def test_explicit_replies_pass_through() -> None:
    """A message sent with the reply button keeps its target."""
    linker = LearnedLinker(model=only("self", 0.0, 5.0))
    linker.feed(msg("1", "alice", "question?", 0))
    assert linker.feed(msg("2", "bob", "answer", 10, reply_to_id="1")) == "1"


def test_the_shipped_model_links_a_mention_and_is_attributed() -> None:
    """The packaged model links "alice: …" to alice's question and names its source."""
    model = default_model()
    assert "CC BY 4.0" in str(model.meta["trained_on"])
    linker = LearnedLinker(model=model)
    linker.feed(msg("1", "alice", "how do I mount a usb disk on the command line?", 0))
    linker.feed(msg("2", "carol", "good morning all", 30))
    assert linker.feed(msg("3", "bob", "alice: use pmount /dev/sdb1 /media/usb", 60)) == "1"
