"""What every console page shares: the signed-in user, role checks, CSRF checks, templates and the way a
domain error is shown (an error page, or a toast for an htmx request)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from callbot.api.deps import get_tx
from callbot.console.session import COOKIE, ConsoleSession, SessionSigner
from callbot.errors import CallbotError, Conflict, Forbidden, NotFound, QuotaExceeded, Unauthorized, ValidationFailed
from callbot.kit.db import Store, Tx
from callbot.models import Tenant, User
from callbot.models.enums import RESULT_LABELS, Role
from callbot.tenant import service as tenant_service

HERE = Path(__file__).parent
ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
ROLE_LABELS = {Role.ADMIN: "管理员", Role.OPERATOR: "运营", Role.VIEWER: "只读"}
STATUS_LABELS = {
    "NOT_STARTED": "未开始",
    "IN_PROCESS": "进行中",
    "COMPLETED": "已完成",
    "RUNNABLE": "可运行",
    "USER_PAUSE": "已暂停",
    "SYSTEM_SUSPENDED": "系统挂起",
    "TERMINATE": "已终止",
    "IN_QUEUE": "排队中",
}


@dataclass
class ConsoleState:
    """The console's share of the app: the store, the session key, where recordings live, running imports."""

    store: Store
    signer: SessionSigner
    recordings_dir: Path
    jobs: set[asyncio.Task[None]] = field(default_factory=set)
    import_progress: dict[int, float] = field(default_factory=dict)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # everything a user typed is escaped; |safe is never applied to user text
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(status_labels=STATUS_LABELS, result_labels=RESULT_LABELS, role_labels=ROLE_LABELS)
    env.filters["dt"] = lambda value: "" if value is None else _local(value).strftime("%Y-%m-%d %H:%M:%S")
    return env


def _local(value: datetime) -> datetime:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Asia/Shanghai"))


TEMPLATES = _env()


def state(request: Request) -> ConsoleState:
    console: ConsoleState = request.app.state.console
    return console


class SignInRequired(Exception):
    """No valid session: the browser goes to the sign-in page."""


class RolledBack(Exception):
    """Answer with `response`, but roll the request's transaction back (a form refused half-way through)."""

    def __init__(self, response: Response) -> None:
        super().__init__("rolled back")
        self.response = response


class CsrfRefused(Exception):
    """A state-changing request without the token of its session."""


@dataclass
class Ctx:
    """One console request: its transaction, who is signed in and for which tenant."""

    request: Request
    tx: Tx
    user: User
    tenant: Tenant
    session: ConsoleSession
    csrf: str

    def can(self, role: Role) -> bool:
        return ROLE_RANK[self.user.role] >= ROLE_RANK[role]

    def page(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        return render(self.request, template, status_code=status_code, ctx=self, **values)


def render(request: Request, template: str, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(path=request.url.path, **values)
    return HTMLResponse(html, status_code=status_code)


MAX_BODY_BYTES = 21 * 1024 * 1024  # the largest upload (20 MB) and its form around it


def _check_length(request: Request) -> None:
    """A body is refused unread when it is larger than any console form (uploads included) or has no length
    (browsers send forms with one)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        raise ValidationFailed("请求太大或缺少长度", [("body", f"最大 {MAX_BODY_BYTES // (1024 * 1024)} MB")])


async def _form_token(request: Request) -> str | None:
    token = request.headers.get("x-csrf-token")
    if token:
        return token
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get("csrf")
        return value if isinstance(value, str) else None
    return None


def _require(role: Role) -> Callable[..., Awaitable[Ctx]]:
    async def dependency(request: Request, tx: Annotated[Tx, Depends(get_tx, scope="function")]) -> Ctx:
        console = state(request)
        session = console.signer.read(request.cookies.get(COOKIE), tx.now())
        if session is None:
            raise SignInRequired()
        try:
            user = await tenant_service.get_signed_in_user(tx, session.user_id, session.epoch)
        except NotFound as exc:
            raise SignInRequired() from exc
        if request.method not in ("GET", "HEAD") and not console.signer.check_csrf(session, await _form_token(request)):
            raise CsrfRefused()
        ctx = Ctx(request, tx, user, await tenant_service.get_tenant(tx, user.tenant_id), session, "")
        ctx.csrf = console.signer.csrf_token(session)
        if not ctx.can(role):
            raise Forbidden(f"需要「{ROLE_LABELS[role]}」或更高的角色")
        return ctx

    return dependency


Viewer = Annotated[Ctx, Depends(_require(Role.VIEWER))]
Operator = Annotated[Ctx, Depends(_require(Role.OPERATOR))]
Admin = Annotated[Ctx, Depends(_require(Role.ADMIN))]

_STATUS: list[tuple[type[CallbotError], int]] = [
    (NotFound, 404),
    (Forbidden, 403),
    (Unauthorized, 401),
    (ValidationFailed, 422),
    (QuotaExceeded, 422),
]


def error_status(exc: CallbotError) -> int:
    for kind, code in _STATUS:
        if isinstance(exc, kind):
            return code
    return 409 if isinstance(exc, Conflict) else 400


def _problem_lines(exc: CallbotError) -> list[str]:
    if isinstance(exc, ValidationFailed):
        return [f"{where}: {message}" for where, message in exc.problems]
    return []


def show_error(request: Request, status_code: int, message: str, problems: list[str] | None = None) -> Response:
    """An htmx request gets a toast (swapped into #toast, whatever its own target); a page gets an error page."""
    if request.headers.get("hx-request"):
        response = render(request, "_toast.html", status_code=status_code, message=message, problems=problems or [])
        response.headers["HX-Retarget"] = "#toast"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "error.html", status_code=status_code, message=message, problems=problems or [])


class ConsoleRoute(APIRoute):
    """Renders the console's errors as HTML: sign-in redirects, CSRF refusals, domain errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                if request.method not in ("GET", "HEAD"):
                    _check_length(request)  # before anything reads the body, the sign-in form's included
                return await handler(request)
            except RolledBack as exc:
                return exc.response
            except SignInRequired:
                target = "/login?next=" + quote(request.url.path)
                if request.headers.get("hx-request"):
                    return Response(status_code=401, headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            except CsrfRefused:
                return show_error(request, 403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")
            except RequestValidationError as exc:
                problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
                in_path = any(e["loc"] and e["loc"][0] == "path" for e in exc.errors())  # /tasks/abc names no task
                return show_error(request, 404 if in_path else 422, "请求参数不正确", problems)
            except CallbotError as exc:
                return show_error(request, error_status(exc), exc.message, _problem_lines(exc))

        return route
