"""The Yiwise v1 shapes (spec yiwise-v1 §3-§8) as Pydantic models, the vendor's camelCase names as aliases.
They document the dialect (its OpenAPI document is built from them) and the tests hold the answers the
dialect renders to them. The server reads requests more leniently than they are declared here (numbers as
strings, a single value for a list, null for absent), as 2018-2022 clients send them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from callbot.api.dialects.openapi import Operation, build_document

T = TypeVar("T")

Level = Literal["A", "B", "C", "D", "E", "F"]
ResultStatus = Literal[
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


class Vendor(BaseModel):
    """Field names on the wire are the vendor's camelCase."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Answer(Vendor, Generic[T]):
    """The envelope of every answer (§3). `code` 200 is success; 401, 403, 404, 412 and 500 are errors, with
    `data` null and the reason in `resultMsg`. The HTTP status is 200 unless the server mirrors `code`."""

    code: int = Field(examples=[200], description="200 success · 401 bad signature · 404 not found · 412 bad parameter")
    data: T | None
    request_id: str = Field(examples=["PYEHUGLS"], description="8 capital letters, also in the server log")
    result_msg: str = Field(examples=["执行成功"])
    error_stack_trace: None = None


class Page(Vendor, Generic[T]):
    """§4: 1-based pages."""

    number: int
    page_size: int
    total_elements: int
    pages: int
    content: list[T]


# --- requests ---------------------------------------------------------------------------------------------


class PhoneKey(Vendor):
    key: int = Field(description="a caller line id (userPhoneId)")
    value: str | None = Field(default=None, description="its number (ignored)")


class RobotCallJob(Vendor):
    """The task's fields (`robotCallJob`)."""

    name: str = Field(max_length=50, examples=["11月分期回访"])
    mode: Literal["AUTO", "MANUAL"] = Field(description="AUTO starts at startTime; MANUAL waits for task/start")
    dialog_flow_id: int = Field(description="the script (robotDialogFlowId); a draft script is refused (412)")
    robot_count: int | None = Field(default=None, ge=1, description="AI seats; required unless phoneType is MOBILE")
    concurrency_quota: int | None = Field(default=None, ge=1, description="2019 name of robotCount")
    phone_type: Literal["MOBILE", "LANDLINE", "UNFIXED_CALL"] | None = None
    daily_start_time: str = Field(examples=["09:00"], description="HH:mm or HH:mm:ss, inside the tenant's hours")
    daily_end_time: str = Field(examples=["20:00"])
    inactive_start_time: str | None = Field(default=None, examples=["12:00"], description="the daily pause")
    inactive_end_time: str | None = Field(default=None, examples=["13:30"])
    start_time: str | None = Field(default=None, examples=["2026-11-20 09:00:00"], description="AUTO mode start")
    description: str | None = Field(default=None, max_length=1000)
    sms_alert_level: list[Level] = Field(default_factory=list)
    wechat_alert_level: list[Level] = Field(default_factory=list)
    alert_users: list[int] = Field(default_factory=list)
    redial_condition: list[ResultStatus] = Field(default_factory=list, description="automatic redial (2019)")
    redial_interval: int | None = Field(default=None, ge=6, le=1440, description="minutes")
    redial_times: int | None = Field(default=None, ge=1, le=10)


class CreateTask(Vendor):
    robot_call_job: RobotCallJob
    job_phone_number_list: list[PhoneKey | int] = Field(
        description="caller lines, as {key, value} or ids; jobPhoneNumberIdList is accepted too"
    )


class ModifyTask(Vendor):
    robot_call_job: dict[str, Any] = Field(
        description="robotCallJobId and the fields of RobotCallJob to change; only while the task is not running"
    )
    job_phone_number_list: list[PhoneKey | int] | None = None


class TaskId(Vendor):
    robot_call_job_id: int = Field(examples=[1052])


class CustomerPerson(Vendor):
    name: str | None = Field(default=None, max_length=100, examples=["王先生"])
    phone_number: str = Field(max_length=64, examples=["13900001234"])
    properties: dict[str, str] = Field(default_factory=dict, examples=[{"amount": "3200"}])


class ImportCustomers(Vendor):
    robot_call_job_id: int
    customer_persons: list[CustomerPerson] = Field(max_length=10_000)


class UpdateSeats(Vendor):
    robot_call_job_id: int
    robot_count: int = Field(ge=1)


class TaskQuery(Vendor):
    page_num: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, description="clamped to 1000")
    status: str | None = Field(default=None, description="a task status name or code")
    name: str | None = Field(default=None, description="part of the task name")


class TaskDetailQuery(Vendor):
    robot_call_job_id: int


class CallRecordQuery(Vendor):
    robot_call_job_id: int
    page_num: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1)
    result_statuses: list[ResultStatus] = Field(default_factory=list)
    intent_levels: list[Level] = Field(default_factory=list)
    earliest_creation_time: str | None = Field(default=None, examples=["2026-11-01"])
    latest_creation_time: str | None = Field(default=None, examples=["2026-11-30"])
    search_words: str | None = Field(default=None, max_length=100, description="part of the number or name")
    dialog_flow_id: int | None = None


class CallDetailQuery(Vendor):
    call_record_id: int


# --- answers ----------------------------------------------------------------------------------------------


class Company(Vendor):
    tenant_id: int
    company_name: str
    tenant_name: str


class Phone(Vendor):
    user_phone_id: int
    phone: str
    phone_name: str
    phone_type: str
    concurrency: int = Field(description="calls on the line now")
    max_concurrency: int


class Industry(Vendor):
    name: str
    desc: str


