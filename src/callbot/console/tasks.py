"""Tasks (外呼任务): the list with live progress, create and edit, state actions, customer import by upload,
and the task's statistics drawn."""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from callbot.console.web import ConsoleRoute, ConsoleState, Ctx, Operator, RolledBack, Viewer, state
from callbot.customer import service as customer_service
from callbot.customer.reader import CustomerFile
from callbot.errors import CallbotError, QuotaExceeded, ValidationFailed
from callbot.kit.db import Store
from callbot.kit.paging import PageRequest
from callbot.kit.spreadsheet import neutralise_row
from callbot.line import service as line_service
from callbot.models import Task
from callbot.models.enums import RESULT_LABELS, CallResult, CustomerStatus
from callbot.record import stats
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate, TaskFilter, TaskUpdate
from callbot.task.states import TaskAction, user_target

router = APIRouter(route_class=ConsoleRoute)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_TYPES = (".csv", ".xlsx", ".txt")
IMPORT_BATCH = 2_000  # rows per transaction: small enough that the progress bar moves


def actions_for(task: Task) -> list[TaskAction]:
    return [action for action in TaskAction if user_target(action, task.status) is not None]


ACTION_LABELS = {TaskAction.START: "启动", TaskAction.PAUSE: "暂停", TaskAction.RESUME: "恢复", TaskAction.STOP: "终止"}


@router.get("/tasks")
async def task_list(ctx: Viewer, name: str = "", page: int = 1) -> Response:
    tasks = await task_service.list_tasks(
        ctx.tx, ctx.tenant, TaskFilter(name=name or None), PageRequest(page=max(1, page), size=50)
    )
    return ctx.page("tasks.html", tasks=tasks, name=name, actions_for=actions_for, action_labels=ACTION_LABELS)


@router.get("/tasks/rows")
async def task_rows(ctx: Viewer, name: str = "", page: int = 1) -> Response:
    """The list's rows alone, for the live refresh."""
    tasks = await task_service.list_tasks(
        ctx.tx, ctx.tenant, TaskFilter(name=name or None), PageRequest(page=max(1, page), size=50)
    )
    return ctx.page("_task_rows.html", tasks=tasks, name=name, actions_for=actions_for, action_labels=ACTION_LABELS)


# --- create and edit ----------------------------------------------------------------------------------


def _windows(text: str) -> list[dict[str, str]]:
    """'12:00-13:30, 17:00-17:30' as inactive windows; a piece that does not parse is left for the model."""
    windows = []
    for piece in text.replace("，", ",").split(","):
        piece = piece.strip()
        if piece:
            start, _, end = piece.partition("-")
            windows.append({"start": start.strip(), "end": end.strip()})
    return windows


def _form_data(form: Any) -> dict[str, Any]:
    """The form's fields as the task model's fields."""
    data: dict[str, Any] = {
        "name": str(form.get("name", "")).strip(),
        "mode": form.get("mode", "MANUAL"),
        "script_id": form.get("script_id") or None,
        "line_ids": [int(v) for v in form.getlist("line_ids") if str(v).isdigit()],
        "robot_count": form.get("robot_count") or 1,
        "daily_start": form.get("daily_start") or "09:00",
        "daily_end": form.get("daily_end") or "20:00",
        "inactive_windows": _windows(str(form.get("pauses", ""))),
        "start_time": form.get("start_time") or None,
        "description": str(form.get("description", "")),
        "interrupted_retries": form.get("interrupted_retries") or 1,
    }
    results = form.getlist("redial_results")
    if results:
        data["redial_rules"] = [
            {
                "results": results,
                "delay_minutes": form.get("redial_delay") or 30,
                "max_times": form.get("redial_times") or 1,
            }
        ]
    else:
        data["redial_rules"] = []
    return data


def _field_errors(exc: Exception) -> dict[str, str]:
    """Errors keyed by the form field they belong beside."""
    errors: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            field = {"inactive_windows": "pauses", "redial_rules": "redial_results"}.get(loc[0], loc[0])
            errors.setdefault(field, error["msg"])
    elif isinstance(exc, ValidationFailed):
        for where, message in exc.problems:
            head = where.split(".")[0]
            field = {"inactive_windows": "pauses", "redial_rules": "redial_results"}.get(head, head)
            errors.setdefault(field, message)
    elif isinstance(exc, QuotaExceeded):
        errors[str(exc.details.get("field", "robot_count"))] = exc.message
    elif isinstance(exc, CallbotError):
        field = "line_ids" if "line" in exc.message else "script_id" if "script" in exc.message else "_"
        errors[field] = exc.message
    return errors


