"""The Yiwise envelope (§3): every answer is `{code, data, requestId, resultMsg, errorStackTrace}`, and every
domain error is mapped to one of the dialect's codes here, once."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from fastapi.responses import Response

from callbot.errors import (
    CallbotError,
    Conflict,
    Forbidden,
    NotFound,
    QuotaExceeded,
    Unauthorized,
    ValidationFailed,
)

OK = 200
BAD_AUTH = 401
FORBIDDEN = 403
NOT_FOUND = 404
BAD_PARAMETER = 412
SERVER_ERROR = 500

# The seed's texts for each code.
TEXTS = {
    OK: "执行成功",
    BAD_AUTH: "校验数据错误",
    FORBIDDEN: "权限不足",
    NOT_FOUND: "资源未找到",
    BAD_PARAMETER: "参数错误",
    SERVER_ERROR: "未知错误",
}

FETCHED = "获取成功"
MODIFIED = "修改成功"
DELETED = "删除成功"
CREATED = "创建成功"
EXECUTED = "执行成功"

MEDIA_TYPE = "application/json;charset=UTF-8"

# Native field names as services report them, and the Yiwise names a client sent.
_FIELD_NAMES = {
    "script_id": "dialogFlowId",
    "line_ids": "jobPhoneNumberList",
    "robot_count": "robotCount",
    "daily_start": "dailyStartTime",
    "daily_end": "dailyEndTime",
    "inactive_windows": "inactiveStartTime",
    "start_time": "startTime",
    "phone": "phoneNumber",
}


class YiwiseError(Exception):
    """An answer other than 200, raised by the dialect itself (a malformed parameter, an unknown path)."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code} {detail}")


def bad_parameter(field: str, problem: str) -> YiwiseError:
    return YiwiseError(BAD_PARAMETER, f"{field}: {problem}")


def new_request_id() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(8))


def body(code: int, data: Any, message: str, request_id: str) -> dict[str, Any]:
    return {"code": code, "data": data, "requestId": request_id, "resultMsg": message, "errorStackTrace": None}


def render(content: dict[str, Any], *, status: int = 200) -> Response:
    raw = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return Response(raw.encode("utf-8"), status_code=status, media_type=MEDIA_TYPE)


def vendor_field(field: str) -> str:
    head, _, rest = field.partition(".")
    if head == "body":
        head, _, rest = rest.partition(".")
    name = _FIELD_NAMES.get(head, head)
    return f"{name}.{rest}" if rest else name


def translate(exc: CallbotError) -> YiwiseError:
    """A domain error as the dialect's code and message (the field named in the vendor's terms)."""
    if isinstance(exc, ValidationFailed):
        if exc.problems:
            field, problem = exc.problems[0]
            return bad_parameter(vendor_field(field), problem)
        return YiwiseError(BAD_PARAMETER, exc.message)
    if isinstance(exc, QuotaExceeded):
        named = exc.details.get("field")
        if named:
            return bad_parameter(vendor_field(str(named)), exc.message)
        return YiwiseError(BAD_PARAMETER, exc.message)
    if isinstance(exc, NotFound):
        return YiwiseError(NOT_FOUND, exc.message)
    if isinstance(exc, Unauthorized):
        return YiwiseError(BAD_AUTH, exc.message)
    if isinstance(exc, Forbidden):
        return YiwiseError(FORBIDDEN, exc.message)
    if isinstance(exc, Conflict):  # InvalidState among them: a state change the task does not allow
        return YiwiseError(BAD_PARAMETER, exc.message)
    return YiwiseError(BAD_PARAMETER, exc.message)


def error_message(error: YiwiseError) -> str:
    text = TEXTS.get(error.code, TEXTS[SERVER_ERROR])
    return f"{text}: {error.detail}" if error.detail else text
