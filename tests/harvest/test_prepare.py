"""Tests for harvest.prepare: the checks, the split and the outputs of `fanqa data prepare`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvest.errors import InputError
from harvest.prepare import (
    DataFormat,
    IssueKind,
    PrepareReport,
    Severity,
    analyze,
    estimate_tokens,
    format_report,
    write_outputs,
)

Row = object  # a JSON value, or a str written as the raw line


def write_jsonl(path: Path, rows: list[Row]) -> Path:
    """Write rows as JSONL; a str row is written verbatim."""
    text = "".join(
        (row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n"
        for row in rows
    )
    path.write_text(text, encoding="utf-8")
    return path


def chat(question: str, answer: str, system: str | None = None) -> dict[str, object]:
    """A chat-format example."""
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return {"messages": messages}


def completion(prompt: str, answer: str) -> dict[str, object]:
    """A completion-format example with a separator and an ending."""
    return {"prompt": f"{prompt}\n\n###\n\n", "completion": f" {answer} END"}


def chats(n: int, start: int = 0) -> list[Row]:
    """n distinct chat examples, bilingual."""
    return [
        chat(f"How do I reset item {i}? 如何重置 {i}？", f"Hold the button {i}s. 按住")
        for i in range(start, start + n)
    ]


def kinds_at(report: PrepareReport, kind: IssueKind) -> list[int | None]:
    """Line numbers of the issues of one kind."""
    return [i.line for i in report.issues if i.kind is kind]


def test_bad_json_on_line_3_is_reported_as_line_3(tmp_path: Path) -> None:
    """An unreadable line is reported with its 1-based number and dropped."""
    path = write_jsonl(tmp_path / "d.jsonl", [*chats(2), '{"messages": [', *chats(10, 2)])
    report = analyze(path)
    bad = [i for i in report.issues if i.kind is IssueKind.BAD_JSON]
    assert [(i.line, i.severity) for i in bad] == [(3, Severity.ERROR)]
    assert report.dropped_lines == (3,)
    assert (report.total_lines, report.kept) == (13, 12)


def test_non_object_missing_fields_and_wrong_types_are_errors(tmp_path: Path) -> None:
    """Arrays, missing and mistyped fields are dropped with the field named."""
    rows: list[Row] = [
        *chats(10),
        [1, 2],
        {"messages": [{"role": "user"}, {"role": "assistant", "content": "x"}]},
        {"messages": "hello"},
        {"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "x"}]},
        {"text": "neither format"},
    ]
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows))
    found = [(i.line, i.kind, i.field) for i in report.issues if i.severity is Severity.ERROR]
    assert found == [
        (11, IssueKind.NOT_OBJECT, None),
        (12, IssueKind.MISSING_FIELD, "messages[0].content"),
        (13, IssueKind.WRONG_TYPE, "messages"),
        (14, IssueKind.WRONG_TYPE, "messages[0].content"),
        (15, IssueKind.MISSING_FIELD, "messages"),
    ]


def test_chat_roles_empty_texts_and_conversation_shape(tmp_path: Path) -> None:
    """Invalid roles, blank contents, no user or no final answer drop the line."""
    rows: list[Row] = [
        *chats(10),
        {"messages": [{"role": "bot", "content": "q"}, {"role": "assistant", "content": "a"}]},
        chat("question", "   "),
        {"messages": [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}]},
        {"messages": [{"role": "user", "content": "q"}]},
        {"messages": []},
    ]
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows))
    found = [(i.line, i.kind, i.field) for i in report.issues if i.severity is Severity.ERROR]
    assert found == [
        (11, IssueKind.INVALID_ROLE, "messages[0].role"),
        (12, IssueKind.EMPTY_TEXT, "messages[1].content"),
        (13, IssueKind.MISSING_FIELD, "messages"),
        (14, IssueKind.INVALID_ROLE, "messages[0].role"),
        (15, IssueKind.EMPTY_TEXT, "messages"),
    ]


def test_completion_missing_and_empty_fields(tmp_path: Path) -> None:
    """A completion line needs a non-empty string prompt and completion."""
    rows: list[Row] = [
        *[completion(f"q{i}", f"a{i}") for i in range(10)],
        {"prompt": "q\n\n###\n\n"},
        {"prompt": 3, "completion": " a END"},
        {"prompt": "q\n\n###\n\n", "completion": ""},
    ]
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows))
    found = [(i.line, i.kind, i.field) for i in report.issues if i.severity is Severity.ERROR]
    assert found == [
        (11, IssueKind.MISSING_FIELD, "completion"),
        (12, IssueKind.WRONG_TYPE, "prompt"),
        (13, IssueKind.EMPTY_TEXT, "completion"),
    ]


def test_duplicates_ignore_case_and_spacing_and_name_the_first(tmp_path: Path) -> None:
    """A repeat, up to case and whitespace, is dropped and points at the first occurrence."""
    rows: list[Row] = [
        *chats(10),
        chat("Where is the  MANUAL?", "在 网站 上"),
        chat("where is the manual?\n", "在 网站 上"),
        chat("where is the manual?", "在网站上"),
    ]
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows))
    duplicates = [(i.line, i.message) for i in report.issues if i.kind is IssueKind.DUPLICATE]
    assert duplicates == [(12, "duplicate of line 11 (ignoring case and spacing)")]
    assert report.kept == 12


def test_token_estimate_counts_cjk_per_character(tmp_path: Path) -> None:
    """CJK characters count 1 each, other text 1 per 4 characters, rounded up."""
    assert estimate_tokens("你好世界") == 4
    assert estimate_tokens("abcdefgh") == 2
    assert estimate_tokens("hello 世界!") == 2 + 2
    assert estimate_tokens("こんにちは、한국어") == 9


def test_over_long_examples_are_dropped(tmp_path: Path) -> None:
    """An example over max_tokens is dropped; CJK text is counted per character."""
    rows: list[Row] = [*chats(10), chat("长" * 60, "好"), chat("long " * 12, "ok")]
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows), max_tokens=60)
    assert kinds_at(report, IssueKind.TOO_LONG) == [11]
    assert report.kept == 11


def test_format_is_chat_or_completion(tmp_path: Path) -> None:
    """Both layouts are recognised and written back compactly."""
    chat_report = analyze(write_jsonl(tmp_path / "c.jsonl", chats(10)))
    rows: list[Row] = [completion(f"问题 {i}", f"answer {i}") for i in range(10)]
    completion_report = analyze(write_jsonl(tmp_path / "p.jsonl", rows))
    assert (chat_report.format, completion_report.format) == (
        DataFormat.CHAT,
        DataFormat.COMPLETION,
    )
    assert json.loads(completion_report.examples[0].record) == completion("问题 0", "answer 0")
    assert "问题" in completion_report.examples[0].record


def test_mixed_formats_follow_the_first_valid_line(tmp_path: Path) -> None:
    """The first valid line sets the format; lines of the other one are inconsistent."""
    rows: list[Row] = [
        {"messages": [{"role": "user", "content": "no answer"}]},
        *[completion(f"q{i}", f"a{i}") for i in range(10)],
        chat("q", "a"),
    ]
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows))
    assert report.format == DataFormat.COMPLETION
    assert kinds_at(report, IssueKind.INCONSISTENT_FORMAT) == [12]
    assert kinds_at(report, IssueKind.INVALID_ROLE) == [1]


def test_example_counts_error_below_10_and_advise_below_100(tmp_path: Path) -> None:
    """Fewer than 10 kept is an error; fewer than 100 is advice; 100 is quiet."""
    few = analyze(write_jsonl(tmp_path / "a.jsonl", chats(9)))
    some = analyze(write_jsonl(tmp_path / "b.jsonl", chats(10)))
    many = analyze(write_jsonl(tmp_path / "c.jsonl", chats(100)))
    assert [(i.kind, i.severity) for i in few.issues] == [(IssueKind.TOO_FEW, Severity.ERROR)]
    assert [(i.kind, i.severity) for i in some.issues] == [(IssueKind.FEW_EXAMPLES, Severity.INFO)]
    assert many.issues == ()
    assert (few.fit_for_training, some.fit_for_training) == (False, True)


def test_inconsistent_prompt_separators_and_endings_are_warned(tmp_path: Path) -> None:
    """Prompts or completions that break the usual marker are warnings, line by line."""
    rows: list[Row] = [completion(f"q{i}", f"a{i}") for i in range(10)]
    rows[3] = {"prompt": "q3", "completion": " a3 END"}
    rows[5] = {"prompt": "q5\n\n###\n\n", "completion": " a5\n"}
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows))
    warnings = [(i.line, i.kind) for i in report.by_severity(Severity.WARNING)]
    assert warnings == [
        (4, IssueKind.SEPARATOR_INCONSISTENT),
        (6, IssueKind.ENDING_INCONSISTENT),
    ]
    assert (
        report.issues[0].message == "has no marker; most prompts (9 of 10) have '\\n\\n###\\n\\n'"
    )
    assert report.kept == 10


def test_missing_markers_and_leading_space_are_advice(tmp_path: Path) -> None:
    """No separator, no ending and no leading space at all give advice (the old tool's)."""
    rows: list[Row] = [{"prompt": f"q{i}", "completion": f"a{i}"} for i in range(10)]
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows))
    assert kinds_at(report, IssueKind.NO_LEADING_SPACE) == list(range(1, 11))
    assert kinds_at(report, IssueKind.NO_SEPARATOR) == [None]
    assert kinds_at(report, IssueKind.NO_ENDING) == [None]
    assert {i.severity for i in report.issues} == {Severity.INFO}


