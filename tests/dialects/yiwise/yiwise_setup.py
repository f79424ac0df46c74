"""The Yiwise dialect mounted on an app of its own, and a tenant set up through the services with a Yiwise
credential and a client signed with it."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from yiwise_client import YiwiseClient

from callbot.api.dialects.yiwise import YiwiseOptions, mount_yiwise
from callbot.credential import service as credential_service
from callbot.kit.db import Store
from callbot.models import Line, Tenant
from callbot.models.enums import CredentialKind

from factories import make_account

# The options the tests mount the dialect with: a fixed recording token, so recording links are known.
OPTIONS = YiwiseOptions(public_url="https://callbot.example.com", recording_token=lambda _id, _channel: "9c1e7a")


def dialect_app(store: Store, options: YiwiseOptions) -> FastAPI:
    app = FastAPI()
    app.state.store = store
    mount_yiwise(app, options)
    return app


@dataclass
class YiwiseAccount:
    tenant: Tenant
    line: Line
    script_id: int
    credential_id: int
    client: YiwiseClient


async def yiwise_account(store: Store, http: httpx.AsyncClient, name: str = "杭州测试公司") -> YiwiseAccount:
    account = await make_account(store, name)
    async with store.transaction() as tx:
        issued = await credential_service.create_credential(tx, account.tenant, CredentialKind.YIWISE)
    secrets = issued.secrets
    client = YiwiseClient(
        http,
        secrets["appKey"],
        secrets["appSecret"],
        secrets["tenantSign"],
        now_ms=lambda: int(store.clock.now().timestamp() * 1000),
    )
    return YiwiseAccount(account.tenant, account.line, account.script_id, issued.credential.id, client)


def create_body(account: YiwiseAccount, **job: object) -> dict[str, object]:
    """A createTask body in the seed's form, valid for `account`."""
    return {
        "jobPhoneNumberList": [{"key": account.line.id, "value": account.line.phone}],
        "robotCallJob": {
            "name": "API任务",
            "mode": "MANUAL",
            "dailyStartTime": "09:00",
            "dailyEndTime": "20:00",
            "dialogFlowId": account.script_id,
            "phoneType": "UNFIXED_CALL",
            "robotCount": 2,
            "tenantId": 1,
            **job,
        },
    }
