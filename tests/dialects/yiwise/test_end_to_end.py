"""End to end, as a Yiwise customer writes it: every API call goes through the spec-built client (its own
signing) to the whole application. The platform operator provisions the tenant, its Yiwise credential, two
lines, the credit-card script and the callback URL; the customer then discovers them through the API,
creates tasks, imports customers (the simulated carrier takes `sim_replies`/`sim_result` from their
properties), starts the task and waits for the callbacks. The dialer runs in-process over two days and the
callbacks go to a real local HTTP receiver, which first answers wrongly (so they are retried) and then
`success`. Afterwards the callbacks, the record list, one call's detail and the task statistics must all
tell the same story.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from campaign_helpers import sim_dialer
from yiwise_client import YiwiseClient

from callbot.callback import service as callback_service
from callbot.callback.delivery import Deliverer
from callbot.callback.receiver import CallbackReceiver
from callbot.credential import service as credential_service
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.line import service as line_service
from callbot.models.enums import CredentialKind
from callbot.runtime import build_renderers
from callbot.script import service as script_service
from callbot.tenant import service as tenant_service

SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "scripts" / "credit_card_instalment.yaml"
COMPANY = "杭州禾木信息技术有限公司"
SCRIPT_NAME = "信用卡账单分期邀约"
BANK = {"bank": "招商银行", "amount": "3200"}

# The customers whose calls we know in advance: phone -> (name, properties, result, level).
AGREES, REFUSES, COMPLAINS, VACANT, BUSY = "13900000001", "13900000002", "13900000003", "13900000004", "13900000005"
SCRIPTED: dict[str, tuple[str, dict[str, str], str, str]] = {
    AGREES: ("王先生", {"sim_result": "ANSWERED", "sim_replies": "嗯你说|可以啊|分十二期吧|好的"}, "ANSWERED", "A"),
    REFUSES: ("李女士", {"sim_result": "ANSWERED", "sim_replies": "不需要谢谢|真的不需要"}, "ANSWERED", "D"),
    COMPLAINS: (
        "赵先生",
        {"sim_result": "ANSWERED", "sim_replies": "你们天天打电话烦不烦再打我就投诉"},
        "ANSWERED",
        "F",
    ),
    VACANT: ("钱先生", {"sim_result": "VACANT_NUMBER"}, "VACANT_NUMBER", "F"),
    BUSY: ("孙女士", {"sim_result": "BUSY"}, "BUSY", "F"),
}
# Unscripted customers: personas and carrier results drawn from the number, for variety.
UNSCRIPTED = [f"1380571{i:04d}" for i in range(1, 23)]

# §9.1 in the seed's form, in the seed's order.
RECORD_FIELDS = [
    "callRecordId",
    "tenantId",
    "robotCallJobId",
    "calledPhoneNumber",
    "resultStatus",
    "intentLevel",
    "customerConcern",
    "fullAudioUrl",
    "customerAudioUrl",
    "analysisBasis",
    "startTime",
    "endTime",
    "chatDuration",
    "chatRound",
    "attributes",
    "robotCallDetailList",
]
RESULTS = [
    "ANSWERED",
    "NO_ANSWER",
    "BUSY",
    "POWER_OFF",
    "OUT_OF_SERVICE",
    "REFUSED",
    "VACANT_NUMBER",
    "CAN_NOT_CONNECT",
    "FROM_PHONE_ERROR",
    "SYSTEM_ERROR",
]
LEVELS = ["A", "B", "C", "D", "E", "F"]
# §6: the labels an unanswered call's analysisBasis starts with.
LABELS = {
    "NO_ANSWER": "未接",
    "BUSY": "占线",
    "POWER_OFF": "关机",
    "OUT_OF_SERVICE": "被叫停机",
    "REFUSED": "拒接",
    "VACANT_NUMBER": "空号",
    "CAN_NOT_CONNECT": "无法接通",
    "FROM_PHONE_ERROR": "主叫号码不可用",
    "SYSTEM_ERROR": "外呼失败",
}


# --- what the spec says, written out independently of the product ---------------------------------------


def round_bucket(rounds: int) -> str:
    """§7: `LESS_3` < 3, `F3_T6` 3–5, `F6_T10` 6–9, `F10_MORE` ≥ 10."""
    return "LESS_3" if rounds < 3 else "F3_T6" if rounds < 6 else "F6_T10" if rounds < 10 else "F10_MORE"


def duration_bucket(seconds: int) -> str:
    """§7: < 10 s, 10–59 s, 60–119 s, 120–179 s, ≥ 180 s."""
    for limit, name in ((10, "LESS_10S"), (60, "F10S_T1MIN"), (120, "F1MIN_T2MIN"), (180, "F2MIN_T3MIN")):
        if seconds < limit:
            return name
    return "F3MIN_TMORE"


def every_key(keys: list[str], counts: Counter[str]) -> dict[str, int]:
    return {key: counts.get(key, 0) for key in keys}


def ok(body: dict[str, Any]) -> Any:
    assert body["code"] == 200, body
    assert body["errorStackTrace"] is None and len(body["requestId"]) == 8
    return body["data"]


async def all_records(api: YiwiseClient, task_id: int, page_size: int = 10, **filters: Any) -> list[dict[str, Any]]:
    """Every row of getCallRecordInfoList, page by page, checking the paging fields on the way."""
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        body = {"robotCallJobId": task_id, "pageNum": page, "pageSize": page_size, **filters}
        data = ok(await api.post("task/getCallRecordInfoList", body))
        assert (data["number"], data["pageSize"]) == (page, page_size)
        assert data["pages"] == math.ceil(data["totalElements"] / page_size)
        rows.extend(data["content"])
        if page >= data["pages"]:
            assert len(rows) == data["totalElements"]
            return rows
        assert len(data["content"]) == page_size
        page += 1


# --- fixtures: what the platform operator sets up --------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    # Answers 200 "ok" at first: not the Yiwise `success`, so every callback must come again.
    server = CallbackReceiver(body=b"ok")
    await server.start()
    yield server
    await server.stop()


async def provision(store: Store, http: httpx.AsyncClient, callback_url: str) -> tuple[YiwiseClient, str]:
    """Tenant, Yiwise credential, two lines, the credit-card script, the callback URL. Returns the customer's
    client and its appSecret (which also signs the callbacks)."""
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, COMPANY, seats=20)
        issued = await credential_service.create_credential(tx, tenant, CredentialKind.YIWISE)
        await line_service.add_line(tx, tenant, "057188880001", name="杭州中继1", concurrency=3)
        await line_service.add_line(tx, tenant, "057188880002", name="杭州中继2", concurrency=3)
        await script_service.add_script(tx, tenant, SCRIPT.read_text(encoding="utf-8"))
        await callback_service.update_settings(
            tx, tenant, callback_service.CallbackChanges(url=callback_url, dialect="yiwise")
        )
    secrets = issued.secrets
    api = YiwiseClient(
        http,
        secrets["appKey"],
        secrets["appSecret"],
        secrets["tenantSign"],
        now_ms=lambda: int(store.clock.now().timestamp() * 1000),
    )
    return api, secrets["appSecret"]


# --- the test ---------------------------------------------------------------------------------------------


async def test_a_yiwise_customer_runs_a_campaign_end_to_end(
    store: Store, clock: FrozenClock, client: httpx.AsyncClient, receiver: CallbackReceiver
) -> None:
    api, app_secret = await provision(store, client, receiver.url)

    # 1. Discover the account: company, caller lines, scripts (§8.1–8.3).
    company = ok(await api.get("company/getCompanies"))
    tenant_id = company["tenantId"]
    assert company == {"tenantId": tenant_id, "companyName": COMPANY, "tenantName": COMPANY}
    phones = ok(await api.get("company/getPhones"))
    assert [(p["phone"], p["phoneName"], p["phoneType"], p["concurrency"], p["maxConcurrency"]) for p in phones] == [
        ("057188880001", "杭州中继1", "UNFIXED_CALL", 0, 3),
        ("057188880002", "杭州中继2", "UNFIXED_CALL", 0, 3),
    ]
    line_ids = [p["userPhoneId"] for p in phones]
    robots = ok(await api.get("company/getRobots"))
    robot = next(r for r in robots if r["name"] == SCRIPT_NAME)
    assert (robot["type"], robot["status"], robot["industry"]) == (
        "NORMAL",
        "APPROVED",
        {"name": "FINANCE", "desc": "金融类"},
    )
    script_id = robot["robotDialogFlowId"]

    # 2. Create the campaign with the seed's path and body, and a second task through `job/create`.
    job = {
        "name": "11月分期回访",
        "mode": "MANUAL",
        "dailyStartTime": "09:00",
        "dailyEndTime": "20:00",
        "inactiveStartTime": "12:00",
        "inactiveEndTime": "13:30",
        "dialogFlowId": script_id,
        "phoneType": "UNFIXED_CALL",
        "robotCount": 5,
        "smsAlertLevel": ["A"],
        "wechatSendMethod": "SENDTONONE",
        "description": "API创建",
        "tenantId": 1,  # the demo hard-codes it; ignored
    }
    lines = [{"key": p["userPhoneId"], "value": p["phone"]} for p in phones]
    task_id = ok(await api.post("task/createTask", {"jobPhoneNumberList": lines, "robotCallJob": job}))
    assert isinstance(task_id, int)
    other = ok(
        await api.post(
            "job/create",
            {"jobPhoneNumberIdList": [line_ids[1]], "robotCallJob": {**job, "name": "备用任务", "robotCount": 2}},
        )
    )
    other_id = other["robotCallJobId"]
    assert list(other) == ["robotCallJobId"] and other_id != task_id

    # 3. Import the customers. Rows without a script variable or repeating a number are skipped.
    persons = [
        {"name": name, "phoneNumber": phone, "properties": {**BANK, **props}}
        for phone, (name, props, _, _) in SCRIPTED.items()
    ]
    persons += [{"name": f"客户{i}", "phoneNumber": phone, "properties": BANK} for i, phone in enumerate(UNSCRIPTED)]
    skipped = [
        {"name": "缺变量", "phoneNumber": "13800009999", "properties": {"bank": "招商银行"}},  # no `amount`
        {"name": "重复", "phoneNumber": AGREES, "properties": BANK},
    ]
    assert (
        ok(await api.post("task/importTaskCustomer", {"robotCallJobId": task_id, "customerPersons": persons + skipped}))
        is None
    )
    customers = len(persons)
    assert (
        ok(
            await api.post(
                "job/importCustomer",
                {
                    "robotCallJobId": other_id,
                    "customerPersons": [{"name": "备用", "phoneNumber": "13700000001", "properties": BANK}],
                },
            )
        )
        is None
    )

    # The second task is started and paused at once: it must neither dial nor send ROBOT_CALL_JOB.
    ok(await api.post("job/start", {"robotCallJobId": other_id}))
    ok(await api.post("job/pause", {"robotCallJobId": other_id}))
    ok(await api.post("task/start", {"robotCallJobId": task_id}))
    tasks = ok(await api.get("task/getTasks", pageNum=1, pageSize=20))
    assert [(t["robotCallJobId"], t["taskCallTotal"], t["completedTask"]) for t in tasks["content"]] == [
        (other_id, 1, 0),
        (task_id, customers, 0),
    ]
    assert tasks["content"][0]["status"] == "USER_PAUSE"
    assert [t["creationTime"] for t in tasks["content"]] == ["2026-11-20 10:00"] * 2  # yyyy-MM-dd HH:mm
    # Started; the dialer turns it IN_PROCESS when it places the first calls (its next round).
    assert tasks["content"][1]["status"] == "RUNNABLE"

    # 4. Day one: one round of calls. Their callbacks are answered "ok" and so must come again, not before
    # the first retry gap (1 minute), identical; then the receiver answers `success`.
    dialer = sim_dialer(store)
    await dialer.run_until_idle(max_ticks=1)
    async with Deliverer(store, build_renderers()) as deliverer:
        running = ok(await api.get("task/getTaskDetail", robotCallJobId=task_id))
        assert (running["robotCallJob"]["status"], running["completedTask"]) == ("IN_PROCESS", 5)
        first_round = await deliverer.deliver_due()
        assert first_round == 5 and receiver.count == first_round  # robotCount 5: five calls on day one
        rejected = receiver.received.json()
        clock.advance(seconds=59)
        assert await deliverer.deliver_due() == 0
        receiver.body = b"success"
        clock.advance(seconds=1)
        assert await deliverer.deliver_due() == first_round
        assert sorted(map(json.dumps, receiver.received.json()[first_round:])) == sorted(map(json.dumps, rejected))

        # Day two: the dialer finishes the task; the deliverer sends the rest; nothing comes a third time.
        clock.advance(days=1)
        await dialer.run_until_idle()
        while await deliverer.deliver_due():
            pass
        clock.advance(hours=1)
        assert await deliverer.deliver_due() == 0

    # 5. The callbacks: one ROBOT_CALL_RECORD per call, one ROBOT_CALL_JOB, each signed with the appSecret.
    accepted = list(zip(receiver.received.bodies, receiver.received.headers, strict=True))[first_round:]
    for body, headers in accepted:
        assert headers["content-type"] == "application/json;charset=UTF-8"
        assert headers["x-callbot-signature"] == hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    events = [json.loads(body) for body, _ in accepted]
    assert Counter(e["dataType"] for e in events) == {"ROBOT_CALL_RECORD": customers, "ROBOT_CALL_JOB": 1}
    job_event = next(e["data"] for e in events if e["dataType"] == "ROBOT_CALL_JOB")
    assert job_event == {"robotCallJobId": task_id, "tenantId": tenant_id, "status": "COMPLETED"}
    calls = {e["data"]["callRecordId"]: e["data"] for e in events if e["dataType"] == "ROBOT_CALL_RECORD"}
    assert len(calls) == customers  # one callback per record, none twice
    by_phone = {c["calledPhoneNumber"]: c for c in calls.values()}
    assert set(by_phone) == set(SCRIPTED) | set(UNSCRIPTED)  # each customer once; skipped rows never called
    for call in calls.values():
        assert list(call) == RECORD_FIELDS
        assert (call["tenantId"], call["robotCallJobId"]) == (tenant_id, task_id)
        assert call["resultStatus"] in RESULTS and call["intentLevel"] in LEVELS
        start = datetime.strptime(call["startTime"], "%Y-%m-%d %H:%M:%S")
        assert datetime.strptime(call["endTime"], "%Y-%m-%d %H:%M:%S") >= start
        if call["resultStatus"] == "ANSWERED":
            assert call["robotCallDetailList"][0]["type"] == "ROBOT" and call["chatRound"] >= 1
            assert all(
                set(d) == {"text", "type"} and d["type"] in ("ROBOT", "PERSON") for d in call["robotCallDetailList"]
            )
        else:
            # §6: an unanswered call is F, its reason the result's label; no talk, no customer channel.
            assert call["intentLevel"] == "F" and call["customerAudioUrl"] is None
            assert call["analysisBasis"].startswith(LABELS[call["resultStatus"]]), call
            assert (call["chatDuration"], call["chatRound"], call["robotCallDetailList"]) == (0, 0, [])
    for phone, (_, _, result, level) in SCRIPTED.items():
        assert (by_phone[phone]["resultStatus"], by_phone[phone]["intentLevel"]) == (result, level), phone
    agreed = by_phone[AGREES]
    assert "招商银行" in agreed["robotCallDetailList"][0]["text"] and "3200" in agreed["robotCallDetailList"][0]["text"]
    assert [d["type"] for d in agreed["robotCallDetailList"]].count("PERSON") >= 2
    assert by_phone[VACANT]["analysisBasis"].startswith("空号")
    # Variety: the unscripted customers did not all behave alike.
    assert len({(by_phone[p]["resultStatus"], by_phone[p]["intentLevel"]) for p in UNSCRIPTED}) >= 4
    days = sorted({c["startTime"][:10] for c in calls.values()})
    assert len(days) == 2

    # 6. The record list agrees with the callbacks, page by page and under every filter.
    rows = await all_records(api, task_id)
    assert [r["callRecordId"] for r in rows] and {r["callRecordId"] for r in rows} == set(calls)
    starts = [r["startTime"] for r in rows]
    assert starts == sorted(starts, reverse=True)  # newest first
    for row in rows:
        call = calls[row["callRecordId"]]
        for key in ("calledPhoneNumber", "resultStatus", "intentLevel", "customerConcern", "fullAudioUrl",
                    "customerAudioUrl", "analysisBasis", "startTime", "chatDuration", "chatRound"):  # fmt: skip
            assert row[key] == call[key], key
        assert (row["tenantId"], row["robotCallJobId"], row["dialogFlowId"]) == (tenant_id, task_id, script_id)
        assert row["phoneNumberId"] in line_ids
        assert (row["robotCallJobName"], row["dialogFlowName"]) == ("11月分期回访", SCRIPT_NAME)
        assert (row["readStatus"], row["manualMarked"], row["realIntentLevel"], row["callDetailList"]) == (
            "NOT_READ",
            False,
            None,
            None,
        )

    def ids(predicate: Any) -> set[int]:
        return {i for i, c in calls.items() if predicate(c)}

    answered = ids(lambda c: c["resultStatus"] == "ANSWERED")
    filtered = await all_records(api, task_id, page_size=3, resultStatuses=["ANSWERED"])
    assert {r["callRecordId"] for r in filtered} == answered
    # Numeric codes in the seed's order: 2 BUSY, 6 VACANT_NUMBER.
    filtered = await all_records(api, task_id, resultStatuses=[2, "6"])
    assert {r["callRecordId"] for r in filtered} == ids(lambda c: c["resultStatus"] in ("BUSY", "VACANT_NUMBER"))
    filtered = await all_records(api, task_id, intentLevels=["A", "B"])
    assert {r["callRecordId"] for r in filtered} == ids(lambda c: c["intentLevel"] in ("A", "B"))
    assert agreed["callRecordId"] in {r["callRecordId"] for r in filtered}
    filtered = await all_records(api, task_id, resultStatuses=["ANSWERED"], intentLevels=["F"])
    assert by_phone[COMPLAINS]["callRecordId"] in {r["callRecordId"] for r in filtered}
    assert {r["callRecordId"] for r in filtered} == answered & ids(lambda c: c["intentLevel"] == "F")
    filtered = await all_records(api, task_id, earliestCreationTime=days[1], latestCreationTime=days[1])
    assert {r["callRecordId"] for r in filtered} == ids(lambda c: c["startTime"].startswith(days[1]))
    filtered = await all_records(api, task_id, searchWords="赵先生")
    assert [r["calledPhoneNumber"] for r in filtered] == [COMPLAINS]
    assert await all_records(api, task_id, intentLevels=["A"], resultStatuses=["BUSY"]) == []
    page = ok(await api.post("task/getCallRecordInfoList", {"robotCallJobId": task_id, "pageNum": 2, "pageSize": 20}))
    assert (page["totalElements"], page["pages"], len(page["content"])) == (customers, 2, customers - 20)
    assert [r["callRecordId"] for r in page["content"]] == [r["callRecordId"] for r in rows[20:]]

    # 7. One call in detail: the transcript is the callback's; reading it marks it read.
    detail = ok(await api.get("task/phoneLogInfo", callRecordId=agreed["callRecordId"]))
    assert [{"text": d["text"], "type": d["type"]} for d in detail["callDetailList"]] == agreed["robotCallDetailList"]
    assert [d["callDetailId"] for d in detail["callDetailList"]] == list(range(1, len(detail["callDetailList"]) + 1))
    assert detail["startTime"] == agreed["startTime"].replace(" ", "T")
    assert detail["endTime"] == agreed["endTime"].replace(" ", "T")
    for key in ("resultStatus", "intentLevel", "chatRound", "chatDuration", "analysisBasis", "customerConcern",
                "attributes", "fullAudioUrl", "customerAudioUrl"):  # fmt: skip
        assert detail[key] == agreed[key], key
    assert detail["robotCallJobId"] == task_id
    person = detail["customerPerson"]
    assert (person["name"], person["phoneNumber"], person["tenantId"]) == ("王先生", AGREES, tenant_id)
    assert person["properties"] == {**BANK, **SCRIPTED[AGREES][1]}
    assert (person["lastIntentLevel"], person["lastDialStatus"], person["lastStartTime"]) == (
        "A",
        "ANSWERED",
        agreed["startTime"],
    )
    reread = await all_records(api, task_id, searchWords=AGREES)
    assert [r["readStatus"] for r in reread] == ["HAS_READ"]

    # 8. The task detail: COMPLETED, and its statistics are the callbacks counted (§7).
    task = ok(await api.get("task/getTaskDetail", robotCallJobId=task_id))
    assert task["robotCallJob"]["status"] == "COMPLETED"
    echoed = {key: task["robotCallJob"][key] for key in ("robotCallJobId", "tenantId", "dialogFlowId", "name", "mode",
              "robotCount", "phoneType", "dailyStartTime", "dailyEndTime", "inactiveStartTime", "inactiveEndTime",
              "description", "startTime")}  # fmt: skip
    assert echoed == {
        "robotCallJobId": task_id,
        "tenantId": tenant_id,
        "dialogFlowId": script_id,
        "name": "11月分期回访",
        "mode": "MANUAL",
        "robotCount": 5,
        "phoneType": "UNFIXED_CALL",
        "dailyStartTime": "09:00:00",
        "dailyEndTime": "20:00:00",
        "inactiveStartTime": "12:00:00",
        "inactiveEndTime": "13:30:00",
        "description": "API创建",
        "startTime": None,
    }
    assert task["taskCallTotal"] == customers and task["completedTask"] == task["taskCallTotal"]
    assert task["jobPhoneNumberList"] == lines
    assert (task["dialogFlowName"], task["createdByUserName"]) == (SCRIPT_NAME, "api")
    stats = task["callJobStatsInfo"]
    records = list(calls.values())
    talked = [c for c in records if c["resultStatus"] == "ANSWERED"]
    assert stats["taskCallTotal"] == len(records) == customers
    assert stats["answeredTask"] == len(talked)
    assert stats["dialResult"] == every_key(RESULTS, Counter(c["resultStatus"] for c in records))
    assert stats["intentLevel"] == every_key(LEVELS, Counter(c["intentLevel"] for c in records))
    assert stats["chatDurationTotal"] == sum(c["chatDuration"] for c in talked) > 0
    assert stats["chatRound"] == every_key(
        ["LESS_3", "F3_T6", "F6_T10", "F10_MORE"], Counter(round_bucket(c["chatRound"]) for c in talked)
    )
    assert stats["chatDuration"] == every_key(
        ["LESS_10S", "F10S_T1MIN", "F1MIN_T2MIN", "F2MIN_T3MIN", "F3MIN_TMORE"],
        Counter(duration_bucket(c["chatDuration"]) for c in talked),
    )
    assert stats["completedTask"] == task["completedTask"]
    assert stats["taskProgress"] == 100.0
    assert stats["answeredRate"] == round(100 * len(talked) / len(records), 2)
    concerns = Counter(x for c in records for x in c["customerConcern"])
    assert set(stats["customerConcern"]) <= set(concerns) and len(stats["customerConcern"]) == min(10, len(concerns))
    daily = stats["callJobStatsBrokenLine"]
    per_day = {day: [c for c in records if c["startTime"].startswith(day)] for day in days}
    talk_day = {day: [c for c in per_day[day] if c["resultStatus"] == "ANSWERED"] for day in days}
    seconds = {day: sum(c["chatDuration"] for c in talk_day[day]) for day in days}
    assert daily == {
        "taskCallCompletedList": [{"date": d, "val": len(per_day[d])} for d in days],
        "answeredTaskList": [{"date": d, "val": len(talk_day[d])} for d in days],
        "answeredTaskRateList": [{"date": d, "val": round(100 * len(talk_day[d]) / len(per_day[d]), 2)} for d in days],
        "chatDurationTotalList": [{"date": d, "val": seconds[d]} for d in days],
        "averageDurationList": [
            {"date": d, "val": 100 * seconds[d] // len(talk_day[d]) if talk_day[d] else 0} for d in days
        ],
    }

    # 9. The complainer is on the DNC list: importing the number elsewhere skips it.
    ok(
        await api.post(
            "job/importCustomer",
            {
                "robotCallJobId": other_id,
                "customerPersons": [
                    {"name": "赵先生", "phoneNumber": COMPLAINS, "properties": BANK},
                    {"name": "新客户", "phoneNumber": "13700000002", "properties": BANK},
                ],
            },
        )
    )
    assert ok(await api.get("job/getJobDetail", robotCallJobId=other_id))["taskCallTotal"] == 2

    # 10. Stopping the idle second task sends nothing: still exactly one ROBOT_CALL_JOB.
    ok(await api.post("job/stop", {"robotCallJobId": other_id}))
    tasks = ok(await api.get("task/getTasks"))
    assert [(t["robotCallJobId"], t["status"]) for t in tasks["content"]] == [
        (other_id, "TERMINATE"),
        (task_id, "COMPLETED"),
    ]
    assert tasks["content"][1]["completedTask"] == tasks["content"][1]["taskCallTotal"] == customers
    async with Deliverer(store, build_renderers()) as deliverer:
        assert await deliverer.deliver_due() == 0
