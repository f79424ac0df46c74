"""The Digelao (ciopaas v6.6) shapes (spec digelao-v6 §2-§4) as Pydantic models, under the vendor's names.
They document the dialect (its OpenAPI document is built from them) and the tests hold the answers the
dialect renders to them. Requests may also come as a form or a query string, numbers as strings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError

from callbot.api.dialects.digelao.auth import RawNumber
from callbot.api.dialects.digelao.envelope import BAD_PARAM, DigelaoError
from callbot.api.dialects.openapi import Operation, build_document

T = TypeVar("T")


class Vendor(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class Answer(Vendor, Generic[T]):
    """`{code, msg, data}`: `code` 0 is success (200 for getAsyncTaskResult); on an error `data` is left
    out. Codes: 20001 bad transport or body, 20002 missing public parameter, 20003 bad api_key, 20004
    api_key expired, 20005 url check failed, 30001 bad parameter, 30002 not found, 30003 illegal state
    change, 30004 over a limit."""

    code: int = Field(examples=[0])
    msg: str = Field(examples=["SUCCESS"])
    data: T | None = Field(default=None, description="absent on an error")


class Listing(Vendor, Generic[T]):
    total: int
    list: list[T]


# --- reading requests: the vendor's values, as leniently as its clients send them ------------------------

INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class _Integer:
    """Marks an integer parameter: a blank one is absent (its default applies)."""


def _text(value: Any) -> str:
    """Numbers are accepted as their text; surrounding blanks are not part of a value."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError("digelao", "must be a string")
    return str(value).strip()


def _integer(value: Any) -> int:
    """A number or a numeric string (`"0"`)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PydanticCustomError("digelao", "must be an integer")
    try:
        return int(str(value).strip())
    except ValueError:
        raise PydanticCustomError("digelao", "must be an integer") from None


Text = Annotated[str, BeforeValidator(_text)]
# A JSON value, sent as its text or as itself; the handler reads it (its errors name the vendor's shape).
Json = Annotated[Any, WithJsonSchema({"type": ["string", "object", "array"]})]
Int = Annotated[int, BeforeValidator(_integer), _Integer(), Field(ge=INT_MIN, le=INT_MAX)]


class Request(BaseModel):
    """Parameters of one endpoint. Unknown parameters are ignored (the public ones among them); null is
    absent."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _absent(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        present = {}
        for key, value in data.items():
            field = cls.model_fields.get(key)
            if value is None:
                continue
            blank = isinstance(value, str) and not isinstance(value, RawNumber) and not value.strip()
            if blank and field is not None and any(isinstance(m, _Integer) for m in field.metadata):
                continue
            present[key] = value
        return present


_MESSAGES = {
    "missing": "{name} is required",
    "string_too_short": "{name} is required",
    "string_too_long": "{name} is longer than {max_length} characters",
    "greater_than_equal": "{name} must be at least {ge}",
    "less_than_equal": "{name} must be at most {le}",
    "literal_error": "{name} must be one of {expected}",
}

R = TypeVar("R", bound=Request)


