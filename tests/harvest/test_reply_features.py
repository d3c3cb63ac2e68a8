"""Pairwise reply features: the candidates, what the rows say, bounded memory."""

from __future__ import annotations

import numpy as np

from harvest.reply_features import FEATURES, ReplyFeatures, Seen


def feed(feats: ReplyFeatures, rows: list[tuple[str, str]], start: float = 0.0) -> list[Seen]:
    """(author, text) messages 10 s apart, each linked to nothing; their records."""
    out = []
    for i, (author, text) in enumerate(rows):
        me = feats.see(str(feats.count), author, author, text, start + 10.0 * i)
        feats.rows(me)
        feats.commit(me, None)
        out.append(me)
    return out


def column(x: np.ndarray, name: str) -> list[float]:
    return [float(v) for v in x[:, FEATURES.index(name)]]


def test_candidates_are_self_then_the_window_latest_first() -> None:
    """Row 0 is "starts something new", then up to ``window`` messages, newest first."""
    feats = ReplyFeatures(window=3)
    feed(feats, [("a", "one"), ("b", "two"), ("c", "three"), ("d", "four")])
    me = feats.see("9", "e", "e", "five", 100.0)
    cands, x = feats.rows(me)
    assert cands[0] is None
    assert [c.message_id for c in cands[1:] if c is not None] == ["3", "2", "1"]
    assert x.shape == (4, len(FEATURES))
    assert column(x, "self") == [1.0, 0.0, 0.0, 0.0]
    assert column(x, "dist_le_1")[1:] == [1.0, 0.0, 0.0]
    assert column(x, "dist_le_3")[1:] == [0.0, 0.0, 1.0]
    assert column(x, "c_latest_of_author")[1:] == [1.0, 1.0, 1.0]


def test_names_either_way_and_word_overlap() -> None:
    """Who names whom, the author's own previous message, and shared rare words."""
    feats = ReplyFeatures()
    alice, bob, _ = feed(
        feats,
        [
            ("alice", "how do I mount a usb disk?"),
            ("bob", "alice: which filesystem is on the disk"),
            ("carol", "good morning"),
        ],
    )
    feats.commit(feats.see("x", "dan", "dan", "unrelated words here", 35.0), None)
    me = feats.see("4", "alice", "alice", "bob: it is ntfs, the usb disk", 40.0)
    cands, x = feats.rows(me)
    by_id = {c.message_id: i for i, c in enumerate(cands) if c is not None}
    assert x[by_id["1"], FEATURES.index("q_names_c")] == 1.0
    assert x[by_id["1"], FEATURES.index("q_leads_c")] == 1.0
    assert x[by_id["1"], FEATURES.index("c_names_q")] == 1.0
    assert x[by_id["0"], FEATURES.index("c_is_q_prev")] == 1.0
    assert x[by_id["0"], FEATURES.index("same_author")] == 1.0
    assert x[by_id["0"], FEATURES.index("idf_overlap")] > 0.0
    assert x[by_id["2"], FEATURES.index("shared_0")] == 1.0
    assert x[0, FEATURES.index("q_names_someone")] == 1.0
    assert alice.index == 0 and bob.names


def test_links_chosen_earlier_become_features() -> None:
    """Once bob's message is linked to alice's, alice's next message sees bob replied."""
    feats = ReplyFeatures()
    q = feats.see("1", "alice", "alice", "my wifi drops every hour", 0.0)
    feats.rows(q)
    feats.commit(q, None)
    a = feats.see("2", "bob", "bob", "check dmesg", 10.0)
    feats.rows(a)
    feats.commit(a, q)
    me = feats.see("3", "alice", "alice", "nothing there", 20.0)
    cands, x = feats.rows(me)
    assert [c.message_id for c in cands[1:] if c is not None] == ["2", "1"]
    assert column(x, "c_replied_to_q")[1:] == [1.0, 0.0]
    assert column(x, "c_thread_has_q")[1:] == [1.0, 1.0]
    assert column(x, "c_thread_started_by_q")[1:] == [1.0, 1.0]


def test_near_duplicates_and_chinese_words() -> None:
    """A repeated question is a near-duplicate; Chinese text overlaps by character pairs."""
    feats = ReplyFeatures()
    feed(feats, [("a", "如何申请退款？"), ("b", "hello"), ("c", "how do I install themes??")])
    me = feats.see("9", "c", "c", "how do I install themes?", 40.0)
    _, x = feats.rows(me)
    assert column(x, "gram_dup")[1:] == [1.0, 0.0, 0.0]
    other = feats.see("10", "d", "d", "退款要多久到账", 50.0)
    _, y = feats.rows(other)
    assert column(y, "shared_1")[1:] == [0.0, 0.0, 1.0]


def test_memory_stays_bounded_on_a_long_chat() -> None:
    """Thousands of speakers and messages: the per-conversation tables stay small."""
    feats = ReplyFeatures(window=20)
    for i in range(5000):
        author = f"user{i % 1500}"
        text = f"user{(i * 7) % 1500}: word{i} and more"
        me = feats.see(str(i), author, author, text, float(i))
        cands, _ = feats.rows(me)
        feats.commit(me, cands[1] if len(cands) > 1 else None)
    assert len(feats._named) < 1000
    assert len(feats._replied) < 1000
    assert len(feats._df) < 20_000
    assert len(feats._codes) < 2000


def test_shared_words_match_a_direct_count() -> None:
    """The postings give each candidate the words it shares, as intersecting sets does."""
    import random

    rng = random.Random(3)
    vocab = [f"w{i}" for i in range(40)]
    feats = ReplyFeatures(window=15)
    for i in range(200):
        text = " ".join(rng.sample(vocab, rng.randint(0, 6)))
        me = feats.see(str(i), f"u{i % 5}", f"u{i % 5}", text, float(i))
        cands, x = feats.rows(me)
        for j, cand in enumerate(cands[1:], 1):
            assert cand is not None
            n = len(me.words & cand.words)
            assert x[j, FEATURES.index("shared_0")] == float(n == 0)
            assert x[j, FEATURES.index("shared_1")] == float(n == 1)
            assert x[j, FEATURES.index("shared_2plus")] == float(n >= 2)
        feats.commit(me, None)
