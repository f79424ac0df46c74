"""The Yiwise v1 endpoints (§5, §8) under `/apiOpen/v1/`, `/v1/` and the pre-release prefixes.

One catch-all route per prefix dispatches by path, so that every answer (unknown paths, wrong methods,
unparsable bodies included) wears the envelope. Each operation parses vendor fields, calls the same
services as the native API, and renders vendor shapes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from callbot.api.dialects.yiwise import auth, envelope, mapping
from callbot.api.dialects.yiwise import schemas as s
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
from callbot.kit.paging import MAX_PAGE_SIZE, PageRequest
from callbot.line import service as line_service
from callbot.models import Task, Tenant, User
from callbot.models.enums import CallResult, Level, TaskStatus
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
class ApiRequest:
    """One authenticated API request (not a phone call): its transaction, tenant, parameters (query or JSON
    body) and path."""

    tx: Tx
    tenant: Tenant
    params: dict[str, Any]
    options: YiwiseOptions
    path: str


Handler = Callable[[ApiRequest], Awaitable[tuple[Any, str]]]


@dataclass(frozen=True)
class Operation:
    methods: frozenset[str]
    handler: Handler


# --- company, lines, scripts (§8.1-8.3) ----------------------------------------------------------------


async def get_companies(req: ApiRequest) -> tuple[Any, str]:
    return mapping.company(req.tenant), envelope.FETCHED


async def get_phones(req: ApiRequest) -> tuple[Any, str]:
    lines = await line_service.list_lines(req.tx, req.tenant)
    in_use = (await campaign_service.in_flight(req.tx, req.tenant.id)).by_line
    return [mapping.phone_row(line, in_use.get(line.id, 0)) for line in lines], envelope.FETCHED


async def get_robots(req: ApiRequest) -> tuple[Any, str]:
    scripts = await script_service.list_scripts(req.tx, req.tenant)
    return [mapping.robot_row(script) for script in scripts], envelope.FETCHED


# --- tasks (§8.4-8.9) ----------------------------------------------------------------------------------


def _either(body: s.TaskBody, name: str) -> tuple[Any, str]:
    """A field the vendor documents at top level that clients also send inside `robotCallJob` (the 2022 demo
    does both): its value (the job's first) and the name to report it under."""
    if body.robot_call_job is not None and body.robot_call_job.sent(name):
        return getattr(body.robot_call_job, name), f"robotCallJob.{to_camel(name)}"
    return getattr(body, name), to_camel(name)


def _seats(body: s.TaskBody) -> int | None:
    """AI seats from `robotCount` and the 2019 `concurrencyQuota` (并发数), None when neither is sent. The
    vendor defaults robots to the concurrency quota; sent together, both limits hold, so the smaller wins."""
    job = body.job
    counts = [n for n in (job.robot_count, body.concurrency_quota) if n is not None]
    if body.robot_call_job is not None and job.concurrency_quota is not None:
        counts.append(job.concurrency_quota)
    return min(counts) if counts else None


def _redial_rules(job: s.RobotCallJob) -> list[dict[str, Any]] | None:
    """The 2019 automatic redial (自动重拨): `redialCondition`, `redialInterval` (minutes) and `redialTimes`,
    all three or none; None when none is sent. `CALL_LOSS` and `TRANSFER_ARTIFICIAL` are conditions that
    never happen on callbot (it never dials past its seats and has no agent queue): a rule on them alone
    redials nobody."""
    names = ("redial_condition", "redial_interval", "redial_times")
    sent = [name for name in names if job.sent(name)]
    if not sent:
        return None
    if job.sent("redial_condition") and not job.redial_condition:
        return []  # no condition: automatic redial off
    for name in names:
        if name not in sent:
            needs = ", ".join(to_camel(n) for n in sent)
            raise bad_parameter(to_camel(name), f"is required with {needs} (automatic redial needs all three)")
    known = [r for r in dict.fromkeys(job.redial_condition or []) if r in mapping.RESULT_CODES.values()]
    return [{"results": known, "delay_minutes": job.redial_interval, "max_times": job.redial_times}] if known else []


def _refuse_unsupported(body: s.TaskBody) -> None:
    """2019 fields callbot cannot honour are refused, never dropped."""
    numbers, where = _either(body, "transfer_phone_number")
    if numbers:
        raise bad_parameter(
            where,
            "per-task transfer numbers are not supported: a script's transfer node names its number "
            "(transfer_to), else the server's default transfer target is used",
        )
    enable, where = _either(body, "enable_concurrency")
    if enable is False:
        raise bad_parameter(where, "false is not supported: a task always dials up to its seats (robotCount)")


def _alerts(job: s.RobotCallJob, *, partial: bool) -> dict[str, Any]:
    """提醒设置: the alert fields sent (all of them on create)."""
    alerts: dict[str, Any] = {}
    for name, native in {"sms_alert_level": "sms_levels", "wechat_alert_level": "wechat_levels"}.items():
        if not partial or job.sent(name):
            alerts[native] = getattr(job, name) or []
        # The 2019 docs add the same levels by code (`wechatAlertLevelCode: [0, 1]`).
        coded = f"{name}_code"
        if job.sent(coded):
            levels = getattr(job, coded)
            if job.sent(name) and set(levels) != set(alerts[native]):
                raise bad_parameter(to_camel(coded), f"names other levels than {to_camel(name)}")
            alerts[native] = levels
    # Conditional WeChat alerts (2019): these levels, once the call lasted the threshold (seconds).
    for name in ("wechat_condition_alert_level", "wechat_condition_alert_level_code"):
        if job.sent(name):
            alerts["wechat_condition_levels"] = getattr(job, name)
    if job.sent("wechat_alert_chat_duration_threshold"):
        alerts["wechat_condition_min_seconds"] = job.wechat_alert_chat_duration_threshold
    for name, native in {"alert_users": "users", "early_warning_alert_users": "early_warning_users"}.items():
        if not partial or job.sent(name):
            alerts[native] = getattr(job, name) or []
    if job.sent("sms_template_id"):
        alerts["sms_template_id"] = job.sms_template_id
    if job.sent("wechat_send_method"):
        alerts["wechat_send_method"] = job.wechat_send_method
    return alerts


def _task_fields(body: s.TaskBody, *, partial: bool) -> dict[str, Any]:
    """Native task fields from a body and its `robotCallJob`. `partial`: only what was sent (modify)."""
    _refuse_unsupported(body)
    job = body.job
    fields: dict[str, Any] = {}

    def given(name: str, problem: str = "is required") -> Any:
        """The value of a field create requires; None when modify leaves it out."""
        value = getattr(job, name)
        if value is None and not partial:
            raise bad_parameter(to_camel(name), problem)
        return value

    if (name := given("name")) is not None:
        fields["name"] = name.strip()
    if (mode := given("mode", "is required (AUTO or MANUAL)")) is not None:
        fields["mode"] = mode
    if (script_id := given("dialog_flow_id")) is not None:
        fields["script_id"] = script_id
    seats = _seats(body)
    if seats is not None:
        fields["robot_count"] = seats
    if (start := given("daily_start_time")) is not None:
        fields["daily_start"] = start
    if (end := given("daily_end_time")) is not None:
        fields["daily_end"] = end
    pause = (job.inactive_start_time, job.inactive_end_time)
    if job.inactive_time_list is not None:
        if pause != (None, None):
            raise bad_parameter("inactiveTimeList", "send either inactiveTimeList or inactiveStartTime/inactiveEndTime")
        # An empty slot (start = end) is no pause.
        fields["inactive_windows"] = [
            {"start": slot.start_time, "end": slot.end_time}
            for slot in job.inactive_time_list
            if slot.start_time != slot.end_time
        ]
    elif pause != (None, None):
        if None in pause:
            missing = "inactiveEndTime" if pause[0] is not None else "inactiveStartTime"
            raise bad_parameter(missing, "the inactive window needs both its start and its end")
        # 00:00/00:00 (or any empty slot) means no daily pause.
        fields["inactive_windows"] = [] if pause[0] == pause[1] else [{"start": pause[0], "end": pause[1]}]
    elif not partial:
        fields["inactive_windows"] = []
    if job.start_time is not None:
        fields["start_time"] = job.start_time
    if job.sent("description") or not partial:
        fields["description"] = job.description or ""
    rules = _redial_rules(job)
    if rules is not None:
        fields["redial_rules"] = rules
    alerts = _alerts(job, partial=partial)
    if alerts or not partial:
        fields["alerts"] = alerts
    return fields


def _line_ids(body: s.TaskBody) -> list[int]:
    """Caller lines in any of the three shapes (§5): `jobPhoneNumberList` of `{key, value}` or of ids, or
    `jobPhoneNumberIdList` of ids; at top level or inside `robotCallJob`."""
    for source in (body, body.job):
        for name in ("job_phone_number_list", "job_phone_number_id_list"):
            if source.sent(name):
                ids: list[int] = getattr(source, name)
                if not ids:
                    raise bad_parameter(to_camel(name), "at least one caller line is required")
                return list(dict.fromkeys(ids))
    raise bad_parameter("jobPhoneNumberList", "is required")


def _has_lines(body: s.TaskBody) -> bool:
    names = ("job_phone_number_list", "job_phone_number_id_list")
    return any(source.sent(name) for source in (body, body.job) for name in names)


async def _check_lines(req: ApiRequest, line_ids: list[int], phone_type: str | None) -> None:
    """Unknown lines are 404 (§8.4); `phoneType`, a vendor field, must name the type of every chosen line."""
    lines = [await line_service.get_line(req.tx, req.tenant, line_id) for line_id in line_ids]
    if phone_type is None:
        return
    for i, line in enumerate(lines):
        if line.type.value != phone_type:
            raise bad_parameter(
                f"jobPhoneNumberList[{i}]",
                f"line {line.id} is {line.type.value}, not the task's phoneType {phone_type}",
            )


async def _check_script(req: ApiRequest, script_id: int) -> None:
    """§8.4 for `modify`: switching to an unknown script → 404, to a draft → 412 (creation refuses a draft
    in the task service, for every surface)."""
    script = await script_service.get_script(req.tx, req.tenant, script_id)
    await script_service.approved_document(req.tx, script)


async def create_task(req: ApiRequest) -> tuple[Any, str]:
    body = s.read(s.TaskBody, req.params)
    fields = _task_fields(body, partial=False)
    line_ids = _line_ids(body)
    if "robot_count" not in fields:
        # The vendor: on SIM-card (MOBILE) lines each line is one robot; otherwise the quota is required.
        if body.job.phone_type != "MOBILE":
            raise bad_parameter("robotCount", "is required (or concurrencyQuota)")
        fields["robot_count"] = len(line_ids)
    data = TaskCreate.model_validate({**fields, "line_ids": line_ids})
    await _check_lines(req, line_ids, body.job.phone_type)
    task = await task_service.create_task(req.tx, req.tenant, data)
    if req.path == "job/create":
        return {"robotCallJobId": task.id}, envelope.CREATED
    return task.id, envelope.CREATED


async def modify_task(req: ApiRequest) -> tuple[Any, str]:
    """Extension (§5): the create body plus `robotCallJob.robotCallJobId`, only while the task is not running."""
    body = s.read(s.TaskBody, req.params)
    job = body.job
    task_id = job.robot_call_job_id if job.sent("robot_call_job_id") else body.robot_call_job_id
    if task_id is None:
        raise bad_parameter("robotCallJobId", "is required")
    fields = _task_fields(body, partial=True)
    if _has_lines(body):
        fields["line_ids"] = _line_ids(body)
        await _check_lines(req, fields["line_ids"], job.phone_type)
    if "script_id" in fields:
        await _check_script(req, fields["script_id"])
    if "alerts" in fields:
        # Alert fields left out keep their values.
        task = await task_service.get_task(req.tx, req.tenant, task_id)
        fields["alerts"] = {**task_service.alerts(task).model_dump(mode="json"), **fields["alerts"]}
    await task_service.update_task(req.tx, req.tenant, task_id, TaskUpdate.model_validate(fields))
    return None, envelope.MODIFIED


def _task_id(req: ApiRequest) -> int:
    return s.read(s.TaskId, req.params).robot_call_job_id


# Repeating an operation already in effect answers 200 and changes nothing (§8.5): the idempotent operations.


async def start_task(req: ApiRequest) -> tuple[Any, str]:
    # `start` also resumes a paused task (§8.5: allowed from USER_PAUSE).
    await task_service.start_or_resume(req.tx, req.tenant, _task_id(req))
    return None, envelope.MODIFIED


async def pause_task(req: ApiRequest) -> tuple[Any, str]:
    await task_service.ensure_action(req.tx, req.tenant, _task_id(req), TaskAction.PAUSE)
    return None, envelope.MODIFIED


async def stop_task(req: ApiRequest) -> tuple[Any, str]:
    await task_service.ensure_action(req.tx, req.tenant, _task_id(req), TaskAction.STOP)
    return None, envelope.MODIFIED


async def delete_task(req: ApiRequest) -> tuple[Any, str]:
    await task_service.delete_task(req.tx, req.tenant, _task_id(req))
    return None, envelope.DELETED


async def import_customers(req: ApiRequest) -> tuple[Any, str]:
    p = s.read(s.ImportCustomers, req.params)
    rows = [
        SourceRow(row=i, name=person.name, phone=person.phone_number, properties=person.properties)
        for i, person in enumerate(p.customer_persons, start=1)
    ]
    await customer_service.import_rows(req.tx, req.tenant, p.robot_call_job_id, rows, source="yiwise")
    return None, envelope.MODIFIED


async def update_seats(req: ApiRequest) -> tuple[Any, str]:
    p = s.read(s.UpdateSeats, req.params)
    await task_service.update_task(req.tx, req.tenant, p.robot_call_job_id, TaskUpdate(robot_count=p.robot_count))
    return None, envelope.MODIFIED


def _creator(user: User | None) -> str:
    """`createdByUserName`: tasks made through the API have no console user."""
    return user.username if user is not None else API_USER


def _page_request(p: s.Paging) -> PageRequest:
    return PageRequest(page=p.page_num, size=min(p.page_size, MAX_PAGE_SIZE))


def _page(page: PageRequest, total: int, content: list[Any]) -> dict[str, Any]:
    return {
        "number": page.page,
        "pageSize": page.limit,
        "totalElements": total,
        "pages": (total + page.limit - 1) // page.limit,
        "content": content,
    }


async def get_tasks(req: ApiRequest) -> tuple[Any, str]:
    p = s.read(s.TaskQuery, req.params)
    page = _page_request(p)
    if p.status in mapping.NEVER_EMITTED_STATUSES:
        return _page(page, 0, []), envelope.FETCHED
    filters = TaskFilter(name=p.name or None, status=[TaskStatus(p.status)] if p.status else None)
    found = await task_service.list_task_rows(req.tx, req.tenant, filters, page)
    rows = [mapping.task_row(row.task, req.tenant, _creator(row.owner)) for row in found.items]
    return _page(page, found.total, rows), envelope.FETCHED


async def get_task_detail(req: ApiRequest) -> tuple[Any, str]:
    task: Task = await task_service.get_task(req.tx, req.tenant, _task_id(req))
    stats = await stats_service.get_task_stats(req.tx, req.tenant, task.id)
    owner = await tenant_service.get_user(req.tx, req.tenant, task.owner_user_id) if task.owner_user_id else None
    script = await script_service.get_script(req.tx, req.tenant, task.script_id)
    detail = mapping.task_detail(task, req.tenant, created_by=_creator(owner), script_name=script.name, stats=stats)
    return detail, envelope.FETCHED


# --- call records (§8.10, §8.11) -----------------------------------------------------------------------


def _record_filter(p: s.CallRecordQuery, task_id: int, tenant: Tenant) -> RecordFilter | None:
    """The record filter the body asks for; None when it can match nothing."""
    # Every callbot customer is at the AI's first visit, and callbot has no script-training calls.
    empty = (p.follow_status is not None and p.follow_status != mapping.FOLLOW_STATUS) or p.get_train_task_list
    known_results = [r for r in p.result_statuses if r in mapping.RESULT_CODES.values()]
    if empty or (p.result_statuses and not known_results) or p.dialog_flow_id == 0:
        return None
    earliest, latest = p.earliest_creation_time, p.latest_creation_time
    return RecordFilter(
        task_id=task_id,
        results=[CallResult(r) for r in known_results],
        levels=[Level(v) for v in p.intent_levels],
        search=p.search_words.strip() or None,
        script_id=p.dialog_flow_id,
        started_from=mapping.local_day_start(earliest, tenant) if earliest else None,
        started_to=mapping.next_day_start(latest, tenant) if latest else None,
    )


async def get_call_records(req: ApiRequest) -> tuple[Any, str]:
    p = s.read(s.CallRecordQuery, req.params)
    task = await task_service.get_task(req.tx, req.tenant, p.robot_call_job_id)
    page = _page_request(p)
    filters = _record_filter(p, task.id, req.tenant)
    if filters is None:
        return _page(page, 0, []), envelope.FETCHED
    found = await record_service.list_record_rows(req.tx, req.tenant, filters, page)
    rows = [
        mapping.record_row(
            row.record,
            req.tenant,
            task_name=task.name,
            script_name=row.script.name if row.script is not None else "",
            options=req.options,
        )
        for row in found.items
    ]
    return _page(page, found.total, rows), envelope.FETCHED


async def phone_log_info(req: ApiRequest) -> tuple[Any, str]:
    record_id = s.read(s.CallDetailQuery, req.params).call_record_id
    record = await record_service.get_record(req.tx, req.tenant, record_id)
    await task_service.get_task(req.tx, req.tenant, record.task_id)  # a deleted task's calls are gone too
    customer = await customer_service.get_customer(req.tx, req.tenant, record.customer_id)
    latest = await record_service.list_records(
        req.tx, req.tenant, RecordFilter(customer_id=customer.id), PageRequest(page=1, size=1)
    )
    person = mapping.customer_person(customer, req.tenant, latest.items[0] if latest.items else record)
    await record_service.mark_read(req.tx, record)
    return mapping.call_detail(record, req.tenant, person, req.options), envelope.EXECUTED


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
                data, message = await operation.handler(ApiRequest(tx, tenant, params, opts, path))
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
