"""``fanqa ask "question" --community NAME``: answer like the bot would, with sources."""

from __future__ import annotations

import typer

from bot.answering import answer
from bot.cli.app import app, console, emit_json, handle_errors
from bot.runtime import answer_generator_factory, answer_retriever, build_root
from storage.db import session_scope
from storage.repo import get_community, get_pair


@app.command("ask")
@handle_errors
def ask_cmd(
    question: str = typer.Argument(..., help="The question."),
    community: str = typer.Option(..., "--community", "-c"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Answer a question with the live model (or retrieval before the first model)."""
    root = build_root()
    factory = answer_generator_factory(root.settings)
    with session_scope(root.engine) as session:
        cid = get_community(session, community).id or 0
        result = answer(
            session,
            cid,
            question,
            generator_factory=factory,
            retriever=answer_retriever(root.settings),
        )
        sources = [
            {"id": pid, "question": get_pair(session, pid).question_text} for pid in result.sources
        ]
    data = {
        "answer": result.text,
        "confidence": round(result.confidence, 4),
        "abstained": result.abstained,
        "mode": result.mode,
        "model_version_id": result.model_version_id,
        "sources": sources,
    }
    if as_json:
        emit_json(data)
        return
    console.print(result.text or "[dim](no answer: below the confidence threshold)[/]")
    how = "live model" if result.mode == "model" else result.mode
    console.print(f"[dim]confidence {result.confidence:.2f} via {how}[/]")
    for source in sources:
        console.print(f"[dim]  source #{source['id']}: {source['question']}[/]", highlight=False)
