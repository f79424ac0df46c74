"""The vendor's later demos, sent unchanged: the 2021 `job/create` (seats as a top-level `concurrencyQuota`,
no `robotCount`) and the 2022 `PATCH job/modify` (the 2019 fields). Each field is applied or refused by
name; none is dropped while the answer says success."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from yiwise_setup import YiwiseAccount, create_body, yiwise_account

from callbot.kit.db import Store
from callbot.models import Task
from callbot.task import service as task_service


def demo_2021_create(account: YiwiseAccount, **top: object) -> dict[str, Any]:
    """`SimpleDemo.createTask()` of 2021: `robotCount` commented out, `concurrencyQuota` beside the job."""
    return {
        "concurrencyQuota": 1,
        "jobPhoneNumberIdList": [account.line.id],
        "robotCallJob": {
            "alertUsers": [],
            "dailyEndTime": "20:00:00",
            "dailyStartTime": "09:00:00",
            "description": "gthjoitjdjfdk",
            "dialogFlowId": account.script_id,
            "earlyWarningAlertUsers": [],
            "inactiveEndTime": "13:00:00",
            "inactiveStartTime": "12:00:00",
            "mode": "MANUAL",
            "name": "测试名称0110-01",
            "phoneType": "UNFIXED_CALL",
            "smsAlertLevel": ["A"],
            "smsTemplateId": 1,
            "startTime": "2018-11-07 05:05:05",
            "tenantId": 73,
            "wechatAlertLevel": [],
            "wechatSendMethod": "SENDTOALL",
        },
        **top,
    }


def demo_2022_modify(task_id: int, line_id: int) -> dict[str, Any]:
    """`TestDemo` of 2022: the job's fields (some of them twice), and `concurrencyQuota` at both levels."""
    job = {
        "concurrencyQuota": 3,
        "enableConcurrency": True,
        "robotCallJobId": task_id,
        "name": "测试2",
        "mode": "AUTO",
        "dailyStartTime": "09:00",
        "dailyEndTime": "21:00",
        "inactiveTimeList": [{"startTime": "10:00", "endTime": "11:00"}, {"startTime": "12:00", "endTime": "13:00"}],
        "description": "任务描述信息",
        "smsTemplateId": 1,
        "robotCount": 2,
        "wechatAlertLevelCode": ["0", "1"],
        "wechatConditionAlertLevel": [2],
        "wechatAlertChatDurationThreshold": 10,
        "smsAlertLevel": [],
        "alertUsers": [1, 5],
        "startTime": "2026-11-21 04:32:56",
        "redialCondition": ["CALL_LOSS"],
        "redialInterval": 6,
        "redialTimes": 6,
        "transferPhoneNumber": ["1523654789", "1758426896"],
    }
    return {"concurrencyQuota": 2, "jobPhoneNumberIdList": [line_id], "robotCallJob": job}


async def _task(store: Store, account: YiwiseAccount, task_id: int) -> Task:
    async with store.transaction() as tx:
        return await task_service.get_task(tx, account.tenant, task_id)


@pytest.mark.parametrize(("quota", "seats"), [(1, 1), (3, 3), ("4", 4)])
async def test_2021_create_takes_its_seats_from_concurrency_quota(
    yiwise_http: httpx.AsyncClient, store: Store, quota: object, seats: int
) -> None:
    account = await yiwise_account(store, yiwise_http)
    answer = await account.client.post("job/create", demo_2021_create(account, concurrencyQuota=quota))
    assert answer["code"] == 200, answer
    task = await _task(store, account, answer["data"]["robotCallJobId"])
    assert task.robot_count == seats


