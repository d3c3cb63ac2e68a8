"""Communities, chats and members: look-ups and upserts by plain ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from harvest.errors import InputError, NotFound
from storage.models import Chat, Community, Member

__all__ = [
    "COMMUNITY_SETTINGS",
    "find_chat",
    "get_community",
    "get_community_by_id",
    "get_or_create_community",
    "get_or_create_member",
    "list_communities",
    "list_members",
    "local_model_problem",
    "set_role",
    "update_community",
    "upsert_chat",
]

ROLES = ("moderator", "expert", "member")
POLICIES = ("mention", "auto", "off")
COMMUNITY_SETTINGS = (
    "language",
    "system_prompt",
    "answer_policy",
    "auto_answer_after_min",
    "abstain_mode",
    "min_confidence",
    "timezone",
    "train_cron",
    "min_new_pairs",
    "question_patterns",
    "moderator_platform",
    "moderator_chat_id",
    "base_models",
)
_PATH_PREFIXES = ("/", "./", "../", "~", ".\\")


def local_model_problem(ref: str) -> str | None:
    """Why ``ref`` cannot be a local base model (None when it can, or is a hub id / name).

    A folder must hold a model (``config.json``); something that looks like a path
    (``/…``, ``./…``, ``~…``) must exist. Anything else is taken for a hub id.
    """
    if not ref.strip():
        return "a base model name is empty"
    path = Path(ref).expanduser()
    if path.exists():
        if not (path.is_dir() and (path / "config.json").is_file()):
            return f"base model {ref}: not a model folder (no config.json in it)"
        return None
    if ref.startswith(_PATH_PREFIXES) or path.is_absolute():
        return f"base model {ref}: no such folder"
    return None


def get_community(session: Session, name: str) -> Community:
    """The community called ``name``; NotFound names the ones that exist."""
    community = session.exec(select(Community).where(Community.name == name)).first()
    if community is None:
        known = ", ".join(c.name for c in session.exec(select(Community)).all()) or "none yet"
        raise NotFound(f"no community named {name!r} (known: {known})", kind="community", key=name)
    return community


def get_community_by_id(session: Session, community_id: int) -> Community:
    community = session.get(Community, community_id)
    if community is None:
        raise NotFound(f"no community with id {community_id}", kind="community", key=community_id)
    return community


def list_communities(session: Session) -> list[Community]:
    return list(session.exec(select(Community).order_by(Community.name)).all())


def _validate(values: dict[str, Any]) -> None:
    unknown = set(values) - set(COMMUNITY_SETTINGS)
    if unknown:
        raise InputError(f"unknown community setting(s): {', '.join(sorted(unknown))}")
    if "answer_policy" in values and values["answer_policy"] not in POLICIES:
        raise InputError(
            f"answer_policy must be one of {', '.join(POLICIES)}", field="answer_policy"
        )
    if "min_confidence" in values and not 0.0 <= float(values["min_confidence"]) <= 1.0:
        raise InputError("min_confidence must be between 0 and 1", field="min_confidence")
    if "base_models" in values:
        values["base_models"] = _base_models(values["base_models"])


def _base_models(value: Any) -> list[str]:
    """Candidate base models from a list or "a,b": each non-empty; local folders are models."""
    names = value.split(",") if isinstance(value, str) else list(value or [])
    names = [str(n).strip() for n in names]
    if not names or any(not n for n in names):
        raise InputError("list base models separated by commas, none empty", field="base_models")
    for name in names:
        problem = local_model_problem(name)
        if problem:
            raise InputError(problem, field="base_models")
    folders = [Path(n).expanduser() for n in names]
    names = [str(f.resolve()) if f.exists() else n for f, n in zip(folders, names, strict=True)]
    return list(dict.fromkeys(names))


def get_or_create_community(session: Session, name: str, **settings: Any) -> Community:
    """The community called ``name``, created with ``settings`` when it does not exist yet."""
    name = name.strip()
    if not name:
        raise InputError("a community needs a name", field="community")
    existing = session.exec(select(Community).where(Community.name == name)).first()
    if existing is not None:
        return existing
    _validate(settings)
    community = Community(name=name, **settings)
    session.add(community)
    session.flush()
    return community


def update_community(session: Session, community_id: int, **values: Any) -> Community:
    _validate(values)
    community = get_community_by_id(session, community_id)
    for key, value in values.items():
        setattr(community, key, value)
    session.add(community)
    session.flush()
    return community


def upsert_chat(
    session: Session, community_id: int, platform: str, external_id: str, title: str = ""
) -> Chat:
    """The chat (platform, external_id), created in ``community_id`` when new."""
    chat = find_chat(session, platform, external_id)
    if chat is None:
        chat = Chat(
            community_id=community_id, platform=platform, external_id=external_id, title=title
        )
        session.add(chat)
        session.flush()
    elif title and chat.title != title:
        chat.title = title
        session.add(chat)
    return chat


def find_chat(session: Session, platform: str, external_id: str) -> Chat | None:
    return session.exec(
        select(Chat).where(Chat.platform == platform, Chat.external_id == external_id)
    ).first()


def get_or_create_member(
    session: Session,
    community_id: int,
    platform: str,
    external_id: str,
    display_name: str = "",
    *,
    is_bot: bool = False,
) -> Member:
    member = session.exec(
        select(Member).where(
            Member.community_id == community_id,
            Member.platform == platform,
            Member.external_id == external_id,
        )
    ).first()
    if member is None:
        member = Member(
            community_id=community_id,
            platform=platform,
            external_id=external_id,
            display_name=display_name,
            is_bot=is_bot,
        )
        try:  # two chats of a community may see a new member at once (bots, shards)
            with session.begin_nested():
                session.add(member)
                session.flush()
        except IntegrityError:
            member = session.exec(
                select(Member).where(
                    Member.community_id == community_id,
                    Member.platform == platform,
                    Member.external_id == external_id,
                )
            ).one()
    elif display_name and member.display_name != display_name:
        member.display_name = display_name
        session.add(member)
    return member


def set_role(session: Session, member_id: int, role: str) -> Member:
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}", field="role")
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"no member with id {member_id}", kind="member", key=member_id)
    member.role = role
    session.add(member)
    session.flush()
    return member


def list_members(session: Session, community_id: int, role: str | None = None) -> list[Member]:
    query = select(Member).where(Member.community_id == community_id)
    if role is not None:
        query = query.where(Member.role == role)
    return list(session.exec(query.order_by(col(Member.id))).all())