def test_common_prefix_and_upper_case_are_advice(tmp_path: Path) -> None:
    """A prefix shared by every prompt and mostly upper-case text are pointed out."""
    rows: list[Row] = [completion(f"ANSWER THIS: Q{i}", f"{i} apples") for i in range(10)]
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows))
    prefix = [(i.field, i.message) for i in report.issues if i.kind is IssueKind.COMMON_PREFIX]
    assert prefix == [
        ("prompt", "every prompt starts with 'ANSWER THIS: Q'; it teaches nothing, remove it")
    ]
    assert kinds_at(report, IssueKind.UPPERCASE) == [None]


def test_acronyms_in_chinese_and_short_prefixes_give_no_advice(tmp_path: Path) -> None:
    """Upper-case acronyms in CJK text, " END" markers and a one-letter prefix are fine."""
    rows: list[Row] = [
        completion(f"Q{i} 怎么安装 CUDA 和 GPU 驱动", f"{i} 号：用 NVIDIA 官方包")
        for i in range(10)
    ]
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows))
    assert kinds_at(report, IssueKind.UPPERCASE) == []
    assert kinds_at(report, IssueKind.COMMON_PREFIX) == []


def test_system_prompt_that_differs_is_advice(tmp_path: Path) -> None:
    """Examples whose system prompt differs from the usual one are named."""
    rows: list[Row] = [chat(f"q{i}", f"a{i}", system="你是客服。") for i in range(10)]
    rows[2] = chat("q2", "a2", system="You are a pirate.")
    rows[7] = chat("q7", "a7")
    report = analyze(write_jsonl(tmp_path / "d.jsonl", rows))
    varies = [
        (i.line, i.message) for i in report.issues if i.kind is IssueKind.SYSTEM_PROMPT_VARIES
    ]
    assert varies == [
        (3, "has 'You are a pirate.'; most examples (8 of 10) have '你是客服。'"),
        (8, "has no system prompt; most examples (8 of 10) have '你是客服。'"),
    ]


