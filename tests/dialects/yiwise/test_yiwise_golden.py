"""Golden tests: each endpoint's request and response exactly as the spec's examples (§8), on the spec's own
data; the signature test vectors (§2.4)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from yiwise_client import yiwise_signature
from yiwise_world import V1, build_world, world_client

from callbot.api.dialects.yiwise.auth import sign
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import CallRecord, Customer, Task

VECTORS = [
    (
        "cbDemoAppKey0001",
        "cbDemoAppSecret0123456789abcdefX",
        "callbotdemo",
        "1540800000000",
        "ef22d93603963bbeb44cdc77b7458b26b4ff0a5f1f9e4a8ef4adf3ad3149939e",
    ),
    (
        "Kq3vT8pLmN2xR7aZ",
        "s9GfH2jK4lQ8wE1rT6yU3iO0pA5dS7zX",
        "hzbank01",
        "1541030400123",
        "af8431d57338eb4bc81b3c032912e3fa7ee208191bf6bab43c3fc9ba0885ee22",
    ),
    # The plain string in a comment of the 2021 SimpleDemo.java.
    (
        "VIZAUBsPBybeKwIx",
        "vdEXVJCrFNLVHndcqfIFebskWlfYPvZD",
        "testopenapi",
        "1595298439679",
        "23ffd2b7325b75912ad80a36484a19933bb62ca78ac5983e57681a7f6f657e16",
    ),
]


@pytest.mark.parametrize(("key", "secret", "tenant_sign", "timestamp", "expected"), VECTORS)
def test_signature_vectors(key: str, secret: str, tenant_sign: str, timestamp: str, expected: str) -> None:
    assert sign(key, secret, tenant_sign, "v1", timestamp) == expected
    assert yiwise_signature(key, secret, tenant_sign, "v1", timestamp) == expected


def envelope_of(response: httpx.Response) -> dict[str, Any]:
    """The body, checked for the envelope's fixed parts; requestId is random so it is dropped."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].replace(" ", "").lower() == "application/json;charset=utf-8"
    body: dict[str, Any] = response.json()
    assert list(body) == ["code", "data", "requestId", "resultMsg", "errorStackTrace"]
    assert re.fullmatch(r"[A-Z]{8}", body.pop("requestId"))
    return body


def spec(text: str) -> dict[str, Any]:
    example: dict[str, Any] = json.loads(text)
    example.pop("requestId")
    return example


