"""Sign-in (登录) and sign-out: a console user's password gives a session cookie; failures lock the user."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from callbot.api.deps import get_tx
from callbot.console.session import COOKIE, MAX_AGE_SECONDS
from callbot.console.web import ConsoleRoute, Viewer, render, state
from callbot.errors import Forbidden, Unauthorized
from callbot.kit.db import Tx
from callbot.tenant import service as tenant_service

router = APIRouter(route_class=ConsoleRoute)
WriteTx = Annotated[Tx, Depends(get_tx, scope="function")]


def _safe_next(target: str) -> str:
    """Only a path on this site: an open redirect would make the sign-in page a phishing tool."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


# The sign-in form carries a token that must match a cookie set with the form (double submit), so another
# site cannot sign a visitor in to an account of its choosing (login CSRF).
LOGIN_COOKIE = "callbot_login"


def _login_form(request: Request, *, status_code: int = 200, next: str, username: str, error: str) -> Response:
    token = secrets.token_hex(16)
    response = render(
        request, "login.html", status_code=status_code, next=next, username=username, error=error, login_csrf=token
    )
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/login"
    )
    return response


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    return _login_form(request, next=_safe_next(next), username="", error="")


@router.post("/login")
async def login(
    request: Request,
    tx: WriteTx,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "/",
    login_csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, login_csrf):
        error = "登录页面已过期，请重新登录"
        return _login_form(request, status_code=403, next=_safe_next(next), username=username, error=error)
    try:
        user = await tenant_service.sign_in(tx, username, password)
    except (Unauthorized, Forbidden) as exc:
        # Returned, not raised: the failure count must be committed with this request.
        message = (
            "用户名或密码错误"
            if isinstance(exc, Unauthorized)
            else "登录失败次数过多，账号已临时锁定，请 15 分钟后再试"
        )
        return _login_form(request, status_code=401, next=_safe_next(next), username=username, error=message)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    response.set_cookie(
        COOKIE,
        state(request).signer.issue(user.id, user.session_epoch, tx.now()),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(ctx: Viewer) -> Response:
    await tenant_service.sign_out(ctx.tx, ctx.user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