def test_extra_fields_are_dropped_from_the_output(tmp_path: Path) -> None:
    """Unknown keys are reported as info and not written."""
    row = {**chat("q", "a"), "id": 7}
    row["messages"][0]["lang"] = "en"  # type: ignore[index]
    report = analyze(write_jsonl(tmp_path / "d.jsonl", [row, *chats(9)]))
    extra = [(i.line, i.message) for i in report.issues if i.kind is IssueKind.EXTRA_FIELD]
    assert extra == [(1, "not written: id, messages[0].lang")]
    assert json.loads(report.examples[0].record) == chat("q", "a")


def test_bom_crlf_blank_lines_and_bad_encoding(tmp_path: Path) -> None:
    """A UTF-8 BOM and CRLF are accepted; blank lines are info; invalid UTF-8 is an error."""
    lines = [json.dumps(r).encode() for r in chats(10)]
    raw = b"\xef\xbb\xbf" + b"\r\n".join([*lines[:5], b"", b"\xff\xfe{}", *lines[5:]]) + b"\r\n"
    path = tmp_path / "d.jsonl"
    path.write_bytes(raw)
    report = analyze(path)
    assert [(i.line, i.kind) for i in report.issues if i.line is not None] == [
        (6, IssueKind.BLANK_LINE),
        (7, IssueKind.BAD_ENCODING),
    ]
    assert report.kept == 10


def test_split_sizes(tmp_path: Path) -> None:
    """Validation is a share of the kept examples, at least 1 from 10 on, none below."""
    sizes = {}
    for n in (5, 10, 100):
        report = analyze(write_jsonl(tmp_path / f"{n}.jsonl", chats(n)))
        sizes[n] = (len(report.train), len(report.validation))
    assert sizes == {5: (5, 0), 10: (9, 1), 100: (90, 10)}


def test_split_is_deterministic_per_seed(tmp_path: Path) -> None:
    """The same seed gives the same split; another seed another one."""
    path = write_jsonl(tmp_path / "d.jsonl", chats(100))
    first, again, other = analyze(path), analyze(path), analyze(path, seed=1)
    assert first.validation_indices == again.validation_indices
    assert first.validation_indices != other.validation_indices


