"""The core's commands as Discord slash commands, built from ``bot.core.commands.COMMANDS``.

Discord lets a server hide commands only per top-level command (``default_permissions`` on
sub-commands is ignored), so there are two groups:

* ``/fanqa <command> [args]`` — every command; visible to members with Manage Messages by
  default (server admins may change that, so the core checks the caller on every call);
  replies to moderator commands are ephemeral.
* ``/fanqa-info <command>`` — the commands anyone may run (``status``, ``help``).

A message context menu "Approve answer" is a second way for a moderator to approve the pair
of a harvested answer (like Answer Overflow's "Mark Solution"): it reaches the core as a ✅.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot.core.commands import COMMANDS

__all__ = ["INFO_GROUP", "MAIN_GROUP", "CommandRunner", "build_commands"]

MAIN_GROUP = "fanqa"
INFO_GROUP = "fanqa-info"
APPROVE_MENU = "Approve answer"
_MODERATOR = discord.Permissions(manage_messages=True)

# (interaction, command name, args, ephemeral) → None; the bot answers the interaction.
CommandRunner = Callable[[discord.Interaction, str, tuple[str, ...], bool], Awaitable[None]]
MenuRunner = Callable[[discord.Interaction, discord.Message], Awaitable[None]]


def _describe(text: str) -> str:
    return text if len(text) <= 100 else text[:99] + "…"


def _command(name: str, spec: Any, run: CommandRunner, parent: app_commands.Group) -> None:
    ephemeral = spec.moderator_only

    @app_commands.describe(args=_describe(f"usage: {spec.usage}"))
    async def callback(interaction: discord.Interaction, args: str | None = None) -> None:
        await run(interaction, name, tuple((args or "").split()), ephemeral)

    parent.add_command(
        app_commands.Command(
            name=name, description=_describe(spec.summary), callback=callback, parent=parent
        )
    )


def build_commands(run: CommandRunner, approve: MenuRunner) -> list[Any]:
    """The groups and the context menu to add to a CommandTree (one command per core one)."""
    main = app_commands.Group(
        name=MAIN_GROUP,
        description="fanqa: review harvested Q&A pairs / 审核问答",
        guild_only=True,
        default_permissions=_MODERATOR,
    )
    info = app_commands.Group(
        name=INFO_GROUP, description="fanqa status and help / 状态与帮助", guild_only=True
    )
    if len(COMMANDS) > 25:  # Discord's limit of sub-commands per group
        raise ValueError(f"{len(COMMANDS)} commands do not fit one Discord group (max 25)")
    for name, spec in COMMANDS.items():
        _command(name, spec, run, main)
        if not spec.moderator_only:
            _command(name, spec, run, info)

    async def menu(interaction: discord.Interaction, message: discord.Message) -> None:
        await approve(interaction, message)

    approve_menu = app_commands.ContextMenu(name=APPROVE_MENU, callback=menu)
    approve_menu.guild_only = True
    approve_menu.default_permissions = _MODERATOR
    return [main, info, approve_menu]