async def test_create_without_any_seat_count_names_both_fields(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    body = demo_2021_create(account)
    del body["concurrencyQuota"]
    answer = await account.client.post("job/create", body)
    assert answer["code"] == 412 and "robotCount" in answer["resultMsg"] and "concurrencyQuota" in answer["resultMsg"]


async def test_2022_modify_applies_every_field_it_sends(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    c = account.client
    created = await c.post("task/createTask", create_body(account, robotCount=5))
    task_id = created["data"]
    body = demo_2022_modify(task_id, account.line.id)
    del body["robotCallJob"]["transferPhoneNumber"]  # refused: see below
    # Signed once and sent on two requests at once, as the demo does.
    signed = c.headers()
    assert (await c.http.get("/apiOpen/v1/tenant/getTenant", headers=signed)).json()["code"] == 200
    answer = (await c.http.patch("/apiOpen/v1/job/modify", json=body, headers=signed)).json()
    assert answer["code"] == 200, answer
    task = await _task(store, account, task_id)
    assert (task.name, task.mode.value, task.description) == ("测试2", "AUTO", "任务描述信息")
    assert task.robot_count == 2  # robotCount 2, concurrencyQuota 2 and 3: every limit holds
    assert task.inactive_windows == [["10:00:00", "11:00:00"], ["12:00:00", "13:00:00"]]
    alerts = task_service.alerts(task)
    assert [level.value for level in alerts.wechat_levels] == ["A", "B"]  # wechatAlertLevelCode 0, 1
    assert [level.value for level in alerts.wechat_condition_levels] == ["C"]
    assert alerts.wechat_condition_min_seconds == 10
    assert (alerts.sms_levels, alerts.users, alerts.sms_template_id) == ([], [1, 5], 1)
    # CALL_LOSS never happens on callbot (it never dials past its seats): the rule redials nobody.
    assert task.redial_rules == []
    # A rule on results callbot has is kept as sent.
    redial = {"robotCallJobId": task_id, "redialCondition": ["NO_ANSWER", "BUSY"], "redialInterval": 30}
    answer = await c.post("task/modify", {"robotCallJob": {**redial, "redialTimes": 2}})
    assert answer["code"] == 200, answer
    task = await _task(store, account, task_id)
    assert task.redial_rules == [{"results": ["NO_ANSWER", "BUSY"], "delay_minutes": 30, "max_times": 2}]
    assert [level.value for level in task_service.alerts(task).wechat_levels] == ["A", "B"]  # untouched
    assert (await c.post("task/modify", {"robotCallJob": {**redial, "redialCondition": []}}))["code"] == 200
    assert (await _task(store, account, task_id)).redial_rules == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, "robotCallJob.transferPhoneNumber"),  # the demo's body as it is
        ({"transferPhoneNumber": [], "enableConcurrency": False}, "robotCallJob.enableConcurrency"),
        ({"transferPhoneNumber": [], "enableConcurrency": "maybe"}, "robotCallJob.enableConcurrency"),
        ({"transferPhoneNumber": [], "redialTimes": None}, "redialTimes"),
        ({"transferPhoneNumber": [], "redialInterval": 5}, "redialInterval"),
        ({"transferPhoneNumber": [], "redialTimes": 11}, "redialTimes"),
        ({"transferPhoneNumber": [], "redialCondition": ["SOMETIMES"]}, "redialCondition[0]"),
        (
            {"transferPhoneNumber": [], "inactiveTimeList": [{"startTime": "10:00", "endTime": "11:00"}] * 4},
            "inactiveTimeList",
        ),
        ({"transferPhoneNumber": [], "inactiveTimeList": [{"startTime": "25:00"}]}, "inactiveTimeList[0].startTime"),
        ({"transferPhoneNumber": [], "inactiveStartTime": "12:00", "inactiveEndTime": "13:00"}, "inactiveTimeList"),
        ({"transferPhoneNumber": [], "wechatAlertLevel": ["F"]}, "wechatAlertLevelCode"),
        ({"transferPhoneNumber": [], "wechatConditionAlertLevel": [9]}, "wechatConditionAlertLevel[0]"),
        ({"transferPhoneNumber": [], "concurrencyQuota": 0}, "robotCallJob.concurrencyQuota"),
    ],
)
async def test_2022_modify_refuses_by_name_and_changes_nothing(
    yiwise_http: httpx.AsyncClient, store: Store, change: dict[str, Any], field: str
) -> None:
    account = await yiwise_account(store, yiwise_http)
    created = await account.client.post("task/createTask", create_body(account, robotCount=5))
    task_id = created["data"]
    body = demo_2022_modify(task_id, account.line.id)
    body["robotCallJob"].update(change)
    answer = (
        await account.client.http.patch("/apiOpen/v1/job/modify", json=body, headers=account.client.headers())
    ).json()
    assert answer["code"] == 412, answer
    assert field in answer["resultMsg"], answer["resultMsg"]
    task = await _task(store, account, task_id)
    assert (task.name, task.robot_count, task.inactive_windows) == ("API任务", 5, [])
