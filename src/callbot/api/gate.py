"""The native API's front door: a request under /api/v1 is authenticated before anything reads its body, so
an unauthenticated client cannot make the server parse (or choke on) what it sends.

The endpoint's own `CurrentTenant` dependency authenticates again inside the request's transaction, so
the tenant it gets belongs to that transaction; the extra lookup is one indexed read."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from callbot.api.errors import render_callbot_error
from callbot.credential import service as credential_service
from callbot.errors import CallbotError, Unauthorized
from callbot.kit.db import Store

PREFIX = "/api/v1/"
OPEN_PATHS = frozenset({"/api/v1/health"})


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an Authorization: Bearer <token> header")
    return token.strip()


class AuthenticateFirst:
    """ASGI middleware: refuses a native API request without a valid bearer token (401) before its body is
    read. Other paths (the dialects, the docs) pass through untouched: they authenticate their own way."""

    def __init__(self, app: ASGIApp, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(PREFIX) or path.rstrip("/") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            token = bearer_token(HTTPConnection(scope).headers.get("authorization"))
            async with self.store.transaction() as tx:
                await credential_service.authenticate_token(tx, token)
        except CallbotError as exc:
            await render_callbot_error(exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)
