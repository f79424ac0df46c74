"""The Digelao OpenAPI document tells the truth: real answers validate against the schemas it is built from,
and a request written to them is accepted."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select

from callbot.api.dialects.digelao import schemas as s
from callbot.kit.db import Store
from callbot.models import CallRecord, Customer
from callbot.models.enums import CallResult, Level
from dialects.digelao.client import DigelaoClient
from dialects.digelao.conftest import make_digelao


async def test_answers_match_the_documented_schemas(dclient: httpx.AsyncClient, store: Store) -> None:
    d = await make_digelao(store)
    crm = DigelaoClient(dclient, d.access_id, d.secret)
    login = s.Answer[s.LoginData].model_validate(await crm.login("2026-11-20 10:00:00"))
    assert login.code == 0 and login.data is not None
    templates = s.Answer[list[s.Template]].model_validate(await crm.call("templatelist"))
    assert templates.data
    order = s.AddJsonOfAsync.model_construct(
        source="文档任务",
        project_sn=templates.data[0].sn,
        client_info_json=json.dumps({"data": [{"电话": "13900001234", "姓名": "王先生", "amount": "300"}]}),
    )
    params = order.model_dump(by_alias=True, exclude_unset=True)
    created = s.Answer[s.TaskCreated].model_validate(await crm.call("addJsonOfAsync", params))
    assert created.code == 0 and created.data is not None
    tasks = s.Answer[s.Listing[s.TaskItem]].model_validate(await crm.call("index"))
    assert tasks.data is not None and tasks.data.total == 1
    async with store.transaction() as tx:
        customer = await tx.session.scalar(select(Customer).where(Customer.task_id == created.data.dial_task_main_id))
        assert customer is not None
        tx.session.add(
            CallRecord(
                tenant_id=customer.tenant_id,
                task_id=customer.task_id,
                customer_id=customer.id,
                sn="0" * 31 + "1",
                phone=customer.phone,
                result=CallResult.ANSWERED,
                level=Level.B,
                started_at=tx.now(),
                transcript=[{"speaker": "ROBOT", "text": "您好"}, {"speaker": "PERSON", "text": "你好"}],
                created_at=tx.now(),
            )
        )
    records = s.Answer[s.Listing[s.RecordItem]].model_validate(await crm.call("crmList"))
    assert records.data is not None and records.data.list[0].dialogue[1].role == "customer"
    paused = await crm.call(
        "operateTask", {"project_type": 2, "pkeys": str(created.data.dial_task_main_id), "oper": "stop"}
    )
    assert s.Answer[None].model_validate(paused).code == 0
    missing = s.Answer[None].model_validate(await crm.call("getAsyncTaskResult", {"dial_task_main_id": 999_999}))
    assert missing.code == 30002 and missing.data is None
