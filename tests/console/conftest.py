"""Console fixtures: the real app over a real store, a signed-in browser-like client per role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from callbot.app import create_app
from callbot.kit.db import Store
from callbot.models.enums import Role
from callbot.tenant import service as tenant_service

from console_client import PASSWORD, ConsoleClient, Login
from factories import Account, make_account


@pytest.fixture
def recordings_dir(tmp_path: Path) -> Path:
    path = tmp_path / "recordings"
    path.mkdir()
    return path


@pytest.fixture
async def account(store: Store) -> Account:
    return await make_account(store)


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
