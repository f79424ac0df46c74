"""Fixtures of the Digelao dialect tests: the app with the dialect mounted, and a tenant with a digelao key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from callbot.api.dialects.digelao import DigelaoOptions
from callbot.api.dialects.digelao.routes import build_router
from callbot.app import create_app
from callbot.credential import service as credential_service
from callbot.kit.db import Store
from callbot.models import Tenant, User
from callbot.models.enums import CredentialKind, Role
from callbot.tenant import service as tenant_service

from factories import Account, make_account

OPTIONS = DigelaoOptions(public_url="https://ai.example.com", recording_key="test-recording-key")


@pytest.fixture
async def dclient(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store)
    # Ahead of any default mount in create_app, so these options (recording links) apply.
    app.router.routes[0:0] = build_router(OPTIONS).routes
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://callbot.test") as http:
        yield http


@dataclass
class DigelaoAccount:
    account: Account
    main: User
    sub: User
    access_id: str
    secret: str

    @property
    def tenant(self) -> Tenant:
        return self.account.tenant


async def make_digelao(store: Store, name: str = "杭州电销一组", *, user: str | None = None) -> DigelaoAccount:
    account = await make_account(store, name)
    prefix = "hz" if user is None else user
    async with store.transaction() as tx:
        main = await tenant_service.create_user(tx, account.tenant, f"{prefix}sales", "password-1", Role.ADMIN)
        sub = await tenant_service.create_user(tx, account.tenant, f"{prefix}sales01", "password-1", Role.OPERATOR)
        sub.display_name = "李娜"
        sub.max_seats = 5
        issued = await credential_service.create_credential(tx, account.tenant, CredentialKind.DIGELAO)
    return DigelaoAccount(account, main, sub, issued.secrets["api_access_id"], issued.secrets["api_access_secret"])
