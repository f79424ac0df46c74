"""The task store's queries (外呼任务): reads, locks and the counters that many writers change at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, Select, func, or_, select, update

from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest, paginate
from callbot.models import Customer, Script, Task, TaskStats, Tenant, User
from callbot.models.enums import CallResult, CustomerStatus, TaskMode, TaskStatus, TenantStatus
from callbot.task.schemas import TaskFilter
from callbot.task.states import RUNNING


def add(tx: Tx, task: Task) -> None:
    tx.session.add(task)


async def flush(tx: Tx) -> None:
    await tx.session.flush()


async def find(
    tx: Tx, tenant_id: int, task_id: int, *, for_update: bool = False, include_deleted: bool = False
) -> Task | None:
    query = select(Task).where(Task.id == task_id, Task.tenant_id == tenant_id)
    if not include_deleted:
        query = query.where(Task.deleted.is_(False))
    if for_update:
        # The lock is worth something only if the row is read again under it, not served from the session.
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return await tx.session.scalar(query)


async def find_by_sn(tx: Tx, tenant_id: int, sn: str) -> Task | None:
    return await tx.session.scalar(
        select(Task).where(Task.sn == sn, Task.tenant_id == tenant_id, Task.deleted.is_(False))
    )


async def lock(tx: Tx, task_id: int) -> Task | None:
    """Any tenant's task, read again under a FOR NO KEY UPDATE lock (the dialer's system moves)."""
    return await tx.session.get(Task, task_id, with_for_update={"key_share": True}, populate_existing=True)


def list_query(tenant_id: int, filters: TaskFilter) -> Select[Task]:
    query = select(Task).where(Task.tenant_id == tenant_id, Task.deleted.is_(False))
    if filters.name:
        query = query.where(Task.name.contains(filters.name, autoescape=True))
    if filters.status:
        query = query.where(Task.status.in_(filters.status))
    if filters.created_from is not None:
        query = query.where(Task.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Task.created_at < filters.created_to)
    return query.order_by(Task.id.desc())


async def page(tx: Tx, tenant_id: int, filters: TaskFilter, request: PageRequest) -> Page[Task]:
    return await paginate(tx.session, list_query(tenant_id, filters), request)


async def page_with_rows(
    tx: Tx, tenant_id: int, filters: TaskFilter, request: PageRequest
) -> tuple[Sequence[Row[Task, Script | None, User | None, int | None, int | None]], int]:
    """One page of tasks with their script, owner and call counts, in one query, and the total."""
    query = list_query(tenant_id, filters)
    total = await tx.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await tx.session.execute(
        query.add_columns(Script, User, TaskStats.calls, TaskStats.answered)
        .outerjoin(Script, Script.id == Task.script_id)
        .outerjoin(User, (User.id == Task.owner_user_id) & (User.tenant_id == Task.tenant_id))
        .outerjoin(TaskStats, TaskStats.task_id == Task.id)
        .limit(request.limit)
        .offset(request.offset)
    )
    return rows.all(), total or 0


async def many(tx: Tx, task_ids: Sequence[int]) -> dict[int, Task]:
    return {t.id: t for t in await tx.session.scalars(select(Task).where(Task.id.in_(set(task_ids))))}


async def due_auto(tx: Tx, now: datetime) -> Sequence[Task]:
    """AUTO tasks not started whose start time has come and whose script has an approved version, locked."""
    return (
        await tx.session.scalars(
            select(Task)
            .join(Script, Script.id == Task.script_id)
            .where(
                Task.status == TaskStatus.NOT_STARTED,
                Task.mode == TaskMode.AUTO,
                Task.deleted.is_(False),
                Script.approved_version.is_not(None),
                or_(Task.start_time.is_(None), Task.start_time <= now),
            )
            .with_for_update(key_share=True, of=Task)
            .execution_options(populate_existing=True)
        )
    ).all()


async def active(tx: Tx, now: datetime) -> list[Task]:
    """Tasks in a running state, not deleted, of active tenants whose contract has not run out."""
    query = (
        select(Task)
        .join(Tenant, Tenant.id == Task.tenant_id)
        .where(
            Task.status.in_(RUNNING),
            Task.deleted.is_(False),
            Tenant.status == TenantStatus.ACTIVE,
            or_(Tenant.expires_on.is_(None), Tenant.expires_on > now),
        )
        .order_by(Task.id)
    )
    return list(await tx.session.scalars(query))


async def add_finished(tx: Tx, task_id: int, n: int, now: datetime | None = None) -> None:
    """Count `n` more customers done, in the store (concurrent writers add, never overwrite)."""
    values: dict[str, object] = {"finished_count": Task.finished_count + n}
    if now is not None:
        values["updated_at"] = now
    await tx.session.execute(update(Task).where(Task.id == task_id).values(**values))


async def add_customers(tx: Tx, task_id: int, n: int, now: datetime) -> None:
    await tx.session.execute(
        update(Task).where(Task.id == task_id).values(customer_count=Task.customer_count + n, updated_at=now)
    )


async def requeue_unanswered(tx: Tx, task_id: int) -> int:
    """Customers finished on an unanswered attempt go back in the queue; returns how many."""
    result = await tx.session.execute(
        update(Customer)
        .where(
            Customer.task_id == task_id,
            Customer.status == CustomerStatus.FINISHED,
            Customer.last_result.is_not(None),
            Customer.last_result != CallResult.ANSWERED,
        )
        .values(status=CustomerStatus.PENDING, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
