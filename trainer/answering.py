"""Answer a member's question: retrieval over approved pairs plus the live model, or abstain.

Prompting: the live model gets the community's system prompt and the plain question, exactly
the shape it was fine-tuned on (question → answer); the retrieved pairs are not put into the
prompt, they are returned as sources and feed the confidence.

Confidence (0–1):
- with a live model: ``certainty * (1 - similarity + support)``, clipped to 0–1, where
  ``certainty`` is ``exp(mean token logprob)`` of the generation (halved when it hit the
  token limit), ``similarity`` the best retrieved pair's BM25 score over that pair's
  self-score (1 = the question matches an approved question exactly) and ``support`` the
  best ``similarity_i * agreement_i`` over the retrieved pairs, ``agreement_i`` being the
  character-trigram Dice overlap of the generation with pair i's answer. Strong retrieval
  evidence vetoes a model answer that contradicts it; with no similar question the model's
  own certainty decides.
- before any live model: ``similarity`` alone, and the text is the best pair's answer.
Below ``community.min_confidence`` the bot abstains: ``abstain_mode`` "notice" answers with a
short bilingual notice, "silent" with no text. Every call is logged to AnswerLog.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlmodel import Session

from harvest.questions import detect_language
from storage.models import AnswerLog, ModelVersion
from storage.repo import get_community_by_id
from trainer.generation import Generation, Generator, GeneratorFactory, local_generator_factory
from trainer.registry import live_model
from trainer.retrieval import Hit, index_for

__all__ = [
    "ABSTAIN_NOTICE",
    "Answer",
    "AnswerPlan",
    "Generation",
    "Generator",
    "GeneratorFactory",
    "agreement",
    "answer",
    "confidence_of",
    "decide_answer",
    "generate_for",
    "local_generator_factory",
    "log_answer",
    "notice_for",
    "plan_answer",
    "support_of",
]

ABSTAIN_NOTICE = (
    "I'm not sure about this one; a moderator will follow up. / "
    "这个问题我不太确定，稍后会有管理员跟进。"
)


_NOTICE_EN, _NOTICE_ZH = (part.strip() for part in ABSTAIN_NOTICE.split(" / ", 1))


def notice_for(question: str) -> str:
    """The abstain notice in the question's language (both halves when it is unclear)."""
    lang = detect_language(question)
    if lang == "zh":
        return _NOTICE_ZH
    if lang == "en":
        return _NOTICE_EN
    return ABSTAIN_NOTICE


@dataclass(frozen=True)
class Answer:
    """What the bot says (``text`` is empty when it stays silent) and why."""

    text: str
    confidence: float
    sources: list[int]
    abstained: bool
    model_version_id: int | None
    mode: str  # "model" (live model, plain question prompt) | "retrieval" | "none"
    similarity: float = 0.0
    generated: str | None = field(default=None, repr=False)
    log_id: int | None = None


def agreement(text: str, references: Sequence[str]) -> float:
    """The best character-trigram Dice overlap of ``text`` with any reference (0–1)."""
    mine = _trigrams(text)
    best = 0.0
    for reference in references:
        theirs = _trigrams(reference)
        if mine and theirs:
            best = max(best, 2 * len(mine & theirs) / (len(mine) + len(theirs)))
    return best


def _trigrams(text: str) -> set[str]:
    flat = "".join(text.lower().split())
    return {flat[i : i + 3] for i in range(len(flat) - 2)} or ({flat} if flat else set())


def support_of(text: str, hits: Sequence[Hit]) -> float:
    """The best ``similarity * agreement`` of ``text`` with the retrieved pairs' answers."""
    return max((h.similarity * agreement(text, [h.answer]) for h in hits), default=0.0)


def confidence_of(
    similarity: float,
    mean_logprob: float | None,
    support: float | None = None,
    finished: bool = True,
) -> float:
    """The documented confidence formula (see the module docstring)."""
    similarity = max(0.0, min(1.0, similarity))
    if mean_logprob is None:
        return similarity
    backing = similarity if support is None else support
    certainty = math.exp(min(0.0, mean_logprob)) * (1.0 if finished else 0.5)
    return max(0.0, min(1.0, certainty * (1.0 - similarity + backing)))


def _generation_target(live: ModelVersion | None) -> tuple[str, str | None] | None:
    """What the generator factory is called with: a hosted model by its remote id (no
    adapter), a local one as base model + LoRA folder; None when nothing can generate."""
    if live is None:
        return None
    if live.remote_model_id:
        return live.remote_model_id, None
    if live.adapter_path:
        return live.base_model, live.adapter_path
    return None


