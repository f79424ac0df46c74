"""The Yiwise v1 endpoints (§5, §8) under `/apiOpen/v1/`, `/v1/` and the pre-release prefixes.

One catch-all route per prefix dispatches by path, so that every answer (unknown paths, wrong methods,
unparsable bodies included) wears the envelope. Each operation parses vendor fields, calls the same
services as the native API, and renders vendor shapes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from callbot.api.dialects.yiwise import auth, envelope, mapping
from callbot.api.dialects.yiwise.envelope import (
    BAD_PARAMETER,
    NOT_FOUND,
    SERVER_ERROR,
    YiwiseError,
    bad_parameter,
)
from callbot.api.dialects.yiwise.options import YiwiseOptions
from callbot.campaign import service as campaign_service
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.errors import CallbotError
from callbot.kit.db import Store, Tx
from callbot.kit.paging import PageRequest
from callbot.line import service as line_service
from callbot.models import Task, Tenant, User
from callbot.models.enums import CallResult, Level
from callbot.record import service as record_service
from callbot.record import stats as stats_service
from callbot.record.service import RecordFilter
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate, TaskFilter, TaskUpdate
from callbot.task.states import TaskAction
from callbot.tenant import service as tenant_service

log = logging.getLogger("callbot.yiwise")

PREFIXES = ("/apiOpen", "/openApi", "/openapi")
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
IMPORT_LIMIT = 10_000
NAME_MAX = 50
DESCRIPTION_MAX = 1000
API_USER = "api"


@dataclass
class Call:
    """One authenticated request: its transaction, tenant, parameters (query or JSON body) and path."""

    tx: Tx
    tenant: Tenant
    params: dict[str, Any]
    options: YiwiseOptions
    path: str


Handler = Callable[[Call], Awaitable[tuple[Any, str]]]


@dataclass(frozen=True)
class Operation:
    methods: frozenset[str]
    handler: Handler


# --- company, lines, scripts (§8.1-8.3) ----------------------------------------------------------------


async def get_companies(call: Call) -> tuple[Any, str]:
    return mapping.company(call.tenant), envelope.FETCHED


async def get_phones(call: Call) -> tuple[Any, str]:
    lines = await line_service.list_lines(call.tx, call.tenant)
    in_use = (await campaign_service.in_flight(call.tx, call.tenant.id)).by_line
    return [mapping.phone_row(line, in_use.get(line.id, 0)) for line in lines], envelope.FETCHED


async def get_robots(call: Call) -> tuple[Any, str]:
    scripts = await script_service.list_scripts(call.tx, call.tenant)
    return [mapping.robot_row(script) for script in scripts], envelope.FETCHED


# --- tasks (§8.4-8.9) ----------------------------------------------------------------------------------


def _job_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """The task's fields: `robotCallJob`, or the body itself when the seed's flat form is sent."""
    job = params.get("robotCallJob")
    if job is None:
        return dict(params)
    return mapping.parse_object(job, "robotCallJob")


def _nested(params: Mapping[str, Any]) -> bool:
    """The body has a `robotCallJob` (else the seed's flat form: the job's fields are the body's)."""
    return params.get("robotCallJob") is not None


def _either(params: Mapping[str, Any], job: Mapping[str, Any], name: str) -> tuple[Any, str]:
    """A field the vendor documents at top level that clients also send inside `robotCallJob` (the 2022 demo
    does both): its value (the job's first) and the name to report it under."""
    if mapping.present(job.get(name)) and _nested(params):
        return job.get(name), f"robotCallJob.{name}"
    return params.get(name), name


def _seats(params: Mapping[str, Any], job: Mapping[str, Any]) -> int | None:
    """AI seats from `robotCount` and the 2019 `concurrencyQuota` (并发数), None when neither is sent. The
    vendor defaults robots to the concurrency quota; sent together, both limits hold, so the smaller wins."""
    counts = []
    if mapping.present(job.get("robotCount")):
        counts.append(mapping.parse_count(job.get("robotCount"), "robotCount"))
    sources = [(params, "concurrencyQuota")]
    if _nested(params):
        sources.append((job, "robotCallJob.concurrencyQuota"))
    for source, name in sources:
        if mapping.present(source.get("concurrencyQuota")):
            counts.append(mapping.parse_count(source.get("concurrencyQuota"), name))
    return min(counts) if counts else None


def _inactive_list(value: Any, field: str) -> list[dict[str, Any]]:
    """The 2019 `inactiveTimeList`: up to three `{startTime, endTime}` slots; an empty slot is no pause."""
    slots = mapping.parse_list(value, field)
    if len(slots) > 3:
        raise bad_parameter(field, "at most three inactive slots")
    windows = []
    for i, slot in enumerate(slots):
        where = f"{field}[{i}]"
        slot = mapping.parse_object(slot, where)
        start = mapping.parse_time(slot.get("startTime"), f"{where}.startTime")
        end = mapping.parse_time(slot.get("endTime"), f"{where}.endTime")
        if start != end:
            windows.append({"start": start, "end": end})
    return windows


REDIAL_INTERVAL = (6, 24 * 60)  # minutes, the vendor's range
REDIAL_TIMES = (1, 10)


def _redial_rules(job: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The 2019 automatic redial (自动重拨): `redialCondition`, `redialInterval` (minutes) and `redialTimes`,
    all three or none; None when none is sent. `CALL_LOSS` and `TRANSFER_ARTIFICIAL` are conditions that
    never happen on callbot (it never dials past its seats and has no agent queue): a rule on them alone
    redials nobody."""
    names = ("redialCondition", "redialInterval", "redialTimes")
    sent = [name for name in names if mapping.present(job.get(name))]
    if not sent:
        return None
    conditions = mapping.parse_list(job.get("redialCondition"), "redialCondition")
    if "redialCondition" in sent and not conditions:
        return []  # no condition: automatic redial off
    for name in names:
        if name not in sent:
            raise bad_parameter(name, f"is required with {', '.join(sent)} (automatic redial needs all three)")
    results = [
        mapping.parse_enum(
            v, f"redialCondition[{i}]", list(mapping.ALL_RESULT_CODES.values()), mapping.ALL_RESULT_CODES
        )
        for i, v in enumerate(conditions)
    ]
    interval = mapping.parse_count(
        job.get("redialInterval"), "redialInterval", minimum=REDIAL_INTERVAL[0], maximum=REDIAL_INTERVAL[1]
    )
    times = mapping.parse_count(job.get("redialTimes"), "redialTimes", minimum=REDIAL_TIMES[0], maximum=REDIAL_TIMES[1])
    known = [r for r in dict.fromkeys(results) if r in mapping.RESULT_CODES.values()]
    return [{"results": known, "delay_minutes": interval, "max_times": times}] if known else []


def _levels(value: Any, field: str) -> list[str]:
    """Intent levels by name or code (`["A"]`, `[0, 1]`, `["0"]`)."""
    names = list(mapping.LEVEL_CODES.values())
    return [
        mapping.parse_enum(item, f"{field}[{i}]", names, mapping.LEVEL_CODES)
        for i, item in enumerate(mapping.parse_list(value, field))
    ]


def _refuse_unsupported(params: Mapping[str, Any], job: Mapping[str, Any]) -> None:
    """2019 fields callbot cannot honour are refused, never dropped."""
    numbers, where = _either(params, job, "transferPhoneNumber")
    if mapping.parse_list(numbers, where):
        raise bad_parameter(
            where,
            "per-task transfer numbers are not supported: a script's transfer node names its number "
            "(transfer_to), else the server's default transfer target is used",
        )
    enable, where = _either(params, job, "enableConcurrency")
    if mapping.present(enable) and enable is not True and str(enable).lower() != "true":
        if enable is False or str(enable).lower() == "false":
            raise bad_parameter(where, "false is not supported: a task always dials up to its seats (robotCount)")
        raise bad_parameter(where, "must be true or false")


def _task_fields(params: Mapping[str, Any], job: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Native task fields from a body and its `robotCallJob`. `partial`: only what was sent (modify)."""
    _refuse_unsupported(params, job)
    fields: dict[str, Any] = {}

    def given(name: str) -> bool:
        return not partial or mapping.present(job.get(name))

    if given("name"):
        fields["name"] = mapping.parse_str(job.get("name"), "name", required=True, max_length=NAME_MAX).strip()
    if given("mode"):
        if not mapping.present(job.get("mode")):
            raise bad_parameter("mode", "is required (AUTO or MANUAL)")
        fields["mode"] = mapping.parse_enum(job.get("mode"), "mode", mapping.MODES, ignore_case=True)
    if given("dialogFlowId"):
        fields["script_id"] = mapping.parse_id(job.get("dialogFlowId"), "dialogFlowId")
    seats = _seats(params, job)
    if seats is not None:
        fields["robot_count"] = seats
    if given("dailyStartTime"):
        fields["daily_start"] = mapping.parse_time(job.get("dailyStartTime"), "dailyStartTime")
    if given("dailyEndTime"):
        fields["daily_end"] = mapping.parse_time(job.get("dailyEndTime"), "dailyEndTime")
    start, end = job.get("inactiveStartTime"), job.get("inactiveEndTime")
    if mapping.present(job.get("inactiveTimeList")):
        if mapping.present(start) or mapping.present(end):
            raise bad_parameter("inactiveTimeList", "send either inactiveTimeList or inactiveStartTime/inactiveEndTime")
        fields["inactive_windows"] = _inactive_list(job.get("inactiveTimeList"), "inactiveTimeList")
    elif mapping.present(start) or mapping.present(end):
        if not (mapping.present(start) and mapping.present(end)):
            missing = "inactiveEndTime" if mapping.present(start) else "inactiveStartTime"
            raise bad_parameter(missing, "the inactive window needs both its start and its end")
        pause = (mapping.parse_time(start, "inactiveStartTime"), mapping.parse_time(end, "inactiveEndTime"))
        # 00:00/00:00 (or any empty slot) means no daily pause.
        fields["inactive_windows"] = [] if pause[0] == pause[1] else [{"start": pause[0], "end": pause[1]}]
    elif not partial:
        fields["inactive_windows"] = []
    if mapping.present(job.get("startTime")):
        fields["start_time"] = mapping.parse_datetime(job.get("startTime"), "startTime")
    if mapping.present(job.get("description")) or not partial:
        fields["description"] = mapping.parse_str(job.get("description"), "description", max_length=DESCRIPTION_MAX)
    rules = _redial_rules(job)
    if rules is not None:
        fields["redial_rules"] = rules
    alerts: dict[str, Any] = {}
    names = {"smsAlertLevel": "sms_levels", "wechatAlertLevel": "wechat_levels"}
    for name, native in names.items():
        if given(name):
            alerts[native] = _levels(job.get(name), name)
        # The 2019 docs add the same levels by code (`wechatAlertLevelCode: [0, 1]`).
        coded = f"{name}Code"
        if mapping.present(job.get(coded)):
            levels = _levels(job.get(coded), coded)
            if mapping.present(job.get(name)) and set(levels) != set(alerts[native]):
                raise bad_parameter(coded, f"names other levels than {name}")
            alerts[native] = levels
    # Conditional WeChat alerts (2019): these levels, once the call lasted the threshold (seconds).
    for name in ("wechatConditionAlertLevel", "wechatConditionAlertLevelCode"):
        if mapping.present(job.get(name)):
            alerts["wechat_condition_levels"] = _levels(job.get(name), name)
    if mapping.present(job.get("wechatAlertChatDurationThreshold")):
        alerts["wechat_condition_min_seconds"] = mapping.parse_count(
            job.get("wechatAlertChatDurationThreshold"), "wechatAlertChatDurationThreshold", minimum=0
        )
    for name, native in {"alertUsers": "users", "earlyWarningAlertUsers": "early_warning_users"}.items():
        if given(name):
            alerts[native] = [
                mapping.parse_int(item, f"{name}[{i}]")
                for i, item in enumerate(mapping.parse_list(job.get(name), name))
            ]
    if mapping.present(job.get("smsTemplateId")):
        alerts["sms_template_id"] = mapping.parse_int(job.get("smsTemplateId"), "smsTemplateId")
    if mapping.present(job.get("wechatSendMethod")):
        codes = mapping.WECHAT_SEND_METHOD_CODES
        alerts["wechat_send_method"] = mapping.parse_enum(
            job.get("wechatSendMethod"), "wechatSendMethod", list(codes.values()), codes
        )
    if alerts or not partial:
        fields["alerts"] = alerts
    return fields


async def _check_lines(call: Call, line_ids: list[int], phone_type: Any) -> None:
    """Unknown lines are 404 (§8.4); `phoneType`, a vendor field, must name the type of every chosen line."""
    lines = [await line_service.get_line(call.tx, call.tenant, line_id) for line_id in line_ids]
    if not mapping.present(phone_type):
        return
    codes = mapping.PHONE_TYPE_CODES
    wanted = mapping.parse_enum(phone_type, "phoneType", list(codes.values()), codes)
    for i, line in enumerate(lines):
        if line.type.value != wanted:
            raise bad_parameter(
                f"jobPhoneNumberList[{i}]", f"line {line.id} is {line.type.value}, not the task's phoneType {wanted}"
            )


async def _check_script(call: Call, script_id: int) -> None:
    """§8.4 for `modify`: switching to an unknown script → 404, to a draft → 412 (creation refuses a draft
    in the task service, for every surface)."""
    script = await script_service.get_script(call.tx, call.tenant, script_id)
    await script_service.approved_document(call.tx, script)


async def create_task(call: Call) -> tuple[Any, str]:
    job = _job_fields(call.params)
    fields = _task_fields(call.params, job, partial=False)
    line_ids = mapping.parse_line_ids(call.params, job)
    if "robot_count" not in fields:
        # The vendor: on SIM-card (MOBILE) lines each line is one robot; otherwise the quota is required.
        if str(job.get("phoneType", "")).strip().upper() not in ("MOBILE", "0"):
            raise bad_parameter("robotCount", "is required (or concurrencyQuota)")
        fields["robot_count"] = len(line_ids)
    data = TaskCreate.model_validate({**fields, "line_ids": line_ids})
    await _check_lines(call, line_ids, job.get("phoneType"))
    task = await task_service.create_task(call.tx, call.tenant, data)
    if call.path == "job/create":
        return {"robotCallJobId": task.id}, envelope.CREATED
    return task.id, envelope.CREATED


async def modify_task(call: Call) -> tuple[Any, str]:
    """Extension (§5): the create body plus `robotCallJob.robotCallJobId`, only while the task is not running."""
    job = _job_fields(call.params)
    task_id = mapping.parse_id(job.get("robotCallJobId", call.params.get("robotCallJobId")), "robotCallJobId")
    fields = _task_fields(call.params, job, partial=True)
    line_fields = ("jobPhoneNumberList", "jobPhoneNumberIdList")
    has_lines = any(mapping.present(src.get(f)) for src in (call.params, job) for f in line_fields)
    if has_lines:
        fields["line_ids"] = mapping.parse_line_ids(call.params, job)
        await _check_lines(call, fields["line_ids"], job.get("phoneType"))
    if "script_id" in fields:
        await _check_script(call, fields["script_id"])
    if "alerts" in fields:
        # Alert fields left out keep their values.
        task = await task_service.get_task(call.tx, call.tenant, task_id)
        fields["alerts"] = {**task_service.alerts(task).model_dump(mode="json"), **fields["alerts"]}
    await task_service.update_task(call.tx, call.tenant, task_id, TaskUpdate.model_validate(fields))
    return None, envelope.MODIFIED


def _task_id(call: Call) -> int:
    return mapping.parse_id(call.params.get("robotCallJobId"), "robotCallJobId")


# Repeating an operation already in effect answers 200 and changes nothing (§8.5): the idempotent operations.


async def start_task(call: Call) -> tuple[Any, str]:
    # `start` also resumes a paused task (§8.5: allowed from USER_PAUSE).
    await task_service.start_or_resume(call.tx, call.tenant, _task_id(call))
    return None, envelope.MODIFIED


async def pause_task(call: Call) -> tuple[Any, str]:
    await task_service.ensure_action(call.tx, call.tenant, _task_id(call), TaskAction.PAUSE)
    return None, envelope.MODIFIED


async def stop_task(call: Call) -> tuple[Any, str]:
    await task_service.ensure_action(call.tx, call.tenant, _task_id(call), TaskAction.STOP)
    return None, envelope.MODIFIED


async def delete_task(call: Call) -> tuple[Any, str]:
    await task_service.delete_task(call.tx, call.tenant, _task_id(call))
    return None, envelope.DELETED


async def import_customers(call: Call) -> tuple[Any, str]:
    task_id = _task_id(call)
    persons = call.params.get("customerPersons")
    if not isinstance(persons, list):
        raise bad_parameter("customerPersons", "is required (a list of customers)")
    if len(persons) > IMPORT_LIMIT:
        raise bad_parameter("customerPersons", f"at most {IMPORT_LIMIT} customers per request")
    rows: list[SourceRow] = []
    for i, person in enumerate(persons):
        where = f"customerPersons[{i}]"
        person = mapping.parse_object(person, where)
        name = mapping.parse_str(person.get("name"), f"{where}.name", max_length=100)
        phone = mapping.parse_str(person.get("phoneNumber"), f"{where}.phoneNumber", required=True, max_length=64)
        raw = person.get("properties")
        properties: dict[str, str] = {}
        if raw is not None:
            for key, value in mapping.parse_object(raw, f"{where}.properties").items():
                properties[key] = mapping.parse_str(value, f"{where}.properties.{key}")
        rows.append(SourceRow(row=i + 1, name=name, phone=phone, properties=properties))
    await customer_service.import_rows(call.tx, call.tenant, task_id, rows, source="yiwise")
    return None, envelope.MODIFIED


async def update_seats(call: Call) -> tuple[Any, str]:
    task_id = _task_id(call)
    robot_count = mapping.parse_count(call.params.get("robotCount"), "robotCount")
    await task_service.update_task(call.tx, call.tenant, task_id, TaskUpdate(robot_count=robot_count))
    return None, envelope.MODIFIED


def _creator(user: User | None) -> str:
    """`createdByUserName`: tasks made through the API have no console user."""
    return user.username if user is not None else API_USER


def _page(page: PageRequest, total: int, content: list[Any]) -> dict[str, Any]:
    return {
        "number": page.page,
        "pageSize": page.limit,
        "totalElements": total,
        "pages": (total + page.limit - 1) // page.limit,
        "content": content,
    }


async def get_tasks(call: Call) -> tuple[Any, str]:
    page = mapping.parse_page(call.params)
    statuses = mapping.task_status_filter(call.params.get("status"))
    name = mapping.parse_str(call.params.get("name"), "name", max_length=200) or None
    if statuses == []:
        return _page(page, 0, []), envelope.FETCHED
    found = await task_service.list_task_rows(call.tx, call.tenant, TaskFilter(name=name, status=statuses), page)
    rows = [mapping.task_row(row.task, call.tenant, _creator(row.owner)) for row in found.items]
    return _page(page, found.total, rows), envelope.FETCHED


async def get_task_detail(call: Call) -> tuple[Any, str]:
    task: Task = await task_service.get_task(call.tx, call.tenant, _task_id(call))
    stats = await stats_service.get_task_stats(call.tx, call.tenant, task.id)
    owner = await tenant_service.get_user(call.tx, call.tenant, task.owner_user_id) if task.owner_user_id else None
    script = await script_service.get_script(call.tx, call.tenant, task.script_id)
    detail = mapping.task_detail(task, call.tenant, created_by=_creator(owner), script_name=script.name, stats=stats)
    return detail, envelope.FETCHED


# --- call records (§8.10, §8.11) -----------------------------------------------------------------------


def _record_filter(call: Call, task_id: int) -> RecordFilter | None:
    """The record filter the body asks for; None when it can match nothing."""
    params, tenant = call.params, call.tenant
    results = [
        mapping.parse_enum(v, f"resultStatuses[{i}]", list(mapping.ALL_RESULT_CODES.values()), mapping.ALL_RESULT_CODES)
        for i, v in enumerate(mapping.parse_list(params.get("resultStatuses"), "resultStatuses"))
    ]
    levels = [
        mapping.parse_enum(v, f"intentLevels[{i}]", list(mapping.LEVEL_CODES.values()), mapping.LEVEL_CODES)
        for i, v in enumerate(mapping.parse_list(params.get("intentLevels"), "intentLevels"))
    ]
    earliest = mapping.parse_date(params.get("earliestCreationTime"), "earliestCreationTime")
    latest = mapping.parse_date(params.get("latestCreationTime"), "latestCreationTime")
    search = mapping.parse_str(params.get("searchWords"), "searchWords", max_length=100).strip() or None
    script_id = mapping.parse_filter_id(params.get("dialogFlowId"), "dialogFlowId")
    follow = params.get("followStatus")
    empty = False
    if mapping.present(follow):
        names = [*mapping.FOLLOW_STATUS_CODES.values(), *mapping.FOLLOW_STATUS_2019]
        empty = mapping.parse_enum(follow, "followStatus", names, mapping.FOLLOW_STATUS_CODES) != mapping.FOLLOW_STATUS
    if mapping.present(params.get("getTrainTaskList")):
        train = params.get("getTrainTaskList")
        if not isinstance(train, bool) and str(train).lower() not in ("true", "false"):
            raise bad_parameter("getTrainTaskList", "must be true or false")
        # callbot has no script-training calls.
        empty = empty or train is True or str(train).lower() == "true"
    known_results = [r for r in results if r in mapping.RESULT_CODES.values()]
    if empty or (results and not known_results) or script_id == 0:
        return None
    return RecordFilter(
        task_id=task_id,
        results=[CallResult(r) for r in known_results],
        levels=[Level(v) for v in levels],
        search=search,
        script_id=script_id,
        started_from=mapping.local_day_start(earliest, tenant) if earliest else None,
        started_to=mapping.next_day_start(latest, tenant) if latest else None,
    )


async def get_call_records(call: Call) -> tuple[Any, str]:
    task = await task_service.get_task(call.tx, call.tenant, _task_id(call))
    page = mapping.parse_page(call.params)
    filters = _record_filter(call, task.id)
    if filters is None:
        return _page(page, 0, []), envelope.FETCHED
    found = await record_service.list_record_rows(call.tx, call.tenant, filters, page)
    rows = [
        mapping.record_row(
            row.record,
            call.tenant,
            task_name=task.name,
            script_name=row.script.name if row.script is not None else "",
            options=call.options,
        )
        for row in found.items
    ]
    return _page(page, found.total, rows), envelope.FETCHED


async def phone_log_info(call: Call) -> tuple[Any, str]:
    record_id = mapping.parse_id(call.params.get("callRecordId"), "callRecordId")
    record = await record_service.get_record(call.tx, call.tenant, record_id)
    await task_service.get_task(call.tx, call.tenant, record.task_id)  # a deleted task's calls are gone too
    customer = await customer_service.get_customer(call.tx, call.tenant, record.customer_id)
    latest = await record_service.list_records(
        call.tx, call.tenant, RecordFilter(customer_id=customer.id), PageRequest(page=1, size=1)
    )
    person = mapping.customer_person(customer, call.tenant, latest.items[0] if latest.items else record)
    await record_service.mark_read(call.tx, record)
    return mapping.call_detail(record, call.tenant, person, call.options), envelope.EXECUTED


# --- the path table (§5) -------------------------------------------------------------------------------

_GET = frozenset({"GET"})
_POST = frozenset({"POST"})

OPERATIONS: dict[str, Operation] = {}


def _register(paths: tuple[str, ...], methods: frozenset[str], handler: Handler) -> None:
    for path in paths:
        OPERATIONS[path] = Operation(methods, handler)


_register(("company/getCompanies", "tenant/getTenants", "tenant/getCompanies", "tenant/getTenant"), _GET, get_companies)
_register(("company/getPhones", "tenant/getPhones", "phone/getPhoneList"), _GET, get_phones)
_register(("company/getRobots", "tenant/getRobots", "dialogFlow/getDialogFlowList"), _GET, get_robots)
_register(("task/createTask", "task/create", "job/create"), _POST, create_task)
_register(("task/modify", "job/modify"), frozenset({"POST", "PATCH"}), modify_task)
_register(("task/start", "job/start"), _POST, start_task)
_register(("task/pause", "job/pause"), _POST, pause_task)
_register(("task/stop", "job/stop"), _POST, stop_task)
_register(("task/delete", "job/delete"), _POST, delete_task)
_register(("task/importTaskCustomer", "job/importCustomer"), _POST, import_customers)
_register(("task/update", "task/updateTaskAiCount", "job/updateAiCount"), _POST, update_seats)
_register(("task/getTasks", "job/getJobs"), _GET, get_tasks)
_register(("task/getTaskDetail", "job/getJobDetail"), _GET, get_task_detail)
_register(
    ("task/getCallRecordInfoList", "job/getCallRecordInfoList", "callRecord/getCallRecordInfoList"),
    _POST,
    get_call_records,
)
_register(("task/phoneLogInfo", "task/callDetail", "job/callDetail", "callRecord/callDetail"), _GET, phone_log_info)


# --- dispatch ------------------------------------------------------------------------------------------


async def _params(request: Request) -> dict[str, Any]:
    """Query parameters, and for writes the JSON body over them. GET bodies are ignored (§1)."""
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "GET":
        return params
    raw = await request.body()
    if not raw.strip():
        return params
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise YiwiseError(BAD_PARAMETER, "the body is not UTF-8 JSON") from exc
    except RecursionError:
        raise YiwiseError(BAD_PARAMETER, "the JSON body is nested too deeply") from None
    if not isinstance(body, dict):
        raise YiwiseError(BAD_PARAMETER, "the body must be a JSON object")
    params.update(body)
    return params


def _validation_error(exc: ValidationError) -> YiwiseError:
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
    field = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return bad_parameter(envelope.vendor_field(field), str(first.get("msg", "invalid")))


def build_router(store_of: Callable[[Request], Store], options: YiwiseOptions | None = None) -> APIRouter:
    """The dialect's routes. `store_of` finds the store for a request (the app keeps it in `app.state`)."""
    opts = options or YiwiseOptions()
    router = APIRouter(include_in_schema=False)

    async def dispatch(request: Request, path: str) -> Response:
        request_id = envelope.new_request_id()
        status: int | None = None
        try:
            operation = OPERATIONS.get(path)
            if operation is None:
                raise YiwiseError(NOT_FOUND, f"no operation {path or '/'}")
            if request.method not in operation.methods:
                status = 405
                raise YiwiseError(NOT_FOUND, f"{path} takes {'/'.join(sorted(operation.methods))}")
            store = store_of(request)
            # Authentication is in the headers (the raw body only enters the replay digest): who may not call
            # is refused before the body is parsed. It commits on its own, so a request refused later still
            # counts as received.
            async with store.transaction() as tx:
                signed = auth.request_digest(request.method, request.url.path, request.url.query, await request.body())
                tenant_id = (
                    await auth.authenticate(
                        tx,
                        request.headers,
                        window_minutes=opts.timestamp_window_minutes,
                        request=signed,
                        reuse_seconds=opts.signature_reuse_seconds,
                    )
                ).id
            params = await _params(request)
            nul = mapping.find_nul(params)
            if nul is not None:
                raise bad_parameter(nul, "must not contain NUL characters")
            async with store.transaction() as tx:
                tenant = await tenant_service.get_tenant(tx, tenant_id)
                data, message = await operation.handler(Call(tx, tenant, params, opts, path))
            code = envelope.OK
        except YiwiseError as exc:
            code, data, message = exc.code, None, envelope.error_message(exc)
        except ValidationError as exc:
            error = _validation_error(exc)
            code, data, message = error.code, None, envelope.error_message(error)
        except CallbotError as exc:
            error = envelope.translate(exc)
            code, data, message = error.code, None, envelope.error_message(error)
        except Exception:
            log.exception("yiwise %s %s failed [requestId %s]", request.method, request.url.path, request_id)
            code, data, message = SERVER_ERROR, None, envelope.TEXTS[SERVER_ERROR]
        log.info("yiwise %s %s -> %d [requestId %s]", request.method, request.url.path, code, request_id)
        if status is None:
            status = code if opts.mirror_http_status else 200
        return envelope.render(envelope.body(code, data, message, request_id), status=status)

    async def prefixed(request: Request, rest: str) -> Response:
        version, _, path = rest.partition("/")
        return await dispatch(request, path if version == "v1" else f"{rest} (only v1 exists)")

    for prefix in PREFIXES:
        router.add_api_route(prefix + "/{rest:path}", prefixed, methods=METHODS)
    router.add_api_route("/v1/{path:path}", dispatch, methods=METHODS)
    return router


def mount_yiwise(app: Any, options: YiwiseOptions | None = None) -> None:
    """Add the dialect to the application (its store is `app.state.store`)."""

    def store_of(request: Request) -> Store:
        store: Store = request.app.state.store
        return store

    app.include_router(build_router(store_of, options))
