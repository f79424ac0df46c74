"""Console fixtures: the real app over a real store, a signed-in browser-like client per role."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from callbot.app import create_app
from callbot.kit.db import Store
from callbot.models.enums import Role
from callbot.tenant import service as tenant_service

from factories import Account, make_account

PASSWORD = "s3cret-pass"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


class ConsoleClient(httpx.AsyncClient):
    """An httpx client that keeps the session cookie and knows its CSRF token, as a browser tab would."""

    csrf: str = ""

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = await self.post("/login", data={"username": username, "password": password, "next": "/"})
        if response.status_code == 303:
            page = await self.get("/")
            self.csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        return response

    async def submit(self, url: str, data: dict[str, object] | None = None, **kwargs: object) -> httpx.Response:
        """A form post with this session's CSRF token."""
        return await self.post(url, data={"csrf": self.csrf, **(data or {})}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def recordings_dir(tmp_path: Path) -> Path:
    path = tmp_path / "recordings"
    path.mkdir()
    return path


@pytest.fixture
async def account(store: Store) -> Account:
    return await make_account(store)


Login = Callable[..., Awaitable[ConsoleClient]]


@pytest.fixture
async def login(store: Store, account: Account, recordings_dir: Path) -> AsyncIterator[Login]:
    """login(role) -> a client signed in as a new user of that role in the account's tenant."""
    app = create_app(store, recordings_dir=recordings_dir)
    clients: list[ConsoleClient] = []

    async def sign_in(role: Role = Role.ADMIN, *, tenant_account: Account | None = None) -> ConsoleClient:
        tenant = (tenant_account or account).tenant
        username = f"{role.value}{len(clients)}"
        async with store.transaction() as tx:
            await tenant_service.create_user(tx, tenant, username, PASSWORD, role)
        client = ConsoleClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test")
        clients.append(client)
        response = await client.sign_in(username)
        assert response.status_code == 303, response.text
        return client

    yield sign_in
    for client in clients:
        await client.aclose()


@pytest.fixture
async def anonymous(store: Store, recordings_dir: Path) -> AsyncIterator[ConsoleClient]:
    app = create_app(store, recordings_dir=recordings_dir)
    async with ConsoleClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test") as client:
        yield client
