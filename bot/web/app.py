"""The desk's ASGI app: sessions, static files, error pages, and the routers wired together."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Form
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from bot.settings import Settings
from bot.web.auth import CSRF_FIELD, CsrfFailed, LoginRequired, Throttle, check_csrf, logged_in
from bot.web.views import STATIC_DIR, error_page, render
from harvest.errors import (
    ConflictError,
    FanqaError,
    InputError,
    NotFound,
    PermissionDenied,
)
from storage.db import session_scope
from storage.models import Community, LoginLink, Member
from storage.repo.logins import LinkGone, TooManyLinks, peek_login_link, redeem_login_link

__all__ = ["SESSION_MAX_AGE_S", "create_app"]

log = logging.getLogger(__name__)

SESSION_MAX_AGE_S = 12 * 3600
FAILED_LOGINS = (20, 600.0)  # per client address: at most 20 bad links in 10 minutes


def create_app(engine: Engine, settings: Settings, *, secret: str) -> FastAPI:
    """The desk over ``engine``; ``secret`` signs the session cookies (never logged)."""
    from bot.web import answers, models, queue, runs, settings_page

    app = FastAPI(title="fanqa desk", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    app.state.settings = settings
    app.state.failed_logins = Throttle(*FAILED_LOGINS)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="fanqa_desk",
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=settings.desk_url.startswith("https://"),
    )
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    _errors(app)
    _auth_routes(app)
    for module in (queue, models, runs, answers, settings_page):
        app.include_router(module.router)
    return app


def _errors(app: FastAPI) -> None:
    pages: list[tuple[type[Exception], int, str]] = [
        (LoginRequired, 401, "Please log in · 请登录"),
        (CsrfFailed, 403, "This form has expired · 表单已过期"),
        (LinkGone, 410, "This link can no longer be used · 链接已失效"),
        (TooManyLinks, 429, "Too many login links · 请求过多"),
        (NotFound, 404, "Not found · 未找到"),
        (PermissionDenied, 403, "Not allowed · 无权限"),
        (ConflictError, 409, "Cannot do that now · 暂时无法执行"),
        (InputError, 422, "Please check your input · 请检查输入"),
        (FanqaError, 400, "Something is wrong · 出错了"),
    ]
    details = {
        LoginRequired: "Log in with the one-time link the bot sends you in private.",
        CsrfFailed: "The page was open too long or came from elsewhere. Nothing was changed; "
        "reload the page and try again.",
    }
    for exc_type, status, title in pages:

        def handler(
            request: Request, exc: Exception, status: int = status, title: str = title
        ) -> Response:
            detail = details.get(type(exc), str(exc) or title)
            if status in (403, 409, 422) and not isinstance(exc, CsrfFailed):
                detail += " Nothing was changed."
            return error_page(request, status, title, detail)

        app.add_exception_handler(exc_type, handler)

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return error_page(request, exc.status_code, "Not found · 未找到", str(exc.detail))

    def bad_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        wrong = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        detail = f"These fields are missing or malformed: {wrong}. Nothing was changed."
        return error_page(request, 422, "Please check your input · 请检查输入", detail)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_request)


def _auth_routes(app: FastAPI) -> None:
    @app.get("/healthz")
    def healthz(request: Request) -> JSONResponse:
        with session_scope(request.app.state.engine) as session:
            session.connection().exec_driver_sql("SELECT 1")
        return JSONResponse({"ok": True})

    @app.get("/")
    def home(request: Request) -> Response:
        with session_scope(request.app.state.engine) as session:
            desk = logged_in(request, session)
            if len(desk.grants) == 1:
                (cid,) = desk.grants
                return RedirectResponse(f"/c/{cid}/queue", status_code=303)
            return render(request, "home.html", desk=desk)

    def _link(
        request: Request,
        find: Callable[[Session, str], LoginLink],
        session: Session,
        token: str,
    ) -> LoginLink:
        """``find(session, token)``; an unknown link counts against the caller's address."""
        try:
            return find(session, token)
        except NotFound:
            client = request.client.host if request.client else "?"
            if not request.app.state.failed_logins.allow(client):
                raise TooManyLinks("too many invalid login links from your address") from None
            raise

    def _peek(request: Request, token: str) -> tuple[str, str]:
        """Who a still-usable link is for; refuses unknown, used or expired links."""
        with session_scope(request.app.state.engine) as session:
            link = _link(request, peek_login_link, session, token)
            member = session.get(Member, link.member_id)
            community = session.get(Community, link.community_id)
            assert member is not None and community is not None
            return member.display_name or member.external_id, community.name

    @app.get("/login/{token}")
    def login_page(request: Request, token: str) -> Response:
        """Show who the link logs in; only the button's POST uses it (link previews that
        fetch the URL do not burn it)."""
        member_name, community_name = _peek(request, token)
        return render(
            request,
            "login.html",
            token=token,
            member_name=member_name,
            community_name=community_name,
        )

    @app.post("/login/{token}")
    def login(request: Request, token: str, csrf: str = Form("", alias=CSRF_FIELD)) -> Response:
        check_csrf(request, csrf)
        with session_scope(request.app.state.engine) as session:
            link = _link(request, redeem_login_link, session, token)
            member = session.get(Member, link.member_id)
            assert member is not None
            if link.granted_by == "role" and member.role != "moderator":
                raise PermissionDenied("only moderators may use the review desk")
            grants = [g for g in request.session.get("grants", []) if g[1] != link.community_id]
            grants.append([link.member_id, link.community_id, link.granted_by])
            request.session["grants"] = grants
            log.info("desk login: member %s of community %s", link.member_id, link.community_id)
            return RedirectResponse(f"/c/{link.community_id}/queue", status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("", alias=CSRF_FIELD)) -> Response:
        check_csrf(request, csrf)
        request.session.clear()
        return error_page(request, 200, "Logged out · 已退出", "You are logged out.")
