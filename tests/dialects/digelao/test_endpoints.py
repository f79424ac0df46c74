"""One request and response per endpoint, in the spec's shapes, driven end to end by the spec-only client
as a Digelao customer would write it; then the push bodies built from the same rows."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from sqlalchemy import insert, select

from callbot.api.dialects.digelao import callbacks
from callbot.api.dialects.digelao.mapping import record_item
from callbot.callback import service as callback_service
from callbot.customer import service as customer_service
from callbot.kit.db import Store
from callbot.models import CallRecord, Customer, OutboxEvent
from callbot.models.enums import CallResult, CustomerStatus, Level
from dialects.digelao.client import DigelaoClient
from dialects.digelao.conftest import OPTIONS, make_digelao

NOW = "2026-11-20 10:00:00"

RECORD_KEYS = [
    "sn", "phone", "created_at", "started_at", "talktimes", "status", "status_manual", "source", "user_name",
    "parent_sn", "team_name", "operator", "mark", "fs_push_screens", "pushed_at", "listened_at",
    "intervention_at", "dial_task_main_id", "dial_task_main_sn", "project_sn", "project_caption", "name",
    "client_info", "ended_at", "turn_count", "area_code", "call_result", "intent_reason", "labels", "record_url",
    "dialogue",
]  # fmt: skip


async def test_a_customer_integration_end_to_end(dclient: httpx.AsyncClient, store: Store) -> None:
    d = await make_digelao(store)
    crm = DigelaoClient(dclient, d.access_id, d.secret)
    assert (await crm.login(NOW))["code"] == 0

    # 4.1 push settings, GET with a query string as in the 9.1 example
    assert await crm.get(
        "setCallback",
        {"open_callback": "1", "callback_url": "https://crm.example.com/callbot/push",
         "task_callback_url": "https://crm.example.com/callbot/import"},
    ) == {"code": 0, "msg": "SUCCESS"}  # fmt: skip
    async with store.transaction() as tx:
        settings = await callback_service.get_settings(tx, d.tenant)
        assert (settings.enabled, settings.url, settings.dialect) == (
            True,
            "https://crm.example.com/callbot/push",
            "digelao",
        )

    # 4.2 sub-accounts
    users = await crm.call("aiUserDatasapi", {"pageIndex": 0, "pageSize": 5})
    assert (users["code"], users["total"]) == (0, 1)
    sub = users["data"][0]
    assert (sub["user_sn"], sub["user_name"], sub["parent_sn"], sub["contact"], sub["job"]) == (
        "SYSUSER|" + d.sub.sn, "hzsales01", "hzsales", "李娜", "坐席",
    )  # fmt: skip
    assert sub["max_call_count"] == 5 and sub["skillgroup_sn"] is None and sub["organization_id"] == 0

    # 4.3 scripts
    projects = await crm.call("templatelist")
    assert projects["code"] == 0 and projects["data"][0]["project_caption"] == "测试分期回访"
    project = projects["data"][0]["sn"]
    assert project.startswith("projects|")

    # 4.6 create a task with an import
    rows = [
        {"电话": "13900001234", "姓名": "王先生", "备注": "老客户", "amount": "300"},
        {"电话": "13900001234", "姓名": "重复", "amount": "1"},
        {"电话": "12345", "姓名": "坏号码", "amount": "1"},
    ]
    created = await crm.call(
        "addJsonOfAsync",
        {"source": "7月续费提醒", "project_sn": project, "user_name": "hzsales01",
         "client_info_json": json.dumps({"data": rows}, ensure_ascii=False),
         "periods": json.dumps([{"start_at": "09:00:00", "end_at": "12:00:00"},
                                {"start_at": "13:30:00", "end_at": "18:00:00"}])},
    )  # fmt: skip
    assert (created["code"], created["msg"]) == (0, "导入中")
    task_id = created["data"]["dial_task_main_id"]
    assert created["data"]["dial_task_main_sn"].startswith("dial_task_main_sn|")

    # 4.7 its import result
    result = await crm.call("getAsyncTaskResult", {"dial_task_main_id": task_id})
    assert (result["code"], result["msg"]) == (200, "请求成功")
    assert (result["data"]["status"], result["data"]["desc"], result["data"]["import_percent"]) == (
        22,
        "正在发送",
        "100%",
    )
    mark = result["data"]["import_mark"]
    assert (mark["totalCount"], mark["successCount"], mark["repeatCount"], mark["failCount"]) == (3, 1, 1, 1)
    async with store.transaction() as tx:
        event = await tx.session.scalar(select(OutboxEvent).where(OutboxEvent.kind == "import.finished"))
        assert event is not None and event.subject["task_id"] == task_id
        row = await customer_service.get_import(tx, d.tenant, event.subject["import_id"])
        from callbot.task import service as task_service

        task = await task_service.get_task(tx, d.tenant, task_id)
        assert task.owner_user_id == d.sub.id
        assert [w for w in task.inactive_windows] == [["12:00:00", "13:30:00"]]
        push = callbacks.import_push_payload(task, row)
    assert push["dial_task_main_sn"] == created["data"]["dial_task_main_sn"]
    assert push["import_mark"] == mark

    # 4.4 the task list
    listed = await crm.call(
        "index", {"pageIndex": 0, "pageSize": 10, "start_create_at": "2026-11-20", "end_create_at": "2026-11-20"}
    )
    item = listed["data"]["list"][0]
    assert listed["data"]["total"] == 1
    assert (item["dial_task_main_id"], item["status"], item["user_name"], item["parent_sn"], item["task_type"]) == (
        task_id, "发送中", "hzsales01", "hzsales", 0,
    )  # fmt: skip
    assert (item["total_count"], item["success"], item["stops"], item["percent"]) == (1, "0", "0", "0%")
    assert item["batch"] == "hzsales0120261120100000" and item["caller_group"] == "057188880001"
    none = await crm.call("index", {"start_create_at": "2026-11-21"})
    assert none["data"]["total"] == 0

    # 4.8 call records: one answered call written as the dialer would
    now = store.clock.now()
    async with store.transaction() as tx:
        customer = await tx.session.scalar(select(Customer).where(Customer.task_id == task_id))
        assert customer is not None
        customer.status, customer.last_result, customer.attempts = CustomerStatus.FINISHED, CallResult.NO_ANSWER, 1
        sn = "c4a1e2b3d5f60718293a4b5c6d7e8f90"
        await tx.session.execute(
            insert(CallRecord),
            [{"tenant_id": d.tenant.id, "task_id": task_id, "customer_id": customer.id, "sn": sn,
              "phone": customer.phone,
              "result": CallResult.ANSWERED, "level": Level.A, "reason": "同意续费", "tags": ["有意向"], "rounds": 2,
              "chat_seconds": 8, "started_at": now, "answered_at": now, "ended_at": now + timedelta(seconds=9),
              "recording_path": "rec/c4a1.wav", "created_at": now,
              "transcript": [{"speaker": "ROBOT", "text": "王先生您好", "offset_ms": 0},
                             {"speaker": "PERSON", "text": "可以啊多少钱", "offset_ms": 6480}]}],
        )  # fmt: skip
    records = await crm.call(
        "crmList",
        {"pageIndex": 0, "pageSize": 20,
         "start_create_at": "2026-11-20 00:00:00", "end_create_at": "2026-11-21 00:00:00",
         "status_search": "status", "status": "A,B", "namephone": "王先生", "qc_status": ""},
    )  # fmt: skip
    assert records["data"]["total"] == 1
    record = records["data"]["list"][0]
    assert list(record) == RECORD_KEYS
    assert (record["sn"], record["talktimes"], record["status"], record["call_result"]) == (sn, 8, "A", "已接听")
    assert (record["created_at"], record["user_name"], record["parent_sn"]) == (NOW, "hzsales01", "hzsales")
    assert record["client_info"] == {"电话": "13900001234", "姓名": "王先生", "备注": "老客户", "amount": "300"}
    assert record["mark"] == "老客户" and record["labels"] == ["有意向"]
    assert record["dialogue"] == [{"role": "robot", "text": "王先生您好"}, {"role": "customer", "text": "可以啊多少钱"}]
    assert record["record_url"].startswith(f"https://ai.example.com/r/{sn}.wav?e=")
    assert (await crm.call("crmList", {"status": "C"}))["data"]["total"] == 0
    assert (await crm.call("crmList", {"ids_json": json.dumps([sn])}))["data"]["total"] == 1
    assert (await crm.call("crmList", {"talktimes_min": 9}))["data"]["total"] == 0

    # 5.2 the per-call push is the crmList item
    async with store.transaction() as tx:
        row_record = await tx.session.scalar(select(CallRecord).where(CallRecord.sn == sn))
        assert row_record is not None
        body = callbacks.call_push_payload(
            row_record, task, customer, None, d.tenant, d.sub, OPTIONS, main=d.main, now=tx.now()
        )
    assert {k: v for k, v in body.items() if k not in ("project_sn", "project_caption")} == {
        k: v for k, v in record.items() if k not in ("project_sn", "project_caption")
    }
    assert callable(record_item)
    encoded = callbacks.encode(body)
    assert callbacks.signature(d.secret, encoded) == callbacks.signature(d.secret, encoded) and callbacks.is_success(
        204
    )
    assert not callbacks.is_success(500, b"success")

    # 4.9 recording fragments
    fragments = await crm.call("cdrFragmentDownload", {"sn": sn})
    assert fragments["data"]["sn"] == sn
    assert [(f["index"], f["role"], f["start_ms"], f["end_ms"]) for f in fragments["data"]["fragments"]] == [
        (0, "robot", 0, 6480), (1, "customer", 6480, 8000),
    ]  # fmt: skip

    # 4.5 task operations
    assert await crm.call("operateTask", {"project_type": 2, "pkeys": str(task_id), "oper": "stop"}) == {
        "code": 0,
        "msg": "操作成功",
    }
    paused = await crm.call("getAsyncTaskResult", {"dial_task_main_id": task_id})
    assert (paused["data"]["status"], paused["data"]["desc"]) == (24, "暂停发送")
    assert (
        await crm.call(
            "operateTask", {"project_type": "2", "pkeys": created["data"]["dial_task_main_sn"], "oper": "failRe"}
        )
    )["code"] == 0
    async with store.transaction() as tx:
        again = await tx.session.get(Customer, customer.id)
        assert again is not None and again.status is CustomerStatus.PENDING
    assert (await crm.call("operateTask", {"project_type": 2, "pkeys": f"{task_id},999999", "oper": "end"}))[
        "code"
    ] == 30002
    assert (await crm.call("operateTask", {"project_type": 2, "pkeys": str(task_id), "oper": "end"}))["code"] == 0
    assert (await crm.call("operateTask", {"project_type": 2, "pkeys": str(task_id), "oper": "keepOn"}))[
        "code"
    ] == 30003
    assert (await crm.call("operateTask", {"project_type": 2, "pkeys": str(task_id), "oper": "delete"}))["code"] == 0
    assert (await crm.call("index"))["data"]["total"] == 0
