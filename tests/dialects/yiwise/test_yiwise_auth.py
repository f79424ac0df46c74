"""§2.3: who may call, and what every refusal looks like (401 / 403 in the envelope, HTTP 200)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from client import YiwiseClient, yiwise_signature
from yiwise_setup import yiwise_account

from callbot.api.dialects.yiwise import YiwiseOptions
from callbot.credential import service as credential_service
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import Tenant
from callbot.models.enums import TenantStatus
from conftest import dialect_app


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
    snake = {"app_key": c.app_key, "tenant_sign": c.tenant_sign, **{k: headers[k] for k in ("version", "timestamp")}}
    snake["signature"] = headers["signature"]
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
    # The same timestamp twice is fine (concurrent clients collide).
    same = c.headers(now_ms)
    assert (await c.http.get("/v1/company/getCompanies", headers=same)).json()["code"] == 200
    assert (await c.http.get("/v1/company/getCompanies", headers=same)).json()["code"] == 200
    # 0 turns the check off.
    app = dialect_app(store, YiwiseOptions(timestamp_window_minutes=0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as other:
        old = c.headers(now_ms - 400 * 24 * 3600 * 1000)
        assert (await other.get("/v1/company/getCompanies", headers=old)).json()["code"] == 200


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
