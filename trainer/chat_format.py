"""Chat examples → token ids with labels on the assistant answers (end-of-turn token included)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harvest.errors import InputError, TrainingError

__all__ = [
    "BUILTIN_CHATML_TEMPLATE",
    "IGNORE_INDEX",
    "ROLES",
    "TokenizedExample",
    "TokenizedSet",
    "answer_text",
    "prompt_messages",
    "render",
    "tokenize_example",
    "tokenize_examples",
    "validate_example",
]

IGNORE_INDEX = -100
ROLES = ("system", "user", "assistant")

# Used when a tokenizer ships no chat template: ChatML with the tokenizer's own eos as the
# end-of-turn marker, so the label on that token teaches the model when to stop.
BUILTIN_CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + eos_token + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

Message = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TokenizedExample:
    """One training sequence; ``labels`` is -100 except on answer tokens and their end of turn."""

    input_ids: list[int]
    labels: list[int]
    truncated: bool = False

    @property
    def n_label_tokens(self) -> int:
        """How many tokens carry a label."""
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


@dataclass(frozen=True, slots=True)
class TokenizedSet:
    """A tokenized dataset and its counts."""

    examples: list[TokenizedExample]
    n_truncated: int
    n_tokens: int
    n_label_tokens: int


def validate_example(
    example: Mapping[str, Any], *, line: int | None = None, source: str | None = None
) -> list[Message]:
    """The messages of an OpenAI chat fine-tuning example, or InputError naming the field."""
    if not isinstance(example, Mapping) or not isinstance(example.get("messages"), list):
        raise InputError("expected an object with a 'messages' list", source=source, line=line)
    messages: list[Message] = example["messages"]
    if not messages:
        raise InputError("'messages' is empty", source=source, line=line, field="messages")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping):
            raise InputError("a message must be an object", source=source, line=line, field=where)
        if message.get("role") not in ROLES:
            raise InputError(
                f"role must be one of {', '.join(ROLES)}, got {message.get('role')!r}",
                source=source,
                line=line,
                field=f"{where}.role",
            )
        if not isinstance(message.get("content"), str):
            raise InputError(
                "content must be a string", source=source, line=line, field=f"{where}.content"
            )
    last = messages[-1]
    if last["role"] != "assistant" or not last["content"].strip():
        raise InputError(
            "the last message must be a non-empty assistant answer",
            source=source,
            line=line,
            field=f"messages[{len(messages) - 1}]",
        )
    return messages


def prompt_messages(example: Mapping[str, Any]) -> list[Message]:
    """The conversation before the final answer (what a model is asked at inference)."""
    return list(validate_example(example)[:-1])


def answer_text(example: Mapping[str, Any]) -> str:
    """The reference answer: the content of the final assistant message."""
    return str(validate_example(example)[-1]["content"])


def render(
    tokenizer: Any, messages: Sequence[Message], *, add_generation_prompt: bool = False
) -> str:
    """Render messages with the tokenizer's chat template, or built-in ChatML when it has none."""
    template = None if getattr(tokenizer, "chat_template", None) else BUILTIN_CHATML_TEMPLATE
    if template is not None and not tokenizer.eos_token:
        raise TrainingError("the tokenizer has neither a chat template nor an eos token")
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    text = tokenizer.apply_chat_template(
        plain, tokenize=False, add_generation_prompt=add_generation_prompt, chat_template=template
    )
    return str(text)


def _label_spans(
    tokenizer: Any, messages: Sequence[Message], full: str
) -> list[tuple[int, int, bool]]:
    """Spans of ``full`` to label: (start, end, eos_missing) per trained assistant turn."""
    eos = tokenizer.eos_token
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant" or message.get("weight", 1) == 0:
            continue
        prefix = render(tokenizer, messages[:i], add_generation_prompt=True)
        upto = render(tokenizer, messages[: i + 1])
        if not (full.startswith(upto) and upto.startswith(prefix)):
            if i != len(messages) - 1:
                continue  # the template rewrites earlier turns (e.g. strips reasoning): skip them
            if not full.startswith(prefix):
                raise TrainingError("the chat template does not render the prompt as a prefix")
            upto = full
        start = len(prefix)
        at = upto.rfind(eos, start) if eos else -1
        if at >= 0:
            spans.append((start, at + len(eos), False))
        else:
            spans.append((start, len(upto.rstrip()), True))
    return spans


def _encode(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []


def _truncate(ids: list[int], labels: list[int], max_len: int) -> tuple[list[int], list[int]]:
    """Cut to ``max_len``: the prompt from the left (keeps the question), the answer at the end."""
    unlabelled = [i for i, label in enumerate(labels) if label == IGNORE_INDEX]
    first = unlabelled[-1] + 1 if unlabelled else 0
    # ``first`` is where the last labelled run starts: everything before it is context.
    n_prompt, n_answer = first, len(ids) - first
    keep_prompt = min(n_prompt, max(max_len - n_answer, max_len // 2))
    keep_answer = max_len - keep_prompt
    lo = n_prompt - keep_prompt
    return ids[lo : first + keep_answer], labels[lo : first + keep_answer]


def tokenize_example(tokenizer: Any, example: Mapping[str, Any], max_len: int) -> TokenizedExample:
    """Tokenize one example; labels only on assistant answers and their end-of-turn token.

    The text is tokenized piece by piece at the answer boundaries, so the prompt tokens are
    exactly those a model sees when asked the same question at inference time. Tokens after
    the last end-of-turn token carry no label and are dropped (no compute is spent on them).
    """
    if max_len < 2:
        raise TrainingError(f"max_len must be at least 2, got {max_len}")
    messages = validate_example(example)
    full = render(tokenizer, messages)
    ids: list[int] = []
    labels: list[int] = []
    pos = 0
    for start, end, eos_missing in _label_spans(tokenizer, messages, full):
        context = _encode(tokenizer, full[pos:start])
        answer = _encode(tokenizer, full[start:end])
        if eos_missing:
            answer.append(int(tokenizer.eos_token_id))
        ids += context + answer
        labels += [IGNORE_INDEX] * len(context) + answer
        pos = end
    if not ids:
        raise TrainingError("no assistant answer to train on")
    truncated = len(ids) > max_len
    if truncated:
        ids, labels = _truncate(ids, labels, max_len)
    return TokenizedExample(input_ids=ids, labels=labels, truncated=truncated)


def tokenize_examples(
    tokenizer: Any,
    examples: Iterable[Mapping[str, Any]],
    max_len: int,
    *,
    source: str | None = None,
) -> TokenizedSet:
    """Tokenize a dataset; a malformed example raises InputError naming its line (1-based)."""
    out = []
    for n, example in enumerate(examples, start=1):
        validate_example(example, line=n, source=source)
        out.append(tokenize_example(tokenizer, example, max_len))
    return TokenizedSet(
        examples=out,
        n_truncated=sum(e.truncated for e in out),
        n_tokens=sum(len(e.input_ids) for e in out),
        n_label_tokens=sum(e.n_label_tokens for e in out),
    )
