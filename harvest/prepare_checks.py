"""The checks behind ``fanqa data prepare``: issue kinds, per-line validation, file-wide advice.

:class:`Scan` is fed a JSONL file one raw line at a time and keeps only the examples that
pass; :mod:`harvest.prepare` drives it and is the public face. Token counts are estimates,
not a tokenizer: every CJK character (Han, kana, Hangul, CJK punctuation, full-width forms)
counts as 1 token and other text as 1 token per 4 characters (rounded up); a chat message
adds 4 tokens of overhead.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "ADVISED_EXAMPLES",
    "COMPLETION_ENDINGS",
    "MIN_EXAMPLES",
    "PROMPT_SEPARATORS",
    "DataFormat",
    "Issue",
    "IssueKind",
    "KeptExample",
    "Scan",
    "Severity",
    "estimate_tokens",
    "kind_title",
]

MIN_EXAMPLES = 10  # OpenAI refuses fewer; so do we
ADVISED_EXAMPLES = 100
MESSAGE_OVERHEAD = 4
ROLES = ("system", "user", "assistant")
_MESSAGE_KEYS = frozenset({"role", "content", "name", "weight"})
# Longest first so "\n\n###\n\n" is not taken for "\n".
PROMPT_SEPARATORS = ("\n\n###\n\n", "\n###\n", "###", " ->", "->", "\n\n", "\n", ":", "：")
COMPLETION_ENDINGS = ("<|endoftext|>", "</s>", " END", "###", "END", "\n")
_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)
_UPPER = re.compile("[A-Z]")
_LOWER = re.compile("[a-z]")


class DataFormat(StrEnum):
    """The two JSONL layouts OpenAI-style fine-tuning accepts."""

    CHAT = "chat"
    COMPLETION = "completion"


class Severity(StrEnum):
    """What an issue means for the data."""

    ERROR = "error"  # the line is dropped (file-wide: the file is unfit to train on)
    WARNING = "warning"  # kept, but a fix is suggested
    INFO = "info"  # advice


class IssueKind(StrEnum):
    """What is wrong; each kind has one severity."""

    BAD_ENCODING = "bad_encoding"
    BAD_JSON = "bad_json"
    NOT_OBJECT = "not_object"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_ROLE = "invalid_role"
    EMPTY_TEXT = "empty_text"
    INCONSISTENT_FORMAT = "inconsistent_format"
    TOO_LONG = "too_long"
    DUPLICATE = "duplicate"
    TOO_FEW = "too_few"
    SEPARATOR_INCONSISTENT = "separator_inconsistent"
    ENDING_INCONSISTENT = "ending_inconsistent"
    FEW_EXAMPLES = "few_examples"
    NO_SEPARATOR = "no_separator"
    NO_ENDING = "no_ending"
    NO_LEADING_SPACE = "no_leading_space"
    COMMON_PREFIX = "common_prefix"
    SYSTEM_PROMPT_VARIES = "system_prompt_varies"
    UPPERCASE = "uppercase"
    EXTRA_FIELD = "extra_field"
    BLANK_LINE = "blank_line"


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
# Every kind: its one severity and a bilingual title for the report.
_KINDS: dict[IssueKind, tuple[Severity, str]] = {
    IssueKind.BAD_ENCODING: (_E, "not UTF-8 / 非 UTF-8 编码"),
    IssueKind.BAD_JSON: (_E, "unreadable JSON / JSON 无法解析"),
    IssueKind.NOT_OBJECT: (_E, "not a JSON object / 不是 JSON 对象"),
    IssueKind.MISSING_FIELD: (_E, "missing field / 缺少字段"),
    IssueKind.WRONG_TYPE: (_E, "wrong type / 类型错误"),
    IssueKind.INVALID_ROLE: (_E, "invalid role / 角色无效"),
    IssueKind.EMPTY_TEXT: (_E, "empty text / 文本为空"),
    IssueKind.INCONSISTENT_FORMAT: (_E, "other format / 格式不一致"),
    IssueKind.TOO_LONG: (_E, "too long / 过长"),
    IssueKind.DUPLICATE: (_E, "duplicate / 重复"),
    IssueKind.TOO_FEW: (_E, "too few examples / 样本太少"),
    IssueKind.SEPARATOR_INCONSISTENT: (_W, "prompt separator differs / 提示分隔符不一致"),
    IssueKind.ENDING_INCONSISTENT: (_W, "completion ending differs / 补全结尾不一致"),
    IssueKind.FEW_EXAMPLES: (_I, "few examples / 样本较少"),
    IssueKind.NO_SEPARATOR: (_I, "no prompt separator / 提示无分隔符"),
    IssueKind.NO_ENDING: (_I, "no completion ending / 补全无结束标记"),
    IssueKind.NO_LEADING_SPACE: (_I, "completion starts without whitespace / 补全开头无空白"),
    IssueKind.COMMON_PREFIX: (_I, "common prefix / 共同前缀"),
    IssueKind.SYSTEM_PROMPT_VARIES: (_I, "system prompt differs / 系统提示不一致"),
    IssueKind.UPPERCASE: (_I, "mostly upper case / 大写过多"),
    IssueKind.EXTRA_FIELD: (_I, "extra fields dropped / 多余字段已删除"),
    IssueKind.BLANK_LINE: (_I, "blank line ignored / 空行已忽略"),
}


def kind_title(kind: IssueKind) -> str:
    """The bilingual title of an issue kind, for reports."""
    return _KINDS[kind][1]


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding; ``line`` is 1-based, or None for a finding about the whole file."""

    line: int | None
    kind: IssueKind
    message: str
    field: str | None = None

    @property
    def severity(self) -> Severity:
        """Error (line dropped), warning (kept, fix suggested) or info."""
        return _KINDS[self.kind][0]


