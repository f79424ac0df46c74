"""§2.3: who may call, and what every refusal looks like (401 / 403 in the envelope, HTTP 200)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from yiwise_client import YiwiseClient, yiwise_signature
from yiwise_setup import create_body, dialect_app, yiwise_account

from callbot.api.dialects.yiwise import YiwiseOptions
from callbot.credential import service as credential_service
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store, create_engine
from callbot.models import SeenSignature, Task, Tenant
from callbot.models.enums import TenantStatus


async def test_later_clients_send_neither_secret_nor_sign(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    account.client.send_secret = False
    body = await account.client.get("company/getCompanies")
    assert (body["code"], body["data"]["tenantId"]) == (200, account.tenant.id)


async def test_seed_and_snake_case_header_names(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    c = account.client
    headers = c.headers()
    renamed = {
        "APP_KEY": headers["appKey"],
        "APP_SECRET": headers["appSecret"],
        "COMPANY_SIGN": headers["tenantSign"],
        "VERSION": "v1",
        "TIMESTAMP": headers["timestamp"],
        "SIGNATURE": headers["signature"].upper(),  # hex case is ignored
    }
    body = (await yiwise_http.get("/apiOpen/v1/company/getCompanies", headers=renamed)).json()
    assert body["code"] == 200
    fresh = c.headers()  # the same signature on the same request again would be a replay
    snake = {"app_key": c.app_key, "tenant_sign": c.tenant_sign, **{k: fresh[k] for k in ("version", "timestamp")}}
    snake["signature"] = fresh["signature"]
    assert (await yiwise_http.get("/apiOpen/v1/company/getCompanies", headers=snake)).json()["code"] == 200


@pytest.mark.parametrize(
    "change",
    [
        {"appKey": None},
        {"timestamp": None},
        {"signature": None},
        {"version": None},
        {"version": "v2"},
        {"appKey": "NoSuchKey0000000"},
        {"appSecret": "x" * 32},
        {"tenantSign": "someoneelse"},
        {"signature": "0" * 64},
        {"timestamp": "yesterday"},
        {"timestamp": "9" * 5000},
    ],
    ids=lambda c: ",".join(f"{k}={str(v)[:12]}" for k, v in c.items()),
)
async def test_bad_credentials_are_401(
    yiwise_http: httpx.AsyncClient, store: Store, change: dict[str, str | None]
) -> None:
    account = await yiwise_account(store, yiwise_http)
    headers = account.client.headers()
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    response = await yiwise_http.get("/apiOpen/v1/company/getCompanies", headers=headers)
    body = response.json()
    assert response.status_code == 200
    assert (body["code"], body["data"], body["errorStackTrace"]) == (401, None, None)
    assert body["resultMsg"].startswith("校验数据错误")


async def test_a_signature_over_another_timestamp_is_401(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    headers = account.client.headers()
    headers["timestamp"] = str(int(headers["timestamp"]) + 1)
    assert (await yiwise_http.get("/v1/company/getCompanies", headers=headers)).json()["code"] == 401


async def test_timestamp_window(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    now_ms = int(store.clock.now().timestamp() * 1000)
    c = account.client
    assert (await c.http.get("/v1/company/getCompanies", headers=c.headers(now_ms - 14 * 60_000))).json()["code"] == 200
    assert (await c.http.get("/v1/company/getCompanies", headers=c.headers(now_ms + 16 * 60_000))).json()["code"] == 401
    # 0 turns the check off (and with it the replay guard, which keeps signatures only for the window).
    app = dialect_app(store, YiwiseOptions(timestamp_window_minutes=0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as other:
        old = c.headers(now_ms - 400 * 24 * 3600 * 1000)
        assert (await other.get("/v1/company/getCompanies", headers=old)).json()["code"] == 200
        assert (await other.get("/v1/company/getCompanies", headers=old)).json()["code"] == 200


async def test_a_signed_request_is_accepted_once(
    yiwise_http: httpx.AsyncClient, store: Store, clock: FrozenClock
) -> None:
    account = await yiwise_account(store, yiwise_http)
    signed = account.client.headers()
    assert (await yiwise_http.get("/apiOpen/v1/company/getCompanies", headers=signed)).json()["code"] == 200
    again = (await yiwise_http.get("/apiOpen/v1/company/getCompanies", headers=signed)).json()
    assert (again["code"], again["data"]) == (401, None)
    assert "already received" in again["resultMsg"]
    # A write replayed with its body is refused too, and creates nothing.
    create = create_body(account)
    write = account.client.headers()
    assert (await yiwise_http.post("/apiOpen/v1/task/createTask", json=create, headers=write)).json()["code"] == 200
    assert (await yiwise_http.post("/apiOpen/v1/task/createTask", json=create, headers=write)).json()["code"] == 401
    assert await _tasks(store, account.tenant) == 1
    # A request refused after authentication (here: an unknown task) was still received.
    missing = account.client.headers()
    for expected in (404, 401):
        answer = await yiwise_http.get("/v1/task/getTaskDetail", params={"robotCallJobId": 999}, headers=missing)
        assert answer.json()["code"] == expected


async def test_one_signature_on_several_requests_only_in_one_burst(
    yiwise_http: httpx.AsyncClient, store: Store, clock: FrozenClock
) -> None:
    """The 2022 demo signs once and sends its few requests with those headers at once: accepted. Captured
    headers sent on another path or body later are not."""
    account = await yiwise_account(store, yiwise_http)
    signed = account.client.headers()
    assert (await yiwise_http.get("/apiOpen/v1/tenant/getTenant", headers=signed)).json()["code"] == 200
    clock.advance(seconds=59)
    assert (await yiwise_http.get("/apiOpen/v1/job/getJobs", headers=signed)).json()["code"] == 200
    clock.advance(seconds=2)
    late = (await yiwise_http.get("/apiOpen/v1/task/getTasks", params={"pageSize": 5}, headers=signed)).json()
    assert late["code"] == 401 and "first used 61 s ago" in late["resultMsg"]
    moved = await yiwise_http.post("/apiOpen/v1/task/delete", json={"robotCallJobId": 1}, headers=signed)
    assert moved.json()["code"] == 401


async def test_seen_signatures_are_pruned_once_stale(
    yiwise_http: httpx.AsyncClient, store: Store, clock: FrozenClock
) -> None:
    account = await yiwise_account(store, yiwise_http)
    for _ in range(5):
        assert (await account.client.get("company/getCompanies"))["code"] == 200
    assert await _seen(store) == 5
    clock.advance(minutes=16)
    assert (await account.client.get("company/getCompanies"))["code"] == 200
    assert await _seen(store) == 1


async def test_a_replay_is_refused_by_another_api_process(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    """Two API processes on one database: the same signed request sent to both at once is accepted once."""
    account = await yiwise_account(store, yiwise_http)
    other_store = Store(
        create_engine(store.engine.url.render_as_string(hide_password=False)), store.clock, store.secrets
    )
    try:
        transport = httpx.ASGITransport(app=dialect_app(other_store, YiwiseOptions()))
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as other:
            for _ in range(3):
                signed = account.client.headers()
                answers = await asyncio.gather(
                    yiwise_http.get("/apiOpen/v1/company/getCompanies", headers=signed),
                    other.get("/apiOpen/v1/company/getCompanies", headers=signed),
                )
                assert sorted(a.json()["code"] for a in answers) == [200, 401]
    finally:
        await other_store.dispose()


async def _seen(store: Store) -> int:
    async with store.transaction() as tx:
        return int(await tx.session.scalar(select(func.count()).select_from(SeenSignature)) or 0)


async def _tasks(store: Store, tenant: Tenant) -> int:
    async with store.transaction() as tx:
        query = select(func.count()).select_from(Task).where(Task.tenant_id == tenant.id)
        return int(await tx.session.scalar(query) or 0)


async def test_disabled_credential_and_suspended_tenant_are_403(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    async with store.transaction() as tx:
        await credential_service.set_enabled(tx, account.tenant, account.credential_id, False)
    body = await account.client.get("company/getCompanies")
    assert (body["code"], body["resultMsg"][:4]) == (403, "权限不足")
    async with store.transaction() as tx:
        await credential_service.set_enabled(tx, account.tenant, account.credential_id, True)
        tenant = await tx.session.get(Tenant, account.tenant.id)
        assert tenant is not None
        tenant.status = TenantStatus.SUSPENDED
    assert (await account.client.get("company/getCompanies"))["code"] == 403


async def test_mirrored_http_status(store: Store) -> None:
    app = dialect_app(store, YiwiseOptions(mirror_http_status=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        account = await yiwise_account(store, http)
        ok = await account.client.get_raw("company/getCompanies")
        assert ok.status_code == 200
        bad = YiwiseClient(http, account.client.app_key, "y" * 32, account.client.tenant_sign, now_ms=_now(store))
        refused = await bad.get_raw("company/getCompanies")
        assert (refused.status_code, refused.json()["code"]) == (401, 401)
        missing = await account.client.get_raw("task/getTaskDetail", robotCallJobId=999)
        assert (missing.status_code, missing.json()["code"]) == (404, 404)


def _now(store: Store):  # type: ignore[no-untyped-def]
    return lambda: int(store.clock.now().timestamp() * 1000)


def test_client_signature_is_lowercase_hex() -> None:
    value = yiwise_signature("k", "s", "t", "v1", "1")
    assert len(value) == 64 and value == value.lower()


async def test_clock_is_the_injected_one(store: Store, yiwise_http: httpx.AsyncClient) -> None:
    account = await yiwise_account(store, yiwise_http)
    assert isinstance(store.clock, FrozenClock)
    headers = account.client.headers()
    store.clock.advance(timedelta(minutes=20).total_seconds())
    assert (await yiwise_http.get("/v1/company/getCompanies", headers=headers)).json()["code"] == 401
