"""Settings pages: lines (线路), the do-not-call list (黑名单) with bulk import, callback settings with the
delivery log and redeliver, API credentials (the secret shown once), users and roles."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.console.web import Admin, ConsoleRoute, Ctx, Operator, RolledBack, Viewer
from callbot.credential import service as credential_service
from callbot.dnc import service as dnc_service
from callbot.errors import CallbotError, ValidationFailed
from callbot.kit.paging import PageRequest
from callbot.line import service as line_service
from callbot.models.enums import CredentialKind, LineType, Role
from callbot.tenant import service as tenant_service

router = APIRouter(route_class=ConsoleRoute)

MAX_DNC_IMPORT = 10_000
KIND_LABELS = {
    CredentialKind.TOKEN: "原生 API 令牌",
    CredentialKind.YIWISE: "一知 Yiwise appKey",
    CredentialKind.DIGELAO: "狄阁老 Digelao access id",
}


def field_errors(exc: CallbotError) -> dict[str, str]:
    """A service's problems keyed by the form field (the first part of their location)."""
    if isinstance(exc, ValidationFailed) and exc.problems:
        errors: dict[str, str] = {}
        for where, message in exc.problems:
            errors.setdefault(where.split(".")[0], message)
        return errors
    return {"_": exc.message}


async def _form(ctx: Ctx) -> dict[str, str]:
    form = await ctx.request.form()
    return {k: str(v) for k, v in form.items() if k != "csrf"}


# --- lines ------------------------------------------------------------------------------------------------