@dataclass(frozen=True, slots=True)
class KeptExample:
    """An example that passed every check, as the compact JSON line it will be written as."""

    line: int
    record: str
    tokens: int


def estimate_tokens(text: str) -> int:
    """Approximate tokens: 1 per CJK character, 1 per 4 other characters (rounded up)."""
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 4)


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _type_name(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _ending(text: str, candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if text.endswith(c)), None)


_Problem = tuple[IssueKind, str, str | None]


def _check_text(obj: dict[str, Any], key: str, where: str, problems: list[_Problem]) -> str:
    if key not in obj:
        problems.append((IssueKind.MISSING_FIELD, f"missing {where!r}", where))
    elif not isinstance(obj[key], str):
        got = _type_name(obj[key])
        problems.append((IssueKind.WRONG_TYPE, f"{where!r} must be a string, got {got}", where))
    elif not obj[key].strip():
        problems.append((IssueKind.EMPTY_TEXT, f"{where!r} is empty", where))
    else:
        return str(obj[key])
    return ""


def _check_completion(obj: dict[str, Any], problems: list[_Problem]) -> dict[str, Any]:
    prompt = _check_text(obj, "prompt", "prompt", problems)
    completion = _check_text(obj, "completion", "completion", problems)
    return {"prompt": prompt, "completion": completion}


def _check_chat(obj: dict[str, Any], problems: list[_Problem], extra: list[str]) -> dict[str, Any]:
    messages = obj["messages"]
    if not isinstance(messages, list):
        got = _type_name(messages)
        problems.append(
            (IssueKind.WRONG_TYPE, f"'messages' must be an array, got {got}", "messages")
        )
        return {}
    clean: list[dict[str, Any]] = []
    for n, message in enumerate(messages):
        where = f"messages[{n}]"
        if not isinstance(message, dict):
            got = _type_name(message)
            problems.append((IssueKind.WRONG_TYPE, f"{where} must be an object, got {got}", where))
            continue
        role = message.get("role")
        if "role" not in message:
            problems.append((IssueKind.MISSING_FIELD, f"missing '{where}.role'", f"{where}.role"))
        elif role not in ROLES:
            text = f"role {role!r} is not one of {', '.join(ROLES)}"
            problems.append((IssueKind.INVALID_ROLE, text, f"{where}.role"))
        content = _check_text(message, "content", f"{where}.content", problems)
        extra.extend(f"{where}.{key}" for key in message if key not in _MESSAGE_KEYS)
        kept = {key: message[key] for key in ("name", "weight") if key in message}
        clean.append({"role": role, "content": content, **kept})
    if problems:
        return {}
    if not clean:
        problems.append((IssueKind.EMPTY_TEXT, "'messages' is empty", "messages"))
    elif not any(m["role"] == "user" for m in clean):
        problems.append((IssueKind.MISSING_FIELD, "no user message", "messages"))
    elif clean[-1]["role"] != "assistant":
        where = f"messages[{len(clean) - 1}].role"
        problems.append((IssueKind.INVALID_ROLE, "the last message must be the assistant's", where))
    return {"messages": clean}


