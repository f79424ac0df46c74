"""The Digelao (ciopaas v6.6) shapes (spec digelao-v6 §2-§4) as Pydantic models, under the vendor's names.
They document the dialect (its OpenAPI document is built from them) and the tests hold the answers the
dialect renders to them. Requests may also come as a form or a query string, numbers as strings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

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


class Public(Vendor):
    """The public parameters every call but login carries (§3)."""

    user_sn: str = Field(examples=["SYSUSER|3e9d1c7a5b2f4d6e8a0c1e3f5a7b9d2c"])
    api_key: str = Field(examples=["Hk4Rw9Pd"])
    url: str = Field(
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
    open_callback: Literal[0, 1]
    callback_url: str = Field(description="per-call pushes; required when open_callback is 1")
    task_callback_url: str | None = Field(default=None, description="import pushes")


class PageParams(Public):
    pageIndex: int = Field(default=0, ge=0, description="0-based")
    pageSize: int = Field(default=10, ge=1)


class SubAccounts(PageParams):
    user_name: str | None = None


class TaskList(PageParams):
    start_create_at: str | None = Field(default=None, examples=["2024-07-12 00:00:00"])
    end_create_at: str | None = None


class OperateTask(Public):
    project_type: Literal[2]
    pkeys: str = Field(examples=["2051,2052"], description="dial_task_main_ids or dial_task_main_sns, not mixed")
    oper: Literal["stop", "keepOn", "failRe", "delete", "end"] = Field(
        description="stop pauses · keepOn resumes or starts (idempotent) · failRe redials the unanswered · "
        "delete ends and hides · end terminates"
    )


class AddJsonOfAsync(Public):
    source: str = Field(max_length=50, description="the task name")
    project_sn: str | None = Field(default=None, description="script sn from templatelist")
    project_caption: str | None = Field(default=None, description="script name, when project_sn is absent")
    user_name: str | None = Field(default=None, description="owning sub-account (default: the caller)")
    client_info_json: str | dict[str, Any] = Field(
        description='{"data": [row, …]}, at most 10000 rows; 电话 required, 姓名, other keys are variables'
    )
    caller_group: str | None = Field(default=None, description="comma-separated line numbers (default: all)")
    ai_count: int | None = Field(default=None, ge=1, description="AI seats (default: the account's quota)")
    periods: str | None = Field(default=None, description='JSON [{"start_at":"09:00:00","end_at":"12:00:00"}, …]')
    auto_start: Literal[0, 1] = 1
    remark: str | None = None


class AsyncTaskResult(Public):
    dial_task_main_id: int = Field(ge=1)


class CrmList(PageParams):
    start_create_at: str | None = None
    end_create_at: str | None = None
    dial_task_main_sn: str | None = None
    ids_json: str | None = Field(default=None, description="JSON array of record sns")
    project_sn: str | None = None
    status: str | None = Field(default=None, examples=["A,B"], description="intent levels")
    status_search: Literal["status", "status_manual"] | None = None
    namephone: str | None = None
    turn_count_min: int | None = None
    turn_count_max: int | None = None
    talktimes_min: int | None = None
    talktimes_max: int | None = None


class CdrFragments(Public):
    sn: str


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
    Operation("/api/index", "post", "Task list", Answer[Listing[Row]], body=TaskList),
    Operation("/api/operateTask", "post", "Pause, resume, redial, end or delete tasks", Answer[None], body=OperateTask),
    Operation(
        "/api/addJsonOfAsync",
        "post",
        "Create a task with its customers (and start it)",
        Answer[TaskCreated],
        body=AddJsonOfAsync,
    ),
    Operation("/api/getAsyncTaskResult", "post", "Import result", Answer[Row], body=AsyncTaskResult),
    Operation("/api/crmList", "post", "Call records", Answer[Listing[Row]], body=CrmList),
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
