"""What a reply is: an answer, an ack, a clarifying or counter-question, small talk (EN + ZH)."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from harvest.memo import MEMO_MAX_CHARS, MEMO_SIZE
from harvest.questions import DEFAULT, QuestionConfig, is_question, is_small_talk
from harvest.screened import screened

__all__ = [
    "AnswerKind",
    "answer_kind",
    "is_answer",
    "is_small_talk",
    "starts_new_topic",
]


class AnswerKind(StrEnum):
    """What a message sent in reply to a question is."""

    ANSWER = "answer"  # carries an answer (or part of one)
    # "same here", "+1", "thanks", "looking into it", "pinging @x", "ask in #x", 同问, 收到;
    # declines and rebukes: "that's all I can think of", "i told you", 说过了
    ACK = "ack"
    CLARIFYING = "clarifying"  # asks the asker for details: "which URL are you using?"
    COUNTER_QUESTION = "counter_question"  # "do you mean X or Y?", 你是说…还是…
    SMALL_TALK = "small_talk"  # "how is everyone doing?": chit-chat, not a request
    FOLLOW_UP_QUESTION = "follow_up_question"  # the helper's own question after answering


# Words that carry no answer on their own: reactions, agreement, thanks, waiting.
_REACTION_EN = screened(
    r"\b(?:thanks?|thank\s+you|thx|ty|tysm|great|nice|cool|awesome|amazing|congrats|"
    r"congratulations|finally|love|noted|wow|lol|lmao|haha+|(?<!the\s)same|me\s+too|good\s+question|"
    r"following|bump|excellent|perfect|sweet|yay|neat|heads-up|heads\s+up|"
    # "you're welcome" and its kin, laughing and signing off: replies to a reply
    r"np|no\s+probs?|no\s+problem|no\s+worries|no\s+hard\s+feelings|yw|(?:you'?re|ur|you\s+are)\s+welcome|anytime|"
    r"glad\s+(?:to|i\s+could)\s+help|good\s+luck|cheers|hehe*|heh|hah|brb|bbl|afk)\b|"
    r"(?<!\w)\+1\b|\^",
    re.IGNORECASE,
)
_REACTION_ZH = re.compile(
    r"同问|同求|谢谢|多谢|感谢|收到|太棒|终于|厉害|赞|辛苦|哈哈|好的|坐等|蹲|顶|学习了|不客气|客气了|"
    r"插眼|mark|牛|恭喜|期待|好耶|棒|666"
)
# A bare acknowledgement: "ok", "okey...", "i see", 嗯嗯, 明白了. Unlike "yes" / "no" / "sure"
# it answers no yes/no question.
_BARE_ACK = re.compile(
    r"^(?:ok(?:ay|ey|ie)?|k+|alright|all\s+right|got\s+it|i\s+see|oic|ah+|oh+|hmm+|"
    r"嗯+|哦+|噢+|了解了?|明白了?|知道了)[\s.!~…。！～]*$",
    re.IGNORECASE,
)
# The helper is on it but has not answered yet.
_PENDING = re.compile(
    r"^(?:(?:i'?m\s+|we'?re\s+)?looking\s+into\s+(?:it|this)|(?:let\s+me|i'?ll|will)\s+"
    r"(?:check|look|have\s+a\s+look|ask|find\s+out)|checking|on\s+it|give\s+me\s+(?:a|one)\s+(?:sec|"
    r"minute|moment)|stand\s*by|pinging\b|ping(?:ed)?\s+@|cc\s+@|稍等|等一下|我看看|我查一?下|"
    r"我问问|我去问|excuse\s+me\b|(?:hi|hello|hey)\s*[!.]*$|!\w+)",
    re.IGNORECASE,
)
# Sends the asker elsewhere without answering.
_DEFLECT = screened(
    r"(?:might|would)\s+be\s+a\s+better\s+place|(?:try\s+)?ask(?:ing)?\s+(?:in|on)\s+#|"
    r"wrong\s+(?:channel|place|group)|\b(?:try|ask(?:ing)?)\s+(?:in|on)\s+(?:the\s+)?(?:\w+\s+)?forums?\b|"
    r"去论坛(?:问|发帖)|please\s+join\s+#|not\s+familiar\s+with|"
    r"(?:can't|cannot)\s+help\s+(?:you\s+)?(?:with|there)|去.{0,6}群(?:里)?问",
    re.IGNORECASE,
)
# Tells the asker how to behave in the chat instead of answering: off topic, language,
# asking to ask, repeating, ranting, taking it elsewhere (a moderator's or bot's notice).
_ETIQUETTE = screened(
    r"\boff[\s-]?topic\b|\bkeep\s+(?:it|this)\s+(?:on[\s-]?(?:channel|topic)|in\s+(?:the\s+)?"
    r"channel)|\b(?:watch|mind)\s+(?:your|ur|the)\s+language\b|\bfamily[\s-]friendly\b|\b(?:don'?t|do\s+"
    r"not|please\s+don'?t)\s+(?:ask\s+to\s+ask|feel\s+ignored|flood|spam|cross-?post|repeat)|"
    r"\brepeat(?:ing)?\s+your\s+question|\brant(?:ing)?\s+(?:here|in\s+here|isn'?t)|"
    r"\b(?:take|move)\s+(?:it|this|that)\s+(?:to|into)\s+#|"
    r"请勿刷屏|不要刷屏|别刷屏|注意(?:言辞|用词|素质)|文明用语|跑题了|偏题了|别跑题|不要发广告",
    re.IGNORECASE,
)
# Declines to answer: the answerer cannot help, leaves it to someone else, or is coming;
# or rebukes the asker instead of answering.
_DECLINE = screened(
    r"\b(?:can'?t|cannot|couldn'?t|can\s+not)\s+help\b|\b(?:some(?:one|body)|any(?:one|body))"
    r"\s+else\s+(?:knows?|will|might|may|can|could)\b|\bhang\s+on\b|\bhold\s+on\b|"
    r"\bi'?(?:ve|\s+have)\s+never\s+(?:used|tried|done)\b|帮不了|帮不上|别人.{0,4}(?:知道|会)|"
    # out of ideas, or hoping someone else knows: "that's all I can think of", 只知道这些
    r"\bthat'?s\s+all\s+i\s+(?:can\s+think|know|got)\b|\b(?:maybe|perhaps|hopefully)\s+"
    r"some(?:one|body)\w*\s+else\b|\bnever\s+(?:tried|used)\s+(?:it|that|this|dat|them)\b|"
    r"(?:只|就)知道这(?:些|么多)|只能想到这些|我(?:也)?没(?:试|用)过|"
    # a rebuke instead of an answer: the asker was told already (the whole message: one
    # that goes on may repeat the answer), should do the work, or is asked back what they
    # think ("i told you", "you tell us", 说过了, 自己去搜)
    r"^(?:i\s+)?(?:already\s+)?told\s+(?:you|ya|u)(?:\s+(?:so|already|before|twice))?[\s.!…:)]*$|"
    r"^you\s+tell\s+(?:us|me)[\s.!?…:)]*$|\bdo\s+(?:some\s+of\s+)?the\s+work\s+(?:by\s+)?"
    r"yourself\b|\balready\s+helped\s+you\b|\bif\s+it\s+works,?\s+don'?t\s+(?:knock|touch|fix)\s+it\b|"
    r"^我?(?:已经|早就|之前|上面)?(?:说|讲|告诉你)过了[啊呀吧嘛了。.!！~…]*$|自己(?:去)?(?:搜|百度|谷歌)|"
    r"(?:百度|谷歌)一下|^你(?:自己)?说呢[?？。.!！]*$|能用就(?:行|别动)",
    re.IGNORECASE,
)
# Asks the asker for details without a question mark ("pastebin the output").
_REQUEST_INFO = re.compile(
    r"^(?:please\s+|pls\s+|can\s+you\s+)?(?:clarify|elaborate|be\s+more\s+specific|pastebin|"
    r"paste\s+(?:the|your)|post\s+(?:the|your)|show\s+(?:us|me)\s+(?:the|your)|tell\s+us\s+"
    r"(?:more|what|exactly))\b|^请?(?:详细|具体)(?:说|讲)|^(?:发|截)(?:个|一下)?(?:截)?图",
    re.IGNORECASE,
)
# A hedge that defers to someone else; only in short messages (a long one may still answer).
_HEDGE = screened(
    r"\bnot\s+(?:100%\s+)?sure\b|\bunsure\b|\bno\s+idea\b|\bdunno\b|\bidk\b|"
    r"^(?:well,?\s+)?(?:that|it)\s+(?:all\s+)?depends(?:\s+a\s+lot)?(?:\s+on\s+(?:your|the|ur)\s+\w+)?[\s.!…]*$|"
    r"^(?:这|那)?(?:要)?看(?:情况|你的\S{1,6})吧?[。.!！…]*$|我(?:也)?不太?清楚|\bi\s+(?:want|wanna|would\s+"
    r"like)\s+to\s+know\s+too|不太确定|不确定|我也想知道|等.{0,4}确认|等大佬",
    re.IGNORECASE,
)
_COUNTER = re.compile(
    r"^(?:(?:so\s+)?(?:do|did)\s+you\s+mean|you\s+mean|meaning|are\s+you\s+(?:talking|asking)\s+"
    r"about|which\s+one\s+do\s+you\s+mean)\b|你是说|你是指|你指的是|你说的是|是指",
    re.IGNORECASE,
)
_CLARIFY = re.compile(
    r"\b(?:you|your|u|ur|elaborate|details?|screenshot|logs?|version|which\s+\w+\s+(?:are|do|"
    r"did|is)|what\s+(?:do|did|does)\s+(?:it|you)|did\s+you\s+try|have\s+you\s+tried)\b|"
    r"你|您|截图|日志|版本|具体",
    re.IGNORECASE,
)
_NEW_TOPIC = re.compile(
    r"^(?:btw|by\s+the\s+way|fyi|psa|anyway|unrelated|off[\s-]topic|news:|"
    r"顺便|对了|另外|题外话|公告)",
    re.IGNORECASE,
)
_SENTENCE_SPLIT = re.compile(r"(?<=[?？!！。;；])\s*|(?<=\.)\s+|\n+")
_SPACE_RUN = re.compile(r"\s+")
_MENTION = re.compile(r"@[\w.]+")
# What makes a short reply carry an answer despite a "thanks" or "cool" in it: a link, a
# number, a path, code, or an instruction ("cool, just run sudo update-grub").
_INFORMATIVE = re.compile(
    r"https?://|\d{2,}|→|`|/\w|\b(?:sudo|apt(?:-get)?|run|try|use|install|type|open|click|"
    r"edit|set|press)\b|运行|安装|输入|打开|点击|设置",
    re.IGNORECASE,
)
_HAN = re.compile(r"[\u4e00-\u9fff]")
# A leading addressee: one word (no spaces) and ":" or ",", as IRC and Telegram users write.
_ADDRESS = re.compile(r"^[^\s:：,，]{1,32}[:：,，]\s*")
_TWO_ALNUM = re.compile(r"[^\W_].*?[^\W_]", re.S)


def starts_new_topic(text: str) -> bool:
    """True when a message opens with a topic-shift marker ("btw", "fyi", 顺便, 对了)."""
    return _NEW_TOPIC.match(text.strip()) is not None


def _is_reaction(text: str) -> bool:
    """A short message made of reactions / thanks / agreement only."""
    if _HAN.search(text):
        reacts = len(_SPACE_RUN.sub("", text)) <= 12 and _REACTION_ZH.search(text) is not None
    else:
        reacts = len(text.split()) <= 6 and _REACTION_EN.search(text) is not None
    # (the costly search last: most texts are no reaction at all)
    return reacts and _INFORMATIVE.search(text) is None


def _questions_only(text: str, config: QuestionConfig) -> bool:
    """True when every sentence of ``text`` with words in it is a question."""
    parts = [p for p in _SENTENCE_SPLIT.split(text) if p and any(c.isalnum() for c in p)]
    if len(parts) > 1:  # "how did you remove them? rm": a one-word tail adds nothing
        parts = [p for p in parts if len(p.split()) > 1 or _HAN.search(p)] or parts
    return bool(parts) and all(is_question(p, config) for p in parts)


def answer_kind(
    text: str, *, follows_answer: bool = False, config: QuestionConfig = DEFAULT
) -> AnswerKind:
    """What ``text``, sent after a question by someone else, is.

    ``follows_answer``: the same author already answered in this exchange, so a question
    from them is their own follow-up ("which Pi model do you have?"), not an answer.
    Questions are told apart: "do you mean …" is a counter-question, one about the asker's
    setup ("you", "version", "screenshot") clarifying, chit-chat small talk.
    """
    if len(text) <= MEMO_MAX_CHARS:  # the engine and its scorer ask about the same text
        return _answer_kind_memo(text, follows_answer, config)
    return _answer_kind(text, follows_answer, config)


def _answer_kind(text: str, follows_answer: bool, config: QuestionConfig) -> AnswerKind:
    """:func:`answer_kind`, computed."""
    stripped = (_MENTION.sub("", text) if "@" in text else text).strip()
    kind = _kind(stripped, follows_answer, config)
    if kind is AnswerKind.ANSWER:  # "nick: give me a sec" is what follows the addressee
        rest = _ADDRESS.sub("", stripped, count=1)
        if rest and rest != stripped:
            return _kind(rest, follows_answer, config)
    return kind


_answer_kind_memo = lru_cache(maxsize=MEMO_SIZE)(_answer_kind)


def _kind(stripped: str, follows_answer: bool, config: QuestionConfig) -> AnswerKind:
    """:func:`answer_kind` of a text without its mentions."""
    if _TWO_ALNUM.search(stripped) is None:
        return AnswerKind.ACK  # emoji, stickers' text, bare mentions, "e"
    size = len(stripped)
    if _BARE_ACK.match(stripped) or _PENDING.search(stripped):
        return AnswerKind.ACK
    if size <= 120 and _is_reaction(stripped):
        return AnswerKind.ACK
    if size <= 120 and ((size <= 60 and _HEDGE.search(stripped)) or _DEFLECT.search(stripped)):
        return AnswerKind.ACK
    if size <= 250 and _ETIQUETTE.search(stripped):
        return AnswerKind.ACK
    if size <= 120 and _DECLINE.search(stripped) and not _INFORMATIVE.search(stripped):
        return AnswerKind.ACK
    if _REQUEST_INFO.search(stripped):
        return AnswerKind.CLARIFYING
    if size <= 200 and is_small_talk(stripped):
        return AnswerKind.SMALL_TALK
    # Cheap first: a text that is no question as a whole has no sentence that only asks.
    if not is_question(stripped, config) or not _questions_only(stripped, config):
        return AnswerKind.ANSWER
    if "://" in stripped:  # "does https://… sound like your problem?" points to an answer
        return AnswerKind.ANSWER
    if follows_answer:
        return AnswerKind.FOLLOW_UP_QUESTION
    if _COUNTER.search(stripped):
        return AnswerKind.COUNTER_QUESTION
    if _CLARIFY.search(stripped):
        return AnswerKind.CLARIFYING
    return AnswerKind.CLARIFYING if len(stripped) <= 80 else AnswerKind.ANSWER


def is_answer(text: str, config: QuestionConfig = DEFAULT) -> bool:
    """True when ``text`` could answer a question: ``answer_kind`` says ANSWER."""
    return answer_kind(text, config=config) is AnswerKind.ANSWER
