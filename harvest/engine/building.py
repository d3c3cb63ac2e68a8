"""From an answer being built to its pair: which messages answer, the text, the score, and
the ``new`` / ``update`` / ``drop`` / ``close`` decisions the engine emits for it."""

from __future__ import annotations

from collections.abc import Mapping

from harvest.answer_kinds import AnswerKind
from harvest.answer_kinds import answer_kind as kind_of_answer
from harvest.engine.decisions import Decision, DecisionKind
from harvest.engine.rules import role_of, score_answer, strip_address
from harvest.engine.scoring import PairFeatures, Scorer, answer_kind
from harvest.engine.state import Answer, Group
from harvest.model import ChatMessage, PairedAnswer, PairMethod, Role
from harvest.questions import QuestionConfig

__all__ = ["PairBuilder"]


class PairBuilder:
    """Builds and scores the pair of an answer; the engine's decisions about it."""

    __slots__ = ("incremental", "precise", "question", "roles", "scorer")

    def __init__(
        self,
        *,
        precise: bool,
        question: QuestionConfig,
        roles: Mapping[str, Role],
        scorer: Scorer,
        incremental: bool,
    ) -> None:
        self.precise = precise
        self.question = question
        self.roles = roles
        self.scorer = scorer
        self.incremental = incremental

    def publish(self, answer: Answer, out: list[Decision]) -> None:
        """Decide ``new`` / ``update`` (or ``drop``) for an answer that appeared or grew."""
        if not self.incremental:
            return
        pair = self.build(answer)
        if pair is not None and self.answer_like(pair):
            kind = DecisionKind.UPDATE if answer.emitted else DecisionKind.NEW
            out.append(Decision(kind, answer.key(), pair))
            answer.emitted = True
        elif answer.emitted:
            out.append(Decision(DecisionKind.DROP, answer.key(), reason="not an answer"))
            answer.emitted = False

    def close(self, answer: Answer, out: list[Decision]) -> None:
        """Decide ``close`` for an answer that can no longer grow (if it makes a pair)."""
        pair = self.build(answer)
        if pair is not None and self.answer_like(pair):
            out.append(Decision(DecisionKind.CLOSE, answer.key(), pair))

    def answer_all(
        self,
        msg: ChatMessage,
        at: float,
        groups: list[Group],
        out: list[Decision],
        link_prob: float | None = None,
    ) -> None:
        """One message @mentioning several askers answers each one's open question
        (``link_prob``: the learned linker's probability for its decision on ``msg``)."""
        role = role_of(msg, self.roles)
        for group in groups:
            if group.author_id == msg.author_id or group.qidx < 0:
                continue
            group.freeze()
            answer = Answer(group, msg, at, PairMethod.IMPLICIT, "addressed", role, link_prob)
            self.publish(answer, out)
            self.close(answer, out)

    def answer_messages(self, msgs: list[ChatMessage]) -> list[ChatMessage]:
        """With ``precision``, only the messages that answer: no acks, no questions back
        (a later question of the answerer is their follow-up)."""
        if not self.precise:
            return msgs
        qcfg = self.question
        kept: list[ChatMessage] = []
        for m in msgs:
            if kind_of_answer(m.text, follows_answer=bool(kept), config=qcfg) is AnswerKind.ANSWER:
                kept.append(m)
        return kept

    def answer_like(self, pair: PairedAnswer) -> bool:
        """Whether a built pair is kept: with ``precision`` it was filtered message by
        message already; without, its text must not be a bare acknowledgement."""
        if self.precise:
            return True
        return kind_of_answer(pair.answer_text) is not AnswerKind.ACK

    def build(self, answer: Answer) -> PairedAnswer | None:
        """The pair ``answer`` makes now, or None when none of its messages answers."""
        group = answer.group
        msgs = self.answer_messages(answer.msgs)
        if not msgs:
            return None
        first = msgs[0]
        if len(msgs) == 1:
            ids: tuple[str, ...] = (first.message_id,)
            text = first.text.strip()
        else:
            ids = tuple([m.message_id for m in msgs])
            text = "\n".join([m.text.strip() for m in msgs])
        asker = group.msgs[0]
        text = strip_address(text, asker.author_name)
        question = group.text()
        probs = answer.link_probs if answer.method is PairMethod.IMPLICIT else {}
        link_prob = max([probs[m.message_id] for m in msgs if m.message_id in probs], default=None)
        features = PairFeatures(
            method=answer.method,
            link_reason=answer.reason,
            answerer_role=answer.role,
            asker_role=role_of(asker, self.roles),
            answer_kind=answer_kind(text),
            question_detected=group.detected,
            delay_seconds=max(0.0, answer.first_at - group.last_at),
            answer_parts=len(msgs),
            question_parts=len(group.msgs),
            position=answer.position,
            link_prob=link_prob,
        )
        return PairedAnswer(
            chat_id=first.chat_id,
            question_id=group.qid,
            answer_ids=ids,
            question_text=question,
            answer_text=text,
            asker_id=group.author_id,
            answerer_id=answer.answerer,
            method=answer.method,
            score=score_answer(answer.role, answer.method, answer.position),
            confidence=self.scorer(features, question, text),
        )
