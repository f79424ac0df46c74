"""Updates through the native API: users, customers before they are called, a call's manual grade."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from callbot.kit.db import Store
from callbot.models import Customer
from callbot.models.enums import CustomerStatus

from factories import api_task, make_account


async def test_users_change_role_password_and_access(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    created = (
        await client.post("/api/v1/users", json={"username": "lisi", "password": "12345678"}, headers=account.headers)
    ).json()
    path = f"/api/v1/users/{created['id']}"
    changed = await client.patch(path, json={"role": "admin", "enabled": False}, headers=account.headers)
    assert (changed.json()["role"], changed.json()["enabled"]) == ("admin", False)
    short = await client.patch(path, json={"password": "short"}, headers=account.headers)
    assert short.status_code == 422 and short.json()["error"]["details"][0]["field"] == "password"
    assert (await client.get(path, headers=account.headers)).json()["username"] == "lisi"
    other = await make_account(store, "乙公司")
    assert (await client.get(path, headers=other.headers)).status_code == 404


async def test_customers_change_only_while_waiting(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    task = await api_task(client, account)
    body = {"customers": [{"name": "王先生", "phone": "13900001234", "properties": {"amount": "1"}}]}
    await client.post(f"/api/v1/tasks/{task['id']}/customers", json=body, headers=account.headers)
    customer = (await client.get(f"/api/v1/tasks/{task['id']}/customers", headers=account.headers)).json()["items"][0]
    path = f"/api/v1/customers/{customer['id']}"
    fixed = await client.patch(path, json={"name": "王总", "properties": {"amount": "3200"}}, headers=account.headers)
    assert (fixed.json()["name"], fixed.json()["properties"]) == ("王总", {"amount": "3200"})
    async with store.transaction() as tx:
        await tx.session.execute(update(Customer).values(status=CustomerStatus.FINISHED))
    late = await client.patch(path, json={"name": "王总"}, headers=account.headers)
    assert late.status_code == 409 and late.json()["error"]["state"] == "FINISHED"
