"""``fanqa models list|show|promote|rollback`` and ``fanqa model init-tiny``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlmodel import select

from bot.cli.app import app, console, emit_json, handle_errors
from bot.runtime import open_engine
from harvest.errors import InputError
from storage.db import session_scope
from storage.models import Chat, Message, ModelVersion, QAPair
from storage.repo import get_community
from trainer.enqueue import TINY_MARKER
from trainer.registry import get_model, list_models, promote, rollback

models_app = typer.Typer(help="Trained model versions: list, inspect, promote, roll back.")
model_app = typer.Typer(help="Make base models.")
app.add_typer(models_app, name="models")
app.add_typer(model_app, name="model")

_JSON = typer.Option(False, "--json", help="Print JSON.")


def model_dict(model: ModelVersion) -> dict[str, Any]:
    return {
        "id": model.id,
        "community_id": model.community_id,
        "run_id": model.run_id,
        "status": model.status,
        "backend": model.backend,
        "base_model": model.base_model,
        "remote_model_id": model.remote_model_id,
        "adapter_path": model.adapter_path,
        "dataset_hash": model.dataset_hash,
        "metrics": model.metrics,
        "gate": model.gate,
        "report_path": model.report_path,
        "created_at": model.created_at,
        "promoted_at": model.promoted_at,
    }


@models_app.command("list")
@handle_errors
def list_cmd(
    community: str | None = typer.Option(None, "--community", "-c"), as_json: bool = _JSON
) -> None:
    """List model versions, newest first."""
    with session_scope(open_engine()) as session:
        cid = get_community(session, community).id if community else None
        models = list_models(session, cid)
    if as_json:
        emit_json([model_dict(m) for m in models])
        return
    table = Table("id", "status", "run")
    table.add_column("model", no_wrap=True)  # a hosted model's full ``ft:`` id
    for name in ("chrF", "question gain", "created"):
        table.add_column(name)
    for m in models:
        cand = (m.metrics or {}).get("candidate", {})
        chrf, gain = cand.get("chrf"), cand.get("question_gain")
        name = m.remote_model_id or Path(m.base_model).name or m.base_model
        table.add_row(
            str(m.id),
            m.status,
            str(m.run_id or ""),
            name,
            "" if chrf is None else f"{chrf:.1f}",
            "" if gain is None else f"{gain:.3f}",
            f"{m.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@models_app.command("show")
@handle_errors
def show_cmd(model_id: int, as_json: bool = _JSON) -> None:
    """Show one model version with its gate decision."""
    with session_scope(open_engine()) as session:
        data = model_dict(get_model(session, model_id))
    if as_json:
        emit_json(data)
        return
    keys = ("id", "status", "run_id", "backend", "base_model", "adapter_path", "remote_model_id")
    for key in (*keys, "report_path"):
        console.print(f"[bold]{key}[/]: {data[key]}", highlight=False)
    for reason in (data["gate"] or {}).get("reasons", []):
        console.print(f"  • {reason}", highlight=False)


@models_app.command("promote")
@handle_errors
def promote_cmd(model_id: int, as_json: bool = _JSON) -> None:
    """Make a model version live (the live one is retired), bypassing the gate."""
    with session_scope(open_engine()) as session:
        data = model_dict(promote(session, model_id))
    emit_json(data) if as_json else console.print(f"model {model_id} is live")


@models_app.command("rollback")
@handle_errors
def rollback_cmd(
    community: str = typer.Option(..., "--community", "-c"), as_json: bool = _JSON
) -> None:
    """Retire the live model and bring back the previous one."""
    with session_scope(open_engine()) as session:
        data = model_dict(rollback(session, get_community(session, community).id or 0))
    emit_json(data) if as_json else console.print(f"model {data['id']} is live again")


@model_app.command("init-tiny")
@handle_errors
def init_tiny_cmd(
    out: Path = typer.Argument(..., help="Folder to write the model to."),
    community: str = typer.Option(..., "--community", "-c"),
    vocab_size: int = typer.Option(2000, min=300),
    hidden: int = typer.Option(64, min=8, help="Hidden size (a multiple of --heads)."),
    layers: int = typer.Option(2, min=1, help="Transformer layers."),
    heads: int = typer.Option(4, min=1, help="Attention heads."),
    seed: int = typer.Option(0),
    as_json: bool = _JSON,
) -> None:
    """A tiny random-init model whose tokenizer is trained on the community's texts."""
    from trainer.tiny import init_tiny_model

    with session_scope(open_engine()) as session:
        cid = get_community(session, community).id or 0
        stmt = select(Message.text).join(Chat).where(Chat.community_id == cid)
        texts = [t for t in session.exec(stmt).all() if t]
        pair_stmt = select(QAPair).where(QAPair.community_id == cid)
        for pair in session.exec(pair_stmt).all():
            texts += [pair.question_text, pair.answer_text]
        prompt = get_community(session, community).system_prompt
    texts.append(prompt)
    if hidden % heads:
        raise InputError(f"--hidden {hidden} is not a multiple of --heads {heads}", field="hidden")
    path = init_tiny_model(
        out, texts, vocab_size=vocab_size, hidden=hidden, layers=layers, heads=heads, seed=seed
    )
    marker = {"community": community, "texts": len(texts), "profile": "scratch"}
    (path / TINY_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    data = {"path": str(path), "texts": len(texts), "hidden": hidden, "layers": layers}
    emit_json(data) if as_json else console.print(f"tiny model written to {path}")
