"""The learned reply linker: the shipped model, model files, and links in small chats."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harvest.engine.core import HarvestEngine
from harvest.errors import InputError
from harvest.linking import ImplicitLinker
from harvest.model import ChatMessage
from harvest.pairing import PairingConfig, pair_all
from harvest.reply_features import FEATURES
from harvest.reply_model import LearnedLinker, Network, ReplyModel, default_model, load_model

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[2] / "harvest" / "data" / "reply_model.json"


def msg(mid: str, author: str, text: str, t: float, **kw: object) -> ChatMessage:
    """A chat message ``t`` seconds after T0."""
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


def one_feature(name: str, weight: float, self_weight: float = 0.0) -> ReplyModel:
    """A network whose score is ``weight`` × feature ``name`` (+ ``self_weight`` × self)."""
    n = len(FEATURES)
    w1 = [[0.0] * n, [0.0] * n]
    w1[0][FEATURES.index(name)] = 1.0
    w1[1][FEATURES.index("self")] = 1.0
    net = Network(
        (0.0,) * n, (1.0,) * n, tuple(map(tuple, w1)), (0.0, 0.0), (weight, self_weight), 0.0
    )
    return ReplyModel((net,), window=20)


def test_the_shipped_model_loads_without_the_data_folder_and_is_attributed() -> None:
    """The packaged JSON is read from the package, names its source, and stays small."""
    model = default_model()
    assert "CC BY 4.0" in json.dumps(model.meta["trained_on"])
    assert "Kummerfeld" in json.dumps(model.meta["trained_on"])
    assert DATA.stat().st_size < 3_000_000
    assert model.window >= 20
    assert load_model(DATA) == model


def test_the_shipped_model_links_a_name_an_at_mention_and_the_obvious_answer() -> None:
    """ "alice: …", "@carol …", an answer on the question's words and the asker's own
    follow-up are linked to the question."""
    linker = LearnedLinker()
    chat = [
        msg("1", "alice", "how do I mount a usb disk on the command line?", 0),
        msg("2", "carol", "does anyone know why my wifi drops every hour?", 20),
        msg("3", "dave", "good morning all", 30),
        msg("4", "bob", "alice: use pmount /dev/sdb1 /media/usb", 60),
        msg("5", "erin", "@carol check dmesg for the driver resetting", 75),
    ]
    got = [linker.feed(m) for m in chat]
    assert got[3] == "1"
    assert got[4] == "2"
    quiet = LearnedLinker()
    question = msg("10", "frank", "how can I see which kernel version I am running?", 0)
    assert quiet.feed(question) is None
    assert quiet.feed(msg("11", "frank", "on ubuntu 22.04 by the way", 10)) == "10"
    assert quiet.last_reason == "continuation"
    assert quiet.feed(msg("12", "gina", "the kernel version is printed by uname -r", 15)) == "10"
    assert quiet.last_confidence is not None and 0.5 < quiet.last_confidence <= 1.0


def test_a_greeting_after_silence_starts_something_new() -> None:
    """A newcomer's hello an hour after the last message links to nothing."""
    linker = LearnedLinker()
    linker.feed(msg("1", "alice", "how do I mount a usb disk?", 0))
    linker.feed(msg("2", "bob", "alice: pmount /dev/sdb1", 20))
    assert linker.feed(msg("3", "zed", "hi everyone", 3600)) is None


def test_the_best_candidate_wins_and_explicit_replies_pass_through() -> None:
    """A model weighting "names the candidate's author" links to that author's message."""
    linker = LearnedLinker(model=one_feature("q_names_c", 2.0, 1.0))
    assert linker.feed(msg("1", "alice", "how do I mount a usb disk?", 0)) is None
    assert linker.feed(msg("2", "carol", "anyone seen the new release", 20)) is None
    assert linker.feed(msg("3", "bob", "alice: try pmount /dev/sdb1", 40)) == "1"
    assert linker.last_reason == "addressed"
    assert linker.feed(msg("4", "dan", "thanks", 50, reply_to_id="2")) == "2"


