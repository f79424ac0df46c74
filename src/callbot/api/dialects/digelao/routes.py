"""The Digelao endpoints under `/api/{name}` (names matched case-insensitively). Every handler translates
its parameters, calls the same services as the native API and renders the vendor's shapes."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from callbot.api.deps import get_store
from callbot.api.dialects.digelao import mapping as m
from callbot.api.dialects.digelao.auth import BadRequestBody, Params, parse_request, sign_matches, url_matches
from callbot.api.dialects.digelao.envelope import (
    BAD_CLIENT,
    BAD_KEY,
    BAD_LOGIN,
    BAD_PARAM,
    BAD_STATE,
    BAD_TRANSPORT,
    KEY_EXPIRED,
    MISSING_PUBLIC,
    NOT_FOUND,
    OVER_LIMIT,
    SERVER_ERROR,
    URL_MISMATCH,
    DigelaoError,
    code_for,
    fail,
    ok,
)
from callbot.api.dialects.digelao.options import DigelaoOptions
from callbot.api.dialects.digelao.schemas import (
    AddJsonOfAsync,
    AsyncTaskResult,
    CdrFragments,
    CrmList,
    OperateTask,
    PageParams,
    SetCallback,
    SubAccounts,
    TaskList,
    read,
)
from callbot.callback import service as callback_service
from callbot.callback.service import CallbackChanges
from callbot.credential import replay, sessions
from callbot.credential import service as credential_service
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.errors import CallbotError, NotFound
from callbot.kit.db import Tx
from callbot.kit.paging import PageRequest
from callbot.line import service as line_service
from callbot.models import ApiSession, Tenant, User
from callbot.models.enums import CredentialKind, Level, Role
from callbot.record import service as record_service
from callbot.record.service import RecordFilter
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskFilter
from callbot.task.states import TaskAction
from callbot.tenant import service as tenant_service

__all__ = ["DigelaoOptions", "build_router", "mount_digelao"]

log = logging.getLogger(__name__)

PUBLIC = ("user_sn", "api_key", "url")


@dataclass(frozen=True)
class Caller:
    """The account behind a request's api_key."""

    tenant: Tenant
    session: ApiSession
    user: User | None
    main: User | None

    @property
    def is_main(self) -> bool:
        return self.user is None or (self.main is not None and self.main.id == self.user.id)

    @property
    def settings_user_id(self) -> int | None:
        """Callback settings of the main account are the tenant's; a sub-account has its own."""
        return None if self.is_main or self.user is None else self.user.id


Handler = Callable[[Tx, Caller, Params, DigelaoOptions], Awaitable[JSONResponse]]


def mount_digelao(app: FastAPI, options: DigelaoOptions | None = None) -> None:
    app.include_router(build_router(options or DigelaoOptions()))


