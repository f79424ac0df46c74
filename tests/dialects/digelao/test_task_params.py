"""Task parameters of the Digelao API read the way the vendor means them, and bad values answer 30001."""

from __future__ import annotations

import json

import httpx

from callbot.kit.db import Store
from callbot.task import service as task_service
from dialects.digelao.client import DigelaoClient
from dialects.digelao.conftest import make_digelao

NOW = "2026-11-20 10:00:00"


async def logged_in(dclient: httpx.AsyncClient, store: Store) -> tuple[DigelaoClient, object]:
    d = await make_digelao(store)
    crm = DigelaoClient(dclient, d.access_id, d.secret)
    assert (await crm.login(NOW))["code"] == 0
    return crm, d


async def add_task(crm: DigelaoClient, **params: object) -> dict[str, object]:
    project = (await crm.call("templatelist"))["data"][0]["sn"]
    rows = [{"电话": "13900001234", "姓名": "王先生", "amount": "300"}]
    return await crm.call(
        "addJsonOfAsync",
        {"source": "时段测试", "project_sn": project, "client_info_json": json.dumps({"data": rows}), **params},
    )


async def test_a_period_inside_a_longer_one_leaves_no_gap(dclient: httpx.AsyncClient, store: Store) -> None:
    crm, d = await logged_in(dclient, store)
    periods = [("09:00:00", "18:00:00"), ("10:00:00", "11:00:00"), ("12:00:00", "13:00:00"), ("19:00:00", "20:00:00")]
    created = await add_task(crm, periods=json.dumps([{"start_at": a, "end_at": b} for a, b in periods]))
    assert created["code"] == 0, created
    async with store.transaction() as tx:
        task = await task_service.get_task(tx, d.tenant, created["data"]["dial_task_main_id"])  # type: ignore[attr-defined,index]
    assert (task.daily_start.isoformat(), task.daily_end.isoformat()) == ("09:00:00", "20:00:00")
    assert task.inactive_windows == [["18:00:00", "19:00:00"]]


async def test_numbers_beyond_32_bits_and_odd_digits_are_bad_parameters(
    dclient: httpx.AsyncClient, store: Store
) -> None:
    crm, _ = await logged_in(dclient, store)
    for big in ["2147483648", "99999999999999999999"]:
        result = await crm.call("getAsyncTaskResult", {"dial_task_main_id": big})
        assert result["code"] == 30001, result
        operated = await crm.call("operateTask", {"project_type": 2, "pkeys": big, "oper": "stop"})
        assert operated["code"] == 30001, operated
        created = await add_task(crm, ai_count=big)
        assert created["code"] == 30001, created
    superscript = await crm.call("operateTask", {"project_type": 2, "pkeys": "²", "oper": "stop"})
    assert superscript["code"] == 30001, superscript
    missing = await crm.call("operateTask", {"project_type": 2, "pkeys": "2147483647", "oper": "stop"})
    assert missing["code"] == 30002, missing
