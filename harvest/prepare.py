"""``fanqa data prepare``: check a fine-tuning JSONL file, drop the bad lines, split it.

A modern take on openai-python 0.x ``openai tools fine_tunes.prepare_data`` for both the
chat format (``{"messages": [...]}``) and the completion format (``{"prompt", "completion"}``).
The file is streamed line by line; only the kept examples are held, as compact JSON.
The checks themselves (and how tokens are estimated) live in :mod:`harvest.prepare_checks`.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harvest.errors import InputError
from harvest.prepare_checks import (
    MIN_EXAMPLES,
    DataFormat,
    Issue,
    IssueKind,
    KeptExample,
    Scan,
    Severity,
    estimate_tokens,
    kind_title,
)

__all__ = [
    "DataFormat",
    "Issue",
    "IssueKind",
    "KeptExample",
    "PrepareReport",
    "Severity",
    "analyze",
    "estimate_tokens",
    "format_report",
    "write_outputs",
]

_HEADINGS = {
    Severity.ERROR: "Errors (lines dropped) / 错误（已删除）:",
    Severity.WARNING: "Warnings (kept, please fix) / 警告（已保留，建议修改）:",
    Severity.INFO: "Advice / 建议:",
}


@dataclass(frozen=True, slots=True)
class PrepareReport:
    """What :func:`analyze` found; :func:`write_outputs` writes its examples."""

    source: Path
    format: DataFormat
    total_lines: int
    examples: tuple[KeptExample, ...]
    issues: tuple[Issue, ...]
    validation_indices: frozenset[int]  # positions in ``examples``
    max_tokens: int
    validation_share: float
    seed: int

    @property
    def kept(self) -> int:
        """How many examples are kept."""
        return len(self.examples)

    @property
    def dropped_lines(self) -> tuple[int, ...]:
        """Line numbers dropped for an error, in file order."""
        errors = self.by_severity(Severity.ERROR)
        return tuple(sorted({i.line for i in errors if i.line is not None}))

    @property
    def fit_for_training(self) -> bool:
        """False when a file-wide error (too few examples) stands."""
        return not any(i.line is None and i.severity is Severity.ERROR for i in self.issues)

    @property
    def train(self) -> tuple[KeptExample, ...]:
        """The training part of the split, in file order."""
        return tuple(e for n, e in enumerate(self.examples) if n not in self.validation_indices)

    @property
    def validation(self) -> tuple[KeptExample, ...]:
        """The validation part of the split, in file order."""
        return tuple(e for n, e in enumerate(self.examples) if n in self.validation_indices)

    def by_severity(self, severity: Severity) -> tuple[Issue, ...]:
        """The issues of one severity."""
        return tuple(i for i in self.issues if i.severity is severity)


def _split(n: int, share: float, seed: int) -> frozenset[int]:
    size = round(n * share)
    if n >= MIN_EXAMPLES:
        size = max(size, 1)
    size = min(size, max(n - 1, 0))
    return frozenset(random.Random(seed).sample(range(n), size))


def analyze(
    path: str | os.PathLike[str],
    *,
    max_tokens: int = 4096,
    validation_share: float = 0.1,
    seed: int = 0,
) -> PrepareReport:
    """Stream a JSONL file, check every line and the whole, and plan the split."""
    source = Path(path)
    if max_tokens < 1:
        raise InputError("must be at least 1", field="max_tokens")
    if not 0 <= validation_share < 1:
        raise InputError("must be at least 0 and below 1", field="validation_share")
    scan = Scan(max_tokens)
    try:
        with source.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                scan.feed(number, raw)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(source)) from exc
    if scan.format is None or not scan.kept:
        first = next((i for i in scan.issues if i.kind is not IssueKind.BLANK_LINE), None)
        if first is None:
            raise InputError("the file holds no example", source=str(source))
        message = f"no valid example; first problem: {first.message}"
        raise InputError(message, source=str(source), line=first.line, field=first.field)
    scan.finish()
    issues = sorted(scan.issues, key=lambda i: (i.line is None, i.line or 0))
    return PrepareReport(
        source=source,
        format=scan.format,
        total_lines=scan.total,
        examples=tuple(scan.kept),
        issues=tuple(issues),
        validation_indices=_split(len(scan.kept), validation_share, seed),
        max_tokens=max_tokens,
        validation_share=validation_share,
        seed=seed,
    )


def format_report(report: PrepareReport, *, max_lines: int = 10) -> str:
    """A bilingual, human-readable report: counts, issues by kind, what writing will do."""
    dropped = report.dropped_lines
    out = [
        f"File / 文件: {report.source}",
        f"Format / 格式: {report.format}",
        f"Lines / 行数: {report.total_lines}; kept / 保留: {report.kept}; "
        f"dropped / 删除: {len(dropped)}",
        f"Approximate tokens / 估计词元: {sum(e.tokens for e in report.examples)} "
        "(CJK 1 per character, other text 1 per 4 characters / 中日韩每字 1，其他每 4 字符 1)",
    ]
    for severity in Severity:
        issues = report.by_severity(severity)
        if not issues:
            continue
        out += ["", _HEADINGS[severity]]
        for kind in IssueKind:
            of_kind = [i for i in issues if i.kind is kind]
            lines = [i.line for i in of_kind if i.line is not None]
            if lines:
                shown = ", ".join(str(n) for n in lines[:max_lines])
                more = f", … (+{len(lines) - max_lines})" if len(lines) > max_lines else ""
                out.append(f"  - {kind_title(kind)} — {len(lines)} line(s) / 行: {shown}{more}")
                out.append(f"      e.g. line {lines[0]}: {of_kind[0].message}")
            out += [f"  - {kind_title(kind)}: {i.message}" for i in of_kind if i.line is None]
    n_valid = len(report.validation_indices)
    out += [
        "",
        "Done / 处理:",
        f"  - cleaned file keeps {report.kept} example(s) and drops {len(dropped)} line(s)"
        f" / 清理后保留 {report.kept} 条，删除 {len(dropped)} 行",
        f"  - split / 划分: {report.kept - n_valid} train / 训练, {n_valid} validation / 验证"
        f" (share {report.validation_share:.0%}, seed {report.seed})",
    ]
    if not report.fit_for_training:
        out.append("  - NOT fit for fine-tuning yet / 尚不适合微调 (see the errors above / 见上)")
    return "\n".join(out)


def _output_paths(source: Path, where: str | os.PathLike[str] | None) -> tuple[Path, Path, Path]:
    if where is None:
        prefix = source.with_name(f"{source.stem}_prepared")
    else:
        text = os.fspath(where)
        path = Path(text)
        if path.is_dir() or text.endswith(("/", os.sep)):
            prefix = path / f"{source.stem}_prepared"
        else:
            prefix = path.with_name(path.name.removesuffix(".jsonl"))
    name = prefix.name
    return (
        prefix.with_name(f"{name}.jsonl"),
        prefix.with_name(f"{name}_train.jsonl"),
        prefix.with_name(f"{name}_valid.jsonl"),
    )


def _write_temp(target: Path, rows: Iterable[KeptExample]) -> Path:
    """Write rows to a temporary file beside ``target``; remove it on any failure."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for row in rows:
                handle.write(row.record + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        temp.chmod(0o644)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def write_outputs(
    report: PrepareReport, out_dir_or_prefix: str | os.PathLike[str] | None = None
) -> tuple[Path, Path, Path]:
    """Write the cleaned file and its train/validation split; all three or none.

    ``None`` writes ``FILE_prepared.jsonl``, ``FILE_prepared_train.jsonl`` and
    ``FILE_prepared_valid.jsonl`` beside the input; a directory (existing, or ending in
    ``/``) holds those names; any other path is a prefix (``out/x`` or ``out/x.jsonl`` →
    ``out/x.jsonl``, ``out/x_train.jsonl``, ``out/x_valid.jsonl``). Each file goes to a
    temporary file first and is renamed into place once all three are complete; on an
    error the temporary files, and any output already renamed by this call, are removed.
    """
    paths = _output_paths(report.source, out_dir_or_prefix)
    source = report.source.resolve()
    if any(p.resolve() == source for p in paths):
        raise InputError("the output would overwrite the input", source=str(report.source))
    contents = (report.examples, report.train, report.validation)
    temps: list[Path] = []
    placed: list[Path] = []
    try:
        for target, rows in zip(paths, contents, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            temps.append(_write_temp(target, rows))
        for temp, target in zip(temps, paths, strict=True):
            os.replace(temp, target)
            placed.append(target)
    except BaseException as exc:
        for path in (*temps, *placed):
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            where = exc.filename or paths[0]
            raise InputError(f"cannot write: {exc.strerror or exc}", source=str(where)) from exc
        raise
    return paths
