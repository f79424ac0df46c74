"""One error shape for the whole native API:

    {"error": {"code": "not_found", "message": "no task with id 7", "details": [{"field": "...", "message": "..."}]}}

Illegal state changes are 409 and name the current state in `error.state`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from callbot.errors import (
    CallbotError,
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    QuotaExceeded,
    Unauthorized,
    ValidationFailed,
)

_STATUS: list[tuple[type[CallbotError], int, str]] = [
    (ValidationFailed, 422, "validation_failed"),
    (NotFound, 404, "not_found"),
    (InvalidState, 409, "invalid_state"),
    (Conflict, 409, "conflict"),
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (QuotaExceeded, 422, "quota_exceeded"),
]


class ErrorDetail(BaseModel):
    field: str = Field(
        description="where: a body field path (`inactive_windows.1.end`), a query or path parameter, or `body`"
    )
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(
        description="validation_failed, bad_request, not_found, invalid_state, conflict, unauthorized, forbidden, …"
    )
    message: str
    details: list[ErrorDetail]
    state: str | None = Field(default=None, description="the task's current state, on an illegal state change (409)")


class ErrorResponse(BaseModel):
    """Every error of the native API."""

    error: ErrorInfo


def _error(description: str, example: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": ErrorResponse,
        "description": description,
        "content": {"application/json": {"example": {"error": {"details": [], **example}}}},
    }


# Declared on every authenticated operation: what any of them may answer besides its success.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error(
        "The body could not be parsed (not UTF-8, or nested too deeply)",
        {"code": "bad_request", "message": "the body is not valid JSON"},
    ),
    401: _error(
        "No valid bearer token", {"code": "unauthorized", "message": "send an Authorization: Bearer <token> header"}
    ),
    403: _error(
        "The credential is disabled or the tenant suspended",
        {"code": "forbidden", "message": "the tenant is suspended"},
    ),
    404: _error(
        "No such resource for this tenant (another tenant's id is a 404 too)",
        {"code": "not_found", "message": "no task with id 1052"},
    ),
    409: _error(
        "A state change the resource does not allow now, or a conflict with existing data",
        {"code": "invalid_state", "message": "cannot start task 1052: it is TERMINATE", "state": "TERMINATE"},
    ),
    422: _error(
        "A parameter or body field is invalid; `details` names each",
        {
            "code": "validation_failed",
            "message": "inactive_windows.0.end: an inactive window must end after it starts",
            "details": [{"field": "inactive_windows.0.end", "message": "an inactive window must end after it starts"}],
        },
    ),
}


def error_body(code: str, message: str, details: list[dict[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "details": details or []}
    error.update(extra)
    return {"error": error}


def render_callbot_error(exc: CallbotError) -> JSONResponse:
    status, code = 400, "bad_request"
    for cls, cls_status, cls_code in _STATUS:
        if isinstance(exc, cls):
            status, code = cls_status, cls_code
            break
    details: list[dict[str, str]] = []
    if isinstance(exc, ValidationFailed):
        details = [{"field": loc, "message": msg} for loc, msg in exc.problems]
    elif "field" in exc.details:
        details = [{"field": str(exc.details["field"]), "message": exc.message}]
    extra = {"state": exc.details["state"]} if "state" in exc.details else {}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(code, exc.message, details, **extra), status_code=status, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def _detail(error: Any) -> dict[str, str]:
    if error.get("type") == "json_invalid":
        reason = error.get("ctx", {}).get("error", "syntax error")
        return {"field": "body", "message": f"the body is not valid JSON ({reason})"}
    return {"field": _field_path(tuple(error.get("loc", ()))), "message": str(error.get("msg", ""))}


def install(app: FastAPI) -> None:
    @app.exception_handler(CallbotError)
    async def _callbot(_request: Request, exc: CallbotError) -> JSONResponse:
        return render_callbot_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [_detail(e) for e in exc.errors()]
        first = details[0] if details else {"field": "body", "message": "invalid"}
        message = f"{first['field']}: {first['message']}"
        if len(details) > 1:
            message += f" (and {len(details) - 1} more)"
        return JSONResponse(error_body("validation_failed", message, details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthorized",
            403: "forbidden",
        }.get(exc.status_code, "http_error")
        # The framework answers 400 only when it cannot parse a body (one nested too deeply, for instance).
        details = [{"field": "body", "message": str(exc.detail)}] if exc.status_code == 400 else []
        return JSONResponse(
            error_body(code, str(exc.detail), details), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body("internal_error", "unexpected server error"), status_code=500)
