"""The model registry: which model version is live per community; promote and roll back.

Both ``promote`` and ``rollback`` only change rows in the caller's session: committed together
by ``session_scope`` (one transaction), so a failure half-way leaves the old live model live.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from harvest.errors import ConflictError, NotFound
from storage.models import ModelStatus, ModelVersion, utcnow

__all__ = ["get_model", "list_models", "live_model", "promote", "rollback"]


def get_model(session: Session, model_id: int) -> ModelVersion:
    """The model version ``model_id``; NotFound when there is none."""
    model = session.get(ModelVersion, model_id)
    if model is None:
        raise NotFound(f"no model version with id {model_id}", kind="model", key=model_id)
    return model


def live_model(session: Session, community_id: int) -> ModelVersion | None:
    """The community's live model version, or None before the first promotion."""
    stmt = (
        select(ModelVersion)
        .where(ModelVersion.community_id == community_id)
        .where(ModelVersion.status == ModelStatus.LIVE)
        .order_by(col(ModelVersion.promoted_at).desc(), col(ModelVersion.id).desc())
    )
    return session.exec(stmt).first()


def list_models(session: Session, community_id: int | None = None) -> list[ModelVersion]:
    """Model versions, newest first (one community's, or all)."""
    stmt = select(ModelVersion).order_by(col(ModelVersion.id).desc())
    if community_id is not None:
        stmt = stmt.where(ModelVersion.community_id == community_id)
    return list(session.exec(stmt).all())


def promote(session: Session, model_id: int) -> ModelVersion:
    """Make ``model_id`` live; the previously live version of its community becomes retired."""
    model = get_model(session, model_id)
    if model.status == ModelStatus.LIVE:
        return model
    if model.adapter_path is None and model.remote_model_id is None:
        raise ConflictError(f"model {model_id} has neither an adapter nor a remote model id")
    stmt = (
        select(ModelVersion)
        .where(ModelVersion.community_id == model.community_id)
        .where(ModelVersion.status == ModelStatus.LIVE)
    )
    for old in session.exec(stmt).all():
        old.status = ModelStatus.RETIRED
        session.add(old)
    model.status = ModelStatus.LIVE
    model.promoted_at = utcnow()
    session.add(model)
    session.flush()
    return model


def rollback(session: Session, community_id: int) -> ModelVersion:
    """Retire the live model and bring back the one that was live before it.

    "Before" means the retired version with the latest promotion time earlier than the live
    one's, so repeated rollbacks walk back through history instead of flip-flopping.
    ConflictError when there is no live model or nothing older to return to.
    """
    current = live_model(session, community_id)
    if current is None:
        raise ConflictError("no live model to roll back")
    stmt = (
        select(ModelVersion)
        .where(ModelVersion.community_id == community_id)
        .where(ModelVersion.status == ModelStatus.RETIRED)
        .where(col(ModelVersion.promoted_at).is_not(None))
        .order_by(col(ModelVersion.promoted_at).desc(), col(ModelVersion.id).desc())
    )
    if current.promoted_at is not None:
        stmt = stmt.where(col(ModelVersion.promoted_at) < current.promoted_at)
    previous = session.exec(stmt).first()
    if previous is None:
        raise ConflictError(
            f"model {current.id} is the first live model of this community; nothing to roll back to"
        )
    current.status = ModelStatus.RETIRED
    previous.status = ModelStatus.LIVE
    session.add(current)
    session.add(previous)
    session.flush()
    return previous
