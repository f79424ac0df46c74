"""The Digelao envelope: HTTP 200 with `{code, msg, data}`; `data` is omitted on an error, because the known
client logs in again whenever a response has none. Domain errors map to the codes of §2.3 once, here."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from callbot.errors import CallbotError, Conflict, Forbidden, NotFound, QuotaExceeded, Unauthorized, ValidationFailed

OK = 0
URL_MISMATCH = 10001  # the `url` check failed; also a login timestamp outside ±5 min
BAD_TRANSPORT = 20001  # wrong method, or a body that cannot be parsed
MISSING_PUBLIC = 20002  # user_sn / api_key / url, or a login field, missing
BAD_CLIENT = 20003  # `from` is not a known client type
BAD_LOGIN = 20004  # unknown api_access_id, wrong sign or password, disabled or expired account
BAD_KEY = 20005  # not the current api_key of that user_sn
KEY_EXPIRED = 20006
BAD_PARAM = 30001
NOT_FOUND = 30002
BAD_STATE = 30003
OVER_LIMIT = 30004
SERVER_ERROR = 50001

MESSAGES = {
    URL_MISMATCH: "验证不通过,数据可能被劫持",
    BAD_TRANSPORT: "数据传输方式不正确",
    MISSING_PUBLIC: "数据格式错误(少传公共参数)",
    BAD_CLIENT: "该类型客户端不存在",
    BAD_LOGIN: "用户名和密码错误",
    BAD_KEY: "api_key验证不通过",
    KEY_EXPIRED: "api_key过期",
    BAD_PARAM: "参数错误",
    NOT_FOUND: "数据不存在",
    BAD_STATE: "当前状态不允许该操作",
    OVER_LIMIT: "超出限制",
    SERVER_ERROR: "系统繁忙",
}


class DigelaoError(Exception):
    """An answer with a non-zero code. `detail` is appended to the vendor text (`参数错误: pkeys`)."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code} {detail}")

    @property
    def msg(self) -> str:
        text = MESSAGES.get(self.code, "")
        return f"{text}: {self.detail}" if self.detail and self.code >= 30000 else text


def code_for(exc: CallbotError) -> int:
    """The Digelao code of a domain error."""
    if isinstance(exc, ValidationFailed):
        return BAD_PARAM
    if isinstance(exc, NotFound):
        return NOT_FOUND
    if isinstance(exc, QuotaExceeded):
        return OVER_LIMIT
    if isinstance(exc, Conflict):  # InvalidState included
        return BAD_STATE
    if isinstance(exc, Unauthorized | Forbidden):
        return BAD_KEY
    return BAD_PARAM


def ok(data: Any = None, *, msg: str = "SUCCESS", code: int = OK, **top: Any) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "msg": msg, **top}
    if data is not None:
        body["data"] = data
    return JSONResponse(body)


def fail(error: DigelaoError) -> JSONResponse:
    return JSONResponse({"code": error.code, "msg": error.msg})
