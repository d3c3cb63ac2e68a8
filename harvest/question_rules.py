"""The built-in question rules: English and Chinese patterns that mark a question, the guards
that mark a statement, small talk, acknowledgements and the text pieces detection strips.

``harvest.questions`` compiles them (with a community's own patterns) into one detector;
a community can switch any rule or guard off by its name (``PATTERN_NAMES``, ``GUARD_NAMES``).
"""

from __future__ import annotations

import re

from harvest.screened import screened

__all__ = [
    "ACKS",
    "ACK_STRIP",
    "ADDRESS_RE",
    "ASKS_ADDRESSEE",
    "BOT_COMMAND",
    "CODE_RE",
    "FILLER",
    "GUARDS",
    "GUARD_NAMES",
    "HAN_RE",
    "LATIN_WORD_RE",
    "MENTION_RE",
    "PATTERN_NAMES",
    "PROGRESSIVE_RE",
    "RULES",
    "SMALL_TALK",
    "URL_RE",
    "WORD_RE",
    "ZH_FAILURES",
]

# Patterns run on the lower-cased text. "start" patterns are matched at each sentence start
# after an optional filler ("ok so", "hi all,"); "any" patterns are searched anywhere and
# every branch starts with a literal, which keeps the search fast (sre skips ahead on the
# first character); an English "any" match must also begin at a word boundary.
FILLER = (
    r"(?:(?:hi|hey|hello|ok|okay|so|well|also|and|but|btw|guys|all|everyone|folks|sorry|"
    r"um+|uh+|hmm+|quick question|question|one more thing|then|now|anyway)[\s,.:!;-]+)*"
)
_AUX = (
    r"(?:is|are|was|were|am|do|does|did|can|could|should|would|will|shall|may|might|must|"
    r"has|have|had|isn't|aren't|wasn't|doesn't|didn't|can't|cannot|couldn't|won't|wouldn't|"
    r"shouldn't|haven't|hasn't|isnt|arent|wasnt|doesnt|didnt|cant|couldnt|wouldnt|shouldnt|"
    r"havent|hasnt)"
)
_PRON = (
    r"(?:i|you|we|they|he|she|it|there|this|that|these|those|anyone|anybody|someone|somebody|"
    r"u|ya|people|one)"
)
_DET = r"(?:the|my|your|our|his|her|their|a|an|any|some)"
_SUBJ = r"(?:i|you|we|they|he|she|it|anyone|anybody|someone|somebody|u|ya|people|there)"
_END = r"(?=[\s，。！？、；：,.!?;:~～…)）\"”'」』]|$)"


# What a failure is called in Chinese (打不开, 登录不了, 报错 …): a first-person one asks
# (``zh_trouble``), and any one told to everyone seeks help (harvest.engine.exchanges).
ZH_FAILURES = (
    "打不开|用不了|登不上|登录不了|连不上|装不上|安装不了|下载不了|赎回不了|买不了|提现不了|"
    "报错|出错|失败了|没反应|不能用|闪退|卡死"
)


def _expand(heads: str, tail: str) -> str:
    """``a b`` + ``T`` → ``aT|bT``: alternatives that each start with a literal."""
    return "|".join(head + tail for head in heads.split())