async def test_get_companies_with_the_spec_request_signed_by_v1(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    await build_world(store)
    assert isinstance(store.clock, FrozenClock)
    store.clock.set(datetime(2018, 10, 29, 8, 0, 5, tzinfo=UTC))  # V1's timestamp is 16:00:00 +08:00
    headers = {k: v for k, v in V1.items()} | {"version": "v1"}
    response = await yiwise_http.get("/apiOpen/v1/company/getCompanies", headers=headers)
    assert envelope_of(response) == spec(
        '{"code":200,"data":{"tenantId":37,"companyName":"杭州禾木信息技术有限公司",'
        '"tenantName":"杭州禾木信息技术有限公司"},"requestId":"QHZLMTRA","resultMsg":"获取成功","errorStackTrace":null}'
    )


async def test_get_phones(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    world = await build_world(store)
    async with store.transaction() as tx:  # three calls in flight on line 512
        for i in range(3):
            tx.session.add(
                Customer(
                    tenant_id=37,
                    task_id=1052,
                    name="",
                    phone=f"1380000000{i}",
                    properties={},
                    status="DIALLING",
                    dial_line_id=world.line.id,
                    created_at=store.clock.now(),
                )
            )
    response = await world_client(yiwise_http, store).http.get(
        "/apiOpen/v1/company/getPhones", headers=world_client(yiwise_http, store).headers()
    )
    assert envelope_of(response) == spec(
        '{"code":200,"data":[{"userPhoneId":512,"phone":"057188880001","phoneName":"杭州中继1",'
        '"phoneType":"UNFIXED_CALL","concurrency":3,"maxConcurrency":30}],"requestId":"NWPKDDRE",'
        '"resultMsg":"获取成功","errorStackTrace":null}'
    )


async def test_get_robots(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    await build_world(store)
    client = world_client(yiwise_http, store)
    assert envelope_of(await client.get_raw("company/getRobots")) == spec(
        '{"code":200,"data":[{"robotDialogFlowId":88,"name":"信用卡分期回访","type":"NORMAL",'
        '"industry":{"name":"FINANCE","desc":"金融类"},"subIndustry":{"name":"OTHER","desc":"其他产品推广"},'
        '"familyNameTemplateId":null,"status":"APPROVED"}],"requestId":"BDKRUEXA","resultMsg":"获取成功",'
        '"errorStackTrace":null}'
    )


CREATE_BODY = (
    '{"jobPhoneNumberList":[{"key":512,"value":"057188880001"}],"robotCallJob":{"name":"11月分期回访",'
    '"mode":"AUTO","startTime":"2018-11-05 09:30:00","dailyStartTime":"09:00","dailyEndTime":"20:00",'
    '"inactiveStartTime":"12:00","inactiveEndTime":"13:30","dialogFlowId":88,"phoneType":"UNFIXED_CALL",'
    '"robotCount":5,"smsAlertLevel":["A"],"wechatSendMethod":"SENDTONONE","description":"API创建"}}'
)


async def test_create_task(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    await build_world(store)
    client = world_client(yiwise_http, store)
    body = envelope_of(await client.post_raw("task/createTask", json.loads(CREATE_BODY)))
    new_id = body["data"]
    assert isinstance(new_id, int) and new_id != 1052
    assert body == {"code": 200, "data": new_id, "resultMsg": "创建成功", "errorStackTrace": None}
    detail = (await client.get("task/getTaskDetail", robotCallJobId=new_id))["data"]
    job = detail["robotCallJob"]
    assert (job["name"], job["mode"], job["status"], job["robotCount"], job["dialogFlowId"]) == (
        "11月分期回访",
        "AUTO",
        "NOT_STARTED",
        5,
        88,
    )
    assert (job["dailyStartTime"], job["dailyEndTime"], job["inactiveStartTime"], job["inactiveEndTime"]) == (
        "09:00:00",
        "20:00:00",
        "12:00:00",
        "13:30:00",
    )
    assert (job["startTime"], job["description"]) == ("2018-11-05 09:30:00", "API创建")
    assert job["phoneType"] == "UNFIXED_CALL"
    assert detail["jobPhoneNumberList"] == [{"key": 512, "value": "057188880001"}]


@pytest.mark.parametrize(
    ("path", "message"),
    [("task/start", "修改成功"), ("task/pause", "修改成功"), ("task/stop", "修改成功"), ("task/delete", "删除成功")],
)
async def test_task_control(yiwise_http: httpx.AsyncClient, store: Store, path: str, message: str) -> None:
    await build_world(store)
    client = world_client(yiwise_http, store)
    if path == "task/start":
        await client.post("task/pause", {"robotCallJobId": 1052})
    body = envelope_of(await client.post_raw(path, {"robotCallJobId": 1052}))
    assert body == {"code": 200, "data": None, "resultMsg": message, "errorStackTrace": None}
    async with store.transaction() as tx:
        task = await tx.session.get(Task, 1052)
        assert task is not None
        expected = {"task/start": "RUNNABLE", "task/pause": "USER_PAUSE", "task/stop": "TERMINATE"}
        if path == "task/delete":
            assert task.deleted and task.status == "TERMINATE"
        else:
            assert task.status == expected[path]


async def test_import_task_customer(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    await build_world(store)
    client = world_client(yiwise_http, store)
    request = {
        "robotCallJobId": 1052,
        "customerPersons": [{"name": "李女士", "phoneNumber": "13900005678", "properties": {"amount": "3200"}}],
    }
    body = envelope_of(await client.post_raw("task/importTaskCustomer", request))
    assert body == spec('{"code":200,"data":null,"requestId":"XUPCHRKE","resultMsg":"修改成功","errorStackTrace":null}')
    async with store.transaction() as tx:
        added = await tx.session.scalar(select(Customer).where(Customer.phone == "13900005678"))
        assert added is not None
        assert (added.task_id, added.name, added.properties) == (1052, "李女士", {"amount": "3200"})


async def test_update_seats(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    await build_world(store)
    client = world_client(yiwise_http, store)
    body = envelope_of(await client.post_raw("task/update", {"robotCallJobId": 1052, "robotCount": 8}))
    assert body == {"code": 200, "data": None, "resultMsg": "修改成功", "errorStackTrace": None}
    detail = await client.get("task/getTaskDetail", robotCallJobId=1052)
    assert detail["data"]["robotCallJob"]["robotCount"] == 8


async def test_get_tasks(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    await build_world(store)
    client = world_client(yiwise_http, store)
    response = await client.get_raw("task/getTasks", name="分期", status="IN_PROCESS", pageNum=1, pageSize=20)
    assert envelope_of(response) == spec(
        '{"code":200,"data":{"number":1,"pageSize":20,"totalElements":1,"pages":1,"content":[{"robotCallJobId":1052,'
        '"name":"11月分期回访","status":"IN_PROCESS","completedTask":180,"taskCallTotal":200,'
        '"creationTime":"2018-11-04 17:12","createdByUserName":"api","organizationName":null}]},'
        '"requestId":"KFJWQZNS","resultMsg":"获取成功","errorStackTrace":null}'
    )


TASK_DETAIL = """{"code":200,"data":{"robotCallJob":{"robotCallJobId":1052,"tenantId":37,"dialogFlowId":88,
"name":"11月分期回访","mode":"AUTO","robotCount":5,"smsTemplateId":null,"phoneType":"UNFIXED_CALL",
"dailyStartTime":"09:00:00","dailyEndTime":"20:00:00","inactiveStartTime":"12:00:00","inactiveEndTime":"13:30:00",
"description":"API创建","wechatAlertLevel":[],"smsAlertLevel":["A"],"alertUsers":[],"wechatSendMethod":"SENDTONONE",
"status":"IN_PROCESS","startTime":"2018-11-05 09:30:00","nextStartTime":"09:00:00",
"creationTime":"2018-11-04 17:12:40","lastModifiedTime":"2018-11-06 11:02:13","earlyWarningAlertUsers":[]},
"jobPhoneNumberList":[{"key":512,"value":"057188880001"}],"completedTask":180,"taskCallTotal":200,
"createdByUserName":"api","organizationName":null,"dialogFlowName":"信用卡分期回访","smsTemplateName":null,
"systemPauseNextStart":null,
"callJobStatsInfo":{"taskProgress":90.0,"answeredRate":45.0,"intentLevel":{"A":9,"B":14,"C":20,"D":18,"E":20,"F":99},
"taskCallTotal":180,"answeredTask":81,"chatDurationTotal":4860,"completedTask":180,
"customerConcern":["价格","利息","额度"],"dialResult":{"ANSWERED":81,"NO_ANSWER":40,"BUSY":12,"POWER_OFF":10,
"OUT_OF_SERVICE":6,"REFUSED":9,"VACANT_NUMBER":8,"CAN_NOT_CONNECT":11,"FROM_PHONE_ERROR":0,"SYSTEM_ERROR":3},
"chatRound":{"LESS_3":25,"F3_T6":30,"F6_T10":18,"F10_MORE":8},"chatDuration":{"LESS_10S":12,"F10S_T1MIN":35,
"F1MIN_T2MIN":22,"F2MIN_T3MIN":9,"F3MIN_TMORE":3},
"callJobStatsBrokenLine":{"taskCallCompletedList":[{"date":"2018-11-05","val":100},{"date":"2018-11-06","val":80}],
"answeredTaskList":[{"date":"2018-11-05","val":47},{"date":"2018-11-06","val":34}],
"answeredTaskRateList":[{"date":"2018-11-05","val":47.00},{"date":"2018-11-06","val":42.50}],
"chatDurationTotalList":[{"date":"2018-11-05","val":2726},{"date":"2018-11-06","val":2134}],
"averageDurationList":[{"date":"2018-11-05","val":5800},{"date":"2018-11-06","val":6276}]}}},
"requestId":"RWOEBHTG","resultMsg":"获取成功","errorStackTrace":null}"""


async def test_get_task_detail(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    await build_world(store)
    client = world_client(yiwise_http, store)
    got = envelope_of(await client.get_raw("task/getTaskDetail", robotCallJobId=1052))
    expected = spec(TASK_DETAIL)
    assert got == expected
    stats, spec_stats = got["data"]["callJobStatsInfo"], expected["data"]["callJobStatsInfo"]
    assert list(stats["dialResult"]) == list(spec_stats["dialResult"])


RECORD_LIST = """{"code":200,"data":{"number":1,"pageSize":20,"totalElements":1,"pages":1,"content":[{
"callRecordId":700231,"tenantId":37,"robotCallJobId":1052,"dialogFlowId":88,"robotCallTaskId":3300412,
"customerPersonId":3300412,"calledPhoneNumber":"13900001234","phoneNumberId":512,"resultStatus":"ANSWERED",
"intentLevel":"A","realIntentLevel":null,"customerConcern":["利息"],
"fullAudioUrl":"https://callbot.example.com/r/700231/full.wav?t=9c1e7a",
"customerAudioUrl":"https://callbot.example.com/r/700231/customer.wav?t=9c1e7a","analysisBasis":"客户同意办理分期",
"startTime":"2018-11-06 10:41:07","chatDuration":74,"chatRound":6,"manualMarked":false,"readStatus":"NOT_READ",
"customerGroupName":null,"robotCallJobName":"11月分期回访","dialogFlowName":"信用卡分期回访",
"customerPersonInfo":null,"callDetailList":null}]},"requestId":"PYEHUGLS","resultMsg":"获取成功",
"errorStackTrace":null}"""


async def test_get_call_record_info_list(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    await build_world(store)
    client = world_client(yiwise_http, store)
    request = json.loads(
        '{"robotCallJobId":1052,"resultStatuses":["ANSWERED"],"intentLevels":["A","B"],'
        '"earliestCreationTime":"2018-11-05","latestCreationTime":"2018-11-06","pageNum":1,"pageSize":20}'
    )
    # The spec's page holds 23 rows; the world has the one shown (the paging fields follow the count).
    assert envelope_of(await client.post_raw("task/getCallRecordInfoList", request)) == spec(RECORD_LIST)


PHONE_LOG = """{"code":200,"data":{"callRecordId":700231,
"customerAudioUrl":"https://callbot.example.com/r/700231/customer.wav?t=9c1e7a","startTime":"2018-11-06T10:41:07",
"endTime":"2018-11-06T10:42:21","chatRound":6,"chatDuration":74,"customerPerson":{"customerPersonId":3300412,
"creationTime":"2018-11-04 17:15","tenantId":37,"customerGroupId":null,"name":"王先生","phoneNumber":"13900001234",
"wechatNumber":null,"source":"UPLOADED_BY_YOURSELF","lastEmotion":"UNKNOWN","customerLevel":"UNKNOWN",
"gender":"UNKNOWN","followUserId":null,"followStatus":"AI_INITIAL_VISIT","properties":{"amount":"3200"},
"lastFollowTime":"2018-11-06 10:42:21","lastChatDuration":74,"lastStartTime":"2018-11-06 10:41:07",
"attributes":["有意向"],"lastIntentLevel":"A","lastDialStatus":"ANSWERED","assignTime":null,"customerGroupName":null},
"resultStatus":"ANSWERED","intentLevel":"A","realIntentLevel":null,"customerConcern":["利息"],
"fullAudioUrl":"https://callbot.example.com/r/700231/full.wav?t=9c1e7a","analysisBasis":"客户同意办理分期",
"callDetailList":[{"text":"王先生您好，我是招商银行信用卡中心的客服，您的账单可以办理分期，现在方便听我介绍一下吗？",
"type":"ROBOT","callDetailId":1},{"text":"嗯你说","type":"PERSON","callDetailId":2}],"manualMarked":false,
"robotCallJobId":1052,"attributes":["有意向"]},"requestId":"GZXWQKNE","resultMsg":"执行成功","errorStackTrace":null}"""


async def test_phone_log_info_marks_the_call_read(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    await build_world(store)
    client = world_client(yiwise_http, store)
    assert envelope_of(await client.get_raw("task/phoneLogInfo", callRecordId=700231)) == spec(PHONE_LOG)
    async with store.transaction() as tx:
        record = await tx.session.get(CallRecord, 700231)
        assert record is not None and record.read
    rows = await client.post("task/getCallRecordInfoList", {"robotCallJobId": 1052})
    assert rows["data"]["content"][0]["readStatus"] == "HAS_READ"