def read(model: type[R], params: Mapping[str, Any]) -> R:
    """The endpoint's parameters, or 30001 naming the first bad one as the vendor's clients expect."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "body"
        template = _MESSAGES.get(first["type"], "{name} {msg}")
        raise DigelaoError(BAD_PARAM, template.format(name=name, msg=first["msg"], **first.get("ctx", {}))) from None


class Public(Request):
    """The public parameters every call but login carries (§3); the dispatcher checks them."""

    user_sn: str = Field(default="", examples=["SYSUSER|3e9d1c7a5b2f4d6e8a0c1e3f5a7b9d2c"])
    api_key: str = Field(default="", examples=["Hk4Rw9Pd"])
    url: str = Field(
        default="",
        examples=["e4809fef"],
        description="md5hex[1:9] of every other parameter, in request order, as PHP json_encode writes them",
    )


# --- requests ---------------------------------------------------------------------------------------------


class Login(Vendor):
    api_access_id: str
    from_: Literal[1, 2] = Field(alias="from", description="1: api_access_id login; 2: username/password")
    sign: str = Field(description="md5(api_access_id + api_access_secret + timestamp), 32 hex")
    timestamp: str = Field(examples=["2024-07-12 10:30:00"], description="within 5 minutes of server time")


class SetCallback(Public):
    open_callback: Int = Field(ge=0, le=1, description="1 on, 0 off")
    callback_url: Text = Field(default="", description="per-call pushes; required when open_callback is 1")
    task_callback_url: Text | None = Field(default=None, description="import pushes; absent: unchanged")


class PageParams(Public):
    pageIndex: Int = Field(default=0, ge=0, le=10_000_000, description="0-based")
    pageSize: Int = Field(default=10, ge=1, description="clamped to the server's largest page")


class SubAccounts(PageParams):
    pageSize: Int = Field(default=5, ge=1)
    user_name: Text = ""


class TaskList(PageParams):
    start_create_at: Text = Field(default="", examples=["2024-07-12 00:00:00"])
    end_create_at: Text = ""


class OperateTask(Public):
    project_type: Int = Field(description="always 2")
    oper: Text = Field(
        min_length=1,
        description="stop pauses · keepOn resumes or starts (idempotent) · failRe redials the unanswered · "
        "delete ends and hides · end terminates",
    )
    pkeys: Text = Field(
        min_length=1, examples=["2051,2052"], description="dial_task_main_ids or dial_task_main_sns, not mixed"
    )


class AddJsonOfAsync(Public):
    source: Text = Field(min_length=1, max_length=50, description="the task name")
    project_sn: Text = Field(default="", description="script sn from templatelist")
    project_caption: Text = Field(default="", description="script name, when project_sn is absent")
    user_name: Text = Field(default="", description="owning sub-account (default: the caller)")
    client_info_json: Json = Field(
        default=None,
        description='{"data": [row, …]} (or its JSON text), at most 10000 rows; 电话 required, 姓名, other keys '
        "are script variables",
    )
    caller_group: Text = Field(default="", description="comma-separated line numbers (default: every enabled)")
    ai_count: Int | None = Field(default=None, ge=1, description="AI seats (default: the account's quota)")
    auto_start: Int = Field(default=1, ge=0, le=1)
    periods: Json = Field(default=None, description='JSON [{"start_at":"09:00:00","end_at":"12:00:00"}, …]')
    remark: Text = ""


class AsyncTaskResult(Public):
    dial_task_main_id: Int = Field(ge=1)


class CrmList(PageParams):
    start_create_at: Text = ""
    end_create_at: Text = ""
    dial_task_main_sn: Text = ""
    ids_json: Json = Field(default=None, description="JSON array of record sns")
    project_sn: Text = ""
    status: Text = Field(default="", examples=["A,B"], description="intent levels")
    status_search: Text = Field(default="", description="status (the robot's level) or status_manual")
    namephone: Text = ""
    turn_count_min: Int | None = Field(default=None, ge=0)
    turn_count_max: Int | None = Field(default=None, ge=0)
    talktimes_min: Int | None = Field(default=None, ge=0)
    talktimes_max: Int | None = Field(default=None, ge=0)
    # Vendor filters callbot does not model: a non-empty one matches nothing.
    hangup_serial_number: Text = ""
    qc_status: Text = ""
    return_visit: Text = ""
    score_min: Text = ""
    score_max: Text = ""
    asks_count_min: Text = ""
    asks_count_max: Text = ""
    fs_intervention_time_min: Text = ""
    fs_intervention_time_max: Text = ""
    seating_assistance: Text = ""
    warning_times_min: Text = ""
    warning_times_max: Text = ""
    warning_results: Text = ""
    dynamic_labelling: Text = ""
    area_code: Text = ""
    mark: Text = ""

    def unsupported_filter(self) -> bool:
        return any(getattr(self, name) for name in UNSUPPORTED_FILTERS)


UNSUPPORTED_FILTERS = (
    "hangup_serial_number",
    "qc_status",
    "return_visit",
    "score_min",
    "score_max",
    "asks_count_min",
    "asks_count_max",
    "fs_intervention_time_min",
    "fs_intervention_time_max",
    "seating_assistance",
    "warning_times_min",
    "warning_times_max",
    "warning_results",
    "dynamic_labelling",
    "area_code",  # not on records yet (see the dialect notes)
    "mark",
)


class CdrFragments(Public):
    sn: Text = Field(min_length=1)


# --- answers ----------------------------------------------------------------------------------------------


class LoginData(Vendor):
    id: int
    user_sn: str
    user_name: str
    team_name: str
    team_sn: str
    parent_sn: str
    expired: str
    ai_count: int
    caller_group: str
    job: str
    api_key: str
    api_key_expire: int
    callback_url: str | None
    open_callback: Literal["0", "1"]
    task_callback_url: str | None


class Template(Vendor):
    sn: str
    project_caption: str


class TaskCreated(Vendor):
    dial_task_main_id: int
    dial_task_main_sn: str


class DialogueLine(Vendor):
    role: Literal["robot", "customer"]
    text: str


class RecordItem(Vendor):
    """A crmList item (§4.8), also the body of the per-call push (§5.2)."""

    sn: str
    phone: str
    created_at: str | None = Field(examples=["2024-07-12 10:31:07"])
    started_at: str | None
    talktimes: int = Field(description="seconds talked (0 when not answered)")
    status: str = Field(description="intent level A-F")
    status_manual: str = Field(description="a person's grading, or empty")
    source: str = Field(description="the task name")
    user_name: str
    parent_sn: str
    team_name: str
    operator: str
    mark: str
    fs_push_screens: int
    pushed_at: None
    listened_at: None
    intervention_at: None
    dial_task_main_id: int
    dial_task_main_sn: str
    project_sn: str
    project_caption: str
    name: str
    client_info: dict[str, Any] = Field(description="电话, 姓名 and the imported columns")
    ended_at: str | None
    turn_count: int
    area_code: str
    call_result: str
    intent_reason: str | None
    labels: list[str]
    record_url: str
    dialogue: list[DialogueLine]


class TaskItem(Vendor):
    """An index item (§4.4)."""

    dial_task_main_id: int
    dial_task_main_sn: str
    status: str = Field(examples=["发送中"], description="未发送 · 发送中 · 暂停发送 · 发送失败 · 已发送")
    user_sn: str
    user_name: str
    team_sn: str
    team_name: str
    created_at: str | None
    last_modify: str | None
    started_at: str | None
    stoped_at: str | None
    total_count: int
    send_count: int
    unsend_count: int
    success: str
    fail: str
    stops: str
    percent: str = Field(examples=["75%"])
    project_sn: str
    project_caption: str
    source: str
    batch: str
    operator: str
    parent_sn: str
    caller_group: str
    remark: str | None
    mark: None
    priority: None
    percentage: None
    trunkgroup_sn: None
    ring_groups: None
    task_type: int
    task_state: str


class Row(BaseModel):
    """A listing row; the spec lists its fields (§4.2, §4.4, §4.8)."""

    model_config = ConfigDict(extra="allow")


class Fragments(Vendor):
    sn: str
    record_url: str
    fragments: list[dict[str, Any]]


DESCRIPTION = """\
The Digelao (狄阁老 / ciopaas v6.6) API as callbot speaks it. Endpoints are `/api/{name}` (name matched
case-insensitively), POST with a JSON or form body, or GET with a query string. Log in with
`/api/login` to get `user_sn` and `api_key`; every other call carries them and the anti-hijack `url`.
"""

OPERATIONS = [
    Operation("/api/login", "post", "Log in: user_sn and api_key", Answer[LoginData], body=Login),
    Operation("/api/setCallback", "post", "Push settings", Answer[None], body=SetCallback),
    Operation("/api/aiUserDatasapi", "post", "Sub-accounts", Answer[list[Row]], body=SubAccounts),
    Operation("/api/templatelist", "post", "Scripts that can run", Answer[list[Template]], body=Public),
    Operation("/api/index", "post", "Task list", Answer[Listing[TaskItem]], body=TaskList),
    Operation("/api/operateTask", "post", "Pause, resume, redial, end or delete tasks", Answer[None], body=OperateTask),
    Operation(
        "/api/addJsonOfAsync",
        "post",
        "Create a task with its customers (and start it)",
        Answer[TaskCreated],
        body=AddJsonOfAsync,
    ),
    Operation("/api/getAsyncTaskResult", "post", "Import result", Answer[Row], body=AsyncTaskResult),
    Operation("/api/crmList", "post", "Call records", Answer[Listing[RecordItem]], body=CrmList),
    Operation("/api/cdrFragmentDownload", "post", "Recording URLs of a call", Answer[Fragments], body=CdrFragments),
]


def openapi_document(version: str) -> dict[str, Any]:
    return build_document(
        title="callbot — Digelao dialect",
        version=version,
        description=DESCRIPTION,
        operations=[replace(op, tags=["digelao"]) for op in OPERATIONS],
        security={},
    )
