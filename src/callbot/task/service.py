"""Task rules: what a task may be created with, what may change when, and the legal state moves."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update

from callbot.errors import InvalidState, NotFound, QuotaExceeded, ValidationFailed
from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest, paginate
from callbot.kit.secrets import random_hex
from callbot.line import service as line_service
from callbot.models import Customer, Task, Tenant
from callbot.models.enums import CallResult, CustomerStatus, TaskMode, TaskStatus
from callbot.script import service as script_service
from callbot.task.schemas import RedialRule, TaskAlerts, TaskCreate, TaskFilter, TaskUpdate, Window
from callbot.task.states import SYSTEM_TRANSITIONS, TaskAction, may_edit, user_target


class TaskNotFound(NotFound):
    """No such task."""


class IllegalTaskTransition(InvalidState):
    """The task cannot do that in its current state."""


async def create_task(tx: Tx, tenant: Tenant, data: TaskCreate, *, owner_user_id: int | None = None) -> Task:
    script = await script_service.get_script(tx, tenant, data.script_id)
    lines = await line_service.get_lines(tx, tenant, data.line_ids)
    _check_schedule(tenant, data.daily_start, data.daily_end, data.inactive_windows)
    _check_seats(tenant, data.robot_count)
    _check_redial(data.redial_rules)
    now = tx.now()
    start_time = _aware(data.start_time, tenant) if data.start_time else None
    if data.mode is TaskMode.AUTO and start_time is None:
        start_time = now
    task = Task(
        tenant_id=tenant.id,
        name=data.name.strip(),
        mode=data.mode,
        status=TaskStatus.NOT_STARTED,
        start_time=start_time,
        daily_start=data.daily_start,
        daily_end=data.daily_end,
        inactive_windows=[_window_json(w) for w in data.inactive_windows],
        script_id=script.id,
        robot_count=data.robot_count,
        description=data.description,
        redial_rules=[r.model_dump(mode="json") for r in data.redial_rules],
        interrupted_retries=data.interrupted_retries,
        alerts=data.alerts.model_dump(mode="json"),
        screen_announcements=data.screen_announcements,
        owner_user_id=owner_user_id,
        sn=random_hex(32),
        created_at=now,
        updated_at=now,
    )
    task.lines = lines
    tx.session.add(task)
    await tx.session.flush()
    return task


async def get_task(
    tx: Tx, tenant: Tenant, task_id: int, *, for_update: bool = False, include_deleted: bool = False
) -> Task:
    """A task of the tenant. Deleted tasks are hidden unless `include_deleted` (callbacks about what
    happened before the deletion still go out)."""
    query = select(Task).where(Task.id == task_id, Task.tenant_id == tenant.id)
    if not include_deleted:
        query = query.where(Task.deleted.is_(False))
    if for_update:
        # The lock is worth something only if the row is read again under it, not served from the session.
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    task = await tx.session.scalar(query)
    if task is None:
        raise TaskNotFound(f"no task with id {task_id}")
    return task


async def get_task_by_sn(tx: Tx, tenant: Tenant, sn: str) -> Task:
    task = await tx.session.scalar(
        select(Task).where(Task.sn == sn, Task.tenant_id == tenant.id, Task.deleted.is_(False))
    )
    if task is None:
        raise TaskNotFound(f"no task with sn {sn}")
    return task


def _list_query(tenant: Tenant, filters: TaskFilter) -> Select[Task]:
    query = select(Task).where(Task.tenant_id == tenant.id, Task.deleted.is_(False))
    if filters.name:
        query = query.where(Task.name.contains(filters.name, autoescape=True))
    if filters.status:
        query = query.where(Task.status.in_(filters.status))
    if filters.created_from is not None:
        query = query.where(Task.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Task.created_at < filters.created_to)
    return query.order_by(Task.id.desc())


async def list_tasks(tx: Tx, tenant: Tenant, filters: TaskFilter, page: PageRequest) -> Page[Task]:
    return await paginate(tx.session, _list_query(tenant, filters), page)


async def update_task(tx: Tx, tenant: Tenant, task_id: int, changes: TaskUpdate) -> Task:
    task = await get_task(tx, tenant, task_id, for_update=True)
    given = changes.model_fields_set - {"robot_count"}
    if task.status is TaskStatus.TERMINATE:
        raise IllegalTaskTransition(
            f"task {task.id} is {task.status.value}: it can no longer change", state=task.status.value
        )
    if given and not may_edit(task.status):
        raise IllegalTaskTransition(
            f"task {task.id} is {task.status.value}: pause it before changing {', '.join(sorted(given))}",
            state=task.status.value,
        )
    if changes.robot_count is not None:
        _check_seats(tenant, changes.robot_count)
        task.robot_count = changes.robot_count
    if changes.name is not None:
        task.name = changes.name.strip()
    if changes.mode is not None:
        task.mode = changes.mode
    if changes.script_id is not None:
        task.script_id = (await script_service.get_script(tx, tenant, changes.script_id)).id
    if changes.line_ids is not None:
        task.lines = await line_service.get_lines(tx, tenant, changes.line_ids)
    if {"daily_start", "daily_end", "inactive_windows"} & changes.model_fields_set:
        start = changes.daily_start or task.daily_start
        end = changes.daily_end or task.daily_end
        windows = (
            changes.inactive_windows
            if changes.inactive_windows is not None
            else [Window.model_validate(_window_parse(w)) for w in task.inactive_windows]
        )
        _check_schedule(tenant, start, end, windows)
        task.daily_start, task.daily_end = start, end
        task.inactive_windows = [_window_json(w) for w in windows]
    if "start_time" in changes.model_fields_set:
        task.start_time = _aware(changes.start_time, tenant) if changes.start_time else None
    if changes.description is not None:
        task.description = changes.description
    if changes.alerts is not None:
        task.alerts = changes.alerts.model_dump(mode="json")
    if changes.redial_rules is not None:
        _check_redial(changes.redial_rules)
        task.redial_rules = [r.model_dump(mode="json") for r in changes.redial_rules]
    if changes.interrupted_retries is not None:
        task.interrupted_retries = changes.interrupted_retries
    if changes.screen_announcements is not None:
        task.screen_announcements = changes.screen_announcements
    task.updated_at = tx.now()
    await tx.session.flush()
    return task


async def apply_action(tx: Tx, tenant: Tenant, task_id: int, action: TaskAction) -> Task:
    """start / pause / resume / stop, as a user asks for them."""
    task = await get_task(tx, tenant, task_id, for_update=True)
    target = user_target(action, task.status)
    if target is None:
        raise IllegalTaskTransition(
            f"cannot {action.value} task {task.id}: it is {task.status.value}", state=task.status.value
        )
    if action in (TaskAction.START, TaskAction.RESUME):
        # Never dial on a draft: the script may have been swapped while the task was paused.
        script = await script_service.get_script(tx, tenant, task.script_id)
        await script_service.approved_document(tx, script)
    if action is TaskAction.START:
        task.started_at = tx.now()
    if target is TaskStatus.TERMINATE:
        task.finished_at = tx.now()
    task.status = target
    task.updated_at = tx.now()
    await tx.session.flush()
    return task


async def delete_task(tx: Tx, tenant: Tenant, task_id: int) -> Task:
    """Hide the task; one still active is stopped first. Its records stay."""
    task = await get_task(tx, tenant, task_id, for_update=True)
    if user_target(TaskAction.STOP, task.status) is not None:
        task.status = TaskStatus.TERMINATE
        task.finished_at = tx.now()
    task.deleted = True
    task.updated_at = tx.now()
    await tx.session.flush()
    return task


async def redial_unanswered(tx: Tx, tenant: Tenant, task_id: int) -> tuple[Task, int]:
    """失败重呼: put back in the queue every customer whose last attempt was not answered, then resume.

    A paused task resumes and a completed one reopens; an ended task refuses. Returns the task and how
    many customers were re-queued.
    """
    task = await get_task(tx, tenant, task_id, for_update=True)
    if task.status is TaskStatus.TERMINATE:
        raise IllegalTaskTransition(f"cannot redial task {task.id}: it is {task.status.value}", state=task.status.value)
    now = tx.now()
    result = await tx.session.execute(
        update(Customer)
        .where(
            Customer.task_id == task.id,
            Customer.status == CustomerStatus.FINISHED,
            Customer.last_result.is_not(None),
            Customer.last_result != CallResult.ANSWERED,
        )
        .values(status=CustomerStatus.PENDING, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    requeued = int(getattr(result, "rowcount", 0) or 0)
    task.finished_count = max(0, task.finished_count - requeued)
    if task.status is TaskStatus.USER_PAUSE:
        task.status = TaskStatus.RUNNABLE
    elif task.status is TaskStatus.COMPLETED and requeued:
        system_move(task, TaskStatus.RUNNABLE, now)
    task.updated_at = now
    await tx.session.flush()
    return task, requeued


def system_move(task: Task, target: TaskStatus, now: datetime) -> bool:
    """A move the dialer makes by itself. Returns False (and changes nothing) when it is not legal."""
    if task.status is target:
        return True
    if (task.status, target) not in SYSTEM_TRANSITIONS:
        return False
    if task.status is TaskStatus.NOT_STARTED:
        task.started_at = now
    if target is TaskStatus.COMPLETED:
        task.finished_at = now
    task.status = target
    task.updated_at = now
    return True


# --- checks -----------------------------------------------------------------------------------------


def _check_schedule(tenant: Tenant, start: time, end: time, windows: list[Window]) -> None:
    problems: list[tuple[str, str]] = []
    if start >= end:
        problems.append(("daily_end", f"the daily window must end after it starts ({start} - {end})"))
    if start < tenant.calling_start or end > tenant.calling_end:
        problems.append(
            (
                "daily_start",
                f"the daily window {start:%H:%M}-{end:%H:%M} must lie inside the tenant's calling hours "
                f"{tenant.calling_start:%H:%M}-{tenant.calling_end:%H:%M}",
            )
        )
    for i, window in enumerate(windows):
        if window.start >= window.end:
            problems.append((f"inactive_windows.{i}.end", "an inactive window must end after it starts"))
        elif window.start < start or window.end > end:
            problems.append((f"inactive_windows.{i}", "an inactive window must lie inside the daily window"))
    if problems:
        raise ValidationFailed("the task's schedule is not valid", problems)


def _check_seats(tenant: Tenant, robot_count: int) -> None:
    if robot_count > tenant.seats:
        raise QuotaExceeded(
            f"robot_count {robot_count} is more than the tenant's {tenant.seats} AI seats", field="robot_count"
        )


def _check_redial(rules: list[RedialRule]) -> None:
    problems = [
        (f"redial_rules.{i}.results", "ANSWERED calls are never redialled")
        for i, rule in enumerate(rules)
        if CallResult.ANSWERED in rule.results
    ]
    if problems:
        raise ValidationFailed("bad redial rules", problems)


def _aware(value: datetime, tenant: Tenant) -> datetime:
    """Times without an offset are the tenant's wall clock; stored (and answered) in UTC."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(tenant.timezone))
    return aware.astimezone(UTC)


def _window_json(window: Window) -> list[str]:
    return [window.start.isoformat(), window.end.isoformat()]


def _window_parse(pair: list[str]) -> dict[str, str]:
    return {"start": pair[0], "end": pair[1]}


def alerts(task: Task) -> TaskAlerts:
    return TaskAlerts.model_validate(task.alerts or {})


def inactive_windows(task: Task) -> list[Window]:
    return [Window.model_validate(_window_parse(w)) for w in task.inactive_windows]