async def _lines_page(
    ctx: Ctx, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Response:
    lines = await line_service.list_lines(ctx.tx, ctx.tenant)
    return ctx.page(
        "lines.html",
        status_code=422 if errors else 200,
        lines=lines,
        errors=errors or {},
        values=values or {"phone": "", "name": "", "concurrency": "10", "type": "UNFIXED_CALL"},
        types=list(LineType),
    )


@router.get("/lines")
async def lines(ctx: Viewer) -> Response:
    return await _lines_page(ctx)


@router.post("/lines")
async def add_line(ctx: Admin) -> Response:
    values = await _form(ctx)
    try:
        concurrency = int(values.get("concurrency", "10") or 10)
        kind = LineType(values.get("type", "UNFIXED_CALL"))
    except ValueError:
        raise RolledBack(
            await _lines_page(ctx, errors={"concurrency": "应为整数，线路类型应从列表中选"}, values=values)
        ) from None
    try:
        await line_service.add_line(
            ctx.tx, ctx.tenant, values.get("phone", ""), name=values.get("name", ""), type=kind, concurrency=concurrency
        )
    except CallbotError as exc:
        raise RolledBack(await _lines_page(ctx, errors=field_errors(exc), values=values)) from exc
    return RedirectResponse("/lines", status_code=303)


# --- do-not-call list -------------------------------------------------------------------------------------


async def _dnc_page(ctx: Ctx, page: int = 1, **values: Any) -> Response:
    numbers = await dnc_service.list_numbers(ctx.tx, ctx.tenant, PageRequest(page=max(1, page), size=50))
    values.setdefault("errors", {})
    values.setdefault("report", None)
    return ctx.page("dnc.html", status_code=422 if values["errors"] else 200, numbers=numbers, **values)


@router.get("/dnc")
async def dnc(ctx: Viewer, page: int = 1) -> Response:
    return await _dnc_page(ctx, page)


@router.post("/dnc")
async def dnc_import(ctx: Operator) -> Response:
    """One number or many (one a line, or separated by commas); each bad one is reported by its line, the
    good ones are added all the same."""
    form = await ctx.request.form()
    text = str(form.get("numbers", ""))
    upload = form.get("file")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        if not upload.filename.lower().endswith((".txt", ".csv")):
            raise ValidationFailed("只能导入 .txt 或 .csv 文件", [("file", upload.filename)])
        raw = await upload.read(1024 * 1024 + 1)
        if len(raw) > 1024 * 1024:
            raise ValidationFailed("文件太大", [("file", "最大 1 MB")])
        text += "\n" + raw.decode("utf-8-sig", errors="replace")
    reason = str(form.get("reason", ""))[:200]
    items = [piece.strip() for line in text.splitlines() for piece in line.replace("，", ",").split(",")]
    items = [item for item in items if item and item not in ("phone", "号码", "手机号")]
    if not items:
        return await _dnc_page(ctx, errors={"numbers": "请输入至少一个号码"})
    if len(items) > MAX_DNC_IMPORT:
        return await _dnc_page(ctx, errors={"numbers": f"一次最多导入 {MAX_DNC_IMPORT} 个号码"})
    added, rejected = 0, []
    for number, item in enumerate(items, start=1):
        try:
            await dnc_service.add_number(ctx.tx, ctx.tenant, item, source="console", reason=reason)
            added += 1
        except ValidationFailed as exc:
            rejected.append((number, item, exc.message))
    return await _dnc_page(ctx, report={"added": added, "rejected": rejected})


@router.post("/dnc/remove")
async def dnc_remove(ctx: Operator) -> Response:
    values = await _form(ctx)
    await dnc_service.remove_number(ctx.tx, ctx.tenant, values.get("phone", ""))
    return RedirectResponse("/dnc", status_code=303)


# --- callbacks --------------------------------------------------------------------------------------------


async def _callbacks_page(ctx: Ctx, *, errors: dict[str, str] | None = None, page: int = 1) -> Response:
    settings = await callback_service.get_settings(ctx.tx, ctx.tenant)
    events = await outbox.list_events(ctx.tx, ctx.tenant, PageRequest(page=max(1, page), size=30))
    return ctx.page(
        "callbacks.html",
        status_code=422 if errors else 200,
        settings=settings,
        signing_secret=callback_service.signing_secret(ctx.tx, settings),
        events=events,
        errors=errors or {},
        dialects=callback_service.DIALECTS,
    )


@router.get("/callbacks")
async def callbacks(ctx: Admin, page: int = 1) -> Response:
    return await _callbacks_page(ctx, page=page)


@router.post("/callbacks")
async def update_callbacks(ctx: Admin) -> Response:
    values = await _form(ctx)
    changes = callback_service.CallbackChanges(
        url=values.get("url", ""),
        task_url=values.get("task_url", ""),
        enabled=values.get("enabled") == "on",
        dialect=values.get("dialect", "native"),
        token=values.get("token", ""),
        aes_key=values.get("aes_key") or None,
    )
    try:
        await callback_service.update_settings(ctx.tx, ctx.tenant, changes)
    except CallbotError as exc:
        raise RolledBack(await _callbacks_page(ctx, errors=field_errors(exc))) from exc
    return RedirectResponse("/callbacks", status_code=303)


@router.get("/callbacks/events/{event_id}")
async def callback_event(ctx: Admin, event_id: int) -> Response:
    event = await outbox.get_event(ctx.tx, ctx.tenant, event_id)
    attempts = await outbox.attempts_of(ctx.tx, event)
    return ctx.page("callback_event.html", event=event, attempts=attempts)


@router.post("/callbacks/events/{event_id}/redeliver")
async def redeliver(ctx: Admin, event_id: int) -> Response:
    await outbox.redeliver(ctx.tx, ctx.tenant, event_id)
    return RedirectResponse(f"/callbacks/events/{event_id}", status_code=303)


# --- credentials ------------------------------------------------------------------------------------------


@router.get("/credentials")
async def credentials(ctx: Admin) -> Response:
    listed = await credential_service.list_credentials(ctx.tx, ctx.tenant)
    return ctx.page("credentials.html", credentials=listed, issued=None, kinds=KIND_LABELS)


@router.post("/credentials")
async def create_credential(ctx: Admin) -> Response:
    """The secret is in this response only: it is stored as a digest or encrypted, never shown again."""
    values = await _form(ctx)
    try:
        kind = CredentialKind(values.get("kind", ""))
    except ValueError:
        raise ValidationFailed("未知的凭证类型", [("kind", values.get("kind", ""))]) from None
    issued = await credential_service.create_credential(ctx.tx, ctx.tenant, kind, label=values.get("label", "")[:100])
    listed = await credential_service.list_credentials(ctx.tx, ctx.tenant)
    response = ctx.page("credentials.html", credentials=listed, issued=issued, kinds=KIND_LABELS)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/credentials/{credential_id}/revoke")
async def revoke_credential(ctx: Admin, credential_id: int) -> Response:
    await credential_service.set_enabled(ctx.tx, ctx.tenant, credential_id, False)
    return RedirectResponse("/credentials", status_code=303)


# --- users ------------------------------------------------------------------------------------------------


async def _users_page(
    ctx: Ctx, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Response:
    users = await tenant_service.list_users(ctx.tx, ctx.tenant)
    return ctx.page(
        "users.html",
        status_code=422 if errors else 200,
        users=users,
        roles=list(Role),
        errors=errors or {},
        values=values or {"username": "", "display_name": "", "role": "viewer"},
    )


@router.get("/users")
async def users(ctx: Admin) -> Response:
    return await _users_page(ctx)


@router.post("/users")
async def create_user(ctx: Admin) -> Response:
    values = await _form(ctx)
    try:
        role = Role(values.get("role", ""))
        await tenant_service.create_user(
            ctx.tx,
            ctx.tenant,
            values.get("username", ""),
            values.get("password", ""),
            role,
            values.get("display_name", ""),
        )
    except ValueError:
        raise RolledBack(await _users_page(ctx, errors={"role": "请选择角色"}, values=values)) from None
    except CallbotError as exc:
        errors = field_errors(exc)
        if "already exists" in exc.message:
            errors = {"username": "用户名已被使用"}
        raise RolledBack(await _users_page(ctx, errors=errors, values=values)) from exc
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}")
async def update_user(ctx: Admin, user_id: int) -> Response:
    values = await _form(ctx)
    if user_id == ctx.user.id and (values.get("role", "admin") != "admin" or values.get("enabled") == "0"):
        raise ValidationFailed("不能降低或停用自己的账号", [("role", "请让另一位管理员操作")])
    try:
        role = Role(values["role"]) if values.get("role") else None
    except ValueError:
        raise ValidationFailed("未知的角色", [("role", values.get("role", ""))]) from None
    changes = tenant_service.UserChanges(
        role=role,
        enabled={"1": True, "0": False}.get(values.get("enabled", "")),
        password=values.get("password") or None,
    )
    await tenant_service.update_user(ctx.tx, ctx.tenant, user_id, changes)
    return RedirectResponse("/users", status_code=303)
