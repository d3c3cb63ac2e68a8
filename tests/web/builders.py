"""Builders for desk tests: two communities with moderators, members, chats and pairs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.models import (
    Chat,
    Community,
    Member,
    Message,
    ModelVersion,
    PairMessage,
    QAPair,
    RunMetric,
    TrainingRun,
    utcnow,
)
from storage.repo.logins import create_login_link

# The harvest engine's confidence per pair: the queue shows the likeliest good first.
CONFIDENCE = [0.62, 0.91, 0.55, 0.78]
PAIRS = [
    ("基金赎回要几天到账？", "一般 T+1 到账，节假日顺延。"),
    ("How do I reset my password?", "Use the 'Forgot password' link on the login page."),
    ("年费怎么收？", "首年免年费，之后每年 100 元。"),
    ("Is there a mobile app?", "Yes, search for FundApp in your app store."),
]


@dataclass
class Seed:
    """Ids of what ``seed`` made."""

    fund: int = 0
    games: int = 0
    moderator: int = 0
    member: int = 0
    games_moderator: int = 0
    pairs: list[int] = field(default_factory=list)
    queue_order: list[int] = field(default_factory=list)  # pairs by confidence, best first
    games_pair: int = 0
    models: list[int] = field(default_factory=list)
    games_model: int = 0
    runs: list[int] = field(default_factory=list)


def _pair(
    session,
    community_id: int,
    chat: Chat,
    asker: Member,
    answerer: Member,
    question: str,
    answer: str,
    n: int,
) -> int:  # type: ignore[no-untyped-def]
    now = utcnow() - timedelta(minutes=100 - n)
    q = Message(
        chat_id=chat.id or 0,
        platform="telegram",
        external_id=str(100 + 2 * n),
        author_id=asker.id,
        text=question,
        sent_at=now,
        is_question=True,
    )
    a = Message(
        chat_id=chat.id or 0,
        platform="telegram",
        external_id=str(101 + 2 * n),
        author_id=answerer.id,
        text=answer,
        sent_at=now + timedelta(minutes=1),
        reply_to_external_id=str(100 + 2 * n),
    )
    session.add(q)
    session.add(a)
    session.flush()
    digest = hashlib.sha256(f"{question}\n{answer}".encode()).hexdigest()
    pair = QAPair(
        community_id=community_id,
        chat_id=chat.id,
        source_key=f"t:{n}",
        question_message_id=q.id,
        question_text=question,
        answer_text=answer,
        asker_id=asker.id,
        answerer_id=answerer.id,
        method="reply" if n % 2 else "thread",
        score=0.5 + n / 100,
        content_hash=digest,
        created_at=now,
        confidence=CONFIDENCE[n] if n < len(CONFIDENCE) else 0.5,
    )
    session.add(pair)
    session.flush()
    session.add(PairMessage(pair_id=pair.id or 0, message_id=a.id or 0, position=0))
    return pair.id or 0


# A 1×1 PNG: the gate report chart's stand-in.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201a5f6e0a30000000049454e44ae426082"
)


def _runs(session, out: Seed, reports: Path | None) -> None:  # type: ignore[no-untyped-def]
    done = TrainingRun(
        community_id=out.fund,
        backend="openai",
        base_model="gpt-4o-mini",
        status="succeeded",
        step=5,
        total_steps=5,
        last_loss=1.2,
        trigger="command",
    )
    running = TrainingRun(
        community_id=out.fund,
        backend="local",
        base_model="Qwen/Qwen2.5-0.5B",
        status="running",
        step=3,
        total_steps=10,
        last_loss=1.8,
    )
    session.add(done)
    session.add(running)
    session.flush()
    out.runs = [done.id or 0, running.id or 0]
    for step in range(1, 6):
        session.add(
            RunMetric(
                run_id=done.id or 0,
                step=step,
                train_loss=2.0 - 0.15 * step,
                valid_loss=2.1 - 0.12 * step if step % 2 else None,
            )
        )
    candidate = session.get(ModelVersion, out.models[1])
    candidate.run_id = done.id
    candidate.metrics = {"candidate": {"loss": 1.2, "question_gain": 0.31}}
    candidate.gate = {
        "promote": True,
        "reasons": ["loss 1.200 beats live 1.350 by 11.1% (needs 2%)"],
        "rows": [
            {
                "metric": "loss",
                "candidate": 1.2,
                "live": 1.35,
                "improvement": 0.111,
                "role": "primary",
                "passed": True,
            },
            {
                "metric": "question_gain",
                "candidate": 0.31,
                "live": 0.28,
                "improvement": 0.107,
                "role": "floor",
                "passed": True,
            },
        ],
    }
    if reports is not None:
        reports.mkdir(parents=True, exist_ok=True)
        (reports / "report.png").write_bytes(PNG)
        (reports / "report.md").write_text("# report\n", encoding="utf-8")
        candidate.report_path = str(reports / "report.md")
    session.add(candidate)


def seed(engine: Engine, reports: Path | None = None) -> Seed:
    """fund (zh + en pairs, a moderator, a member, two models) and games (its own moderator)."""
    out = Seed()
    with session_scope(engine) as session:
        fund = Community(name="fund", language="zh")
        games = Community(name="games")
        session.add(fund)
        session.add(games)
        session.flush()
        out.fund, out.games = fund.id or 0, games.id or 0
        chat = Chat(
            community_id=out.fund,
            platform="telegram",
            external_id="-1001234567890",
            title="基金问答群",
        )
        gchat = Chat(community_id=out.games, platform="telegram", external_id="-1009", title="g")
        session.add(chat)
        session.add(gchat)
        mod = Member(
            community_id=out.fund,
            platform="telegram",
            external_id="42",
            display_name="王小明",
            role="moderator",
        )
        member = Member(
            community_id=out.fund, platform="telegram", external_id="7", display_name="Alice"
        )
        gmod = Member(
            community_id=out.games,
            platform="telegram",
            external_id="43",
            display_name="Bob",
            role="moderator",
        )
        for row in (mod, member, gmod):
            session.add(row)
        session.flush()
        out.moderator, out.member, out.games_moderator = mod.id or 0, member.id or 0, gmod.id or 0
        for n, (question, answer) in enumerate(PAIRS):
            out.pairs.append(_pair(session, out.fund, chat, member, mod, question, answer, n))
        ranked = sorted(range(len(out.pairs)), key=lambda n: -CONFIDENCE[n])
        out.queue_order = [out.pairs[n] for n in ranked]
        out.games_pair = _pair(session, out.games, gchat, gmod, gmod, "Q?", "A.", 50)
        for status, remote in (
            ("live", "ft:gpt-4o-mini:org:fund:v1"),
            ("candidate", "ft:gpt-4o-mini:org:fund:v2"),
        ):
            model = ModelVersion(
                community_id=out.fund,
                backend="openai",
                base_model="gpt-4o-mini",
                remote_model_id=remote,
                status=status,
                promoted_at=utcnow() if status == "live" else None,
                gate={"promote": True, "reasons": ["loss 1.20 < live 1.35"], "rows": []},
            )
            session.add(model)
            session.flush()
            out.models.append(model.id or 0)
        gmodel = ModelVersion(
            community_id=out.games,
            backend="openai",
            base_model="x",
            remote_model_id="ft:x:games",
            status="candidate",
        )
        session.add(gmodel)
        session.flush()
        out.games_model = gmodel.id or 0
        _runs(session, out, reports)
    return out


def login_token(engine: Engine, member_id: int) -> str:
    """A fresh one-time token for ``member_id`` (who must be a moderator)."""
    with session_scope(engine) as session:
        return create_login_link(session, member_id)
