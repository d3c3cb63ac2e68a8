"""A helper's diagnostic questions to the member they help are not questions to pair."""

from __future__ import annotations

from harvest.engine.exchanges import HELPER_SECONDS, Exchanges, tells_trouble
from tests.harvest.test_pairing import msg, pairs, summary


def test_the_helpers_diagnostic_question_by_name_gets_no_pair() -> None:
    """IRC style, no reply button: the asker's answer to "are you running kde or gnome?"
    is not an answer to learn."""
    found = pairs(
        [
            msg("1", "a", "wireshark hangs when I pick an interface, how do I fix it?", 0),
            msg("2", "b", "Alice: run it with pkexec instead of gksudo", 60),
            msg("3", "a", "Bob: same thing, it still hangs", 300),
            msg("4", "b", "Alice: are you running kde or gnome?", 600),
            msg("5", "a", "Bob: gnome, on 8.04", 660),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit")]


def test_a_diagnostic_question_about_a_problem_told_in_statements() -> None:
    """The asker asked, then later told the problem without a "?": another helper's
    question about it is diagnostic, and the asker's reply to it makes no pair."""
    found = pairs(
        [
            msg("1", "a", "how do I make wireshark capture on eth0?", 0),
            msg("2", "b", "Alice: run it with gksudo", 60),
            msg("3", "a", "it hangs as soon as I select the interface", 900),
            msg("4", "c", "Alice: works fine for me. What version of Ubuntu are you using?", 960),
            msg("5", "a", "Carol: 8.04", 1000),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit")]


def test_a_problem_told_without_asking_makes_its_helper_a_helper() -> None:
    """The member only told the problem ("it does not show any interface :("): whoever
    addresses them about it helps them, so the helper's question gets no pair from the
    member's reply; before, the reply (and more of the member's lines) was its "answer"."""
    found = pairs(
        [
            msg("1", "a", "installed wireshark but it does not show any network interface :(", 0),
            msg("2", "b", "Alice: are you running kde or gnome?", 420),
            msg("3", "a", "Bob: gnome i think, i just installed ubuntu", 480),
        ]
    )
    assert summary(found) == []
    # the helper answers a later line of the member's that tells no trouble itself: the
    # member told it to everyone minutes before, so they still seek help
    found = pairs(
        [
            msg("1", "a", "installed wireshark but it does not show any network interface :(", 0),
            msg("2", "a", "with kdesu it runs nicely, odd", 300),
            msg("3", "b", "Alice: are you running kde or gnome?", 420),
            msg("4", "a", "Bob: gnome i think, i just installed ubuntu", 480),
        ]
    )
    assert summary(found) == []


def test_trouble_told_is_recognised_in_both_languages() -> None:
    assert [
        tells_trouble(t) for t in ("it wouldn t mount", "我的U盘打不开", "fixed it, thanks")
    ] == [
        True,
        True,
        False,
    ]


def test_a_question_replying_to_an_announcement_still_pairs() -> None:
    """Asking under an announcement is not helping its author: the staff's answer pairs,
    and a comment on it makes nobody a helper."""
    found = pairs(
        [
            msg("1", "s", "Version 3.0 is out, with a new editor.", 0),
            msg("2", "a", "congrats, looks great", 30, reply_to_id="1"),
            msg("3", "a", "will my old API keys keep working?", 60, reply_to_id="1"),
            msg("4", "s", "Yes, keys from 2.x keep working.", 120, reply_to_id="3"),
        ]
    )
    assert summary(found) == [("3", ("4",), "reply")]


def test_helping_ends_after_the_helper_window() -> None:
    """A helper stays one while they keep talking to the member, not forever; the member
    helped back more recently is no longer helped."""
    ex = Exchanges(max_tracked=100)
    ex.respond("g", "b", "m1", "a", 0.0, True)
    assert ex.helping("g", "b", "a", 10.0)
    assert not ex.helping("g", "a", "b", 10.0)
    assert not ex.helping("g", "b", "a", HELPER_SECONDS + 1)
    ex.respond("g", "b", "m4", "a", 100.0, False)  # b keeps talking to a
    assert ex.helping("g", "b", "a", HELPER_SECONDS + 1)
    ex.respond("g", "a", "m6", "b", 200.0, True)  # now a answers b's own question
    assert not ex.helping("g", "b", "a", 210.0)
    assert ex.helping("g", "a", "b", 210.0)


def test_memory_stays_bounded() -> None:
    ex = Exchanges(max_tracked=10)
    for i in range(1000):
        ex.ask("g", f"u{i}", float(i))
        ex.direct("g", f"m{i}", f"u{i}")
        ex.respond("g", f"h{i}", f"q{i}", f"u{i}", float(i), True)
        ex.tell("g", f"u{i}", float(i), "it does not work")
        ex.tell("g", "u0", float(i), "it does not work")
    assert max(len(ex._asked), len(ex._helps), len(ex._directed), len(ex._told)) <= 10
    assert max(len(told) for told in ex._told.values()) <= 4