# (name, kind, expression); a community can disable any name.
RULES: tuple[tuple[str, str, str], ...] = (
    # English, at a sentence start.
    ("en_wh_aux", "start", rf"(?:what|where|when|who|which|how|why|whose)\s+{_AUX}\b"),
    ("en_wh_contraction", "start", r"(?:what|where|who|how|when|why)(?:'s|'re|s\s+up)\b"),
    (
        "en_how_why",
        "start",
        r"(?:why\s+(?!not\s*!)\w+|how\s+(?:to|much|many|long|often|far|big|hard|easy|old|"
        r"come|about|fast|soon|i|we|you|it|this|can|should|would)\b|what\s+(?:happens|"
        r"happened|about|if|else)\b)",
    ),
    (
        "en_wh_noun",
        "start",
        rf"(?:what|which|whose)\s+(?!an?\b)\w+\s+(?:{_AUX}|{_PRON}|should|would|to)\b",
    ),
    ("en_who", "start", r"who\s+(?!i\b|you\b|we\b|they\b)\w+"),
    # "is xubuntu supported here", "are nvidia drivers available for 9.04": no statement
    # opens with "is" and a thing's state
    (
        "en_aux_state",
        "start",
        r"(?:is|are|isn't|aren't|isnt|arent)\s+(?!(?:all|both|now|still|already|not|also|just|"
        r"really|so|very|fine)\b)[a-z0-9][\w.+-]*(?:\s+[a-z0-9][\w.+-]*)?\s+"
        r"(?:supported|available|compatible|installed|installable|possible|stable|safe|free|"
        r"necessary|required|needed|worth)\b",
    ),
    (
        "en_aux_start",
        "start",
        rf"(?:(?:is|are|was|were|does|did|can|could|should|would|will|isn't|aren't|doesn't|"
        rf"didn't|can't|couldn't|won't|wouldn't|shouldn't|isnt|arent|doesnt|didnt|couldnt|"
        rf"wouldnt|shouldnt)\s+(?:{_PRON}|{_DET})|(?:do|am|have|has|may|shall|haven't|hasn't|"
        rf"havent|hasnt)\s+{_SUBJ})\b",
    ),
    (
        "en_anyone",
        "start",
        r"(?:anyone|anybody|any1|any one|someone|somebody)\s+(?:know|knows|have|has|got|"
        r"tried|use|used|using|seen|else|here|able|familiar|around|experienced|can|could|"
        r"would|willing|care|want|wants|help|explain|tell)\b",
    ),
    ("en_help", "start", r"(?:please\s+|pls\s+|plz\s+)?help\b"),
    ("en_question_prefix", "start", r"(?:q|question|quick question)\s*[:：]"),
    # English, anywhere. Every top-level alternative starts with a literal (see above).
    (
        "en_anyone",
        "any",
        _expand(
            "does do did has have can could would is will",
            r"\s+(?:anyone|anybody|someone|somebody|any1)\b",
        ),
    ),
    (
        "en_any_idea",
        "any",
        r"any\s+(?:idea|ideas|clue|clues|advice|suggestions?|tips?|thoughts|"
        r"recommendations?|pointers?|hints?|way\s+to|chance|news|update\s+on|workaround)\b",
    ),
    (
        "en_help",
        "any",
        r"help\s+(?:me|pls|plz|please|needed|wanted)\b|need(?:s|ed)?\s+(?:some\s+|a\s+"
        r"little\s+|your\s+|urgent\s+)?(?:help|advice)\b|"
        + _expand(
            "can could would will",
            r"\s+(?:you|anyone|someone|somebody|anybody|u)\s+(?:please\s+|pls\s+)?(?:help|"
            r"explain|tell|advise|recommend)\b",
        ),
    ),
    (
        "en_inline",
        "any",
        r"i\s+(?:wonder|was\s+wondering)|i'm\s+wondering|wondering\s+(?:if|whether|how|why|"
        r"what)|not\s+sure\s+(?:how|why|what|which|where|whether)|"
        + _expand("can't cannot couldn't", r"\s+figure\s+out")
        + "|"
        + _expand("don't dunno", r"\s+know\s+(?:how|why|what|where|which|whether)")
        + r"|do\s+not\s+know\s+(?:how|why|what|where|which|whether)|dunno\s+(?:how|why|what|"
        r"where|which|whether)|is\s+it\s+possible|is\s+there\s+(?:a|any)\s+way|how\s+(?:to|"
        r"do\s+i|can\s+i|should\s+i)\b|what\s+(?:should|do)\s+i\b|which\s+should\s+i|"
        r"what's\s+the\s+(?:best|right|correct|difference)|"
        + _expand("i'd i", r"\s+(?:would\s+)?(?:like|want|need)\s+to\s+know\b")
        + r"|wanted\s+to\s+know\b|wanna\s+know\b",
    ),
    (
        "en_tag_question",
        "any",
        _expand(
            "doesn't doesnt isn't isnt don't dont won't wont can't cant aren't arent didn't didnt",
            r"\s+(?:it|they|you|i|we|he|she|that|this|there)\s*$",
        ),
    ),
    (
        "en_seeking",
        "any",
        r"(?:i'm|i\s+am|i\s+was|i've\s+been|been)\s+(?:looking|searching)\s+for\b|"
        + _expand("can't cannot couldn't", r"\s+(?:seem\s+to\s+)?(?:find|locate)\b")
        + r"|unable\s+to\s+(?:find|locate)\b",
    ),
    (
        # A problem of one's own told as a statement: "my wifi doesn't work after the
        # upgrade", "i can't get sound", "i keep getting an error" (first person only: a
        # helper's "that won't work" is no request).
        "en_trouble",
        "any",
        r"my\s+(?:[\w.+-]+\s+){0,3}(?:doesn't|doesnt|does\s+not|won't|wont|isn't|isnt|is\s+not|"
        r"stopped|keeps\s+(?:crashing|freezing|failing|disconnecting)|can't|cant|cannot|"
        r"fails?\s+to|crashe[sd]|freezes|has\s+stopped)\b|"
        r"i\s+(?:can't|cant|cannot|can\s+not|couldn't|couldnt|am\s+unable\s+to|am\s+not\s+able\s+"
        r"to)\s+(?:seem\s+to\s+)?(?:get|connect|install|boot|mount|log\s*in|login|access|open|"
        r"run|start|see|hear|play|use|print|update|upgrade|remove|uninstall|compile|download|"
        r"change|make)\b|"
        r"i(?:'m|\s+am)?\s+(?:keep\s+getting|getting|get|got)\s+(?:an?\s+|this\s+|the\s+|"
        r"some\s+)?(?:[\w.-]+\s+)?errors?\b",
    ),
    # Chinese, anywhere.
    (
        "zh_final_particle",
        "any",
        rf"吗{_END}|么(?<![这那多要什怎]么){_END}|呢(?<!着呢){_END}|"
        rf"没(?<![还也都并从就好]没){_END}",
    ),
    (
        "zh_wh_word",
        "any",
        r"怎么(?<![不没]怎么)(?![也都样说])|怎么样|怎样(?<!不怎样)|如何(?<![无论不管]如何)|"
        r"什么(?<!没有什么)(?<!不是什么)(?<![没不]什么)(?![都也的])|为什么|为啥|"
        r"啥(?<!没啥)(?![都也])|咋|干嘛|干吗|哪(?:里|儿|个|些|位|家|款|只|种|天|年|边|一)"
        r"(?![都也]|里哪里)|谁(?![都也])|多少(?<!多多少)(?![有也都])|几(?:点|号|时|岁)|第几|"
        r"多久|多长时间",
    ),
    (
        "zh_request",
        "any",
        r"请问|请教|求助|求问|求教|求解|求推荐|求指导|求大神|求(?:一个|一下|个|链接|资源|方法|"
        r"教程|分享|解答|帮助|攻略)|有人知道|谁知道|有没有人|"
        r"有大佬|大佬们|各位(?:大佬|老师|朋友)|麻烦问|想问|想知道|问一下|问下|帮忙看|帮我看|"
        r"不知道(?:该|要|能|怎|是)",
    ),
    (
        # A problem of one's own told as a statement: 我的账号登录不了, 我这个基金赎回不了,
        # 我安装的时候报错 (first person, as en_trouble).
        "zh_trouble",
        "any",
        rf"我[^，。！？,.!?\s]{{0,10}}(?:{ZH_FAILURES})",
    ),
    (
        "zh_a_not_a",
        "any",
        r"有没有|能不能|可不可以|可以不可以|是不是|是否|会不会|要不要|行不行|对不对|"
        r"该不该|用不用|需不需要|好不好(?!玩|看|吃)|算不算|有木有|能否|可否",
    ),
)