@dataclass
class FormOptions:
    scripts: list[Any]
    lines: list[Any]


async def _options(ctx: Ctx) -> FormOptions:
    return FormOptions(
        await script_service.list_scripts(ctx.tx, ctx.tenant), await line_service.list_lines(ctx.tx, ctx.tenant)
    )


def _form_page(
    ctx: Ctx, options: FormOptions, *, task: Task | None, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    return ctx.page(
        "task_form.html",
        status_code=422 if errors else 200,
        task=task,
        values=values,
        errors=errors,
        scripts=options.scripts,
        lines=options.lines,
        results=[r for r in CallResult if r is not CallResult.ANSWERED],
        result_labels=RESULT_LABELS,
    )


def _values_of(task: Task) -> dict[str, Any]:
    rule = task.redial_rules[0] if task.redial_rules else {}
    return {
        "name": task.name,
        "mode": task.mode.value,
        "script_id": task.script_id,
        "line_ids": [line.id for line in task.lines],
        "robot_count": task.robot_count,
        "daily_start": task.daily_start.strftime("%H:%M"),
        "daily_end": task.daily_end.strftime("%H:%M"),
        "pauses": ", ".join(f"{a[:5]}-{b[:5]}" for a, b in task.inactive_windows),
        "start_time": "",
        "description": task.description,
        "redial_results": rule.get("results", []),
        "redial_delay": rule.get("delay_minutes", 30),
        "redial_times": rule.get("max_times", 1),
        "interrupted_retries": task.interrupted_retries,
    }


BLANK: dict[str, Any] = {
    "name": "",
    "mode": "MANUAL",
    "script_id": None,
    "line_ids": [],
    "robot_count": 1,
    "daily_start": "09:00",
    "daily_end": "20:00",
    "pauses": "",
    "start_time": "",
    "description": "",
    "redial_results": [],
    "redial_delay": 30,
    "redial_times": 1,
    "interrupted_retries": 1,
}


def _echo(form: Any) -> dict[str, Any]:
    """What the user typed, to show again beside the errors."""
    values = dict(BLANK)
    values.update({k: form.get(k) for k in BLANK if form.get(k) is not None})
    values["line_ids"] = [int(v) for v in form.getlist("line_ids") if str(v).isdigit()]
    values["redial_results"] = form.getlist("redial_results")
    values["script_id"] = int(form["script_id"]) if str(form.get("script_id", "")).isdigit() else None
    return values


@router.get("/tasks/new")
async def new_task(ctx: Operator) -> Response:
    return _form_page(ctx, await _options(ctx), task=None, values=dict(BLANK), errors={})


@router.post("/tasks/new")
async def create_task(ctx: Operator, request: Request) -> Response:
    form = await request.form()
    options = await _options(ctx)
    try:
        data = TaskCreate.model_validate(_form_data(form))
        task = await task_service.create_task(ctx.tx, ctx.tenant, data, owner_user_id=ctx.user.id)
    except (ValidationError, CallbotError) as exc:
        if isinstance(exc, CallbotError) and not _field_errors(exc):
            raise
        raise RolledBack(_form_page(ctx, options, task=None, values=_echo(form), errors=_field_errors(exc))) from exc
    return RedirectResponse(f"/tasks/{task.id}", status_code=303)


@router.get("/tasks/{task_id}/edit")
async def edit_task(ctx: Operator, task_id: int) -> Response:
    task = await task_service.get_task(ctx.tx, ctx.tenant, task_id)
    return _form_page(ctx, await _options(ctx), task=task, values=_values_of(task), errors={})


@router.post("/tasks/{task_id}/edit")
async def update_task(ctx: Operator, task_id: int, request: Request) -> Response:
    form = await request.form()
    options = await _options(ctx)
    task = await task_service.get_task(ctx.tx, ctx.tenant, task_id)
    try:
        wanted = TaskCreate.model_validate({**_form_data(form), "mode": form.get("mode", task.mode.value)})
        current = _values_of(task)
        # Only what changed: a running task takes a new seat count, but nothing else.
        changes: dict[str, Any] = {}
        for name in ("name", "mode", "script_id", "robot_count", "description", "interrupted_retries"):
            if getattr(wanted, name) != (task.mode if name == "mode" else current[name]):
                changes[name] = getattr(wanted, name)
        if sorted(wanted.line_ids) != sorted(current["line_ids"]):
            changes["line_ids"] = wanted.line_ids
        if (wanted.daily_start, wanted.daily_end) != (task.daily_start, task.daily_end):
            changes["daily_start"], changes["daily_end"] = wanted.daily_start, wanted.daily_end
        if wanted.inactive_windows != task_service.inactive_windows(task):
            changes["inactive_windows"] = wanted.inactive_windows
        if [r.model_dump(mode="json") for r in wanted.redial_rules] != task.redial_rules:
            changes["redial_rules"] = wanted.redial_rules
        if wanted.start_time is not None:
            changes["start_time"] = wanted.start_time
        await task_service.update_task(ctx.tx, ctx.tenant, task_id, TaskUpdate(**changes))
    except (ValidationError, CallbotError) as exc:
        if isinstance(exc, CallbotError) and not _field_errors(exc):
            raise
        page = _form_page(ctx, options, task=task, values=_echo(form), errors=_field_errors(exc))
        raise RolledBack(page) from exc
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


# --- state actions ------------------------------------------------------------------------------------


def _back(request: Request, default: str) -> str:
    target = request.headers.get("referer", "")
    path = "/" + target.split("//", 1)[-1].split("/", 1)[-1] if "//" in target else default
    return path if path.startswith("/tasks") else default


@router.post("/tasks/{task_id}/delete")
async def delete_task(ctx: Operator, task_id: int) -> Response:
    await task_service.delete_task(ctx.tx, ctx.tenant, task_id)
    return RedirectResponse("/tasks", status_code=303)


def _action_route(action: TaskAction) -> None:
    async def act(ctx: Operator, task_id: int, request: Request) -> Response:
        await task_service.apply_action(ctx.tx, ctx.tenant, task_id, action)
        return RedirectResponse(_back(request, f"/tasks/{task_id}"), status_code=303)

    router.add_api_route(f"/tasks/{{task_id}}/{action.value}", act, methods=["POST"], name=f"console_{action.value}")


for _action in TaskAction:
    _action_route(_action)


# --- detail -------------------------------------------------------------------------------------------


def _charts(view: stats.TaskStatsView) -> dict[str, Any]:
    return {
        "levels": [{"name": k, "value": v} for k, v in view.levels.items()],
        "results": {"names": [RESULT_LABELS[k] for k in view.results], "values": list(view.results.values())},
        "daily": {
            "days": [d.day.isoformat() for d in view.daily],
            "calls": [d.calls for d in view.daily],
            "answered": [d.answered for d in view.daily],
        },
        "rounds": {"names": ["<3 轮", "3-5 轮", "6-9 轮", "≥10 轮"], "values": list(view.rounds.values())},
        "durations": {
            "names": ["<10秒", "10秒-1分", "1-2分", "2-3分", "≥3分"],
            "values": list(view.durations.values()),
        },
        "concerns": {"names": view.top_concerns(), "values": [view.concerns[c] for c in view.top_concerns()]},
    }


@router.get("/tasks/{task_id}")
async def task_detail(ctx: Viewer, task_id: int) -> Response:
    task = await task_service.get_task(ctx.tx, ctx.tenant, task_id)
    view = await stats.get_task_stats(ctx.tx, ctx.tenant, task_id)
    script = await script_service.get_script(ctx.tx, ctx.tenant, task.script_id)
    pending = await customer_service.list_customers(
        ctx.tx, ctx.tenant, task_id, PageRequest(page=1, size=20), CustomerStatus.PENDING
    )
    last_import = await customer_service.latest_import(ctx.tx, ctx.tenant, task_id)
    return ctx.page(
        "task_detail.html",
        task=task,
        view=view,
        script=script,
        pending=pending,
        last_import=last_import,
        charts=_charts(view),
        actions=actions_for(task),
        action_labels=ACTION_LABELS,
        progress=(state(ctx.request).import_progress.get(last_import.id) if last_import else None),
    )


@router.get("/tasks/{task_id}/progress")
async def task_progress(ctx: Viewer, task_id: int) -> Response:
    task = await task_service.get_task(ctx.tx, ctx.tenant, task_id)
    view = await stats.get_task_stats(ctx.tx, ctx.tenant, task_id)
    return ctx.page("_task_progress.html", task=task, view=view)


@router.get("/tasks/{task_id}/stats.json")
async def task_stats_json(ctx: Viewer, task_id: int) -> Response:
    return JSONResponse(_charts(await stats.get_task_stats(ctx.tx, ctx.tenant, task_id)))


# --- customer import ------------------------------------------------------------------------------------


def _copy_upload(source: BinaryIO, suffix: str) -> Path:
    """The upload copied to a file of its own (the import reads it after the request ends), or
    ValidationFailed when it is over the size limit (then nothing is kept)."""
    with tempfile.NamedTemporaryFile(prefix="callbot-import-", suffix=suffix, delete=False) as handle:
        path = Path(handle.name)
        size = 0
        while chunk := source.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                handle.close()
                path.unlink(missing_ok=True)
                raise ValidationFailed("文件太大", [("file", f"最大 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")])
            handle.write(chunk)
    return path


async def _save_upload(upload: UploadFile) -> Path:
    """The upload on disk, refused when it is not CSV/XLSX or over the size limit (nothing imported then)."""
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise ValidationFailed(
            "只能导入 .csv 或 .xlsx 文件", [("file", f"不支持的文件类型 {suffix or '（无扩展名）'}")]
        )
    return await asyncio.to_thread(_copy_upload, upload.file, suffix)


async def run_import(
    console: ConsoleState, store: Store, importer: customer_service.CustomerImporter, source: CustomerFile
) -> None:
    """Import the file batch by batch, each batch in its own transaction, so the progress shows as it goes;
    a failure marks the import FAILED and keeps the batches written before it."""
    import_id = importer.import_id
    try:
        rows = iter(source)
        while True:
            batch = await asyncio.to_thread(lambda: list(islice(rows, IMPORT_BATCH)))
            if not batch:
                break
            async with store.transaction() as tx:
                await importer.add(tx, batch)
            if source.size:
                console.import_progress[import_id] = min(99.0, round(100 * source.bytes_read / source.size, 1))
        async with store.transaction() as tx:
            await importer.finish(tx)
    except Exception as exc:  # the import must end as FAILED, whatever went wrong
        async with store.transaction() as tx:
            await importer.fail(tx, exc.message if isinstance(exc, CallbotError) else f"{type(exc).__name__}: {exc}")
    finally:
        console.import_progress.pop(import_id, None)
        source.path.unlink(missing_ok=True)


@router.post("/tasks/{task_id}/import")
async def import_customers(ctx: Operator, task_id: int) -> Response:
    # The form is read here, after the session, role and CSRF checks, not as a parameter (read before them).
    console = state(ctx.request)
    file = (await ctx.request.form()).get("file")
    if not isinstance(file, UploadFile):
        raise ValidationFailed("请选择要导入的文件", [("file", "必填")])
    path = await _save_upload(file)
    try:
        source = await asyncio.to_thread(CustomerFile, path)  # sniffs the encoding: reads the file
        importer = await customer_service.CustomerImporter.begin(
            ctx.tx, ctx.tenant, task_id, source=Path(file.filename or path.name).name
        )
    except BaseException:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    await ctx.tx.session.commit()  # the import row exists before the job writes its first batch
    console.import_progress[importer.import_id] = 0.0
    job = asyncio.create_task(
        run_import(console, console.store, importer, source), name=f"console-import-{importer.import_id}"
    )
    console.jobs.add(job)
    job.add_done_callback(console.jobs.discard)
    imported = await customer_service.get_import(ctx.tx, ctx.tenant, importer.import_id)
    return ctx.page("_import_progress.html", imported=imported, progress=0.0)


@router.get("/imports/{import_id}/progress")
async def import_progress(ctx: Viewer, import_id: int) -> Response:
    imported = await customer_service.get_import(ctx.tx, ctx.tenant, import_id)
    progress = state(ctx.request).import_progress.get(import_id)
    return ctx.page("_import_progress.html", imported=imported, progress=progress)


@router.get("/imports/{import_id}/rejections.csv")
async def import_rejections(ctx: Viewer, import_id: int) -> Response:
    """Every rejected row with its reason, as CSV (UTF-8 with BOM, so Excel reads the Chinese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["行号", "号码", "原因", "说明"])
    page_no = 1
    while True:
        page = await customer_service.list_rejections(
            ctx.tx, ctx.tenant, import_id, PageRequest(page=page_no, size=1000)
        )
        for r in page.items:
            writer.writerow(neutralise_row([r.row, r.phone, r.reason, r.message]))
        if page_no >= page.pages:
            break
        page_no += 1
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rejected-{import_id}-{stamp}.csv"'},
    )
