"""Every path alias answers like its seed path; bad input of every kind is a 412 (never 500) naming the
field; other tenants' ids are 404; task control follows §8.5; the envelope wraps every failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from yiwise_setup import YiwiseAccount, create_body, yiwise_account

from callbot.kit.db import Store
from callbot.models import CallRecord, Customer
from callbot.models.enums import CallResult, CustomerStatus, Level


def strip(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "requestId"}


async def _task(account: YiwiseAccount, **job: object) -> int:
    body = await account.client.post("task/createTask", create_body(account, **job))
    assert body["code"] == 200, body
    task_id: int = body["data"]
    return task_id


async def _records(store: Store, account: YiwiseAccount, task_id: int) -> list[int]:
    now = store.clock.now()
    ids = []
    async with store.transaction() as tx:
        for i, (result, level) in enumerate(
            [(CallResult.ANSWERED, Level.A), (CallResult.NO_ANSWER, Level.F), (CallResult.ANSWERED, Level.C)]
        ):
            customer_id = (
                await tx.session.execute(
                    insert(Customer).returning(Customer.id),
                    [
                        {
                            "tenant_id": account.tenant.id,
                            "task_id": task_id,
                            "name": f"客户{i}",
                            "phone": f"1390000000{i}",
                            "properties": {},
                            "status": CustomerStatus.FINISHED,
                            "created_at": now,
                        }
                    ],
                )
            ).scalar_one()
            record_id = (
                await tx.session.execute(
                    insert(CallRecord).returning(CallRecord.id),
                    [
                        {
                            "tenant_id": account.tenant.id,
                            "task_id": task_id,
                            "customer_id": customer_id,
                            "line_id": account.line.id,
                            "script_id": account.script_id,
                            "sn": f"{task_id}-{i}".zfill(32),
                            "phone": f"1390000000{i}",
                            "result": result,
                            "level": level,
                            "reason": "空号" if result is CallResult.NO_ANSWER else "",
                            "started_at": now - timedelta(days=i),
                            "transcript": [{"speaker": "ROBOT", "text": "您好"}],
                            "created_at": now,
                        }
                    ],
                )
            ).scalar_one()
            ids.append(record_id)
    return ids


async def test_every_alias_answers_like_its_seed_path(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    c = account.client
    task_id = await _task(account)
    record_id = (await _records(store, account, task_id))[0]
    reads = [
        (("company/getCompanies", "tenant/getTenants", "tenant/getCompanies", "tenant/getTenant"), {}),
        (("company/getPhones", "tenant/getPhones", "phone/getPhoneList"), {}),
        (("company/getRobots", "tenant/getRobots", "dialogFlow/getDialogFlowList"), {}),
        (("task/getTasks", "job/getJobs"), {"pageNum": 1}),
        (("task/getTaskDetail", "job/getJobDetail"), {"robotCallJobId": task_id}),
        (
            ("task/phoneLogInfo", "task/callDetail", "job/callDetail", "callRecord/callDetail"),
            {"callRecordId": record_id},
        ),
    ]
    for paths, params in reads:
        seed = strip(await c.get(paths[0], **params))
        assert seed["code"] == 200, (paths[0], seed)
        for alias in paths[1:]:
            assert strip(await c.get(alias, **params)) == seed, alias
    seed = strip(await c.post("task/getCallRecordInfoList", {"robotCallJobId": task_id}))
    assert seed["data"]["totalElements"] == 3
    for alias in ("job/getCallRecordInfoList", "callRecord/getCallRecordInfoList"):
        assert strip(await c.post(alias, {"robotCallJobId": task_id})) == seed
    for prefix in ("/v1", "/openApi/v1", "/openapi/v1"):
        c.prefix = prefix
        assert (await c.get("company/getCompanies"))["code"] == 200, prefix
    c.prefix = "/apiOpen/v1"


async def test_create_aliases_and_line_shapes(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    c = account.client
    bare = await c.post("task/create", create_body(account))
    assert isinstance(bare["data"], int)
    as_object = await c.post("job/create", create_body(account))
    assert list(as_object["data"]) == ["robotCallJobId"] and isinstance(as_object["data"]["robotCallJobId"], int)
    ids_form = create_body(account)
    ids_form["jobPhoneNumberList"] = [str(account.line.id)]
    assert (await c.post("task/createTask", ids_form))["code"] == 200
    demo_form = create_body(account)
    del demo_form["jobPhoneNumberList"]
    demo_form["jobPhoneNumberIdList"] = [account.line.id]
    assert (await c.post("task/createTask", demo_form))["code"] == 200
    flat = {**create_body(account)["robotCallJob"], "jobPhoneNumberList": [account.line.id]}  # type: ignore[dict-item]
    assert (await c.post("task/createTask", flat))["code"] == 200
    lenient = create_body(
        account,
        dailyStartTime="09:00:00",
        startTime="2026-11-21T09:30",
        mode="auto",
        dialogFlowId=str(account.script_id),
    )
    assert (await c.post("task/createTask", lenient))["code"] == 200
    tasks = await c.get("task/getTasks", pageSize=2)
    assert (tasks["data"]["totalElements"], tasks["data"]["pages"], len(tasks["data"]["content"])) == (6, 3, 2)


async def test_task_control_and_its_aliases(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    c = account.client
    task_id = await _task(account)

    async def status() -> str:
        detail = await c.get("task/getTaskDetail", robotCallJobId=task_id)
        return str(detail["data"]["robotCallJob"]["status"])

    assert (await c.post("task/pause", {"robotCallJobId": task_id}))["code"] == 412  # NOT_STARTED cannot pause
    assert (await c.post("job/start", {"robotCallJobId": str(task_id)}))["code"] == 200
    assert await status() == "RUNNABLE"
    assert (await c.post("task/start", {"robotCallJobId": task_id}))["code"] == 200  # already in effect
    assert (await c.post("job/pause", {"robotCallJobId": task_id}))["code"] == 200
    assert (await c.post("task/pause", {"robotCallJobId": task_id}))["code"] == 200
    assert await status() == "USER_PAUSE"
    assert (await c.post("task/start", {"robotCallJobId": task_id}))["code"] == 200  # start resumes
    assert await status() == "RUNNABLE"
    for path in ("task/updateTaskAiCount", "job/updateAiCount"):
        assert (await c.post(path, {"robotCallJobId": task_id, "robotCount": "3"}))["code"] == 200
    too_many = await c.post("task/update", {"robotCallJobId": task_id, "robotCount": 500})
    assert too_many["code"] == 412 and "robotCount" in too_many["resultMsg"]
    persons = [
        {"name": "张三", "phoneNumber": 13900001111, "properties": {"amount": 3200}},
        {"name": "坏号", "phoneNumber": "123", "properties": {"amount": "1"}},
    ]
    imported = await c.post("job/importCustomer", {"robotCallJobId": task_id, "customerPersons": persons})
    assert (imported["code"], imported["data"]) == (200, None)
    assert (await c.get("task/getTasks"))["data"]["content"][0]["taskCallTotal"] == 1
    assert (await c.post("job/stop", {"robotCallJobId": task_id}))["code"] == 200
    assert (await c.post("task/stop", {"robotCallJobId": task_id}))["code"] == 200
    assert (await c.post("task/start", {"robotCallJobId": task_id}))["code"] == 412
    closed = await c.post("task/importTaskCustomer", {"robotCallJobId": task_id, "customerPersons": persons})
    assert closed["code"] == 412
    assert (await c.post("job/delete", {"robotCallJobId": task_id}))["resultMsg"] == "删除成功"
    assert (await c.get("task/getTaskDetail", robotCallJobId=task_id))["code"] == 404
    other = await _task(account)
    assert (await c.post("task/delete", {"robotCallJobId": str(other)}))["code"] == 200


async def test_modify_extension(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    c = account.client
    task_id = await _task(account)
    body = {"robotCallJob": {"robotCallJobId": task_id, "name": "改名", "dailyEndTime": "18:00"}}
    assert (await c.post("task/modify", body))["code"] == 200
    job = (await c.get("task/getTaskDetail", robotCallJobId=task_id))["data"]["robotCallJob"]
    assert (job["name"], job["dailyEndTime"]) == ("改名", "18:00:00")
    await c.post("task/start", {"robotCallJobId": task_id})
    running = await c.http.patch("/apiOpen/v1/job/modify", json=body, headers=c.headers())
    assert running.json()["code"] == 412


async def test_call_record_filters(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    c = account.client
    task_id = await _task(account)
    await _records(store, account, task_id)

    async def total(**body: object) -> int:
        answer = await c.post("task/getCallRecordInfoList", {"robotCallJobId": task_id, **body})
        assert answer["code"] == 200, answer
        return int(answer["data"]["totalElements"])

    assert await total() == 3
    assert await total(resultStatuses=["ANSWERED"]) == 2
    assert await total(resultStatuses=[0]) == 2  # the seed's numeric code
    assert await total(resultStatuses=["1"]) == 1
    assert await total(resultStatuses=["CALL_LOSS"]) == 0
    assert await total(intentLevels=["A", "C"]) == 2
    assert await total(intentLevels=[5]) == 1
    assert await total(searchWords="客户1") == 1
    assert await total(searchWords="13900000002") == 1
    today = store.clock.now().astimezone().strftime("%Y-%m-%d")
    assert await total(earliestCreationTime=today, latestCreationTime=today) == 1
    assert await total(dialogFlowId=account.script_id) == 3
    assert await total(dialogFlowId=999999) == 0
    assert await total(followStatus="AI_INITIAL_VISIT") == 3
    assert await total(followStatus="DEAL") == 0
    assert await total(getTrainTaskList=True) == 0
    assert await total(customerGroupId=1, getTrainTaskList=False) == 3
    paged = await c.post("task/getCallRecordInfoList", {"robotCallJobId": task_id, "pageNum": 2, "pageSize": 2})
    assert (paged["data"]["number"], paged["data"]["pages"], len(paged["data"]["content"])) == (2, 2, 1)
    assert paged["data"]["content"][0]["resultStatus"] == "ANSWERED"  # newest first: the first call is last
    everything = await c.post("task/getCallRecordInfoList", {"robotCallJobId": task_id})
    unanswered = everything["data"]["content"][1]
    assert (unanswered["resultStatus"], unanswered["intentLevel"], unanswered["analysisBasis"]) == (
        "NO_ANSWER",
        "F",
        "空号",
    )
    assert unanswered["fullAudioUrl"] is None and unanswered["callDetailList"] is None


async def test_other_tenants_ids_are_404(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    mine = await yiwise_account(store, yiwise_http)
    theirs = await yiwise_account(store, yiwise_http, "乙公司")
    task_id = await _task(theirs)
    record_id = (await _records(store, theirs, task_id))[0]
    c = mine.client
    for path in ("task/getTaskDetail", "job/getJobDetail"):
        assert (await c.get(path, robotCallJobId=task_id))["code"] == 404
    assert (await c.get("task/phoneLogInfo", callRecordId=record_id))["code"] == 404
    for path in ("task/start", "task/pause", "task/stop", "task/delete", "task/getCallRecordInfoList"):
        assert (await c.post(path, {"robotCallJobId": task_id}))["code"] == 404, path
    assert (await c.post("task/update", {"robotCallJobId": task_id, "robotCount": 1}))["code"] == 404
    foreign = {"robotCallJobId": task_id, "customerPersons": [{"name": "x", "phoneNumber": "13900001234"}]}
    assert (await c.post("task/importTaskCustomer", foreign))["code"] == 404
    their_line = create_body(mine)
    their_line["jobPhoneNumberList"] = [theirs.line.id]
    assert (await c.post("task/createTask", their_line))["code"] == 404
    assert (await c.post("task/createTask", create_body(mine, dialogFlowId=theirs.script_id)))["code"] == 404
    assert (await c.get("task/getTasks"))["data"]["totalElements"] == 0
    assert (await theirs.client.get("task/getTaskDetail", robotCallJobId=task_id))["code"] == 200


BAD_CREATE: list[tuple[dict[str, object], str]] = [
    ({"name": ""}, "name"),
    ({"name": "x" * 51}, "name"),
    ({"name": ["list"]}, "name"),
    ({"mode": "SOMETIMES"}, "mode"),
    ({"mode": 1}, "mode"),
    ({"mode": None}, "mode"),
    ({"dialogFlowId": "eighty-eight"}, "dialogFlowId"),
    ({"dialogFlowId": 1.5}, "dialogFlowId"),
    ({"dialogFlowId": True}, "dialogFlowId"),
    ({"robotCount": 0}, "robotCount"),
    ({"robotCount": "many"}, "robotCount"),
    ({"robotCount": 10**30}, "robotCount"),
    ({"robotCount": 21}, "robotCount"),
    ({"dailyStartTime": "9点"}, "dailyStartTime"),
    ({"dailyStartTime": "25:00"}, "dailyStartTime"),
    ({"dailyEndTime": None}, "dailyEndTime"),
    ({"dailyStartTime": "07:00"}, "dailyStartTime"),
    ({"dailyStartTime": "20:00", "dailyEndTime": "09:00"}, "dailyEndTime"),
    ({"inactiveStartTime": "12:00"}, "inactiveEndTime"),
    ({"inactiveStartTime": "21:00", "inactiveEndTime": "21:30"}, "inactiveStartTime"),
    ({"startTime": "tomorrow"}, "startTime"),
    ({"startTime": "2018-02-30 09:00:00"}, "startTime"),
    ({"phoneType": "MOBILE"}, "jobPhoneNumberList[0]"),
    ({"phoneType": "FAX"}, "phoneType"),
    ({"smsAlertLevel": ["Z"]}, "smsAlertLevel[0]"),
    ({"wechatSendMethod": "SOMETIMES"}, "wechatSendMethod"),
    ({"description": "x" * 1001}, "description"),
    ({"name": "bad\u0000name"}, "name"),
]


@pytest.mark.parametrize(("change", "field"), BAD_CREATE, ids=[f for _, f in BAD_CREATE])
async def test_bad_create_is_412_naming_the_field(
    yiwise_http: httpx.AsyncClient, store: Store, change: dict[str, object], field: str
) -> None:
    account = await yiwise_account(store, yiwise_http)
    answer = await account.client.post("task/createTask", create_body(account, **change))
    assert answer["code"] == 412, answer
    assert answer["resultMsg"].startswith("参数错误") and field in answer["resultMsg"], answer["resultMsg"]


async def test_bad_input_everywhere_is_never_500(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    c = account.client
    task_id = await _task(account)
    draft = await c.post("task/createTask", {**create_body(account), "jobPhoneNumberList": []})
    assert draft["code"] == 412 and "jobPhoneNumberList" in draft["resultMsg"]
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        ("GET", "task/getTaskDetail", {}, 412),
        ("GET", "task/getTaskDetail", {"robotCallJobId": "abc"}, 412),
        ("GET", "task/getTaskDetail", {"robotCallJobId": "99999999999999999"}, 404),
        ("GET", "task/getTaskDetail", {"robotCallJobId": "-1"}, 404),
        ("GET", "task/phoneLogInfo", {"callRecordId": "1e3"}, 412),
        ("GET", "task/getTasks", {"pageNum": "0"}, 412),
        ("GET", "task/getTasks", {"pageSize": "-5"}, 412),
        ("GET", "task/getTasks", {"pageNum": "x"}, 412),
        ("GET", "task/getTasks", {"pageNum": "99999999999999999999"}, 412),
        ("GET", "task/getTasks", {"status": "RUNNING_FAST"}, 412),
        ("POST", "task/start", {}, 412),
        ("POST", "task/start", {"robotCallJobId": [1]}, 412),
        ("POST", "task/update", {"robotCallJobId": task_id}, 412),
        ("POST", "task/update", {"robotCallJobId": task_id, "robotCount": 0}, 412),
        ("POST", "task/importTaskCustomer", {"robotCallJobId": task_id}, 412),
        ("POST", "task/importTaskCustomer", {"robotCallJobId": task_id, "customerPersons": [1]}, 412),
        ("POST", "task/importTaskCustomer", {"robotCallJobId": task_id, "customerPersons": [{"name": "x"}]}, 412),
        (
            "POST",
            "task/importTaskCustomer",
            {"robotCallJobId": task_id, "customerPersons": [{"name": "x", "phoneNumber": "1", "properties": [1]}]},
            412,
        ),
        ("POST", "task/getCallRecordInfoList", {}, 412),
        ("POST", "task/getCallRecordInfoList", {"robotCallJobId": task_id, "resultStatuses": ["MAYBE"]}, 412),
        ("POST", "task/getCallRecordInfoList", {"robotCallJobId": task_id, "resultStatuses": [99]}, 412),
        ("POST", "task/getCallRecordInfoList", {"robotCallJobId": task_id, "intentLevels": ["G"]}, 412),
        ("POST", "task/getCallRecordInfoList", {"robotCallJobId": task_id, "earliestCreationTime": "11/05"}, 412),
        ("POST", "task/getCallRecordInfoList", {"robotCallJobId": task_id, "followStatus": "BORED"}, 412),
        ("POST", "task/getCallRecordInfoList", {"robotCallJobId": task_id, "getTrainTaskList": "perhaps"}, 412),
        ("POST", "task/getCallRecordInfoList", {"robotCallJobId": task_id, "searchWords": {"a": 1}}, 412),
        ("POST", "task/createTask", {"robotCallJob": "not an object"}, 412),
        ("POST", "task/createTask", {}, 412),
    ]
    for method, path, params, code in cases:
        if method == "GET":
            answer = await c.get(path, **params)
        else:
            answer = await c.post(path, params)
        assert answer["code"] == code, (path, params, answer)
        assert answer["errorStackTrace"] is None
    too_many = [{"name": "x", "phoneNumber": "13900000000"}] * 10_001
    answer = await c.post("task/importTaskCustomer", {"robotCallJobId": task_id, "customerPersons": too_many})
    assert answer["code"] == 412 and "customerPersons" in answer["resultMsg"]


async def test_envelope_on_transport_errors(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    c = account.client
    unknown = await c.get_raw("linkTest/testGet")
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["data"]) == (200, 404, None)
    assert (await c.get("job/getJobStats"))["code"] == 404
    assert (await yiwise_http.get("/apiOpen/v2/company/getCompanies", headers=c.headers())).json()["code"] == 404
    wrong = await yiwise_http.post("/apiOpen/v1/company/getCompanies", json={}, headers=c.headers())
    assert (wrong.status_code, wrong.json()["code"]) == (405, 404)
    wrong_get = await c.get_raw("task/createTask")
    assert (wrong_get.status_code, wrong_get.json()["code"]) == (405, 404)
    for raw in (b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"'):
        answer = await yiwise_http.post("/apiOpen/v1/task/start", content=raw, headers=c.headers())
        assert (answer.status_code, answer.json()["code"]) == (200, 412), raw
    # GET with the demo's Content-Type and a body: the body is ignored.
    demo_get = await yiwise_http.request(
        "GET", "/apiOpen/v1/company/getCompanies", content=b"{broken", headers=c.headers()
    )
    assert demo_get.json()["code"] == 200


async def test_alert_settings_given_on_create_come_back_in_the_detail(
    yiwise_http: httpx.AsyncClient, store: Store
) -> None:
    """smsAlertLevel, wechatAlertLevel, alertUsers, earlyWarningAlertUsers, smsTemplateId and wechatSendMethod
    are kept with the task (its alert settings) and reported as given."""
    account = await yiwise_account(store, yiwise_http)
    body = create_body(
        account,
        smsAlertLevel=["A", 1],
        wechatAlertLevel=["B"],
        alertUsers=[7],
        earlyWarningAlertUsers=["8"],
        smsTemplateId=12,
        wechatSendMethod=1,
    )
    created = await account.client.post("task/createTask", body)
    assert created["code"] == 200, created
    detail = await account.client.get("task/getTaskDetail", robotCallJobId=created["data"])
    job = detail["data"]["robotCallJob"]
    assert (job["smsAlertLevel"], job["wechatAlertLevel"], job["alertUsers"], job["earlyWarningAlertUsers"]) == (
        ["A", "B"],
        ["B"],
        [7],
        [8],
    )
    assert (job["smsTemplateId"], job["wechatSendMethod"]) == (12, "SENDTOONE")