# Guards: a match marks a worded text as a statement unless it carries a question mark.
# (name, kind, expression) as above: "start" guards match at the start of the text.
GUARDS: tuple[tuple[str, str, str], ...] = (
    (
        "en_statement",
        "start",
        r"(?:i|we)(?:'ve| have)?\s+(?:already\s+|now\s+|finally\s+|just\s+|totally\s+)?"
        r"(?:know|knew|figured\s+out|found\s+out|learned|learnt|understand|see|remember|"
        r"showed|explained|told)\b|(?:let\s+me|i'll|i\s+will|i\s+can)\s+(?:show|explain|"
        r"tell|help)\b|how\s+(?:cool|nice|awesome|great|lucky|sad|funny|cute|sweet|"
        r"beautiful|wonderful|stupid|weird|kind|generous)\b",
    ),
    (
        "en_statement",
        "any",
        _expand("here's that's which's it's", r"\s+(?:how|why|what|where|when)\b")
        + "|"
        + _expand("here this that which it", r"\s+is\s+(?:how|why|what|where|when)\b")
        + "|"
        + _expand("don't no", r"\s+(?:longer\s+)?need\b")
        + r"|do\s+not\s+need\b",
    ),
    (
        "zh_statement",
        "any",
        r"(?:我|我们|俺)(?:已经|终于|现在|也)?(?:知道|明白|懂|学会|找到|搞懂|搞清楚)(?:了)?"
        r"(?:怎么|如何|为什么|什么|哪)|我(?:也|都|还|真)?不知道为什么|"
        r"教(?:你|大家)(?:一下)?(?:如何|怎么|怎样|为什么)|告诉(?:你|大家)(?:如何|怎么|怎样|为什么)|"
        r"分享(?:一下)?(?:如何|怎么|怎样)|介绍(?:一下)?(?:如何|怎么|怎样)|这就是为什么",
    ),
)

PATTERN_NAMES: tuple[str, ...] = ("question_mark", *dict.fromkeys(n for n, _, _ in RULES))
GUARD_NAMES: tuple[str, ...] = (
    "acknowledgement",
    "small_talk",
    "bot_command",
    *dict.fromkeys(n for n, _, _ in GUARDS),
)

# A command to a bot ("/start", "/help@fanqa_bot", IRC's "!factoid | nick", "!play …") asks
# the bot, not the members: never a question to pair, whatever follows it.
BOT_COMMAND = re.compile(r"[!/][a-z][\w-]*(?:@\w+)?(?=\s|$)", re.IGNORECASE)

