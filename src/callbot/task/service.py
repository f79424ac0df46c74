"""Task rules: what a task may be created with, what may change when, and the legal state moves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from callbot.errors import InvalidState, NotFound, QuotaExceeded, ValidationFailed
from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest
from callbot.kit.secrets import random_hex
from callbot.line import service as line_service
from callbot.models import Script, Task, Tenant, User
from callbot.models.enums import CallResult, TaskMode, TaskStatus
from callbot.script import service as script_service
from callbot.task import repository
from callbot.task.schemas import RedialRule, TaskAlerts, TaskCreate, TaskFilter, TaskUpdate, Window
from callbot.task.states import RUNNING, SYSTEM_TRANSITIONS, TaskAction, may_edit, user_target
from callbot.tenant import service as tenant_service


class TaskNotFound(NotFound):
    """No such task."""


class IllegalTaskTransition(InvalidState):
    """The task cannot do that in its current state."""


async def create_task(tx: Tx, tenant: Tenant, data: TaskCreate, *, owner_user_id: int | None = None) -> Task:
    script = await script_service.get_script(tx, tenant, data.script_id)
    # A task is made on a script that can run: a draft is refused here (native API and dialects alike)
    # rather than discovered when the task starts.
    await script_service.approved_document(tx, script)
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
    repository.add(tx, task)
    await repository.flush(tx)
    return task


async def get_task(
    tx: Tx, tenant: Tenant, task_id: int, *, for_update: bool = False, include_deleted: bool = False
) -> Task:
    """A task of the tenant. Deleted tasks are hidden unless `include_deleted` (callbacks about what
    happened before the deletion still go out)."""
    task = await repository.find(tx, tenant.id, task_id, for_update=for_update, include_deleted=include_deleted)
    if task is None:
        raise TaskNotFound(f"no task with id {task_id}")
    return task


async def get_task_by_sn(tx: Tx, tenant: Tenant, sn: str) -> Task:
    task = await repository.find_by_sn(tx, tenant.id, sn)
    if task is None:
        raise TaskNotFound(f"no task with sn {sn}")
    return task


async def list_tasks(tx: Tx, tenant: Tenant, filters: TaskFilter, page: PageRequest) -> Page[Task]:
    return await repository.page(tx, tenant.id, filters, page)


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
    await repository.flush(tx)
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
    _move(task, target, tx.now())
    await repository.flush(tx)
    return task


async def delete_task(tx: Tx, tenant: Tenant, task_id: int) -> Task:
    """Hide the task; one still active is stopped first. Its records stay."""
    task = await get_task(tx, tenant, task_id, for_update=True)
    stopped = user_target(TaskAction.STOP, task.status)
    if stopped is not None:
        _move(task, stopped, tx.now())
    task.deleted = True
    task.updated_at = tx.now()
    await repository.flush(tx)
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
    requeued = await repository.requeue_unanswered(tx, task.id)
    task.finished_count = max(0, task.finished_count - requeued)
    resumed = user_target(TaskAction.RESUME, task.status)
    if resumed is not None:
        _move(task, resumed, now)
    elif task.status is TaskStatus.COMPLETED and requeued:
        system_move(task, TaskStatus.RUNNABLE, now)
    task.updated_at = now
    await repository.flush(tx)
    return task, requeued


def system_move(task: Task, target: TaskStatus, now: datetime) -> bool:
    """A move the dialer makes by itself. Returns False (and changes nothing) when it is not legal."""
    if task.status is target:
        return True
    if (task.status, target) not in SYSTEM_TRANSITIONS:
        return False
    _move(task, target, now)
    return True


def _move(task: Task, target: TaskStatus, now: datetime) -> None:
    """The one place a task's status changes, once the state table allowed the move: the start and end
    times follow it."""
    if task.status is TaskStatus.NOT_STARTED and target is not TaskStatus.TERMINATE:
        task.started_at = now
    if target in (TaskStatus.TERMINATE, TaskStatus.COMPLETED):
        task.finished_at = now
    task.status = target
    task.updated_at = now


# --- the dialer's reads and counters ------------------------------------------------------------------


async def lock_running(tx: Tx, task_id: int) -> Task | None:
    """The task read again under a lock, or None when a pause, stop or delete committed since the dialer
    listed it (they win)."""
    task = await repository.lock(tx, task_id)
    return task if task is not None and task.status in RUNNING and not task.deleted else None


async def active_tasks(tx: Tx) -> list[Task]:
    """Tasks the dialer works on: started and neither paused, stopped nor complete."""
    return await repository.active(tx, tx.now())


async def start_due_auto_tasks(tx: Tx) -> list[int]:
    """AUTO tasks whose start time has come begin by themselves (those whose script has an approved
    version; the others wait for one)."""
    now = tx.now()
    return [task.id for task in await repository.due_auto(tx, now) if system_move(task, TaskStatus.RUNNABLE, now)]


async def reopen_if_completed(tx: Tx, task_id: int) -> None:
    """Customers imported into a completed task reopen it: the dialer picks it up again."""
    task = await repository.lock(tx, task_id)
    if task is not None and task.status is TaskStatus.COMPLETED:
        system_move(task, TaskStatus.RUNNABLE, tx.now())


async def add_finished(tx: Tx, task_id: int, n: int) -> None:
    """`n` more of the task's customers are done (finished or skipped): the one place the count grows."""
    if n:
        await repository.add_finished(tx, task_id, n, tx.now())


