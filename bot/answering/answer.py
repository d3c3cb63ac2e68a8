"""Answer a member's question: retrieval over approved pairs plus the live model, or abstain.

Prompting: the live model gets the community's system prompt and the plain question, exactly
the shape it was fine-tuned on (question → answer); the retrieved pairs are not put into the
prompt, they are returned as sources and feed the confidence (``bot.answering.confidence``).
Below ``community.min_confidence`` the bot abstains: ``abstain_mode`` "notice" answers with a
short notice in the asker's language, "silent" with no text. Every call is logged to AnswerLog.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlmodel import Session

from bot.answering.cache import Retriever, default_retriever
from bot.answering.confidence import confidence_of, support_of
from bot.answering.index import Hit
from bot.answering.notice import notice_for
from storage.models import AnswerLog, Community, ModelVersion
from storage.repo import get_community_by_id
from trainer.generation import GeneratorFactory, local_generator_factory
from trainer.registry import live_model

__all__ = ["Answer", "answer"]


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


def _messages(community: Community, question: str) -> list[dict[str, str]]:
    messages = []
    if community.system_prompt.strip():
        messages.append({"role": "system", "content": community.system_prompt})
    messages.append({"role": "user", "content": question})
    return messages


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
    """Answer ``question`` for the community and log it (see the module docstring)."""
    started = time.perf_counter()
    community = get_community_by_id(session, community_id)
    index = (retriever or default_retriever()).index_for(session, community_id)
    hits: list[Hit] = index.search(question, k=k)
    similarity = hits[0].similarity if hits else 0.0
    live = live_model(session, community_id)
    generated: str | None = None
    target = _generation_target(live)
    if target is not None:
        factory = generator_factory or local_generator_factory()
        generation = factory(*target).generate(
            _messages(community, question), max_new_tokens=max_new_tokens
        )
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
    abstained = confidence < community.min_confidence or not text
    if abstained:
        text = notice_for(question) if community.abstain_mode == "notice" else ""
    result = Answer(
        text=text,
        confidence=confidence,
        sources=[h.pair_id for h in hits],
        abstained=abstained,
        model_version_id=live.id if live is not None else None,
        mode=mode,
        similarity=similarity,
        generated=generated,
    )
    log = AnswerLog(
        community_id=community_id,
        chat_id=chat_id,
        platform=platform,
        question_external_id=question_external_id,
        question_text=question,
        answer_text=result.text,
        confidence=confidence,
        abstained=abstained,
        model_version_id=result.model_version_id,
        source_pair_ids=result.sources,
        latency_ms=(time.perf_counter() - started) * 1000.0,
    )
    session.add(log)
    session.flush()
    return Answer(**{**result.__dict__, "log_id": log.id})
