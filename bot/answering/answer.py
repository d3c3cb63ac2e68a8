"""Answer a member's question: retrieval over approved pairs plus the live model, or abstain.

Three steps, so a caller need not hold a database session across the model call:
``prepare`` (session: the community, the retrieved pairs, the live model) → ``generate``
(no session; the live model, if any) → ``decide`` (pure) → ``record`` (session: AnswerLog).
``answer`` runs them all in one call.

Grounded answering: the live model gets the community's system prompt and the plain question
(the shape it was fine-tuned on). When the retrieved approved pair clearly matches, its answer
is given (cited) whatever the model says; a generation that agrees with it is given instead
and raises the confidence; a generation that disagrees is given only when it is surer than
retrieval (``bot.answering.confidence``). Below ``min_confidence`` the bot abstains:
``abstain_mode`` "notice" answers with a short notice in the asker's language, "silent" with
no text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from sqlmodel import Session

from bot.answering.cache import Retriever, default_retriever
from bot.answering.calibrate import SEARCH_K
from bot.answering.confidence import (
    DEFAULT_CALIBRATION,
    agreement,
    certainty_of,
    evidence_of,
    with_generation,
)
from bot.answering.hits import Hit
from bot.answering.notice import notice_for
from storage.models import AnswerLog, Community, ModelVersion
from storage.repo import get_community_by_id
from trainer.generation import Generation, GeneratorFactory, local_generator_factory
from trainer.registry import live_model

__all__ = ["Answer", "Prepared", "answer", "decide", "generate", "prepare", "record"]


@dataclass(frozen=True)
class Answer:
    """What the bot says (``text`` is empty when it stays silent) and why."""

    text: str
    confidence: float
    sources: list[int]
    abstained: bool
    model_version_id: int | None
    mode: str  # "model" | "retrieval" (the approved pair's answer) | "none"
    similarity: float = 0.0
    generated: str | None = field(default=None, repr=False)
    log_id: int | None = None


@dataclass(frozen=True)
class Prepared:
    """Everything ``decide`` needs from the database, as plain data."""

    community_id: int
    question: str
    hits: list[Hit]
    probability: float  # calibrated P(the best hit's answer is right)
    messages: list[dict[str, str]]
    target: tuple[str, str | None] | None  # what the generator factory is called with
    model_version_id: int | None
    min_confidence: float
    abstain_mode: str
    shown: int  # how many hits are cited as sources
    started: float = field(default_factory=time.perf_counter)


def _generation_target(live: ModelVersion | None) -> tuple[str, str | None] | None:
    """A hosted model by its remote id (no adapter), a local one as base model + LoRA folder;
    None when nothing can generate."""
    if live is None:
        return None
    if live.remote_model_id:
        return live.remote_model_id, None
    if live.adapter_path:
        return live.base_model, live.adapter_path
    return None


def _messages(community: Community, question: str) -> list[dict[str, str]]:
    messages = []
    if community.system_prompt.strip():
        messages.append({"role": "system", "content": community.system_prompt})
    messages.append({"role": "user", "content": question})
    return messages


def prepare(
    session: Session,
    community_id: int,
    question: str,
    *,
    k: int = 3,
    retriever: Retriever | None = None,
) -> Prepared:
    """Retrieve and read what answering needs (no model call)."""
    community = get_community_by_id(session, community_id)
    index = (retriever or default_retriever()).index_for(session, community_id)
    hits = index.search(question, k=max(k, SEARCH_K))
    calibration = index.calibration or DEFAULT_CALIBRATION
    live = live_model(session, community_id)
    return Prepared(
        community_id=community_id,
        question=question,
        hits=hits,
        probability=calibration.probability(evidence_of(hits)),
        messages=_messages(community, question),
        target=_generation_target(live),
        model_version_id=live.id if live is not None else None,
        min_confidence=community.min_confidence,
        abstain_mode=community.abstain_mode,
        shown=k,
    )


def generate(
    prepared: Prepared,
    generator_factory: GeneratorFactory | None = None,
    max_new_tokens: int = 128,
) -> Generation | None:
    """The live model's generation (None before any live model); holds no session."""
    if prepared.target is None:
        return None
    factory = generator_factory or local_generator_factory()
    return factory(*prepared.target).generate(prepared.messages, max_new_tokens=max_new_tokens)


def decide(prepared: Prepared, generation: Generation | None) -> Answer:
    """What to say and how sure it is (pure; see the module docstring)."""
    hits = prepared.hits
    best = hits[0] if hits else None
    probability = prepared.probability
    text, mode, confidence = (best.answer, "retrieval", probability) if best else ("", "none", 0.0)
    generated = generation.text.strip() if generation is not None else None
    if generation is not None and generated:
        certainty = certainty_of(generation.mean_logprob, generation.finished)
        agree = agreement(generated, [best.answer]) if best else 0.0
        combined, agrees = with_generation(probability if best else 0.0, certainty, agree)
        if agrees or combined > confidence:
            text, mode, confidence = generated, "model", combined
    abstained = confidence < prepared.min_confidence or not text
    if abstained:
        text = notice_for(prepared.question) if prepared.abstain_mode == "notice" else ""
    return Answer(
        text=text,
        confidence=confidence,
        sources=[h.pair_id for h in hits[: prepared.shown]],
        abstained=abstained,
        model_version_id=prepared.model_version_id,
        mode=mode,
        similarity=best.similarity if best else 0.0,
        generated=generated,
    )


def record(
    session: Session,
    prepared: Prepared,
    result: Answer,
    *,
    chat_id: int | None = None,
    platform: str = "cli",
    question_external_id: str | None = None,
) -> Answer:
    """Log the answer (AnswerLog) and return it with its ``log_id``."""
    log = AnswerLog(
        community_id=prepared.community_id,
        chat_id=chat_id,
        platform=platform,
        question_external_id=question_external_id,
        question_text=prepared.question,
        answer_text=result.text,
        confidence=result.confidence,
        abstained=result.abstained,
        model_version_id=result.model_version_id,
        source_pair_ids=result.sources,
        latency_ms=(time.perf_counter() - prepared.started) * 1000.0,
    )
    session.add(log)
    session.flush()
    return replace(result, log_id=log.id)


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
    retriever: Retriever | None = None,
) -> Answer:
    """Answer ``question`` for the community and log it, in one session (see the module
    docstring; callers that must not hold the session across the model call use the steps)."""
    prepared = prepare(session, community_id, question, k=k, retriever=retriever)
    generation = generate(prepared, generator_factory, max_new_tokens)
    return record(
        session,
        prepared,
        decide(prepared, generation),
        chat_id=chat_id,
        platform=platform,
        question_external_id=question_external_id,
    )