async def add_customers(tx: Tx, task_id: int, n: int) -> None:
    """`n` more customers were imported into the task."""
    if n:
        await repository.add_customers(tx, task_id, n, tx.now())


async def tasks_by_id(tx: Tx, task_ids: Sequence[int]) -> dict[int, Task]:
    return await repository.many(tx, task_ids)


def redial_rules(task: Task) -> list[RedialRule]:
    """The task's redial rules, typed (stored as JSON)."""
    return [RedialRule.model_validate(rule) for rule in task.redial_rules or ()]


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


# --- named operations the dialects and the console share ------------------------------------------------

# The states in which a user action has already taken effect: asking again changes nothing.
_IN_EFFECT: dict[TaskAction, frozenset[TaskStatus]] = {
    TaskAction.START: RUNNING,
    TaskAction.RESUME: RUNNING,
    TaskAction.PAUSE: frozenset({TaskStatus.USER_PAUSE}),
    TaskAction.STOP: frozenset({TaskStatus.TERMINATE}),
}


async def ensure_action(tx: Tx, tenant: Tenant, task_id: int, action: TaskAction) -> Task:
    """`apply_action`, idempotent: an action already in effect (pausing a paused task) changes nothing."""
    task = await get_task(tx, tenant, task_id)
    if task.status in _IN_EFFECT[action]:
        return task
    return await apply_action(tx, tenant, task_id, action)


async def start_or_resume(tx: Tx, tenant: Tenant, task_id: int) -> Task:
    """Start a task not yet started, resume a paused one; a running task is left as it is. Vendor APIs have
    one verb for both (Yiwise `start`, Digelao `keepOn`)."""
    task = await get_task(tx, tenant, task_id)
    action = TaskAction.RESUME if task.status is TaskStatus.USER_PAUSE else TaskAction.START
    return await ensure_action(tx, tenant, task_id, action)


def window_of_periods(tenant: Tenant, periods: list[tuple[time, time]]) -> tuple[time, time, list[Window]]:
    """Calling periods of a day → the daily window (first start to last end) and the pauses between them: the
    times no period covers (a period inside an earlier, longer one leaves no pause after it). No periods: the
    tenant's calling hours."""
    if not periods:
        return tenant.calling_start, tenant.calling_end, []
    spans = sorted(periods)
    pauses: list[Window] = []
    covered_until = spans[0][1]
    for start, end in spans[1:]:
        if start > covered_until:
            pauses.append(Window(start=covered_until, end=start))
        covered_until = max(covered_until, end)
    return spans[0][0], covered_until, pauses


@dataclass(frozen=True)
class TaskRow:
    """A task as a listing page shows it: with its script, its owner and its call counts."""

    task: Task
    script: Script | None
    owner: User | None
    calls: int
    answered: int


async def list_task_rows(tx: Tx, tenant: Tenant, filters: TaskFilter, page: PageRequest) -> Page[TaskRow]:
    """One page of tasks with their script, owner and call counts, read in one query (plus one for the
    lines of the whole page)."""
    rows, total = await repository.page_with_rows(tx, tenant.id, filters, page)
    items = [TaskRow(task, script, owner, calls or 0, answered or 0) for task, script, owner, calls, answered in rows]
    return Page(items=items, total=total, page=page.page, size=page.limit)


@dataclass(frozen=True)
class TaskOrder:
    """A task ordered in one request by an integration, leaving lines, seats and hours to the account's
    defaults (Digelao `addJsonOfAsync`)."""

    name: str
    script_id: int
    owner: User | None = None
    line_ids: list[int] | None = None  # None: every enabled line of the tenant
    robot_count: int | None = None  # None: the owner's seat quota
    periods: list[tuple[time, time]] = field(default_factory=list)  # none: the tenant's calling hours
    description: str = ""


async def create_ordered_task(tx: Tx, tenant: Tenant, order: TaskOrder) -> Task:
    """Create the task an order describes, its defaults filled in. Raises pydantic's ValidationError on a
    field out of range, as `TaskCreate` does."""
    line_ids = order.line_ids
    if line_ids is None:
        line_ids = [line.id for line in await line_service.enabled_lines(tx, tenant)]
    start, end, pauses = window_of_periods(tenant, order.periods)
    seats = order.robot_count if order.robot_count is not None else tenant_service.seat_quota(tenant, order.owner)
    data = TaskCreate.model_validate(
        {
            "name": order.name,
            "script_id": order.script_id,
            "line_ids": line_ids,
            "robot_count": seats,
            "daily_start": start,
            "daily_end": end,
            "inactive_windows": pauses,
            "description": order.description,
        }
    )
    return await create_task(tx, tenant, data, owner_user_id=order.owner.id if order.owner is not None else None)
