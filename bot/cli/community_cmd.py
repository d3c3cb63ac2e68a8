"""``fanqa community …`` and ``fanqa members …``: communities, their settings and roles."""

from __future__ import annotations

import typer
from rich.table import Table
from rich.text import Text

from bot.cli.app import app, console, emit_json, handle_errors
from bot.runtime import answer_retriever, open_engine
from harvest.errors import ConflictError, InputError
from storage.db import session_scope
from storage.models import Community
from storage.repo import (
    count_pairs,
    find_member,
    get_community,
    get_or_create_community,
    get_or_create_member,
    list_communities,
    list_members,
    set_role,
    update_community,
)
from storage.repo.communities import COMMUNITY_SETTINGS, find_chat, upsert_chat
from storage.repo.pairs import record_event
from storage.repo.privacy import forget_member, purge_free_pages
from storage.repo.settings_check import validate_community_settings

community_app = typer.Typer(help="Create communities and change their settings.")
members_app = typer.Typer(help="Give members the moderator or expert role.")
app.add_typer(community_app, name="community")
app.add_typer(members_app, name="members")


def _as_dict(row: Community) -> dict[str, object]:
    return {"id": row.id, "name": row.name} | {k: getattr(row, k) for k in COMMUNITY_SETTINGS}


@community_app.command("create")
@handle_errors
def create_cmd(
    name: str,
    system_prompt: str = typer.Option("", help="System prompt the model is trained with."),
    language: str = typer.Option("auto", help="auto | zh | en"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a community (a no-op when it exists)."""
    with session_scope(open_engine()) as session:
        row = get_or_create_community(session, name, system_prompt=system_prompt, language=language)
        data = _as_dict(row)
    emit_json(data) if as_json else console.print(f"community {name!r} (id {data['id']})")


_PLATFORMS = ("telegram", "discord", "console")


@community_app.command("link")
@handle_errors
def link_cmd(
    name: str = typer.Argument(..., help="Community name."),
    platform: str = typer.Argument(..., help="telegram | discord"),
    chat_id: str = typer.Option(
        ..., "--chat", help="Telegram chat id (-100… for groups) or Discord channel id."
    ),
    title: str = typer.Option("", help="A name for the chat in listings."),
    policy: str | None = typer.Option(
        None, help="Answering policy in this chat: mention | auto | off (default: community's)."
    ),
    moderators: bool = typer.Option(
        False, "--moderators", help="Also make it the moderator chat (review cards, notices)."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Link a live chat to a community: the bot harvests and answers only in linked chats."""
    if platform not in _PLATFORMS:
        raise InputError(f"one of {', '.join(_PLATFORMS)}", field="platform")
    if policy is not None and policy not in ("mention", "auto", "off"):
        raise InputError("one of mention, auto, off", field="--policy")
    chat_id = chat_id.strip()
    if not chat_id.lstrip("-").isdigit() and platform != "console":
        raise InputError(f"a {platform} chat id is a number, got {chat_id!r}", field="chat_id")
    with session_scope(open_engine()) as session:
        community = get_community(session, name)
        chat = find_chat(session, platform, chat_id)
        if chat is not None and chat.community_id != community.id:
            raise ConflictError(f"{platform} chat {chat_id} is linked to another community")
        chat = upsert_chat(session, community.id or 0, platform, chat_id, title)
        if policy is not None:
            chat.answer_policy = policy
            session.add(chat)
        if moderators:
            update_community(
                session,
                community.id or 0,
                moderator_platform=platform,
                moderator_chat_id=chat_id,
            )
        data = {
            "community": name,
            "platform": platform,
            "chat_id": chat_id,
            "title": chat.title,
            "answer_policy": chat.answer_policy or community.answer_policy,
            "moderator_chat": moderators
            or (community.moderator_platform, community.moderator_chat_id) == (platform, chat_id),
        }
    if as_json:
        emit_json(data)
    else:
        role = " (moderator chat)" if data["moderator_chat"] else ""
        console.print(f"linked {platform} chat {chat_id} to {name!r}{role}")


@community_app.command("list")
@handle_errors
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List communities with their pair counts."""
    with session_scope(open_engine()) as session:
        rows = [
            _as_dict(c) | {"pairs": count_pairs(session, c.id or 0)}
            for c in list_communities(session)
        ]
    if as_json:
        emit_json(rows)
        return
    table = Table("name", "policy", "pending", "approved", "rejected")
    for r in rows:
        counts = r["pairs"]
        assert isinstance(counts, dict)
        table.add_row(
            str(r["name"]),
            str(r["answer_policy"]),
            str(counts["pending"]),
            str(counts["approved"]),
            str(counts["rejected"]),
        )
    console.print(table)


@community_app.command("show")
@handle_errors
def show_cmd(
    name: str = typer.Argument(..., help="Community name."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show a community's settings and pair counts."""
    with session_scope(open_engine()) as session:
        row = get_community(session, name)
        data = _as_dict(row) | {"pairs": count_pairs(session, row.id or 0)}
    if as_json:
        emit_json(data)
        return
    table = Table("setting", "value", title=f"{name} (id {data['id']})")
    for key in COMMUNITY_SETTINGS:
        value = data[key]
        shown = "|".join(value) if isinstance(value, list) else "" if value is None else str(value)
        table.add_row(key, Text(shown))  # a prompt's "[...]" is text, not rich markup
    counts = data["pairs"]
    assert isinstance(counts, dict)
    table.add_row("pairs", ", ".join(f"{n} {status}" for status, n in counts.items()))
    console.print(table)


@community_app.command("set")
@handle_errors
def set_cmd(
    name: str,
    assignments: list[str] = typer.Argument(
        ...,
        help="KEY=VALUE, e.g. answer_policy=auto; question_patterns=A|B or a JSON list (RE2).",
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Change settings: language, system_prompt, answer_policy, min_confidence, …"""
    values: dict[str, object] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or key not in COMMUNITY_SETTINGS:
            raise InputError(
                f"expected KEY=VALUE with KEY one of {', '.join(COMMUNITY_SETTINGS)}",
                field=key or item,
            )
        values[key] = value
    values = validate_community_settings(values)  # typed; the first bad one names its field
    engine = open_engine()
    with session_scope(engine) as session:
        row = update_community(session, get_community(session, name).id or 0, **values)
        data = _as_dict(row)
    approved: list[int] = []
    if values.get("auto_approve_above") is not None:  # applies to the pending queue at once
        from bot.learning import Learner

        approved = Learner(engine).auto_approve(int(str(data["id"])))
    if as_json:
        emit_json(data | ({"auto_approved": approved} if approved else {}))
        return
    console.print(f"updated {', '.join(values)}")
    if approved:
        console.print(f"{len(approved)} pending pair(s) approved by the classifier")


@members_app.command("role")
@handle_errors
def role_cmd(
    user_id: str = typer.Argument(..., help="Platform user id."),
    role: str = typer.Argument(..., help="moderator | expert | member"),
    community: str = typer.Option(..., "--community", "-c"),
    platform: str = typer.Option("telegram", help="telegram | discord | console"),
    name: str = typer.Option("", help="Display name, when the member is new."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Give a member a role in a community (audited)."""
    with session_scope(open_engine()) as session:
        cid = get_community(session, community).id or 0
        member = get_or_create_member(session, cid, platform, user_id, name)
        before = member.role
        set_role(session, member.id or 0, role)
        record_event(
            session,
            community_id=cid,
            action=f"role:{role}",
            actor_label="cli",
            before={"member": member.id, "role": before},
            after={"member": member.id, "role": role},
        )
        data = {"member": member.id, "user_id": user_id, "role": role, "platform": platform}
    emit_json(data) if as_json else console.print(f"{platform}:{user_id} is now {role}")


@members_app.command("list")
@handle_errors
def members_list_cmd(
    community: str = typer.Option(..., "--community", "-c"),
    role: str | None = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List members (optionally of one role)."""
    with session_scope(open_engine()) as session:
        cid = get_community(session, community).id or 0
        rows = [
            {
                "id": m.id,
                "platform": m.platform,
                "user_id": m.external_id,
                "name": m.display_name,
                "role": m.role,
            }
            for m in list_members(session, cid, role)
        ]
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "platform", "user id", "name", "role")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    console.print(table)


@members_app.command("forget")
@handle_errors
def forget_cmd(
    user: str = typer.Argument(..., help="Platform user id, platform:id, or @display name."),
    community: str = typer.Option(..., "--community", "-c"),
    platform: str | None = typer.Option(None, help="telegram | discord | console"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Remove a member's text everywhere: messages, pairs, answers, cards, audit, snapshots."""
    engine = open_engine()
    with session_scope(engine) as session:
        cid = get_community(session, community).id or 0
        member = find_member(session, cid, user, platform)
        report = forget_member(session, cid, member, "cli")
    answer_retriever().drop(cid)  # the persisted index holds the forgotten pairs' text
    purge_free_pages(engine)
    emit_json(report.as_dict()) if as_json else console.print(report.summary(), highlight=False)
