"""/api/v1/tasks: tasks, their state changes and their customers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from callbot.api.deps import CurrentTenant, Paging, WriteTx
from callbot.api.schemas import Id, PageOut, ReadModel, page_out
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.kit.wallclock import WallTime
from callbot.models import Task
from callbot.models.enums import CallResult, CustomerStatus, ImportStatus, Level, TaskMode, TaskStatus
from callbot.task import service
from callbot.task.schemas import RedialRule, TaskAlerts, TaskCreate, TaskFilter, TaskUpdate, Window
from callbot.task.states import TaskAction

router = APIRouter(prefix="/tasks", tags=["tasks"])

MAX_IMPORT_ROWS = 10_000


class LineRef(BaseModel):
    id: int
    phone: str


class TaskRead(BaseModel):
    id: int
    sn: str
    name: str
    mode: TaskMode
    status: TaskStatus
    script_id: int
    lines: list[LineRef]
    robot_count: int
    daily_start: WallTime
    daily_end: WallTime
    inactive_windows: list[Window]
    start_time: datetime | None
    description: str
    redial_rules: list[RedialRule]
    interrupted_retries: int
    alerts: TaskAlerts
    screen_announcements: bool
    customer_count: int
    finished_count: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def task_read(task: Task) -> TaskRead:
    return TaskRead(
        id=task.id,
        sn=task.sn,
        name=task.name,
        mode=task.mode,
        status=task.status,
        script_id=task.script_id,
        lines=[LineRef(id=line.id, phone=line.phone) for line in task.lines],
        robot_count=task.robot_count,
        daily_start=task.daily_start,
        daily_end=task.daily_end,
        inactive_windows=service.inactive_windows(task),
        start_time=task.start_time,
        description=task.description,
        redial_rules=[RedialRule.model_validate(r) for r in task.redial_rules],
        interrupted_retries=task.interrupted_retries,
        alerts=service.alerts(task),
        screen_announcements=task.screen_announcements,
        customer_count=task.customer_count,
        finished_count=task.finished_count,
        created_at=task.created_at,
        updated_at=task.updated_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
    )


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str
    name: str = ""
    properties: dict[str, Any] = Field(default_factory=dict)


class CustomerImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers: list[CustomerIn] = Field(min_length=1, max_length=MAX_IMPORT_ROWS)


class RejectionOut(BaseModel):
    row: int
    phone: str
    reason: str
    message: str


class ImportReportOut(BaseModel):
    import_id: int
    task_id: int
    status: ImportStatus
    total: int
    accepted: int
    rejected: int
    counts: dict[str, int]
    rejections: list[RejectionOut]


class CustomerRead(ReadModel):
    id: int
    task_id: int
    name: str
    phone: str
    properties: dict[str, Any]
    carrier: str
    region: str
    status: CustomerStatus
    attempts: int
    next_attempt_at: datetime | None
    last_result: CallResult | None
    level: Level | None
    created_at: datetime


def report_out(report: customer_service.ImportReport) -> ImportReportOut:
    return ImportReportOut(
        import_id=report.import_id,
        task_id=report.task_id,
        status=report.status,
        total=report.total,
        accepted=report.accepted,
        rejected=report.rejected,
        counts=report.counts,
        rejections=[
            RejectionOut(row=r.row, phone=r.phone, reason=r.reason, message=r.message) for r in report.rejections
        ],
    )


@router.get("", response_model=PageOut[TaskRead], summary="Tasks, newest first")
async def list_tasks(
    tx: WriteTx,
    tenant: CurrentTenant,
    paging: Paging,
    name: Annotated[str | None, Query(description="substring of the task name")] = None,
    status_: Annotated[list[TaskStatus] | None, Query(alias="status")] = None,
) -> PageOut[TaskRead]:
    page = await service.list_tasks(tx, tenant, TaskFilter(name=name, status=status_), paging)
    return PageOut(
        items=[task_read(t) for t in page.items], total=page.total, page=page.page, size=page.size, pages=page.pages
    )


@router.post("", response_model=TaskRead, status_code=status.HTTP_201_CREATED, summary="Create a task")
async def create_task(body: TaskCreate, tx: WriteTx, tenant: CurrentTenant) -> TaskRead:
    return task_read(await service.create_task(tx, tenant, body))


@router.get("/{task_id}", response_model=TaskRead, summary="One task")
async def read_task(task_id: Id, tx: WriteTx, tenant: CurrentTenant) -> TaskRead:
    return task_read(await service.get_task(tx, tenant, task_id))


@router.patch("/{task_id}", response_model=TaskRead, summary="Change a task (seats at any time, the rest when paused)")
async def update_task(task_id: Id, body: TaskUpdate, tx: WriteTx, tenant: CurrentTenant) -> TaskRead:
    return task_read(await service.update_task(tx, tenant, task_id, body))


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete (stop and hide) a task")
async def delete_task(task_id: Id, tx: WriteTx, tenant: CurrentTenant) -> Response:
    await service.delete_task(tx, tenant, task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _action_route(action: TaskAction) -> None:
    async def act(task_id: Id, tx: WriteTx, tenant: CurrentTenant) -> TaskRead:
        return task_read(await service.apply_action(tx, tenant, task_id, action))

    act.__name__ = f"{action.value}_task"
    router.add_api_route(
        f"/{{task_id}}/{action.value}",
        act,
        methods=["POST"],
        response_model=TaskRead,
        summary=f"{action.value.capitalize()} a task",
        description="409 with the current state when the task's state does not allow it.",
    )


for _action in TaskAction:
    _action_route(_action)


@router.post(
    "/{task_id}/customers",
    response_model=ImportReportOut,
    summary=f"Import up to {MAX_IMPORT_ROWS} customers; the report lists every rejected row and why",
)
async def import_customers(task_id: Id, body: CustomerImportIn, tx: WriteTx, tenant: CurrentTenant) -> ImportReportOut:
    rows = (
        SourceRow(i, c.name, c.phone, {k: "" if v is None else str(v) for k, v in c.properties.items()})
        for i, c in enumerate(body.customers, start=1)
    )
    report = await customer_service.import_rows(tx, tenant, task_id, rows, source="api")
    return report_out(report)


customers_router = APIRouter(prefix="/customers", tags=["tasks"])


class CustomerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    properties: dict[str, str] | None = None


@customers_router.get("/{customer_id}", response_model=CustomerRead, summary="One customer")
async def read_customer(customer_id: Id, tx: WriteTx, tenant: CurrentTenant) -> CustomerRead:
    return CustomerRead.model_validate(await customer_service.get_customer(tx, tenant, customer_id))


@customers_router.patch(
    "/{customer_id}", response_model=CustomerRead, summary="Correct a customer's name or properties before the call"
)
async def update_customer(customer_id: Id, body: CustomerPatch, tx: WriteTx, tenant: CurrentTenant) -> CustomerRead:
    customer = await customer_service.update_customer(
        tx, tenant, customer_id, name=body.name, properties=body.properties
    )
    return CustomerRead.model_validate(customer)


@router.get("/{task_id}/customers", response_model=PageOut[CustomerRead], summary="A task's customers")
async def list_customers(
    task_id: Id,
    tx: WriteTx,
    tenant: CurrentTenant,
    paging: Paging,
    status_: Annotated[CustomerStatus | None, Query(alias="status")] = None,
) -> PageOut[CustomerRead]:
    page = await customer_service.list_customers(tx, tenant, task_id, paging, status_)
    return page_out(page, CustomerRead)