def test_write_outputs_default_names_and_contents(tmp_path: Path) -> None:
    """Default names sit beside the input; train and valid partition the cleaned file."""
    path = write_jsonl(tmp_path / "faq.jsonl", [*chats(20), "oops", chats(1)[0]])
    paths = write_outputs(analyze(path))
    assert [p.name for p in paths] == [
        "faq_prepared.jsonl",
        "faq_prepared_train.jsonl",
        "faq_prepared_valid.jsonl",
    ]
    cleaned, train, valid = (p.read_text(encoding="utf-8").splitlines() for p in paths)
    assert len(cleaned) == 20
    assert (len(train), len(valid)) == (18, 2)
    assert sorted(train + valid) == sorted(cleaned)
    assert json.loads(cleaned[0]) == chats(1)[0]
    assert sorted(tmp_path.iterdir()) == sorted([path, *paths])


def test_write_outputs_to_a_directory_or_prefix(tmp_path: Path) -> None:
    """A directory keeps the default names; another path is a prefix."""
    report = analyze(write_jsonl(tmp_path / "faq.jsonl", chats(10)))
    in_dir = write_outputs(report, f"{tmp_path}/out/")
    prefixed = write_outputs(report, tmp_path / "x" / "clean.jsonl")
    assert [p.relative_to(tmp_path).as_posix() for p in (*in_dir, *prefixed)] == [
        "out/faq_prepared.jsonl",
        "out/faq_prepared_train.jsonl",
        "out/faq_prepared_valid.jsonl",
        "x/clean.jsonl",
        "x/clean_train.jsonl",
        "x/clean_valid.jsonl",
    ]


def test_outputs_exist_only_after_success(tmp_path: Path) -> None:
    """When one output cannot be placed, none is left behind, nor any temporary file."""
    path = write_jsonl(tmp_path / "faq.jsonl", chats(10))
    (tmp_path / "faq_prepared_valid.jsonl").mkdir()  # the last rename will fail
    with pytest.raises(InputError):
        write_outputs(analyze(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faq.jsonl", "faq_prepared_valid.jsonl"]


def test_write_outputs_refuses_to_overwrite_the_input(tmp_path: Path) -> None:
    """An output prefix that names the input file is refused."""
    path = write_jsonl(tmp_path / "faq.jsonl", chats(10))
    with pytest.raises(InputError) as caught:
        write_outputs(analyze(path), tmp_path / "faq")
    assert caught.value.message == "the output would overwrite the input"
    assert path.read_text(encoding="utf-8").count("\n") == 10


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    """A missing file or a directory raises InputError naming it."""
    for path in (tmp_path / "nope.jsonl", tmp_path):
        with pytest.raises(InputError) as caught:
            analyze(path)
        assert caught.value.source == str(path)


def test_file_without_a_valid_example_names_the_first_problem(tmp_path: Path) -> None:
    """No valid example: InputError with the file and the first problem line."""
    path = write_jsonl(tmp_path / "d.jsonl", ["", "not json", {"prompt": 1, "completion": "a"}])
    with pytest.raises(InputError) as caught:
        analyze(path)
    error = caught.value
    assert (error.source, error.line) == (str(path), 2)
    assert str(error).startswith(f"{path}, line 2: no valid example; first problem: not valid JSON")


def test_empty_file_and_bad_arguments(tmp_path: Path) -> None:
    """An empty file and out-of-range arguments raise InputError."""
    empty = tmp_path / "e.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="holds no example"):
        analyze(empty)
    with pytest.raises(InputError) as caught:
        analyze(empty, validation_share=1.0)
    assert caught.value.field == "validation_share"


def test_format_report_groups_issues_and_says_what_is_done(tmp_path: Path) -> None:
    """The report gives counts, kinds with capped line lists, and the split."""
    rows: list[Row] = [*chats(10), *["bad"] * 12]
    text = format_report(analyze(write_jsonl(tmp_path / "d.jsonl", rows)), max_lines=3)
    lines = text.splitlines()
    assert lines[2] == "Lines / 行数: 22; kept / 保留: 10; dropped / 删除: 12"
    assert "  - unreadable JSON / JSON 无法解析 — 12 line(s) / 行: 11, 12, 13, … (+9)" in lines
    assert (
        "  - few examples / 样本较少: 10 examples; results improve with more, aim for a few hundred"
        in lines
    )
    assert "  - split / 划分: 9 train / 训练, 1 validation / 验证 (share 10%, seed 0)" in lines
