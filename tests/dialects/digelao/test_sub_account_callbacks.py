"""§4.1: a sub-account's own `setCallback` receives the per-call pushes of its tasks, in the Digelao shape,
even when the main account's settings (the tenant's) are native and have no URL."""

from __future__ import annotations

import json

import httpx
from campaign_helpers import sim_dialer

from callbot.callback import service as callback_service
from callbot.callback.delivery import Deliverer
from callbot.callback.receiver import CallbackReceiver
from callbot.credential import service as credential_service
from callbot.kit.db import Store
from callbot.models.enums import CredentialKind
from callbot.runtime import build_renderers
from dialects.digelao.client import DigelaoClient
from dialects.digelao.conftest import make_digelao

NOW = "2026-11-20 10:00:00"


async def test_a_sub_accounts_calls_are_pushed_to_its_own_callback_url(
    dclient: httpx.AsyncClient, store: Store
) -> None:
    d = await make_digelao(store)
    async with store.transaction() as tx:
        issued = await credential_service.create_credential(tx, d.tenant, CredentialKind.DIGELAO, user=d.sub)
        # The main account's settings exist (read once, e.g. by its login) and stay native, without a URL.
        await callback_service.get_settings(tx, d.tenant)
    sub = DigelaoClient(dclient, issued.secrets["api_access_id"], issued.secrets["api_access_secret"])
    login = await sub.login(NOW)
    assert login["code"] == 0 and login["data"]["user_name"] == "hzsales01"

    receiver = CallbackReceiver()
    await receiver.start()
    try:
        assert await sub.call("setCallback", {"open_callback": 1, "callback_url": receiver.url}) == {
            "code": 0,
            "msg": "SUCCESS",
        }
        project = (await sub.call("templatelist"))["data"][0]["sn"]
        rows = [{"电话": "13900001234", "姓名": "王先生", "amount": "300", "sim_result": "BUSY"}]
        created = await sub.call(
            "addJsonOfAsync",
            {"source": "子账号任务", "project_sn": project, "client_info_json": json.dumps({"data": rows})},
        )
        assert created["code"] == 0, created

        await sim_dialer(store).run_until_idle()
        async with Deliverer(store, build_renderers()) as deliverer:
            while await deliverer.deliver_due():
                pass
    finally:
        await receiver.stop()

    listed = await sub.call("crmList", {"pageIndex": 0, "pageSize": 20})
    assert listed["data"]["total"] == 1
    pushed = receiver.received.json()
    assert pushed == listed["data"]["list"]
    assert (pushed[0]["phone"], pushed[0]["user_name"], pushed[0]["source"]) == (
        "13900001234",
        "hzsales01",
        "子账号任务",
    )
    async with store.transaction() as tx:
        tenant_settings = await callback_service.get_settings(tx, d.tenant)
        assert (tenant_settings.dialect, tenant_settings.url) == ("native", "")
