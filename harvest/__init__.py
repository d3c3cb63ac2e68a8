"""harvest: pure, platform-free harvesting of question → answer pairs."""

from harvest.native import guard as _guard

# Before any compiled module is imported: a build older than its sources is never used.
NATIVE = _guard()

# ruff: noqa: E402
from harvest.errors import (
    ConflictError,
    FanqaError,
    GateRejected,
    InputError,
    NotFound,
    PermissionDenied,
    PlatformError,
    StorageError,
    TrainingError,
)
from harvest.model import ChatMessage, PairedAnswer, PairMethod, Role

__all__ = [
    "ChatMessage",
    "ConflictError",
    "FanqaError",
    "GateRejected",
    "InputError",
    "NotFound",
    "PairMethod",
    "PairedAnswer",
    "PermissionDenied",
    "PlatformError",
    "Role",
    "StorageError",
    "TrainingError",
]
