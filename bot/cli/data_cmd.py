"""``fanqa data export|prepare``: training data out of the database, and checks on any JSONL."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import typer

from bot.cli.app import app, console, emit_json, handle_errors
from bot.runtime import open_engine
from harvest.errors import InputError
from harvest.prepare import analyze, format_report, write_outputs
from storage.db import session_scope
from storage.repo import get_community, list_pairs
from trainer.snapshot import chat_example

data_app = typer.Typer(help="Export approved pairs and check fine-tuning JSONL files.")
app.add_typer(data_app, name="data")


def example_for(fmt: str, system_prompt: str, question: str, answer: str) -> dict[str, object]:
    """One training example in OpenAI chat or prompt/completion form."""
    if fmt == "completion":
        return {"prompt": f"{question}\n\n###\n\n", "completion": f" {answer}\n"}
    return chat_example(system_prompt, question, answer)


@data_app.command("export")
@handle_errors
def export_cmd(
    community: str = typer.Option(..., "--community", "-c"),
    fmt: str = typer.Option("chat", "--format", help="chat | completion"),
    out: Path = typer.Option(..., "--out", "-o", help="JSONL file to write."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write the community's approved pairs as fine-tuning JSONL."""
    if fmt not in ("chat", "completion"):
        raise InputError("--format must be chat or completion", field="format")
    with session_scope(open_engine()) as session:
        row = get_community(session, community)
        pairs = list_pairs(session, row.id or 0, status="approved")
        lines = [
            json.dumps(
                example_for(fmt, row.system_prompt, p.question_text, p.answer_text),
                ensure_ascii=False,
            )
            for p in pairs
        ]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
    os.replace(tmp, out)
    if as_json:
        emit_json({"out": str(out), "examples": len(lines), "format": fmt})
    else:
        console.print(f"wrote {len(lines)} {fmt} example(s) to {out}")


@data_app.command("prepare")
@handle_errors
def prepare_cmd(
    file: Path = typer.Argument(..., help="A chat or prompt/completion JSONL file."),
    out: Path | None = typer.Option(None, "--out", help="Output folder or prefix."),
    max_tokens: int = typer.Option(4096, help="Longest example kept (approximate tokens)."),
    validation_share: float = typer.Option(0.1, min=0.0, max=0.5),
    seed: int = typer.Option(0),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check a JSONL file like OpenAI's prepare_data did; write a cleaned file and a split."""
    report = analyze(file, max_tokens=max_tokens, validation_share=validation_share, seed=seed)
    if not report.fit_for_training:
        if as_json:
            emit_json({"ok": False, "issues": [_issue(i) for i in report.issues]})
        else:
            console.print(format_report(report), highlight=False)
        raise InputError("too few valid examples to fine-tune on (at least 10)", source=str(file))
    cleaned, train, valid = write_outputs(report, out)
    if as_json:
        emit_json(
            {
                "ok": True,
                "format": str(report.format),
                "lines": report.total_lines,
                "kept": report.kept,
                "train": len(report.train),
                "validation": len(report.validation),
                "outputs": {"cleaned": str(cleaned), "train": str(train), "valid": str(valid)},
                "issues": [_issue(i) for i in report.issues],
            }
        )
        return
    console.print(format_report(report), highlight=False)
    console.print(f"cleaned: {cleaned}\ntrain:   {train}\nvalid:   {valid}")


def _issue(issue: object) -> dict[str, object]:
    return {
        "line": getattr(issue, "line", None),
        "kind": str(getattr(issue, "kind", "")),
        "severity": str(getattr(issue, "severity", "")),
        "field": getattr(issue, "field", None),
        "message": getattr(issue, "message", ""),
    }
