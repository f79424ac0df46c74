"""The Yiwise OpenAPI document tells the truth: real answers validate against the schemas it is built from
(every field declared, none undeclared), and a request written to the schemas is accepted."""

from __future__ import annotations

import httpx
from test_yiwise_api import _records
from yiwise_setup import yiwise_account

from callbot.api.dialects.yiwise import schemas as s
from callbot.kit.db import Store


async def test_answers_match_the_documented_schemas(yiwise_http: httpx.AsyncClient, store: Store) -> None:
    account = await yiwise_account(store, yiwise_http)
    c = account.client
    job = {
        "name": "文档任务",
        "mode": "MANUAL",
        "dialogFlowId": account.script_id,
        "robotCount": 2,
        "dailyStartTime": "09:00",
        "dailyEndTime": "20:00",
    }
    body = {"robotCallJob": job, "jobPhoneNumberList": [{"key": account.line.id, "value": account.line.phone}]}
    parsed = s.read(s.TaskBody, body)  # the request the document declares is the one the dialect reads
    assert parsed.job.robot_count == 2 and parsed.job_phone_number_list == [account.line.id]
    created = s.Answer[int].model_validate(await c.post("task/createTask", body))
    assert created.code == 200 and created.data is not None
    task_id = created.data
    record_id = (await _records(store, account, task_id))[0]
    s.Answer[s.Company].model_validate(await c.get("company/getCompanies"))
    phones = s.Answer[list[s.Phone]].model_validate(await c.get("company/getPhones"))
    robots = s.Answer[list[s.Robot]].model_validate(await c.get("company/getRobots"))
    assert phones.data and robots.data
    tasks = s.Answer[s.Page[s.TaskRow]].model_validate(await c.get("task/getTasks", pageNum=1))
    assert tasks.data is not None and tasks.data.content[0].robot_call_job_id == task_id
    s.Answer[s.TaskDetail].model_validate(await c.get("task/getTaskDetail", robotCallJobId=task_id))
    records = s.Answer[s.Page[s.CallRecordRow]].model_validate(
        await c.post("task/getCallRecordInfoList", {"robotCallJobId": task_id})
    )
    assert records.data is not None and records.data.total_elements == 3
    s.Answer[s.CallDetail].model_validate(await c.get("task/phoneLogInfo", callRecordId=record_id))
    started = s.Answer[None].model_validate(await c.post("task/start", {"robotCallJobId": task_id}))
    assert started.code == 200
    refused = s.Answer[None].model_validate(await c.post("task/start", {"robotCallJobId": 999_999}))
    assert refused.code == 404 and refused.data is None