class Scan:
    """State of one streaming pass over the file."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self.format: DataFormat | None = None
        self.format_line = 0
        self.total = 0
        self.issues: list[Issue] = []
        self.kept: list[KeptExample] = []
        self.seen: dict[bytes, int] = {}
        self.ends: dict[str, dict[str | None, list[int]]] = {"prompt": {}, "completion": {}}
        self.prefix: dict[str, str | None] = {"prompt": None, "completion": None}
        self.systems: dict[str | None, list[int]] = {}
        self.upper = self.lower = self.cjk = 0

    def add(
        self, line: int | None, kind: IssueKind, message: str, field: str | None = None
    ) -> None:
        """Record one issue."""
        self.issues.append(Issue(line, kind, message, field))

    def feed(self, number: int, raw: bytes) -> None:
        """Check one raw line (1-based ``number``); keep it or record why not."""
        self.total += 1
        raw = raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw
        if not raw.strip():
            return self.add(number, IssueKind.BLANK_LINE, "blank line")
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return self.add(number, IssueKind.BAD_ENCODING, f"not UTF-8 (byte {exc.start + 1})")
        except (ValueError, RecursionError) as exc:  # also: a huge number, deep nesting
            text = (
                f"{exc.msg} (column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else exc
            )
            return self.add(number, IssueKind.BAD_JSON, f"not valid JSON: {text}")
        if not isinstance(obj, dict):
            return self.add(
                number, IssueKind.NOT_OBJECT, f"expected an object, got {_type_name(obj)}"
            )
        if "messages" in obj:
            fmt = DataFormat.CHAT
        elif "prompt" in obj or "completion" in obj:
            fmt = DataFormat.COMPLETION
        else:
            text = "needs 'messages' (chat format) or 'prompt' and 'completion'"
            return self.add(number, IssueKind.MISSING_FIELD, text, "messages")
        if self.format is not None and fmt is not self.format:
            text = f"{fmt} format in a {self.format} format file (set by line {self.format_line})"
            return self.add(number, IssueKind.INCONSISTENT_FORMAT, text)
        problems: list[_Problem] = []
        extra: list[str] = []
        if fmt is DataFormat.CHAT:
            clean = _check_chat(obj, problems, extra)
        else:
            clean = _check_completion(obj, problems)
        if problems:
            for kind, text, field in problems:
                self.add(number, kind, text, field)
            return None
        if self.format is None:
            self.format, self.format_line = fmt, number
        extra[:0] = (key for key in obj if key not in clean)
        if extra:
            self.add(number, IssueKind.EXTRA_FIELD, f"not written: {', '.join(extra)}")
        self.keep(number, clean)
        return None

    def keep(self, number: int, clean: dict[str, Any]) -> None:
        """Drop a too-long or duplicate example, else keep it and gather file-wide stats."""
        if "messages" in clean:
            texts = [m["content"] for m in clean["messages"]]
            key: list[Any] = [[m["role"], _normalise(m["content"])] for m in clean["messages"]]
            overhead = MESSAGE_OVERHEAD * len(texts)
        else:
            texts = [clean["prompt"], clean["completion"]]
            key = [_normalise(t) for t in texts]
            overhead = 0
        tokens = estimate_tokens("".join(texts)) + overhead
        if tokens > self.max_tokens:
            text = f"about {tokens} tokens, over the limit of {self.max_tokens}; it would be cut"
            return self.add(number, IssueKind.TOO_LONG, text)
        digest = hashlib.blake2b(json.dumps(key).encode(), digest_size=16).digest()
        if digest in self.seen:
            text = f"duplicate of line {self.seen[digest]} (ignoring case and spacing)"
            return self.add(number, IssueKind.DUPLICATE, text)
        self.seen[digest] = number
        record = json.dumps(clean, ensure_ascii=False, separators=(",", ":"))
        self.kept.append(KeptExample(number, record, tokens))
        if "messages" in clean:
            first = clean["messages"][0]
            system = first["content"] if first["role"] == "system" else None
            self.systems.setdefault(system, []).append(number)
        else:
            texts = [
                self.track(number, "prompt", clean["prompt"], PROMPT_SEPARATORS),
                self.track(number, "completion", clean["completion"], COMPLETION_ENDINGS),
            ]
            if not clean["completion"][0].isspace():
                text = "the completion does not start with whitespace (the old tool advised ' ')"
                self.add(number, IssueKind.NO_LEADING_SPACE, text, "completion")
        joined = "\n".join(texts)
        self.upper += len(_UPPER.findall(joined))
        self.lower += len(_LOWER.findall(joined))
        self.cjk += len(_CJK.findall(joined))
        return None

    def track(self, number: int, field: str, text: str, candidates: tuple[str, ...]) -> str:
        """Note how a prompt or completion ends, narrow the common prefix; text sans marker."""
        ending = _ending(text, candidates)
        self.ends[field].setdefault(ending, []).append(number)
        prefix = self.prefix[field]
        # A character-by-character prefix of texts, which is what commonprefix computes.
        common = os.path.commonprefix([prefix, text]) if prefix else ""  # noqa: RUF071
        self.prefix[field] = text if prefix is None else common
        return text.removesuffix(ending or "")

    def finish(self) -> None:
        """Add the checks that need the whole file."""
        n = len(self.kept)
        # Over a third of the Latin letters upper case, in text whose Latin part outweighs its
        # CJK part in tokens (acronyms in Chinese are fine). Markers like " END" do not count.
        if self.upper * 2 > self.lower and self.upper + self.lower > 4 * self.cjk:
            text = "over a third of the letters are upper case; lower-case the text if it suits"
            self.add(None, IssueKind.UPPERCASE, text)
        for field, kind, missing, advice in (
            ("prompt", IssueKind.SEPARATOR_INCONSISTENT, IssueKind.NO_SEPARATOR, "\\n\\n###\\n\\n"),
            ("completion", IssueKind.ENDING_INCONSISTENT, IssueKind.NO_ENDING, "' END' or '\\n'"),
        ):
            self.minority(self.ends[field], kind, f"{field}s", field, "no marker")
            if list(self.ends[field]) == [None]:
                text = f"no {field} ends with a fixed marker; add one such as {advice}"
                self.add(None, missing, text, field)
            prefix = self.prefix[field] or ""
            if n >= MIN_EXAMPLES and estimate_tokens(prefix.strip()) >= 2:
                text = f"every {field} starts with {prefix!r}; it teaches nothing, remove it"
                self.add(None, IssueKind.COMMON_PREFIX, text, field)
        kind = IssueKind.SYSTEM_PROMPT_VARIES
        self.minority(self.systems, kind, "examples", "messages", "no system prompt")
        if n < MIN_EXAMPLES:
            text = f"{n} examples kept; at least {MIN_EXAMPLES} are needed to fine-tune"
            self.add(None, IssueKind.TOO_FEW, text)
        elif n < ADVISED_EXAMPLES:
            text = f"{n} examples; results improve with more, aim for a few hundred"
            self.add(None, IssueKind.FEW_EXAMPLES, text)

    def minority(
        self,
        groups: dict[str | None, list[int]],
        kind: IssueKind,
        what: str,
        field: str,
        nothing: str,
    ) -> None:
        """Report the lines outside the most common group (ties: the earliest)."""
        if len(groups) < 2:
            return
        total = sum(len(lines) for lines in groups.values())
        usual = max(groups, key=lambda g: (len(groups[g]), -groups[g][0]))

        def show(group: str | None) -> str:
            if group is None:
                return nothing
            return repr(group if len(group) <= 40 else group[:37] + "...")

        head = f"most {what} ({len(groups[usual])} of {total}) have {show(usual)}"
        for group, lines in groups.items():
            if group != usual:
                for line in lines:
                    self.add(line, kind, f"has {show(group)}; {head}", field)
