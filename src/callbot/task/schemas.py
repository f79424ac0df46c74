"""Task shapes shared by the native API and the services (dialects build these from vendor fields)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from callbot.kit.wallclock import WallTime
from callbot.models.enums import CallResult, Level, TaskMode, TaskStatus

MAX_ID = 2**31 - 1  # ids are 32-bit in the store


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: WallTime
    end: WallTime


class RedialRule(BaseModel):
    """Redial customers whose attempt ended with one of `results`, after `delay_minutes`, up to `max_times`."""

    model_config = ConfigDict(extra="forbid")

    results: list[CallResult] = Field(min_length=1)
    delay_minutes: int = Field(ge=0, le=7 * 24 * 60)
    max_times: int = Field(ge=1, le=10)


class TaskAlerts(BaseModel):
    """Who is told about which intent levels (提醒设置), by SMS or WeChat."""

    model_config = ConfigDict(extra="forbid")

    sms_levels: list[Level] = Field(default_factory=list)
    wechat_levels: list[Level] = Field(default_factory=list)
    users: list[int] = Field(default_factory=list)
    early_warning_users: list[int] = Field(default_factory=list)
    sms_template_id: int | None = None
    wechat_send_method: Literal["SENDTOALL", "SENDTOONE", "SENDTONONE"] = "SENDTONONE"
    # Conditional WeChat alerts: these levels, once a call has lasted `wechat_condition_min_seconds`.
    wechat_condition_levels: list[Level] = Field(default_factory=list)
    wechat_condition_min_seconds: int | None = Field(default=None, ge=0)


def _distinct(ids: list[int]) -> list[int]:
    seen: set[int] = set()
    for line_id in ids:
        if line_id in seen:
            raise ValueError(f"line {line_id} is listed twice")
        seen.add(line_id)
    return ids


LineIds = Annotated[
    list[Annotated[int, Field(ge=1, le=MAX_ID)]],
    Field(min_length=1, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct),
]
"""The caller lines of a task: at least one, each once."""


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    mode: TaskMode = TaskMode.MANUAL
    script_id: int = Field(ge=1, le=MAX_ID)
    line_ids: LineIds
    robot_count: int = Field(default=1, ge=1, le=MAX_ID)
    daily_start: WallTime = time(9, 0)
    daily_end: WallTime = time(20, 0)
    inactive_windows: list[Window] = Field(default_factory=list, max_length=3)
    # AUTO tasks start by themselves at this time; without one they start as soon as they are created.
    start_time: datetime | None = None
    description: str = Field(default="", max_length=2000)
    redial_rules: list[RedialRule] = Field(default_factory=list, max_length=10)
    # Calls again a customer whose attempt the platform interrupted, this many times, outside the redial rules.
    interrupted_retries: int = Field(default=1, ge=0, le=5)
    alerts: TaskAlerts = Field(default_factory=TaskAlerts)
    # On real phone lines, tell carrier announcements, voicemail and call-screening assistants from a
    # person and record them as their dial result (关机, 空号, ...) instead of talking to them.
    screen_announcements: bool = True


class TaskUpdate(BaseModel):
    """Changes to a task; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    mode: TaskMode | None = None
    script_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    line_ids: LineIds | None = None
    robot_count: int | None = Field(default=None, ge=1, le=MAX_ID)
    daily_start: WallTime | None = None
    daily_end: WallTime | None = None
    inactive_windows: list[Window] | None = Field(default=None, max_length=3)
    start_time: datetime | None = None
    description: str | None = Field(default=None, max_length=2000)
    redial_rules: list[RedialRule] | None = Field(default=None, max_length=10)
    interrupted_retries: int | None = Field(default=None, ge=0, le=5)
    alerts: TaskAlerts | None = None
    screen_announcements: bool | None = None


class TaskFilter(BaseModel):
    name: str | None = None
    status: list[TaskStatus] | None = None
    created_from: datetime | None = None  # inclusive, aware
    created_to: datetime | None = None  # exclusive, aware
