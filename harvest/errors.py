"""One error root for fanqa, shared by every package.

    FanqaError
    ├── InputError        bad user input: an export, a JSONL line, a CLI argument
    │                     (keyword fields: source, line, field)
    ├── NotFound          an id or a name that does not exist
    ├── PermissionDenied  the caller may not do this (not a moderator, another community)
    ├── ConflictError     the action does not fit the current state (already running, ...)
    ├── PlatformError     a chat platform or a hosted API failed (wraps the SDK error)
    ├── StorageError      the database or the data folder cannot be used now (locked, read-only,
    │                     unreachable; keyword field: path)
    ├── TrainingError     a fine-tuning run failed or was cancelled
    └── GateRejected      a candidate model did not beat the live one

It lives in ``harvest`` because that is the package every other one may import; the
public home is ``fanqa_errors`` re-exported from each package ``__init__``.
Context travels as keyword-only fields so the CLI and the bots can render one clear
line without parsing messages.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "FanqaError",
    "GateRejected",
    "InputError",
    "NotFound",
    "PermissionDenied",
    "PlatformError",
    "StorageError",
    "TrainingError",
]


class FanqaError(Exception):
    """Root of every error fanqa raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(FanqaError):
    """Bad input; names where it is (file, line, field). CLI exit status 2."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class NotFound(FanqaError):
    """An id or a name that does not exist. CLI exit status 2."""

    exit_code = 2

    def __init__(self, message: str, *, kind: str | None = None, key: object = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.key = key


class PermissionDenied(FanqaError):
    """The caller may not do this."""

    exit_code = 2


class ConflictError(FanqaError):
    """The action does not fit the current state."""

    exit_code = 2


class PlatformError(FanqaError):
    """A chat platform or a hosted API failed."""

    def __init__(self, message: str, *, platform: str | None = None) -> None:
        super().__init__(message)
        self.platform = platform


class StorageError(FanqaError):
    """The database or the data folder is busy, read-only or unreachable (not a bug)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class TrainingError(FanqaError):
    """A fine-tuning run failed or was cancelled."""

    def __init__(self, message: str, *, run_id: int | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


class GateRejected(FanqaError):
    """A candidate model did not beat the live one by the required margin."""

    def __init__(self, message: str, *, model_id: int | None = None) -> None:
        super().__init__(message)
        self.model_id = model_id
