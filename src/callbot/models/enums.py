"""The field's vocabularies, as stored. Values are the Yiwise names, which the native API uses too."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum as SaEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class TenantStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class CredentialKind(StrEnum):
    TOKEN = "token"
    YIWISE = "yiwise"
    DIGELAO = "digelao"


class LineType(StrEnum):
    """主叫线路类型."""

    MOBILE = "MOBILE"
    LANDLINE = "LANDLINE"
    UNFIXED_CALL = "UNFIXED_CALL"
    VOIP_DEVICE = "VOIP_DEVICE"


class ScriptStatus(StrEnum):
    DRAFT = "DRAFT"
    APPROVED = "APPROVED"


class TaskMode(StrEnum):
    AUTO = "AUTO"
    MANUAL = "MANUAL"


class TaskStatus(StrEnum):
    """任务状态, the Yiwise set."""

    NOT_STARTED = "NOT_STARTED"
    IN_PROCESS = "IN_PROCESS"
    COMPLETED = "COMPLETED"
    RUNNABLE = "RUNNABLE"
    USER_PAUSE = "USER_PAUSE"
    SYSTEM_SUSPENDED = "SYSTEM_SUSPENDED"
    TERMINATE = "TERMINATE"
    IN_QUEUE = "IN_QUEUE"


class CustomerStatus(StrEnum):
    """Where a customer of a task stands."""

    PENDING = "PENDING"  # waiting for its first or next attempt
    DIALLING = "DIALLING"  # an attempt is leased and in flight
    FINISHED = "FINISHED"  # no further attempt: answered, or redial rules exhausted
    SKIPPED = "SKIPPED"  # not called: DNC or frequency cap at dial time, or the task ended


class CallResult(StrEnum):
    """通话结果 (dial result)."""

    ANSWERED = "ANSWERED"
    NO_ANSWER = "NO_ANSWER"
    BUSY = "BUSY"
    POWER_OFF = "POWER_OFF"
    OUT_OF_SERVICE = "OUT_OF_SERVICE"
    REFUSED = "REFUSED"
    VACANT_NUMBER = "VACANT_NUMBER"
    CAN_NOT_CONNECT = "CAN_NOT_CONNECT"
    FROM_PHONE_ERROR = "FROM_PHONE_ERROR"
    SYSTEM_ERROR = "SYSTEM_ERROR"


# The labels of the dial results (Yiwise §6), also the analysis basis of an unanswered call.
RESULT_LABELS: dict[str, str] = {
    "ANSWERED": "已接听",
    "NO_ANSWER": "未接",
    "BUSY": "占线",
    "POWER_OFF": "关机",
    "OUT_OF_SERVICE": "被叫停机",
    "REFUSED": "拒接",
    "VACANT_NUMBER": "空号",
    "CAN_NOT_CONNECT": "无法接通",
    "FROM_PHONE_ERROR": "主叫号码不可用",
    "SYSTEM_ERROR": "外呼失败",
}


class HangupBy(StrEnum):
    """Who ended an answered call (挂断方); NOBODY for an unanswered or transferred one."""

    ROBOT = "ROBOT"
    PERSON = "PERSON"
    NOBODY = ""


class Level(StrEnum):
    """意向等级."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class ImportStatus(StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"


def enum_column(enum: type[StrEnum]) -> Any:
    """A portable column for a StrEnum: a checked VARCHAR, never a native database enum."""
    return SaEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
