"""Communities, chats and members: look-ups and upserts by plain ids."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from harvest.errors import InputError, NotFound
from storage.models import Chat, Community, Member
from storage.repo.settings_check import COMMUNITY_SETTINGS, validate_community_settings

__all__ = [
    "COMMUNITY_SETTINGS",
    "ensure_member",
    "find_chat",
    "find_member",
    "get_community",
    "get_community_by_id",
    "get_or_create_community",
    "get_or_create_member",
    "list_communities",
    "list_members",
    "members_of",
    "set_role",
    "update_community",
    "upsert_chat",
]

ROLES = ("moderator", "expert", "member")


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


def get_or_create_community(session: Session, name: str, **settings: Any) -> Community:
    """The community called ``name``, created with ``settings`` when it does not exist yet."""
    name = name.strip()
    if not name:
        raise InputError("a community needs a name", field="community")
    existing = session.exec(select(Community).where(Community.name == name)).first()
    if existing is not None:
        return existing
    if len(name) > 100:
        raise InputError("a community name is at most 100 characters", field="community")
    community = Community(name=name, **validate_community_settings(settings))
    session.add(community)
    session.flush()
    return community


def update_community(session: Session, community_id: int, **values: Any) -> Community:
    """Change settings, each checked by ``validate_community_settings`` before any is set."""
    checked = validate_community_settings(values)
    community = get_community_by_id(session, community_id)
    for key, value in checked.items():
        setattr(community, key, value)
    session.add(community)
    session.flush()
    return community


def upsert_chat(
    session: Session, community_id: int, platform: str, external_id: str, title: str = ""
) -> Chat:
    """The chat (platform, external_id), created in ``community_id`` when new.

    Safe when two processes (two imports) meet the same new chat at once.
    """
    chat = find_chat(session, platform, external_id)
    if chat is None:
        values = {
            "community_id": community_id,
            "platform": platform,
            "external_id": external_id,
            "title": title[:255],
        }
        _insert_ignore(session, Chat, values, ["platform", "external_id"])
        chat = find_chat(session, platform, external_id)
        assert chat is not None
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


def members_of(
    session: Session,
    community_id: int,
    platform: str,
    authors: dict[str, tuple[str, bool]],
) -> dict[str, tuple[int, str]]:
    """(id, role) of each author ((external id) → (display name, is bot)) of a community on a
    platform: created when new, renamed when their name changed; a few statements for all.

    What :func:`get_or_create_member` does for one author, for a batch of live messages.
    """
    if not authors:
        return {}
    table: Any = Member.__table__  # type: ignore[attr-defined]
    c = table.c
    query = select(c.external_id, c.id, c.role, c.display_name).where(
        c.community_id == community_id, c.platform == platform
    )

    def found() -> dict[str, tuple[int, str, str]]:
        rows = session.connection().execute(query.where(c.external_id.in_(list(authors))))
        return {ext: (mid, role, name) for ext, mid, role, name in rows}

    known = found()
    missing = [ext for ext in authors if ext not in known]
    dialect = session.get_bind().dialect.name
    if missing and dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        rows = [
            {
                "community_id": community_id,
                "platform": platform,
                "external_id": ext,
                "display_name": authors[ext][0][:255],
                "role": "member",
                "is_bot": authors[ext][1],
            }
            for ext in missing
        ]
        index = ["community_id", "platform", "external_id"]
        session.connection().execute(
            insert(table).on_conflict_do_nothing(index_elements=index), rows
        )
        known = found()
    elif missing:  # pragma: no cover - other databases: one by one
        for ext in missing:
            name, is_bot = authors[ext]
            get_or_create_member(session, community_id, platform, ext, name, is_bot=is_bot)
        known = found()
    renamed = [
        {"b_id": mid, "b_name": authors[ext][0][:255]}
        for ext, (mid, _, name) in known.items()
        if authors[ext][0] and name != authors[ext][0][:255]
    ]
    if renamed:
        stmt = (
            table.update().where(c.id == bindparam("b_id")).values(display_name=bindparam("b_name"))
        )
        session.connection().execute(stmt, renamed)
    return {ext: (mid, role) for ext, (mid, role, _) in known.items()}


def _insert_ignore(session: Session, model: Any, values: dict[str, Any], index: list[str]) -> bool:
    """INSERT … ON CONFLICT (index) DO NOTHING; False on a database without that statement.

    A concurrent writer's uncommitted row with the same key makes this wait for its commit,
    then do nothing (PostgreSQL); SQLite writers are serialized anyway.
    """
    table = model.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(values)
    else:
        return False
    session.execute(stmt.on_conflict_do_nothing(index_elements=index))
    return True


def ensure_member(
    session: Session,
    community_id: int,
    platform: str,
    external_id: str,
    display_name: str = "",
    *,
    is_bot: bool = False,
) -> int:
    """The id of member (platform, external_id), inserted when new; safe under concurrency.

    ``INSERT … ON CONFLICT DO NOTHING`` then a look-up: two processes (two imports, two bot
    shards) seeing a new member at once both get the one row, on SQLite and PostgreSQL,
    without a savepoint and without a duplicate-key error.
    """
    values = {
        "community_id": community_id,
        "platform": platform,
        "external_id": external_id,
        "display_name": display_name[:255],
        "role": "member",
        "is_bot": is_bot,
    }
    index = ["community_id", "platform", "external_id"]
    if not _insert_ignore(session, Member, values, index):  # pragma: no cover - other databases
        member = get_or_create_member(
            session, community_id, platform, external_id, display_name, is_bot=is_bot
        )
        return member.id or 0
    found = session.exec(
        select(Member.id).where(
            Member.community_id == community_id,
            Member.platform == platform,
            Member.external_id == external_id,
        )
    ).one()
    return int(found or 0)


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


def find_member(
    session: Session, community_id: int, user: str, platform: str | None = None
) -> Member:
    """A member by ``id``, ``platform:id`` or ``@display name``; NotFound / ambiguous named."""
    name = user.strip()
    if not name:
        raise InputError("name a user: an id, platform:id or @name", field="user")
    head, sep, rest = name.partition(":")
    if sep and not name.startswith("@") and head in ("telegram", "discord", "console"):
        platform, name = head, rest
    members = list_members(session, community_id)
    if platform is not None:
        members = [m for m in members if m.platform == platform]
    if name.startswith("@"):
        wanted = name[1:].casefold()
        found = [m for m in members if m.display_name.casefold() == wanted]
    else:
        found = [m for m in members if m.external_id == name]
    if len(found) > 1:
        ids = ", ".join(f"{m.platform}:{m.external_id}" for m in found)
        raise InputError(f"{user} is ambiguous ({ids}); use platform:id", field="user")
    if not found:
        raise NotFound(f"no member {user} in this community", kind="member", key=user)
    return found[0]
