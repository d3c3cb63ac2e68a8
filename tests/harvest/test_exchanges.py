"""A helper's diagnostic questions to the member they help are not questions to pair."""

from __future__ import annotations

from harvest.engine.core import HarvestEngine
from harvest.engine.exchanges import (
    HELPER_SECONDS,
    Exchanges,
    relays,
    says_thanks,
    tells_trouble,
)
from harvest.engine.state import Group, names
from harvest.linking import ImplicitLinker
from harvest.model import ChatMessage, Role
from harvest.pairing import PairingConfig, pair_all
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
        tells_trouble(t)
        for t in (
            "it wouldn t mount",
            "我的U盘打不开",
            "Sound stopped working.",
            "fixed it, thanks",
        )
    ] == [True, True, True, False]


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


def _irc(mid: str, author: str, text: str, t: float) -> ChatMessage:
    return msg(mid, author, text, t, platform="irc")


def test_a_solution_after_the_members_report_answers_their_problem() -> None:
    """The helper's first suggestion did not work; the member says so to the helper
    without a name, and the helper's next suggestion answers the member's problem (it was
    lost before: the report asks nothing, so the reply to it paired with nothing)."""
    found = pairs(
        [
            _irc("1", "a", "my ipod touch won't mount, any idea?", 0),
            _irc("2", "b", "Alice: unplug it, wait ten seconds and plug it back in", 60),
            _irc("3", "a", "still nothing, it's not in the list", 300),
            _irc("4", "b", "Alice: then run sudo ipod-touch-mount", 600),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit"), ("1", ("4",), "implicit")]


def test_a_solution_after_the_members_report_answers_their_problem_in_chinese() -> None:
    found = pairs(
        [
            msg("1", "z", "我的U盘插上没反应，怎么办？", 0),
            msg("2", "l", "张三：先换个USB口试试", 60),
            msg("3", "z", "还是不行，文件管理器里看不到", 300),
            msg("4", "l", "张三：那就在磁盘管理里给它分配一个盘符", 600),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit"), ("1", ("4",), "implicit")]


def test_a_solution_to_someone_not_helped_pairs_with_nothing() -> None:
    """A message to a member's line said to everyone is no answer to their old question."""
    found = pairs(
        [
            _irc("1", "a", "my ipod touch won't mount, any idea?", 0),
            _irc("2", "b", "Alice: unplug it and plug it back in", 60),
            _irc("3", "a", "I like the new theme", 2400),
            _irc("4", "b", "Alice: the theme is from the ppa", 2460),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit")]


def test_an_answer_by_name_goes_to_the_members_newer_question() -> None:
    """The linker ties "Alice: look into hdparm" to Alice's older line said to Bob; Alice
    asked everyone since, and that is what the answer answers."""
    found = pairs(
        [
            _irc("1", "b", "the new kernel is out today", 0),
            _irc("2", "a", "Bob: yes, it broke my wifi for a day", 30),
            _irc("3", "a", "is it me or are parallel writes to a laptop disk slow in linux?", 400),
            _irc("4", "b", "Alice: look into hdparm, it can tune the drive", 460),
        ]
    )
    assert summary(found) == [("3", ("4",), "implicit")]
    # with the reply button the member's line is named: no newer question is guessed
    found = pairs(
        [
            msg("1", "b", "the new kernel is out today", 0),
            msg("2", "a", "Bob: yes, it broke my wifi for a day", 30),
            msg("3", "a", "is it me or are parallel writes to a laptop disk slow in linux?", 400),
            msg("4", "b", "that's a good point", 460, reply_to_id="2"),
        ]
    )
    assert summary(found) == []


def test_an_answer_by_name_goes_to_the_follow_up_asked_since() -> None:
    """Alice's first question was answered; she asks her helper a follow-up, and another
    member answers her by name: the answer goes to the follow-up, not the first question
    (the linker picks her last line said to everyone)."""
    found = pairs(
        [
            _irc("1", "a", "how do I let dexter use sudo?", 0),
            _irc("2", "b", "Alice: visudo /etc/sudoers", 30),
            _irc("3", "a", "Bob: do I run that as dexter or as root?", 60),
            _irc("4", "c", "Alice: as root", 90),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit"), ("3", ("4",), "implicit")]


def test_a_question_linked_by_turn_taking_only_asks() -> None:
    """Carol speaks after Bob asked her something: turn-taking links her line to his
    question, but her line is a question of her own, not an answer to his."""
    found = pairs(
        [
            _irc("1", "c", "hi all", 0),
            _irc("2", "b", "Carol: is cheese a program?", 30),
            _irc(
                "3",
                "c",
                "is it me or are simultaneous writes to hard disks slow in linux, or is it"
                " my 5400rpm drive (laptop)",
                60,
            ),
            _irc("4", "d", "Carol: could look into hdparm, careful with it", 120),
        ]
    )
    assert summary(found) == [("3", ("4",), "implicit")]


def test_a_turn_taken_answers_only_a_question_that_named_its_author() -> None:
    """Bob speaks right after Alice's question, which was tied to his greeting by
    turn-taking: his line answers it only when the question named him."""
    found = pairs(
        [
            _irc("1", "a", "hi all", 0),
            _irc("2", "b", "Alice: welcome back", 10),
            _irc("3", "a", "is apparmor on by default in 11.10?", 20),
            _irc("4", "b", "I shouted too loud before, sorry", 30),
        ]
    )
    assert summary(found) == []
    found = pairs(
        [
            _irc("1", "a", "hi all", 0),
            _irc("2", "b", "Alice: welcome back", 10),
            _irc("3", "a", "Bob: is apparmor on by default in 11.10?", 20),
            _irc("4", "b", "it is, since 7.10", 30),
        ]
    )
    assert summary(found) == [("3", ("4",), "implicit")]


def _a_regular_answerer() -> list[ChatMessage]:
    """Bob answers three of Carol's questions by name: a regular answerer."""
    lines = []
    for i in range(3):
        lines.append(_irc(f"c{i}", "c", f"how do I fix problem number {i}?", 60 * i))
        lines.append(_irc(f"b{i}", "b", f"Carol: reinstall package {i}", 60 * i + 20))
    return lines


def test_a_regulars_own_trouble_after_an_open_question_answers_nothing() -> None:
    """A regular answerer's next line after an unanswered question answers it, unless the
    line tells a trouble of their own ("Sound stopped working")."""
    found = pairs(
        [
            *_a_regular_answerer(),
            _irc("1", "a", "is there a way to share my laptop's wifi with my phone?", 300),
            _irc("2", "b", "Sound stopped working on my thinkpad since the upgrade.", 330),
        ]
    )
    assert [p.question_id for p in found] == ["c0", "c1", "c2"]
    found = pairs(
        [
            *_a_regular_answerer(),
            _irc("1", "a", "is there a way to share my laptop's wifi with my phone?", 300),
            _irc("2", "b", "make an ad hoc connection in network manager", 330),
        ]
    )
    assert summary(found)[-1] == ("1", ("2",), "implicit")


def test_a_regulars_turn_after_others_took_turns_answers_no_open_question() -> None:
    """A regular's line said to no one answers the unanswered question right before it
    (or after one other line); once two other members spoke since the question, the guess
    is no pair ("sorry i did get phone call" 3 lines on), unless an expert or moderator
    says it (they answer later). The same in Chinese."""
    for question, other1, other2, answer in (
        (
            "is there a way to share my laptop's wifi with my phone?",
            "hi people!",
            "my xp install in qemu is still going",
            "make an ad hoc connection in network manager",
        ),
        (
            "怎么把笔记本的无线网分享给手机？",
            "大家好",
            "我的虚拟机还在装系统",
            "在网络管理器里建一个热点就行",
        ),
    ):
        open_question = [*_a_regular_answerer(), _irc("1", "a", question, 300)]
        right_after = pairs([*open_question, _irc("2", "b", answer, 330)])
        assert summary(right_after)[-1] == ("1", ("2",), "implicit")
        later = [
            *open_question,
            _irc("d", "d", other1, 310),
            _irc("e", "e", other2, 320),
            _irc("2", "b", answer, 330),
        ]
        assert [p.question_id for p in pairs(later)] == ["c0", "c1", "c2"]
        expert = pair_all(later, PairingConfig(), {"b": Role.EXPERT})
        assert summary(expert)[-1] == ("1", ("2",), "implicit")


def test_the_answerers_talk_with_a_third_member_is_no_part_of_the_answer() -> None:
    """Bob answers Alice, then answers Carol (who took up his own question) and goes on
    to her: his follow-up continues that talk and stays out of Alice's answer; so does
    his turn after Carol addressed him."""
    found = pairs(
        [
            _irc("1", "b", "does wine run photoshop at all?", 0),
            _irc("2", "a", "can photoshop cs2 be installed in ubuntu?", 20),
            _irc("3", "b", "Alice: no, but you can try wine", 40),
            _irc("4", "c", "Bob: wine may not be reliable for that", 50),
            _irc("5", "b", "Carol: better than nothing", 60),
            _irc("6", "b", "some things work really well in wine", 70),
        ]
    )
    assert summary(found) == [("2", ("3",), "implicit"), ("1", ("4",), "implicit")]
    found = pairs(
        [
            _irc("1", "a", "how do I let dexter use sudo?", 0),
            _irc("2", "b", "Alice: sudo adduser dexter admin", 30),
            _irc("3", "c", "Bob: visudo is safer than nano though", 40),
            _irc("4", "b", "nano is fine too if you are careful", 50),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit")]


class _ModelLinker(ImplicitLinker):
    """The rule linker's links, reported as a learned linker reports links it chose."""

    def feed_at(self, msg: ChatMessage, at: float) -> str | None:
        target = super().feed_at(msg, at)
        if self.last_reason == "addressed":
            self.last_reason = "learned"
        return target


def test_a_message_naming_the_member_is_directed_however_it_was_linked() -> None:
    """With learned linking the model, not a name rule, may choose the link: a message
    that opens with the name of its target's author is still directed at them, so the
    helper's diagnostic question gets no pair from the member's reply."""
    messages = [
        _irc("1", "a", "wireshark hangs when I pick an interface, how do I fix it?", 0),
        _irc("2", "b", "Alice: run it with pkexec instead of gksudo", 60),
        _irc("3", "a", "Bob: same thing, it still hangs", 300),
        _irc("4", "b", "Alice: are you running kde or gnome?", 600),
        _irc("5", "a", "Bob: gnome, on 8.04", 660),
    ]
    engine = HarvestEngine(incremental=False)
    engine._linker = _ModelLinker(engine.config.linker)
    closed = [d.pair for m in messages for d in engine.feed(m).decisions]
    closed += [d.pair for d in engine.flush()]
    assert [(p.question_id, p.answer_ids) for p in closed if p is not None] == [("1", ("2",))]


def test_names_reads_the_addressee_a_message_opens_with() -> None:
    assert [
        names(text, name)
        for text, name in (
            ("max82fr: run dmesg", "max82fr"),
            ("@Bob try it", "Bob"),
            ("bob, try it", "Bob"),
            ("Bobby: try it", "Bob"),
            ("try it, Bob", "Bob"),
        )
    ] == [True, True, True, False, False]


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
        ex.take_up("g", f"h{i}", _group(f"u{i}"))
        ex.note(
            msg(f"n{i}", f"h{i}", "Bob: try this", i), float(i), False, "q", f"u{i}", True, False
        )
    sizes = (ex._asked, ex._helps, ex._directed, ex._named, ex._told, ex._topics)
    assert max(len(s) for s in sizes) <= 10
    assert max(len(told) for told in ex._told.values()) <= 4


def _group(author: str) -> Group:
    return Group(msg("q", author, "how?"), 0.0, True)


def test_an_etiquette_notice_or_a_decline_by_name_makes_no_pair() -> None:
    """IRC style: "Alice: please don't ask to ask" and "Alice: sorry, I can't help you"
    answer nothing; the helper who then answers makes the pair."""
    found = pairs(
        [
            msg("1", "a", "how do I get w32codecs installed? apt says no install candidate", 0),
            msg("2", "b", "Alice: please keep it on-channel, and watch your language", 30),
            msg("3", "c", "Alice: sorry, I can't help you there :/", 40),
            msg("4", "b", "Alice: enable the multiverse repository first, then apt-get it", 200),
        ]
    )
    assert summary(found) == [("1", ("4",), "implicit")]


def test_a_chinese_etiquette_notice_makes_no_pair() -> None:
    """注意言辞 / 帮不了 answer nothing; the later answer pairs."""
    found = pairs(
        [
            msg("1", "a", "怎么卸载谷歌地球？删不掉啊", 0),
            msg("2", "b", "注意言辞，这里是技术群", 20, reply_to_id="1"),
            msg("3", "c", "抱歉，这个我帮不了你", 30, reply_to_id="1"),
            msg("4", "c", "用 sudo apt-get purge googleearth 试试", 300, reply_to_id="1"),
        ]
    )
    assert summary(found) == [("1", ("4",), "reply")]


def test_a_question_about_the_addressee_gets_no_pair() -> None:
    """ "Alice: have you asked in #flossk?" asks about Alice, for her: her "yes" answers
    the one who asked, it is no pair, even when no helping was seen before."""
    found = pairs(
        [
            msg("1", "a", "kemi naj shqiptar ktu apo fare", 0),
            msg("2", "b", "Alice: have you asked in #flossk ?", 30),
            msg("3", "a", "Bob: yes, nobody there", 60),
        ]
    )
    assert summary(found) == []
    found = pairs(
        [
            msg("1", "z", "我的显卡是 GTX 1060", 0),
            msg("2", "l", "张三：你装了 dkms 没有？", 30),
            msg("3", "z", "装了，昨天装的", 60, reply_to_id="2"),
        ]
    )
    assert summary(found) == []


def test_asking_the_addressee_for_knowledge_stays_a_question() -> None:
    """ "Bob: do you know how …" asks Bob for what he knows: his answer pairs."""
    found = pairs(
        [
            msg("1", "a", "Bob: do you know how to search with grep?", 0),
            msg("2", "b", "Alice: grep -r pattern dir", 30),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit")]


def test_reporting_back_to_ones_helper_answers_none_of_their_questions() -> None:
    """Bob helps Alice, then asks everyone something of his own: Alice's next line to
    him (here by the reply button) reports on her problem, it answers nothing of his."""
    found = pairs(
        [
            msg("1", "a", "how do I uninstall googleearth? apt says it is not installed", 0),
            msg("2", "b", "Alice: sudo dpkg --purge googleearth", 60),
            msg("3", "b", "does anyone know the gnome equivalent of katapult?", 400),
            msg("4", "a", "dpkg says conflicting actions, nothing happened", 430, reply_to_id="3"),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit")]
    found = pairs(
        [
            msg("1", "z", "谷歌地球怎么卸载？删不掉", 0),
            msg("2", "l", "张三：sudo dpkg --purge googleearth", 60),
            msg("3", "l", "有人知道 gnome 下类似 katapult 的启动器吗？", 400),
            msg("4", "z", "提示冲突，还是删不掉", 430, reply_to_id="3"),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit")]


def test_a_turn_taken_that_addresses_someone_else_answers_nothing() -> None:
    """Alice names Bob in her question; Bob's next line opens with another member's name
    ("Oga: all I can suggest …", someone who has not spoken here): it is said to them, it
    does not answer Alice. Said to no one, the turn taken still answers."""
    before = [
        msg("0", "b", "the w32codecs howto is on the wiki", 0),
        msg("1", "a", "Bob: that link is no use, how do I get the codecs?", 60),
    ]
    aside = msg("2", "b", "Oga: all I can suggest is reading the howto again", 90)
    assert summary(pairs([*before, aside])) == []
    answer = msg("2", "b", "enable multiverse, then apt-get install w32codecs", 90)
    assert summary(pairs([*before, answer])) == [("1", ("2",), "implicit")]
    zh = [
        msg("0", "l", "解码器教程在 wiki 上", 0),
        msg("1", "z", "李四：那个链接没用，解码器到底怎么装？", 60),
        msg("2", "l", "王五: 我只能建议你再看一遍教程", 90),
    ]
    assert summary(pairs(zh)) == []
    # "方法：…" (a label, a full-width colon and no space) addresses no one: it answers
    zh[2] = msg("2", "l", "方法：先启用 multiverse 源，再装 w32codecs", 90)
    assert summary(pairs(zh)) == [("1", ("2",), "implicit")]


def test_a_bots_reply_to_a_command_said_for_the_asker_answers_the_question() -> None:
    """IRC: a helper calls the channel bot's factoid for the asker ("!ipod | Alice"); the
    bot's reply to that command (the helper's line, not the asker's) answers her question."""
    lines = [
        msg("1", "a", "any help with an ipod touch please? it won't mount", 0),
        msg("2", "b", "!ipod | Alice", 40, reply_to_id="1"),
        msg(
            "3",
            "ubottu",
            "See https://help.ubuntu.com/community/IPodHowto for iPods",
            41,
            reply_to_id="2",
        ),
    ]
    found = pairs(lines)
    assert [(q, a) for q, a, _ in summary(found)] == [("1", ("3",))]
    named = msg("2", "b", "Alice: !ipod", 40, reply_to_id="1")
    found = pairs([lines[0], named, lines[2]])
    assert [(q, a) for q, a, _ in summary(found)] == [("1", ("3",))]


def test_a_bots_reply_to_a_command_said_for_no_one_or_in_private_answers_nothing() -> None:
    """ "!usb" said to no one (for whom is a guess) and "!appdb > Alice" (the bot answers in
    private) leave the bot's public line unpaired."""
    for command in ("!usb", "!appdb > Alice", "see the wiki"):
        found = pairs(
            [
                msg("1", "a", "how do I install from a usb stick?", 0),
                msg("2", "b", command, 40, reply_to_id="1"),
                msg(
                    "3",
                    "ubottu",
                    "For installing from USB see https://x.example",
                    41,
                    reply_to_id="2",
                ),
            ]
        )
        assert all("3" not in p.answer_ids for p in found), command


def test_commands_said_for_someone_are_recognised() -> None:
    said = Group(msg("2", "b", "!info cheese | Alice", 0), 0.0, False)
    said.answers_to = Group(msg("1", "a", "is cheese a software?", 0), 0.0, True)
    assert relays(said, "2", "ubottu") is said.answers_to
    assert relays(said, "2", "a") is None  # the asker's own line is no bot reply
    assert relays(said, "9", "ubottu") is None


def test_a_command_said_for_another_member_relays_nothing_to_the_asker() -> None:
    """The helper of Alice calls a factoid for someone else ("!lts | carol"): the reply to
    that line (carol's own, or the bot's) answers nothing Alice asked; the pipe and the
    "nick: !cmd" forms alike, and a Chinese name too."""
    for command in ("!lts | carol", "carol: !lts", "!lts | 王五"):
        found = pairs(
            [
                msg("1", "a", "which ubuntu release is supported longest?", 0),
                msg("2", "b", command, 40, reply_to_id="1"),
                msg("3", "c", "thanks, I'll stay on 22.04 then", 50, reply_to_id="2"),
                msg("4", "ubottu", "LTS releases get five years of updates", 51, reply_to_id="2"),
            ]
        )
        assert all(p.question_id != "1" or p.answer_ids == ("2",) for p in found), command
        assert not any({"3", "4"} & set(p.answer_ids) for p in found), command


def test_after_the_askers_thanks_the_helpers_next_message_answers_nothing_old() -> None:
    """The asker thanked the helper by name: that exchange is closed, and what the helper
    says to them minutes later answers newer talk, not the old question (an explicit reply
    to the question still answers it)."""
    thanked = [
        _irc("1", "a", "my ipod touch won't mount, any idea?", 0),
        _irc("2", "b", "Alice: unplug it, wait ten seconds and plug it back in", 60),
        _irc("3", "a", "Bob: thanks, that did it!", 300),
        _irc("4", "a", "the sync is really slow now though", 400),
        _irc("5", "b", "Alice: gtkpod syncs faster, install it from the ppa", 600),
    ]
    assert summary(pairs(thanked)) == [("1", ("2",), "implicit")]
    replied = [*thanked[:4], msg("5", "b", thanked[4].text, 600, reply_to_id="1", platform="irc")]
    assert summary(pairs(replied)) == [("1", ("2",), "implicit"), ("1", ("5",), "reply")]
    # "thanks, but it still fails" keeps the exchange open: the next suggestion answers
    still = [*thanked[:2], _irc("3", "a", "Bob: thanks, but it still doesn't mount", 300)]
    still.append(_irc("5", "b", "Alice: then run sudo ipod-touch-mount", 600))
    assert summary(pairs(still)) == [("1", ("2",), "implicit"), ("1", ("5",), "implicit")]


def test_after_the_askers_thanks_in_chinese() -> None:
    found = pairs(
        [
            msg("1", "z", "我的U盘插上没反应，怎么办？", 0),
            msg("2", "l", "张三：先换个USB口试试", 60),
            msg("3", "z", "李四：谢谢，可以了", 300),
            msg("4", "z", "就是拷文件有点慢", 400),
            msg("5", "l", "张三：换成 exFAT 格式会快一些", 600),
        ]
    )
    assert summary(found) == [("1", ("2",), "implicit")]


def test_says_thanks() -> None:
    assert says_thanks("Bob: thanks, that did it!") and says_thanks("ty") and says_thanks("谢谢")
    assert not says_thanks("pretty empty type") and not says_thanks("the tank is full")
