"""Each community's index kept in memory and on disk, rebuilt only when its version moves.

``Retriever.index_for`` reads one row (``storage.index_version``) per question; the index is
rebuilt from the approved pairs (three columns, no ORM objects) only when the community's
version is not the one it was built at. With ``index_dir`` the index is also written to disk
and a new process (a one-shot ``fanqa ask``) loads it instead of rebuilding it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from bot.answering.calibrate import calibrate
from bot.answering.confidence import Calibration
from bot.answering.dense import encoder_for
from bot.answering.index import PairIndex
from storage.index_version import BUMPED, index_version
from storage.models import PairStatus, QAPair

__all__ = ["Retriever", "approved_triples", "default_retriever"]

log = logging.getLogger(__name__)


def approved_triples(session: Session, community_id: int) -> list[tuple[int, str, str]]:
    """(id, question, answer) of the community's approved, non-deleted pairs, oldest first."""
    stmt = (
        select(QAPair.id, QAPair.question_text, QAPair.answer_text)
        .where(QAPair.community_id == community_id)
        .where(QAPair.status == PairStatus.APPROVED)
        .where(col(QAPair.deleted_at).is_(None))
        .order_by(col(QAPair.id))
    )
    return [(int(pid or 0), q, a) for pid, q, a in session.exec(stmt).all()]


@dataclass(frozen=True, slots=True)
class _Built:
    version: int
    index: PairIndex


class Retriever:
    """Where indexes live: memory (per engine and community), optionally ``index_dir``."""

    def __init__(
        self,
        index_dir: Path | None = None,
        dense_model: str | None = None,
        device: str | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.dense_model = dense_model or None
        self.device = device
        self._memory: weakref.WeakKeyDictionary[Engine, dict[int, _Built]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        if index_dir is not None:
            _PERSISTING.add(self)

    def index_for(self, session: Session, community_id: int) -> PairIndex:
        """The community's index at its current version (built or loaded when needed)."""
        version = index_version(session, community_id)
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        with self._lock:
            built = self._memory.get(engine, {}).get(community_id)
            if built is not None and built.version == version:
                return built.index
            index = self._load(engine, community_id, version)
            if index is None:
                index = PairIndex(approved_triples(session, community_id), self._encoder())
                index.calibration = calibrate(index)
                self._save(engine, community_id, version, index)
            self._memory.setdefault(engine, {})[community_id] = _Built(version, index)
            return index

    def drop(self, community_id: int) -> None:
        """Forget the community's index, in memory and on disk (after ``/forget``: the files
        hold the pairs' text); the next question rebuilds it from the database."""
        with self._lock:
            for built in self._memory.values():
                built.pop(community_id, None)
            folder = self._folder(community_id)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    def _encoder(self) -> Any:
        return encoder_for(self.dense_model, self.device) if self.dense_model else None

    def _meta(self, engine: Engine, community_id: int, version: int) -> dict[str, Any]:
        url = engine.url.render_as_string(hide_password=True)
        return {
            "database": hashlib.sha256(url.encode()).hexdigest()[:16],
            "community_id": community_id,
            "version": version,
            "dense_model": self.dense_model,
        }

    def _folder(self, community_id: int) -> Path | None:
        return self.index_dir / f"community-{community_id}" if self.index_dir else None

    def _load(self, engine: Engine, community_id: int, version: int) -> PairIndex | None:
        folder = self._folder(community_id)
        if folder is None or not (folder / "meta.json").exists():
            return None
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if meta != self._meta(engine, community_id, version):
                return None
            index = PairIndex.load(folder, self._encoder())
            fitted = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
            index.calibration = Calibration(
                tuple(fitted["weights"]), fitted["bias"], fitted["examples"]
            )
            return index
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("index in %s unreadable, rebuilding: %s", folder, exc)
            return None

    def _save(self, engine: Engine, community_id: int, version: int, index: PairIndex) -> None:
        folder = self._folder(community_id)
        if folder is None:
            return
        staging = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            shutil.rmtree(staging, ignore_errors=True)
            index.save(staging, self._meta(engine, community_id, version))
            if index.calibration is not None:
                fitted = index.calibration
                (staging / "calibration.json").write_text(
                    json.dumps(
                        {
                            "weights": fitted.weights,
                            "bias": fitted.bias,
                            "examples": fitted.examples,
                        }
                    ),
                    encoding="utf-8",
                )
            shutil.rmtree(folder, ignore_errors=True)
            staging.rename(folder)
        except OSError as exc:
            log.warning("could not write the index to %s: %s", folder, exc)
            shutil.rmtree(staging, ignore_errors=True)


_PERSISTING: weakref.WeakSet[Retriever] = weakref.WeakSet()


def _drop_stale_files(session: OrmSession) -> None:
    """Once a transaction that changed approved pairs commits, the persisted indexes of those
    communities are stale and may hold text that was just forgotten: remove them (the next
    question rebuilds and writes them again)."""
    for community_id in session.info.pop(BUMPED, set()):
        for retriever in list(_PERSISTING):
            folder = retriever._folder(community_id)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


event.listen(OrmSession, "after_commit", _drop_stale_files)

_DEFAULT = Retriever()


def default_retriever() -> Retriever:
    """The process's in-memory retriever (BM25 only, nothing written to disk)."""
    return _DEFAULT
