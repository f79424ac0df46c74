"""Input the native API must answer sensibly rather than fail on: times without an offset, ids beyond
what the store keeps."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import insert

from callbot.kit.db import Store
from callbot.models import CallRecord, Customer
from callbot.models.enums import CallResult, CustomerStatus

from factories import api_task, make_account

TOO_BIG = [str(2**31), "99999999999999999999"]


async def test_a_time_without_an_offset_is_the_tenants_wall_clock(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    task = await api_task(client, account)
    async with store.transaction() as tx:
        now = tx.now()  # 2026-11-20 10:00 in Shanghai, the tenant's zone
        customer = {
            "tenant_id": account.tenant.id, "task_id": task["id"], "name": "王先生", "phone": "13900000001",
            "properties": {}, "carrier": "", "region": "", "status": CustomerStatus.FINISHED, "attempts": 1,
            "created_at": now,
        }  # fmt: skip
        customer_id = (await tx.session.execute(insert(Customer).returning(Customer.id), [customer])).scalar_one()
        await tx.session.execute(
            insert(CallRecord),
            [{"tenant_id": account.tenant.id, "task_id": task["id"], "customer_id": customer_id, "sn": "a" * 32,
              "phone": "13900000001", "result": CallResult.BUSY, "started_at": now, "created_at": now}],
        )  # fmt: skip

    async def total(**params: str) -> int:
        response = await client.get("/api/v1/records", params=params, headers=account.headers)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert await total(**{"from": "2026-11-20T09:59:00"}) == 1
    assert await total(**{"from": "2026-11-20T10:01:00"}) == 0
    assert await total(to="2026-11-20T10:01:00") == 1
    assert await total(to="2026-11-20T09:59:00") == 0
    assert await total(**{"from": "2026-11-20T01:59:00Z"}) == 1  # an offset is taken as given


@pytest.mark.parametrize("big", TOO_BIG)
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tasks/{}",
        "/api/v1/tasks/{}/customers",
        "/api/v1/tasks/{}/stats",
        "/api/v1/customers/{}",
        "/api/v1/records/{}",
        "/api/v1/records?task_id={}",
        "/api/v1/records?script_id={}",
        "/api/v1/imports/{}",
        "/api/v1/lines/{}",
        "/api/v1/scripts/{}",
        "/api/v1/scripts/1/versions/{}",
        "/api/v1/callback-events/{}",
        "/api/v1/users/{}",
    ],
)
async def test_an_id_beyond_the_store_is_refused(client: httpx.AsyncClient, store: Store, path: str, big: str) -> None:
    account = await make_account(store)
    response = await client.get(path.format(big), headers=account.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]


async def test_an_action_on_an_id_beyond_the_store_is_refused(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    for method, path in [
        ("POST", "/api/v1/tasks/{}/start"),
        ("PATCH", "/api/v1/tasks/{}"),
        ("DELETE", "/api/v1/tasks/{}"),
    ]:
        response = await client.request(method, path.format(2**31), json={}, headers=account.headers)
        assert response.status_code == 422, (method, path, response.text)