@dataclass(frozen=True)
class AnswerPlan:
    """Everything answering reads from the database, as plain values (read, then closed)."""

    community_id: int
    question: str
    system_prompt: str
    min_confidence: float
    abstain_mode: str
    hits: list[Hit]
    model_version_id: int | None
    target: tuple[str, str | None] | None  # what the generator factory is called with


def plan_answer(session: Session, community_id: int, question: str, *, k: int = 3) -> AnswerPlan:
    """Read what answering ``question`` needs: settings, retrieved pairs, the live model."""
    community = get_community_by_id(session, community_id)
    hits: list[Hit] = index_for(session, community_id).search(question, k=k)
    live = live_model(session, community_id)
    return AnswerPlan(
        community_id=community_id,
        question=question,
        system_prompt=community.system_prompt,
        min_confidence=community.min_confidence,
        abstain_mode=community.abstain_mode,
        hits=hits,
        model_version_id=live.id if live is not None else None,
        target=_generation_target(live),
    )


def generate_for(
    plan: AnswerPlan,
    generator_factory: GeneratorFactory | None = None,
    *,
    max_new_tokens: int = 128,
) -> Generation | None:
    """The live model's generation for the plan (blocking, no database); None without one."""
    if plan.target is None:
        return None
    factory = generator_factory or local_generator_factory()
    messages = []
    if plan.system_prompt.strip():
        messages.append({"role": "system", "content": plan.system_prompt})
    messages.append({"role": "user", "content": plan.question})
    return factory(*plan.target).generate(messages, max_new_tokens=max_new_tokens)


def decide_answer(plan: AnswerPlan, generation: Generation | None) -> Answer:
    """What to say, from the plan and the generation (pure; see the module docstring)."""
    hits, question = plan.hits, plan.question
    similarity = hits[0].similarity if hits else 0.0
    generated: str | None = None
    if generation is not None:
        generated = generation.text.strip()
        confidence = confidence_of(
            similarity,
            generation.mean_logprob,
            support_of(generated, hits),
            finished=generation.finished,
        )
        text, mode = generated, "model"
        if not text:
            confidence = 0.0
    elif hits:
        confidence = confidence_of(similarity, None)
        text, mode = hits[0].answer, "retrieval"
    else:
        confidence, text, mode = 0.0, "", "none"
    abstained = confidence < plan.min_confidence or not text
    if abstained:
        text = notice_for(question) if plan.abstain_mode == "notice" else ""
    return Answer(
        text=text,
        confidence=confidence,
        sources=[h.pair_id for h in hits],
        abstained=abstained,
        model_version_id=plan.model_version_id,
        mode=mode,
        similarity=similarity,
        generated=generated,
    )


def log_answer(
    session: Session,
    plan: AnswerPlan,
    result: Answer,
    *,
    chat_id: int | None = None,
    platform: str = "cli",
    question_external_id: str | None = None,
    latency_ms: float | None = None,
) -> int:
    """Write the answer log row of ``result``; its id."""
    row = AnswerLog(
        community_id=plan.community_id,
        chat_id=chat_id,
        platform=platform,
        question_external_id=question_external_id,
        question_text=plan.question,
        answer_text=result.text,
        confidence=result.confidence,
        abstained=result.abstained,
        model_version_id=result.model_version_id,
        source_pair_ids=result.sources,
        latency_ms=latency_ms,
    )
    session.add(row)
    session.flush()
    return row.id or 0


def answer(
    session: Session,
    community_id: int,
    question: str,
    *,
    generator_factory: GeneratorFactory | None = None,
    k: int = 3,
    max_new_tokens: int = 128,
    chat_id: int | None = None,
    platform: str = "cli",
    question_external_id: str | None = None,
) -> Answer:
    """Answer ``question`` for the community and log it, in one session (the CLI's path;
    the bot runs the same steps with the session closed while the model generates)."""
    started = time.perf_counter()
    plan = plan_answer(session, community_id, question, k=k)
    result = decide_answer(
        plan, generate_for(plan, generator_factory, max_new_tokens=max_new_tokens)
    )
    log_id = log_answer(
        session,
        plan,
        result,
        chat_id=chat_id,
        platform=platform,
        question_external_id=question_external_id,
        latency_ms=(time.perf_counter() - started) * 1000.0,
    )
    return replace(result, log_id=log_id)