def build_router(options: DigelaoOptions) -> APIRouter:
    router = APIRouter(tags=["digelao"])

    @router.api_route("/api/{name}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def dispatch(name: str, request: Request) -> JSONResponse:
        key = name.lower()
        try:
            body = await request.body()
            if request.method not in ("GET", "POST"):
                raise DigelaoError(BAD_TRANSPORT)
            store = get_store(request)
            content_type = request.headers.get("content-type", "")
            if key == "login":
                if request.method != "POST":
                    raise DigelaoError(BAD_TRANSPORT)
                params = _parse(request.method, content_type, body, request.url.query)
                async with store.transaction() as tx:
                    return await login(tx, params, options)
            handler = HANDLERS.get(key)
            if handler is None:
                raise DigelaoError(NOT_FOUND, f"no endpoint /api/{name}")
            params = _parse(request.method, content_type, body, request.url.query)
            for field in PUBLIC:
                value = params.get(field)
                if not isinstance(value, str) or not value.strip():
                    raise DigelaoError(MISSING_PUBLIC)
            async with store.transaction() as tx:
                caller = await authenticate(tx, params["user_sn"], params["api_key"])
                if not url_matches(params, params["url"]):
                    raise DigelaoError(URL_MISMATCH)
                return await handler(tx, caller, params, options)
        except DigelaoError as exc:
            return fail(exc)
        except CallbotError as exc:
            return fail(DigelaoError(code_for(exc), exc.message))
        except Exception:
            log.exception("digelao /api/%s failed", name)
            return fail(DigelaoError(SERVER_ERROR))

    return router


def _parse(method: str, content_type: str, body: bytes, query: str) -> Params:
    try:
        return parse_request(method, content_type, body, query)
    except BadRequestBody as exc:
        raise DigelaoError(BAD_TRANSPORT, str(exc)) from None


# --- authentication -----------------------------------------------------------------------------------


async def authenticate(tx: Tx, given_sn: str, api_key: str) -> Caller:
    if not given_sn.startswith(m.USER_PREFIX):
        raise DigelaoError(BAD_KEY)
    try:
        session = await sessions.verify(tx, given_sn[len(m.USER_PREFIX) :], api_key.strip())
        tenant = await sessions.session_tenant(tx, session)
    except sessions.SessionKeyExpired:
        raise DigelaoError(KEY_EXPIRED) from None
    except CallbotError:
        raise DigelaoError(BAD_KEY) from None
    user = await tenant_service.get_user(tx, tenant, session.user_id) if session.user_id is not None else None
    return Caller(tenant, session, user, await sessions.main_user(tx, tenant))


def _login_field(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None or isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise DigelaoError(MISSING_PUBLIC)
    return str(value).strip()


async def login(tx: Tx, params: Params, options: DigelaoOptions) -> JSONResponse:
    client = _login_field(params, "from")
    if client == "2" and options.password_login:
        return await _password_login(tx, params, options)
    access_id = _login_field(params, "api_access_id")
    sign = _login_field(params, "sign")
    stamp = _login_field(params, "timestamp")
    if client != "1":
        raise DigelaoError(BAD_CLIENT)
    try:
        tenant, credential, secret = await credential_service.find_vendor_credential(
            tx, CredentialKind.DIGELAO, access_id
        )
    except CallbotError:
        raise DigelaoError(BAD_LOGIN) from None
    if not sign_matches(sign, access_id, secret, stamp):
        raise DigelaoError(BAD_LOGIN)
    try:
        sent = datetime.strptime(stamp, m.TIME_FORMAT).replace(tzinfo=ZoneInfo(tenant.timezone))
    except ValueError:
        raise DigelaoError(URL_MISMATCH) from None
    if abs((tx.now() - sent).total_seconds()) > options.timestamp_window:
        raise DigelaoError(URL_MISMATCH)
    # A login body is signed once (its timestamp has seconds): sent again, it is a replay that would
    # revoke the real client's key. It looks like hijacking, as a stale timestamp does.
    try:
        await replay.remember(
            tx, credential.id, sign.lower(), expires_at=sent + timedelta(seconds=options.timestamp_window)
        )
    except replay.Replayed:
        raise DigelaoError(URL_MISMATCH, "this login was already received") from None
    try:
        acting = await sessions.acting_for_credential(tx, tenant, credential)
    except CallbotError:
        raise DigelaoError(BAD_LOGIN) from None
    session = await sessions.issue(
        tx,
        tenant,
        acting,
        credential=credential,
        lifetime=options.key_lifetime,
        single_session=options.single_session,
    )
    return await _login_answer(tx, tenant, acting, session)


async def _password_login(tx: Tx, params: Params, options: DigelaoOptions) -> JSONResponse:
    username = _login_field(params, "username")
    password = _login_field(params, "password")
    given_url = _login_field(params, "url")
    if not url_matches(params, given_url):
        raise DigelaoError(URL_MISMATCH)
    try:
        user = await tenant_service.authenticate_user(tx, username, password)
        tenant = await credential_service.active_tenant(tx, user.tenant_id)
    except CallbotError:
        raise DigelaoError(BAD_LOGIN) from None
    acting = await sessions.acting_for_user(tx, tenant, user)
    session = await sessions.issue(
        tx, tenant, acting, lifetime=options.key_lifetime, single_session=options.single_session
    )
    return await _login_answer(tx, tenant, acting, session)


async def _login_answer(tx: Tx, tenant: Tenant, acting: sessions.Acting, session: ApiSession) -> JSONResponse:
    user = acting.user
    main = await sessions.main_user(tx, tenant)
    settings = await callback_service.get_settings(tx, tenant, None if acting.main or user is None else user.id)
    lines = [line.phone for line in await line_service.enabled_lines(tx, tenant)]
    data = {
        "id": user.id if user is not None else tenant.id,
        "user_sn": m.user_sn(acting.sn),
        "user_name": user.username if user is not None else tenant.name,
        "team_name": tenant.name,
        "team_sn": m.team_sn(tenant),
        "parent_sn": "" if acting.main else m.main_name(tenant, main),
        "expired": m.expiry_day(tenant),
        "ai_count": tenant_service.seat_quota(tenant, user),
        "caller_group": ",".join(lines),
        "job": m.JOBS[user.role] if user is not None else m.JOBS[Role.ADMIN],
        "api_key": session.api_key,
        "api_key_expire": int(session.expires_at.timestamp()),
        "callback_url": settings.url,
        "open_callback": "1" if settings.enabled else "0",
        "task_callback_url": settings.task_url,
    }
    return ok(data, msg="login success")


# --- endpoints ----------------------------------------------------------------------------------------


async def set_callback(tx: Tx, caller: Caller, params: Params, options: DigelaoOptions) -> JSONResponse:
    p = read(SetCallback, params)
    # callback_url is sent even to turn pushes off (blank then); a blank one cannot turn them on.
    if "callback_url" not in params or (p.open_callback == 1 and not p.callback_url):
        raise DigelaoError(BAD_PARAM, "callback_url is required")
    changes = CallbackChanges(
        url=p.callback_url, enabled=p.open_callback == 1, task_url=p.task_callback_url, dialect="digelao"
    )
    await callback_service.update_settings(tx, caller.tenant, changes, user_id=caller.settings_user_id)
    return ok()


async def sub_accounts(tx: Tx, caller: Caller, params: Params, options: DigelaoOptions) -> JSONResponse:
    p = read(SubAccounts, params)
    users = await tenant_service.list_sub_accounts(
        tx,
        caller.tenant,
        main_user_id=caller.main.id if caller.main is not None else None,
        username=p.user_name or None,
        page=_page(p, options),
    )
    projects = ",".join(m.project_sn(s) for s in await script_service.list_approved_scripts(tx, caller.tenant))
    return ok([m.user_item(u, caller.tenant, caller.main, projects) for u in users.items], total=users.total)


async def template_list(tx: Tx, caller: Caller, params: Params, options: DigelaoOptions) -> JSONResponse:
    scripts = await script_service.list_approved_scripts(tx, caller.tenant)
    return ok([{"sn": m.project_sn(s), "project_caption": s.name} for s in scripts])


def _page(p: PageParams, options: DigelaoOptions) -> PageRequest:
    """0-based pageIndex; an oversized pageSize is clamped."""
    return PageRequest(page=p.pageIndex + 1, size=min(p.pageSize, options.max_page_size))


def _range(tenant: Tenant, first: str, last: str) -> tuple[datetime | None, datetime | None]:
    zone = ZoneInfo(tenant.timezone)
    return (
        m.parse_local(first, zone) if first else None,
        m.parse_local(last, zone, end=True) if last else None,
    )


async def task_list(tx: Tx, caller: Caller, params: Params, options: DigelaoOptions) -> JSONResponse:
    p = read(TaskList, params)
    created_from, created_to = _range(caller.tenant, p.start_create_at, p.end_create_at)
    filters = TaskFilter(created_from=created_from, created_to=created_to)
    found = await task_service.list_task_rows(tx, caller.tenant, filters, _page(p, options))
    items = []
    for row in found.items:
        task = row.task
        figures = m.TaskFigures(task.customer_count, task.finished_count, row.calls, row.answered)
        items.append(m.task_item(task, row.script, caller.tenant, m.Owner(row.owner, caller.main), figures))
    return ok({"total": found.total, "list": items})


OPERS = ("stop", "keepOn", "failRe", "delete", "end")


async def operate_task(tx: Tx, caller: Caller, params: Params, options: DigelaoOptions) -> JSONResponse:
    p = read(OperateTask, params)
    if p.project_type != 2:
        raise DigelaoError(BAD_PARAM, "project_type must be 2")
    oper = p.oper
    if oper not in OPERS:
        raise DigelaoError(BAD_PARAM, f"oper must be one of {', '.join(OPERS)}")
    keys = list(dict.fromkeys(k.strip() for k in p.pkeys.split(",") if k.strip()))
    if not keys:
        raise DigelaoError(BAD_PARAM, "pkeys is required")
    tenant = caller.tenant
    if all(k.isascii() and k.isdigit() for k in keys):
        tasks = [await task_service.get_task(tx, tenant, m.task_id(k)) for k in keys]
    elif all(k.startswith(m.TASK_PREFIX) for k in keys):
        tasks = [await task_service.get_task_by_sn(tx, tenant, k[len(m.TASK_PREFIX) :]) for k in keys]
    else:
        raise DigelaoError(BAD_PARAM, "pkeys must be all dial_task_main_id or all dial_task_main_sn")
    for task in tasks:
        if oper == "stop":
            await task_service.apply_action(tx, tenant, task.id, TaskAction.PAUSE)
        elif oper == "keepOn":
            await task_service.start_or_resume(tx, tenant, task.id)
        elif oper == "end":
            await task_service.apply_action(tx, tenant, task.id, TaskAction.STOP)
        elif oper == "delete":
            await task_service.delete_task(tx, tenant, task.id)
        else:
            await task_service.redial_unanswered(tx, tenant, task.id)
    return ok(msg="操作成功")


def _json_value(value: Any, name: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise DigelaoError(BAD_PARAM, f"{name} is not JSON") from None
        except RecursionError:
            raise DigelaoError(BAD_PARAM, f"{name} is nested too deeply") from None
    return value


def _periods(value: Any) -> list[tuple[time, time]]:
    """`periods`: the day's calling periods, `[{start_at, end_at}, …]` (the service turns them into a window)."""
    if value is None or value == "":
        return []
    periods = _json_value(value, "periods")
    try:
        return [(time.fromisoformat(str(p["start_at"])), time.fromisoformat(str(p["end_at"]))) for p in periods]
    except (TypeError, KeyError, ValueError):
        raise DigelaoError(BAD_PARAM, "periods must be [{start_at, end_at}, …] of HH:MM:SS") from None


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, ensure_ascii=False)


async def add_json_of_async(tx: Tx, caller: Caller, params: Params, options: DigelaoOptions) -> JSONResponse:
    tenant = caller.tenant
    p = read(AddJsonOfAsync, params)
    wanted_sn = m.strip_project(p.project_sn)
    caption = p.project_caption
    if not wanted_sn and not caption:
        raise DigelaoError(BAD_PARAM, "project_sn or project_caption is required")
    try:
        script = await script_service.find_script_by_sn_or_name(tx, tenant, sn=wanted_sn or None, name=caption)
    except NotFound:
        raise DigelaoError(NOT_FOUND, "no such project") from None
    owner = caller.user
    owner_name = p.user_name
    if owner_name:
        try:
            owner = await tenant_service.get_user_by_name(tx, tenant, owner_name)
        except NotFound:
            raise DigelaoError(NOT_FOUND, f"no sub-account {owner_name}") from None
    info = _json_value(p.client_info_json, "client_info_json")
    rows = info.get("data") if isinstance(info, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DigelaoError(BAD_PARAM, 'client_info_json must be {"data": [row, …]}')
    if len(rows) > options.max_import_rows:
        raise DigelaoError(OVER_LIMIT, f"at most {options.max_import_rows} rows")
    phones = [phone.strip() for phone in p.caller_group.split(",") if phone.strip()]
    line_ids = [line.id for line in await line_service.find_lines_by_phone(tx, tenant, phones)] if phones else None
    order = task_service.TaskOrder(
        name=p.source,
        script_id=script.id,
        owner=owner,
        line_ids=line_ids,
        robot_count=p.ai_count,  # none sent: the owner's quota
        periods=_periods(p.periods),
        description=p.remark,
    )
    source_rows = [
        SourceRow(
            row=i,
            name=_cell(row.get("姓名")),
            phone=_cell(row.get("电话")),
            properties={str(k): _cell(v) for k, v in row.items() if k not in ("电话", "姓名")},
        )
        for i, row in enumerate(rows, start=1)
    ]
    # The import push (§5.1) is the import.finished event the import writes when it finishes.
    try:
        task, _ = await customer_service.create_task_with_customers(
            tx, tenant, order, source_rows, source="digelao addJsonOfAsync", start=p.auto_start == 1
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DigelaoError(BAD_PARAM, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    return ok({"dial_task_main_id": task.id, "dial_task_main_sn": m.task_sn(task)}, msg="导入中")


async def async_task_result(tx: Tx, caller: Caller, params: Params, options: DigelaoOptions) -> JSONResponse:
    p = read(AsyncTaskResult, params)
    task = await task_service.get_task(tx, caller.tenant, p.dial_task_main_id)
    row = await customer_service.latest_import(tx, caller.tenant, task.id)
    return ok(m.async_result(task, row), code=200, msg="请求成功")


def _levels(value: str) -> list[Level]:
    try:
        return [Level(letter.strip().upper()) for letter in value.split(",") if letter.strip()]
    except ValueError:
        raise DigelaoError(BAD_PARAM, "status must be letters A-F") from None


async def crm_list(tx: Tx, caller: Caller, params: Params, options: DigelaoOptions) -> JSONResponse:
    tenant = caller.tenant
    p = read(CrmList, params)
    created_from, created_to = _range(tenant, p.start_create_at, p.end_create_at)
    task_id = None
    wanted_task = p.dial_task_main_sn
    if wanted_task:
        sn = wanted_task[len(m.TASK_PREFIX) :] if wanted_task.startswith(m.TASK_PREFIX) else wanted_task
        task_id = (await task_service.get_task_by_sn(tx, tenant, sn)).id
    sns = None
    ids = p.ids_json
    if ids not in (None, "", "[]", []):
        parsed = _json_value(ids, "ids_json")
        if not isinstance(parsed, list):
            raise DigelaoError(BAD_PARAM, "ids_json must be a JSON array of sn")
        sns = [str(v) for v in parsed]
    script_id = None
    wanted_project = m.strip_project(p.project_sn)
    if wanted_project:
        try:
            script_id = (await script_service.find_script_by_sn_or_name(tx, tenant, sn=wanted_project)).id
        except NotFound:
            raise DigelaoError(NOT_FOUND, "no such project") from None
    letters = _levels(p.status)
    manual = p.status_search == "status_manual"
    f = RecordFilter(
        task_id=task_id,
        levels=[] if manual else letters,
        manual_levels=letters if manual else [],
        search=p.namephone or None,
        script_id=script_id,
        min_rounds=p.turn_count_min,
        max_rounds=p.turn_count_max,
        min_chat_seconds=p.talktimes_min,
        max_chat_seconds=p.talktimes_max,
        created_from=created_from,
        created_to=created_to,
        sns=sns,
    )
    if p.unsupported_filter():
        return ok({"total": 0, "list": []})
    found = await record_service.list_record_rows(tx, tenant, f, _page(p, options))
    now = tx.now()
    items = [
        m.record_item(
            row.record, row.task, row.customer, row.script, tenant, m.Owner(row.owner, caller.main), options, now
        )
        for row in found.items
    ]
    return ok({"total": found.total, "list": items})


async def cdr_fragments(tx: Tx, caller: Caller, params: Params, options: DigelaoOptions) -> JSONResponse:
    p = read(CdrFragments, params)
    record = await record_service.get_record_by_sn(tx, caller.tenant, p.sn)
    await task_service.get_task(tx, caller.tenant, record.task_id)  # records of deleted tasks are hidden
    now = tx.now()
    url = m.recording_url(options, record.sn, int(now.timestamp()) + options.recording_ttl)
    data = {
        "sn": record.sn,
        "record_url": url if record.recording_path else "",
        "fragments": m.fragments(record, options, now),
    }
    return ok(data)


HANDLERS: dict[str, Handler] = {
    "setcallback": set_callback,
    "aiuserdatasapi": sub_accounts,
    "templatelist": template_list,
    "index": task_list,
    "operatetask": operate_task,
    "addjsonofasync": add_json_of_async,
    "getasynctaskresult": async_task_result,
    "crmlist": crm_list,
    "cdrfragmentdownload": cdr_fragments,
}

_ = BAD_STATE  # state conflicts arrive as InvalidState and map through code_for
