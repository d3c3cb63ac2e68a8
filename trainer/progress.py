"""How a running candidate reports back: every report a database write (``Progress``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.models import utcnow
from trainer.metric_store import store_step
from trainer.metrics import StepMetrics
from trainer.runs import get_run
from trainer.summary import load_summary, save_summary

__all__ = ["RunProgress"]

log = logging.getLogger(__name__)


class RunProgress:
    """``trainer.backend.Progress`` for one candidate: every report is a database write."""

    def __init__(
        self,
        engine: Engine,
        run_id: int,
        index: int,
        on_event: Callable[[str], None] | None,
        base_model: str = "",
    ) -> None:
        self.engine, self.run_id, self.index, self.on_event = engine, run_id, index, on_event
        self.base_model = base_model

    def step(self, row: StepMetrics, total_steps: int | None = None) -> None:
        with session_scope(self.engine) as session:
            store_step(session, self.run_id, row, self.index)
            run = get_run(session, self.run_id)
            run.step = row.step
            run.total_steps = total_steps or max(run.total_steps, row.step)
            run.last_loss = row.train_loss if row.train_loss is not None else run.last_loss
            run.heartbeat_at = utcnow()
            session.add(run)

    def save(self, **fields: Any) -> None:
        with session_scope(self.engine) as session:
            run = get_run(session, self.run_id)
            summary = load_summary(run)
            cand = summary.candidate(self.index, self.base_model or run.base_model)
            for key, value in fields.items():
                if key == "details":
                    cand.details = cand.details | dict(value)
                    if isinstance(value.get("steps"), int):  # the real count beats the estimate
                        run.step = run.total_steps = value["steps"]
                else:
                    setattr(cand, key, value)
            if fields.get("job_id"):
                run.external_job_id = fields["job_id"]
            save_summary(run, summary)
            run.heartbeat_at = utcnow()
            session.add(run)

    def beat(self) -> None:
        with session_scope(self.engine) as session:
            run = get_run(session, self.run_id)
            run.heartbeat_at = utcnow()
            session.add(run)

    def cancel_requested(self) -> bool:
        with session_scope(self.engine) as session:
            return get_run(session, self.run_id).cancel_requested

    def set_pid(self, pid: int | None) -> None:
        with session_scope(self.engine) as session:
            run = get_run(session, self.run_id)
            run.pid = pid
            session.add(run)

    def event(self, text: str) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(text)
        except Exception:  # a notification that fails never stops the run
            log.exception("on_event callback failed")
