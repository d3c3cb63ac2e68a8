"""The moderators' review desk: a server-rendered web app (FastAPI + Jinja2 + htmx).

Moderators log in by a one-time link (``/desk`` in a chat, ``fanqa web login-link``); every
action calls the same core and repository functions as the chat commands and the CLI.
"""

from bot.web.app import create_app

__all__ = ["create_app"]