class Robot(Vendor):
    robot_dialog_flow_id: int
    name: str
    type: str
    industry: Industry
    sub_industry: Industry
    family_name_template_id: int | None
    status: Literal["APPROVED", "DRAFT"]


class TaskRow(Vendor):
    robot_call_job_id: int
    name: str
    status: str
    completed_task: int
    task_call_total: int
    creation_time: str | None = Field(examples=["2026-11-20 09:30"])
    created_by_user_name: str
    organization_name: None


class TaskDetail(Vendor):
    robot_call_job: dict[str, Any] = Field(description="the task's fields, as RobotCallJob plus ids and times")
    job_phone_number_list: list[PhoneKey]
    completed_task: int
    task_call_total: int
    created_by_user_name: str
    organization_name: None
    dialog_flow_name: str
    sms_template_name: None
    system_pause_next_start: None
    call_job_stats_info: dict[str, Any] = Field(description="§7: progress, levels, results, rounds, daily series")


class Turn(Vendor):
    text: str
    type: Literal["ROBOT", "PERSON"]
    call_detail_id: int | None = None


class CallRecordRow(Vendor):
    call_record_id: int
    tenant_id: int
    robot_call_job_id: int
    dialog_flow_id: int | None
    robot_call_task_id: int
    customer_person_id: int
    called_phone_number: str
    phone_number_id: int | None
    result_status: str
    intent_level: Level | None
    real_intent_level: Level | None
    customer_concern: list[str]
    full_audio_url: str | None
    customer_audio_url: str | None
    analysis_basis: str | None
    start_time: str | None
    chat_duration: int
    chat_round: int
    manual_marked: bool
    read_status: Literal["HAS_READ", "NOT_READ"]
    customer_group_name: None
    robot_call_job_name: str
    dialog_flow_name: str
    customer_person_info: None
    call_detail_list: list[Turn] | None


class CallDetail(Vendor):
    call_record_id: int
    customer_audio_url: str | None
    start_time: str | None = Field(examples=["2026-11-20T10:41:07"])
    end_time: str | None
    chat_round: int
    chat_duration: int
    customer_person: dict[str, Any]
    result_status: str
    intent_level: Level | None
    real_intent_level: Level | None
    customer_concern: list[str]
    full_audio_url: str | None
    analysis_basis: str | None
    call_detail_list: list[Turn]
    manual_marked: bool
    robot_call_job_id: int
    attributes: list[str]


class JobCreated(Vendor):
    robot_call_job_id: int


# --- the document -----------------------------------------------------------------------------------------

BASE = "/apiOpen/v1/"
DESCRIPTION = """\
The Yiwise open API v1 as callbot speaks it, so clients written for Yiwise work unchanged. Every path is
also served under `/v1/`, `/openApi/v1/` and `/openapi/v1/`.

Authenticate with headers: `appKey`, `version: v1`, `timestamp` (epoch milliseconds) and `signature`, the
lowercase hex SHA-256 of `tenantSign + "appKey=" + appKey + "&appSecret=" + appSecret + "&tenantSign=" +
tenantSign + "&version=" + version + "&timestamp=" + timestamp`. Every answer, errors included, is the
envelope `{code, data, requestId, resultMsg, errorStackTrace}`: 401 bad signature or stale timestamp, 403
forbidden, 404 unknown id or path, 412 a bad parameter or a state change the task does not allow.
"""

OPERATIONS = [
    Operation("company/getCompanies", "get", "The company (公司信息)", Answer[Company]),
    Operation("company/getPhones", "get", "Caller lines (主叫电话)", Answer[list[Phone]]),
    Operation("company/getRobots", "get", "Robot scripts (机器人话术)", Answer[list[Robot]]),
    Operation(
        "task/createTask",
        "post",
        "Create a task (创建任务); data is its id",
        Answer[int],
        body=CreateTask,
        aliases=("task/create", "job/create (answers {robotCallJobId})"),
    ),
    Operation("task/modify", "post", "Change a task that is not running", Answer[None], body=ModifyTask),
    Operation("task/start", "post", "Start, or resume a paused task (idempotent)", Answer[None], body=TaskId),
    Operation("task/pause", "post", "Pause (idempotent)", Answer[None], body=TaskId),
    Operation("task/stop", "post", "End the task for good (idempotent)", Answer[None], body=TaskId),
    Operation("task/delete", "post", "Delete (end and hide) a task", Answer[None], body=TaskId),
    Operation("task/importTaskCustomer", "post", "Import customers (导入客户)", Answer[None], body=ImportCustomers),
    Operation("task/update", "post", "Change the AI seats (修改任务并发数)", Answer[None], body=UpdateSeats),
    Operation("task/getTasks", "get", "Task list (任务列表)", Answer[Page[TaskRow]], query=TaskQuery),
    Operation(
        "task/getTaskDetail",
        "get",
        "Task detail with statistics (任务详情)",
        Answer[TaskDetail],
        query=TaskDetailQuery,
    ),
    Operation(
        "task/getCallRecordInfoList",
        "post",
        "Finished calls of a task (已完成的通话)",
        Answer[Page[CallRecordRow]],
        body=CallRecordQuery,
    ),
    Operation(
        "task/phoneLogInfo",
        "get",
        "One call in detail, with its transcript (通话详情)",
        Answer[CallDetail],
        query=CallDetailQuery,
    ),
]


def openapi_document(version: str) -> dict[str, Any]:
    operations = [replace(op, path=BASE + op.path, tags=["yiwise"]) for op in OPERATIONS]
    security = {name: {"type": "apiKey", "in": "header", "name": name} for name in ("appKey", "timestamp", "signature")}
    return build_document(
        title="callbot — Yiwise v1 dialect",
        version=version,
        description=DESCRIPTION,
        operations=operations,
        security=security,
    )