SMALL_TALK = screened(
    r"^(?:(?:hi|hey|hello|so|and)[\s,!]+)?(?:how\s+(?:is|are|was|were|'s)\s+(?:every(?:one|body)|"
    r"you(?:\s+all)?|y'?all|it\s+going|your\s+(?:day|weekend|week|morning|evening)|things|"
    r"life|the\s+weekend)|how's\s+(?:every(?:one|body)|it\s+going|life|things|your)|how\s+are\s+u|"
    r"what'?s\s+up|wh?at\s+up|sup\b|wassup|who\s+(?:here|else)\s+(?:is|uses|has|is\s+still|"
    r"still|likes|wants)|anyone\s+(?:else\s+)?(?:excited|awake|around|here|online)\b|"
    r"good\s+(?:morning|night|evening)|"
    r"(?:how\s+(?:is|are)\s+(?:every(?:one|body)|you\s+all)|how's\s+every(?:one|body))\s+"
    r"(?:finding|liking|enjoying|feeling))|"
    r"^(?:大家)?(?:早上好|晚上好|早安|晚安)|^(?:大家|你们)(?:最近)?(?:好吗|怎么样|过得怎么样)|"
    r"^(?:hi|hello|hey|yo|hallo|anyone|anybody|somebody|someone)(?:\s+(?:all|guys|there|"
    r"everyone|folks))?\s*[?？!.]*$|^(?:is\s+)?(?:anyone|anybody|somebody|someone)\s+(?:here|"
    r"there|alive|awake)\s*[?？]*$|^(?:can|does)\s+(?:anyone|anybody|somebody|someone)\s+"
    r"(?:hear|read|see)\s+me|^(?:somebody|someone|anyone)\s+can\s+(?:hear|read|see)\s+me|"
    r"吃了吗|吃饭了吗|周末(?:过得)?怎么样|^在吗|^有人吗|^有人在吗|聚一下|聚聚|约饭|面基|爬山|"
    r"出来玩|\b(?:meet\s*up|hang\s*out|grab\s+(?:a\s+)?(?:coffee|beer|drink))\b",
    re.IGNORECASE,
)
# A question about the one it is said to ("nick: have you tried an ad hoc connection?",
# "nick, are you running kde or gnome?", "did you try it already?", 张三：你装了驱动没有？):
# it asks for a detail of their setup or what they did, nothing the chat would learn.
# "nick: do you know how …" asks them for knowledge and stays a question.
_TO = r"(?:@\S+[\s,:：，]*|[^\s:：,，]{1,32}[:：,，]\s*)"
ASKS_ADDRESSEE = re.compile(
    rf"^{_TO}(?:have|did|are|were|is|was|do(?!\s+(?:you|u|ya)\s+know\b))\s+(?:you|u|ya|your|ur)\b|"
    r"^(?:have|did)\s+(?:you|u|ya)\b|"
    rf"^{_TO}?(?:你|您)(?:有没有|是不是|是否|试过|装了|用的是|那边)",
    re.IGNORECASE,
)
MENTION_RE = re.compile(r"@[\w.]+")
URL_RE = re.compile(r"(?:https?://|ftp://|www\.)\S+|\b[\w.-]+\.[a-z]{2,6}/\S*", re.I)
CODE_RE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
ADDRESS_RE = re.compile(
    r"^(?:@\S+[\s,:：，]*|(?!(?:q|question|quick question|help|问|问题|求助|请问)\s*[:：])"
    r"[^\s:：]{1,32}[:：]\s*)"
)
WORD_RE = re.compile(r"\w")
HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
# "在 …呢" / "还没 …呢" / "…着呢" in one clause is a statement ("我在开会呢": I'm in a meeting).
PROGRESSIVE_RE = re.compile(r"(?:在|还没|着)[^，。！？、；,.!?;\s]*$")

_ACK_WORDS = (
    "ok|okay|k|kk|thanks|thx|ty|tks|tnx|np|lol|haha|yes|no|yep|nope|sure|cool|nice|great|good|"
    "done|fine|alright|right|thank you|got it|thanks a lot|thank you so much|no problem|i see|"
    "谢谢|谢谢你|谢谢大家|多谢|感谢|感谢感谢|好的|好|嗯|嗯嗯|哦|哦哦|收到|明白|"
    "明白了|懂了|了解|哈哈|哈哈哈|好滴|好嘞|行|可以|对|是的|没问题|ok了|辛苦了|"
    "好的收到|好的谢谢"
)
ACKS = frozenset(_ACK_WORDS.split("|"))
ACK_STRIP = " \t\n.,!?~…。，！？～、:;：；-_()（）[]【】*^=<>\"'“”‘’😀🙂😊👍🙏❤️"
