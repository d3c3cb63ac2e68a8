"""Templates and the shared bits of every page: rendering, error pages, jump links."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from bot.web.auth import CSRF_FIELD, csrf_token

__all__ = [
    "STATIC_DIR",
    "error_page",
    "jump_link",
    "redirect_with_note",
    "render",
    "templates",
]

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))


def jump_link(platform: str, chat_external_id: str, message_external_id: str) -> str | None:
    """A link that opens the message in its chat (Telegram supergroups), or None."""
    if platform == "telegram" and chat_external_id.startswith("-100"):
        return f"https://t.me/c/{chat_external_id[4:]}/{message_external_id}"
    return None


templates.env.globals["jump_link"] = jump_link
templates.env.globals["CSRF_FIELD"] = CSRF_FIELD


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render template ``name`` with the CSRF token and the request in its context."""
    context.setdefault("grant", None)
    context.setdefault("desk", None)
    context["csrf"] = csrf_token(request)
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status_code: int, title: str, detail: str) -> HTMLResponse:
    """A clear page for a refused or failed request, with its HTTP status."""
    return render(request, "error.html", status_code, title=title, detail=detail)


def redirect_with_note(url: str, note: str) -> RedirectResponse:
    """A 303 to ``url`` that shows ``note`` there (a one-line flash)."""
    return RedirectResponse(f"{url}?{urlencode({'done': note})}", status_code=303)
