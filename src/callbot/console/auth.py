"""Sign-in (登录) and sign-out: a console user's password gives a session cookie; failures lock the user."""

from __future__ import annotations

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


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_safe_next(next), username="", error="")


@router.post("/login")
async def login(
    request: Request,
    tx: WriteTx,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    try:
        user = await tenant_service.sign_in(tx, username, password)
    except (Unauthorized, Forbidden) as exc:
        # Returned, not raised: the failure count must be committed with this request.
        message = (
            "用户名或密码错误"
            if isinstance(exc, Unauthorized)
            else "登录失败次数过多，账号已临时锁定，请 15 分钟后再试"
        )
        return render(request, "login.html", status_code=401, next=_safe_next(next), username=username, error=message)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        state(request).signer.issue(user.id, tx.now()),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(ctx: Viewer) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
