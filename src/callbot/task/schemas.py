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
    """A new outbound task (外呼任务): who calls (script, lines, AI seats), when (daily window, pauses, start
    time) and what happens to unanswered calls (redial rules)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "11月分期回访",
                    "mode": "MANUAL",
                    "script_id": 1,
                    "line_ids": [1],
                    "robot_count": 2,
                    "daily_start": "09:00",
                    "daily_end": "20:00",
                    "inactive_windows": [{"start": "12:00", "end": "13:30"}],
                    "redial_rules": [{"results": ["NO_ANSWER", "BUSY"], "delay_minutes": 60, "max_times": 2}],
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200, description="shown in lists and callbacks")
    mode: TaskMode = Field(
        default=TaskMode.MANUAL, description="MANUAL waits for `start`; AUTO starts by itself at `start_time`"
    )
    script_id: int = Field(ge=1, le=MAX_ID, description="the script (话术); it must have an approved version")
    line_ids: LineIds = Field(description="the caller lines (主叫线路) it dials from")
    robot_count: int = Field(
        default=1, ge=1, le=MAX_ID, description="AI seats: calls at once, at most the tenant's seats"
    )
    daily_start: WallTime = Field(default=time(9, 0), description="daily window start, inside the tenant's hours")
    daily_end: WallTime = Field(default=time(20, 0), description="daily window end")
    inactive_windows: list[Window] = Field(
        default_factory=list, max_length=3, description="pauses inside the daily window (a lunch break)"
    )
    # AUTO tasks start by themselves at this time; without one they start as soon as they are created.
    start_time: datetime | None = Field(
        default=None, description="when an AUTO task starts (without an offset: the tenant's wall clock)"
    )
    description: str = Field(default="", max_length=2000)
    redial_rules: list[RedialRule] = Field(
        default_factory=list, max_length=10, description="call again customers whose attempt ended so"
    )
    # Calls again a customer whose attempt the platform interrupted, this many times, outside the redial rules.
    interrupted_retries: int = Field(
        default=1, ge=0, le=5, description="retries of attempts the platform interrupted (a worker died)"
    )
    alerts: TaskAlerts = Field(default_factory=TaskAlerts, description="who is told about which intent levels")
    screen_announcements: bool = Field(
        default=True,
        description="on real phone lines, record carrier announcements, voicemail and call-screening assistants "
        "as their dial result (关机, 空号, ...) instead of talking to them",
    )


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
