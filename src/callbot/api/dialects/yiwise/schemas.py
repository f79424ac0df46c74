"""The Yiwise v1 shapes (spec yiwise-v1 §3-§8) as Pydantic models, the vendor's camelCase names as aliases.
They document the dialect (its OpenAPI document is built from them) and the tests hold the answers the
dialect renders to them. The server reads requests more leniently than they are declared here (numbers as
strings, a single value for a list, null for absent), as 2018-2022 clients send them."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError

from callbot.api.dialects.openapi import Operation, build_document
from callbot.api.dialects.yiwise import mapping as m
from callbot.api.dialects.yiwise.envelope import NOT_FOUND, YiwiseError, bad_parameter
from callbot.models.enums import TaskStatus

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


# --- reading requests: the vendor's values, as leniently as 2018-2022 clients send them -------------------

MAX_ID = 2**31 - 1  # row ids are 32-bit in the store; a Java Long beyond that names nothing that exists
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def _bad(problem: str) -> PydanticCustomError:
    return PydanticCustomError("yiwise", problem)


def _number(value: Any) -> int:
    """An integer sent as a JSON number or a numeric string."""
    if isinstance(value, bool) or value is None:
        raise _bad("must be a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise _bad(f"{value!r} is not a whole number")
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d{1,19}", text):
            return int(text)
        raise _bad(f"{value!r} is not a number")
    raise _bad("must be a number")


def _id(value: Any) -> int:
    """An id (Java Long); one that cannot name a stored row is simply not found."""
    number = _number(value)
    if not 1 <= number <= MAX_ID:
        raise PydanticCustomError("not_found", "{number}", {"number": number})
    return number


def _filter_id(value: Any) -> int:
    """An id used as a filter; an impossible one (0) filters everything out."""
    number = _number(value)
    return number if 1 <= number <= MAX_ID else 0


def _count(minimum: int = 1, maximum: int = MAX_ID) -> BeforeValidator:
    """A whole number in [minimum, maximum]."""

    def check(value: Any) -> int:
        number = _number(value)
        if not minimum <= number <= maximum:
            raise _bad(f"must be between {minimum} and {maximum}")
        return number

    return BeforeValidator(check)


def _string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _bad("must be a string")
    return value if isinstance(value, str) else str(value)


def _text(max_length: int | None = None, *, required: bool = False) -> BeforeValidator:
    """Text; numbers stand for their text. `required`: not blank."""

    def check(value: Any) -> str:
        text = _string(value)
        if required and not text.strip():
            raise _bad("must not be empty")
        if max_length is not None and len(text) > max_length:
            raise _bad(f"at most {max_length} characters")
        return text

    return BeforeValidator(check)


def _time(value: Any) -> time:
    """A daily time, `HH:mm` or `HH:mm:ss`."""
    match = _TIME.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _bad(f"{value!r} is not a time (HH:mm or HH:mm:ss)")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise _bad(f"{value!r} is not a time of day")
    return time(hour, minute, second)


def _datetime(value: Any) -> datetime:
    """`yyyy-MM-dd HH:mm:ss`, `yyyy-MM-dd HH:mm`, `yyyy-MM-dd` or ISO with a `T` (tenant wall clock unless an
    offset is given)."""
    text = value.strip() if isinstance(value, str) else ""
    if not _DATETIME.match(text):
        raise _bad(f"{value!r} is not a date and time (yyyy-MM-dd HH:mm:ss)")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise _bad(f"{value!r} is not a real date and time") from None


def _date(value: Any) -> date:
    """A `yyyy-MM-dd` date (a full date and time is cut to its date)."""
    text = value.strip() if isinstance(value, str) else ""
    if not (_DATE.match(text) or _DATETIME.match(text)):
        raise _bad(f"{value!r} is not a date (yyyy-MM-dd)")
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise _bad(f"{value!r} is not a real date") from None


def _enum(
    names: Sequence[str], codes: Mapping[int, str] | None = None, *, ignore_case: bool = False
) -> BeforeValidator:
    """An enumeration by name, or (where `codes` is given) by its numeric code; read as its name."""

    def check(value: Any) -> str:
        if isinstance(value, str):
            text = value.strip()
            key = text.upper() if ignore_case else text
            if key in names:
                return key
            if codes is not None and re.fullmatch(r"\d{1,3}", text) and int(text) in codes:
                return codes[int(text)]
        elif codes is not None and isinstance(value, int) and not isinstance(value, bool) and value in codes:
            return codes[value]
        allowed = ", ".join(names)
        raise _bad(f"{value!r} is not one of {allowed}" + (" or their codes" if codes else ""))

    return BeforeValidator(check)


def _one_or_many(value: Any) -> list[Any]:
    """A list; a single value stands for a list of one."""
    if isinstance(value, list):
        return value
    if isinstance(value, str | int) and not isinstance(value, bool):
        return [value]
    raise _bad("must be a list")


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise _bad("must be true or false")


Number = Annotated[int, BeforeValidator(_number)]
Id = Annotated[int, BeforeValidator(_id)]
FilterId = Annotated[int, BeforeValidator(_filter_id)]
TimeOfDay = Annotated[time, BeforeValidator(_time), WithJsonSchema({"type": "string", "examples": ["09:00"]})]
DateTime = Annotated[
    datetime, BeforeValidator(_datetime), WithJsonSchema({"type": "string", "examples": ["2026-11-20 09:00:00"]})
]
Day = Annotated[date, BeforeValidator(_date), WithJsonSchema({"type": "string", "examples": ["2026-11-20"]})]
Truth = Annotated[bool, BeforeValidator(_truth)]
ListOf = BeforeValidator(_one_or_many)
Text = Annotated[str, _text()]
PropertyValue = Annotated[str, BeforeValidator(lambda value: "" if value is None else _string(value))]
Name = Annotated[str, _text(50, required=True), WithJsonSchema({"type": "string", "maxLength": 50})]
Description = Annotated[str, _text(1000), WithJsonSchema({"type": "string", "maxLength": 1000})]
PersonName = Annotated[str, _text(100), WithJsonSchema({"type": "string", "maxLength": 100})]
PhoneNumber = Annotated[str, _text(64, required=True), WithJsonSchema({"type": "string", "maxLength": 64})]
TaskName = Annotated[str, _text(200), WithJsonSchema({"type": "string", "maxLength": 200})]
Words = Annotated[str, _text(100), WithJsonSchema({"type": "string", "maxLength": 100})]
Count = Annotated[int, _count(), WithJsonSchema({"type": "integer", "minimum": 1})]
PageSize = Annotated[int, _count(1, 2**63 - 1), WithJsonSchema({"type": "integer", "minimum": 1})]
Seconds = Annotated[int, _count(0), WithJsonSchema({"type": "integer", "minimum": 0})]
RedialInterval = Annotated[int, _count(6, 24 * 60), WithJsonSchema({"type": "integer", "minimum": 6, "maximum": 1440})]
RedialTimes = Annotated[int, _count(1, 10), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 10})]
Mode = Annotated[str, _enum(m.MODES, ignore_case=True), WithJsonSchema({"enum": list(m.MODES)})]
PhoneType = Annotated[
    str,
    _enum(list(m.PHONE_TYPE_CODES.values()), m.PHONE_TYPE_CODES),
    WithJsonSchema({"enum": list(m.PHONE_TYPE_CODES.values())}),
]
WechatSendMethod = Annotated[
    str,
    _enum(list(m.WECHAT_SEND_METHOD_CODES.values()), m.WECHAT_SEND_METHOD_CODES),
    WithJsonSchema({"enum": list(m.WECHAT_SEND_METHOD_CODES.values())}),
]
LevelName = Annotated[
    str, _enum(list(m.LEVEL_CODES.values()), m.LEVEL_CODES), WithJsonSchema({"enum": list(m.LEVEL_CODES.values())})
]
ResultName = Annotated[
    str,
    _enum(list(m.ALL_RESULT_CODES.values()), m.ALL_RESULT_CODES),
    WithJsonSchema({"enum": list(m.ALL_RESULT_CODES.values())}),
]
TASK_STATUS_NAMES = [s.value for s in TaskStatus] + sorted(m.NEVER_EMITTED_STATUSES)
TaskStatusName = Annotated[
    str, _enum(TASK_STATUS_NAMES, m.TASK_STATUS_CODES), WithJsonSchema({"enum": TASK_STATUS_NAMES})
]
FOLLOW_STATUS_NAMES = [*m.FOLLOW_STATUS_CODES.values(), *m.FOLLOW_STATUS_2019]
FollowStatus = Annotated[
    str, _enum(FOLLOW_STATUS_NAMES, m.FOLLOW_STATUS_CODES), WithJsonSchema({"enum": FOLLOW_STATUS_NAMES})
]


def present(value: Any) -> bool:
    """Java clients send null or "" for a field they leave out."""
    return value is not None and value != ""


class Request(BaseModel):
    """Parameters of one operation under the vendor's names. Fields sent null or "" are absent; unknown
    fields are ignored (clients send `tenantId` and the like)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _absent(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {key: value for key, value in data.items() if present(value)}
        return data

    def sent(self, name: str) -> bool:
        return name in self.model_fields_set


_MESSAGES = {
    "missing": "is required",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a list",
    "too_long": "at most {max_length} items",
}

R = TypeVar("R", bound=Request)


def field_name(loc: Sequence[str | int]) -> str:
    """`customerPersons[0].name` from pydantic's location."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def read(model: type[R], params: Mapping[str, Any]) -> R:
    """The operation's parameters; the first bad one as 412 (or 404 for an id that cannot exist)."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = field_name(first["loc"])
        if first["type"] == "not_found":
            raise YiwiseError(NOT_FOUND, f"no {name} {first['msg']}") from None
        template = _MESSAGES.get(first["type"], "{msg}")
        raise bad_parameter(name, template.format(msg=first["msg"], **first.get("ctx", {}))) from None


# --- requests ---------------------------------------------------------------------------------------------


def _line(value: Any) -> int:
    """A caller line as `{key, value}` (the key is its id) or as its id."""
    if isinstance(value, Mapping):
        if not present(value.get("key")):
            raise _bad("key is required")
        return _id(value.get("key"))
    return _id(value)


class PhoneKey(Vendor):
    key: int = Field(description="a caller line id (userPhoneId)")
    value: str | None = Field(default=None, description="its number (ignored)")


LineId = Annotated[
    int,
    BeforeValidator(_line),
    WithJsonSchema({"anyOf": [{"$ref": "#/components/schemas/PhoneKey"}, {"type": "integer"}]}),
]


class Slot(Request):
    """A 2019 inactive slot; an empty one (start = end) is no pause."""

    start_time: TimeOfDay
    end_time: TimeOfDay


LineList = Annotated[list[LineId], ListOf]


class RobotCallJob(Request):
    """The task's fields (`robotCallJob`; the seed's flat form sends them at the top level)."""

    robot_call_job_id: Id | None = Field(default=None, description="modify: the task to change")
    name: Name | None = Field(default=None, examples=["11月分期回访"])
    mode: Mode | None = Field(default=None, description="AUTO starts at startTime; MANUAL waits for task/start")
    dialog_flow_id: Id | None = Field(default=None, description="the script; a draft script is refused (412)")
    robot_count: Count | None = Field(default=None, description="AI seats; required unless phoneType is MOBILE")
    concurrency_quota: Count | None = Field(default=None, description="2019 name of robotCount")
    phone_type: PhoneType | None = None
    daily_start_time: TimeOfDay | None = Field(default=None, description="inside the tenant's calling hours")
    daily_end_time: TimeOfDay | None = None
    inactive_start_time: TimeOfDay | None = Field(default=None, description="the daily pause")
    inactive_end_time: TimeOfDay | None = None
    inactive_time_list: Annotated[list[Slot], ListOf, Field(max_length=3)] | None = None
    start_time: DateTime | None = Field(default=None, description="when an AUTO task starts")
    description: Description | None = None
    redial_condition: Annotated[list[ResultName], ListOf] | None = Field(
        default=None, description="automatic redial (2019): these results, with redialInterval and redialTimes"
    )
    redial_interval: RedialInterval | None = Field(default=None, description="minutes")
    redial_times: RedialTimes | None = None
    sms_alert_level: Annotated[list[LevelName], ListOf] | None = None
    sms_alert_level_code: Annotated[list[LevelName], ListOf] | None = None
    wechat_alert_level: Annotated[list[LevelName], ListOf] | None = None
    wechat_alert_level_code: Annotated[list[LevelName], ListOf] | None = None
    wechat_condition_alert_level: Annotated[list[LevelName], ListOf] | None = None
    wechat_condition_alert_level_code: Annotated[list[LevelName], ListOf] | None = None
    wechat_alert_chat_duration_threshold: Seconds | None = Field(default=None, description="seconds")
    alert_users: Annotated[list[Number], ListOf] | None = None
    early_warning_alert_users: Annotated[list[Number], ListOf] | None = None
    sms_template_id: Number | None = None
    wechat_send_method: WechatSendMethod | None = None
    transfer_phone_number: Annotated[list[Any], ListOf] | None = Field(default=None, description="not supported")
    enable_concurrency: Truth | None = Field(default=None, description="true only")
    job_phone_number_list: LineList | None = Field(
        default=None, description="caller lines, as {key, value} or ids (also at the top level)"
    )
    job_phone_number_id_list: LineList | None = None


class TaskBody(RobotCallJob):
    """createTask and modify: `robotCallJob` with the lines beside it, or the seed's flat form."""

    robot_call_job: RobotCallJob | None = None

    @property
    def job(self) -> RobotCallJob:
        return self.robot_call_job if self.robot_call_job is not None else self


class TaskId(Request):
    robot_call_job_id: Id = Field(examples=[1052])


class CustomerPerson(Request):
    name: PersonName = Field(default="", examples=["王先生"])
    phone_number: PhoneNumber = Field(examples=["13900001234"])
    properties: dict[str, PropertyValue] = Field(default_factory=dict, examples=[{"amount": "3200"}])


class ImportCustomers(TaskId):
    customer_persons: list[CustomerPerson] = Field(max_length=10_000)


class UpdateSeats(TaskId):
    robot_count: Count


class Paging(Request):
    """§4: 1-based `pageNum` (default 1), `pageSize` (default 20, clamped to 1000); below 1 → 412."""

    page_num: Count = 1
    page_size: PageSize = Field(default=20, description="clamped to 1000")


class TaskQuery(Paging):
    status: TaskStatusName | None = Field(default=None, description="a task status name or code")
    name: TaskName = Field(default="", description="part of the task name")


class CallRecordQuery(Paging):
    robot_call_job_id: Id
    result_statuses: Annotated[list[ResultName], ListOf] = Field(default_factory=list)
    intent_levels: Annotated[list[LevelName], ListOf] = Field(default_factory=list)
    earliest_creation_time: Day | None = None
    latest_creation_time: Day | None = None
    search_words: Words = Field(default="", description="part of the number or name")
    dialog_flow_id: FilterId | None = None
    follow_status: FollowStatus | None = None
    get_train_task_list: Truth = Field(default=False, description="callbot has no training calls")


class CallDetailQuery(Request):
    call_record_id: Id


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
        body=TaskBody,
        aliases=("task/create", "job/create (answers {robotCallJobId})"),
    ),
    Operation("task/modify", "post", "Change a task that is not running", Answer[None], body=TaskBody),
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
        query=TaskId,
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