def test_json_round_trip_and_refusals(tmp_path: Path) -> None:
    """A model reads back as written; a broken or foreign file is refused, naming why."""
    model = one_feature("same_author", 0.5, -0.25)
    assert ReplyModel.from_json(model.to_json()) == model
    good = json.loads(model.to_json())
    cases = {
        "not json {": "not JSON",
        json.dumps({"features": ["self"], "weights": [1.0]}): "not a fanqa reply model",
        json.dumps({**good, "version": 1}): "version",
        json.dumps({**good, "features": good["features"][:-1]}): "features differ",
        json.dumps({**good, "members": [{**good["members"][0], "b1": [0.0]}]}): "do not fit",
        json.dumps({**good, "members": [{**good["members"][0], "b2": "x"}]}): "malformed",
        json.dumps({**good, "members": []}): "no networks",
    }
    for text, why in cases.items():
        path = tmp_path / "model.json"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=why) as info:
            load_model(path)
        assert str(path) in str(info.value)
    with pytest.raises(InputError, match="cannot read reply model"):
        load_model(tmp_path / "missing.json")
    bad = Network((0.0,), (1.0,), ((float("nan"),),), (0.0,), (1.0,), 0.0)
    with pytest.raises(InputError):
        ReplyModel((bad,))


def test_rules_stay_the_default_and_learned_linking_is_opt_in() -> None:
    """The engine links with the rules unless ``learned_linking`` asks for the model."""
    plain = HarvestEngine(PairingConfig())
    learned = HarvestEngine(PairingConfig(learned_linking=True))
    assert type(plain._linker) is ImplicitLinker
    assert isinstance(learned._linker, LearnedLinker)
    chat = [
        msg("1", "alice", "how do I mount a usb disk on the command line?", 0),
        msg("2", "bob", "alice: use pmount /dev/sdb1 /media/usb", 60),
    ]
    for config in (PairingConfig(), PairingConfig(learned_linking=True)):
        pairs = pair_all(chat, config)
        assert [(p.question_id, p.answer_ids) for p in pairs] == [("1", ("2",))]


def test_scoring_by_blocks_equals_the_whole_network() -> None:
    """The shipped model's fast path gives what the plain network formula gives."""
    import numpy as np

    from harvest.reply_features import ReplyFeatures

    model = default_model()
    feats = ReplyFeatures(model.window)
    for i, (who, text) in enumerate(
        [("a", "how do I mount a usb disk?"), ("b", "a: pmount"), ("c", "hi"), ("a", "b: thanks")]
    ):
        me = feats.see(str(i), who, who, text, 10.0 * i)
        _, rows = feats.rows(me)
        feats.commit(me, None)
    x = np.asarray(rows, dtype=np.float64)
    per_member = []
    for net in model.members:
        h = np.tanh(
            ((x - np.asarray(net.mean)) / np.asarray(net.scale)) @ np.asarray(net.w1).T + net.b1
        )
        s = h @ np.asarray(net.w2) + net.b2
        per_member.append(s - np.log(np.exp(s - s.max()).sum()) - s.max())
    expected = np.mean(per_member, axis=0)
    expected[0] += model.self_bias
    assert np.allclose(model.log_probs(rows), expected, atol=1e-4)


def test_where_the_rules_choice_stands() -> None:
    """An unsure model, or an expert's message, keeps the rule linker's link."""
    from harvest.linking import LinkerConfig
    from harvest.model import Role

    new_always = one_feature("same_author", 0.0, 5.0)  # "starts something new", p ≈ 0.99
    chat = [
        msg("1", "alice", "how do I mount a usb disk?", 0),
        msg("2", "bob", "alice: try pmount /dev/sdb1", 40),
    ]
    alone = LearnedLinker(model=new_always, min_confidence=0.0)
    assert [alone.feed(m) for m in chat] == [None, None]
    assert alone.last_confidence is not None and alone.last_confidence > 0.9
    unsure = LearnedLinker(model=new_always, min_confidence=1.0)
    assert [unsure.feed(m) for m in chat] == [None, "1"]
    assert unsure.last_reason == "addressed"
    config = LinkerConfig(learned_min_confidence=0.0, regular_min_answers=0)
    expert = LearnedLinker(config, {"bob": Role.EXPERT}, new_always)
    assert expert.min_confidence == 0.0
    ask = msg("1", "alice", "how do I mount a usb disk?", 0)
    answer = msg("2", "bob", "pmount /dev/sdb1 does it", 40)
    assert [expert.feed(m) for m in (ask, answer)] == [None, "1"]
    with pytest.raises(InputError):
        LearnedLinker(model=new_always, min_confidence=1.5)
    with pytest.raises(InputError):
        LinkerConfig(learned_min_confidence=-0.1)


def test_the_rules_path_does_not_import_numpy() -> None:
    """Pairing without learned linking loads neither numpy nor the model (start-up cost)."""
    import subprocess
    import sys

    code = "import sys, harvest.pairing; assert 'numpy' not in sys.modules, 'numpy loaded'"
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
