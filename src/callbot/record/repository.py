"""The call record store's queries (通话记录) and the task statistics' rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest, paginate
from callbot.models import CallRecord, Customer, Script, Task, TaskStats, TaskStatsDaily, User
from callbot.models.enums import CustomerStatus, Level, TaskStatus
from callbot.record.schemas import RecordFilter


def _on_tenant_clock(value: datetime, zone: ZoneInfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def record_query(tenant_id: int, zone: ZoneInfo, f: RecordFilter) -> Select[CallRecord]:
    query = (
        select(CallRecord)
        .join(Task, Task.id == CallRecord.task_id)
        .where(CallRecord.tenant_id == tenant_id, Task.deleted.is_(False))
    )
    if f.task_id is not None:
        query = query.where(CallRecord.task_id == f.task_id)
    if f.direction is not None:
        query = query.where(CallRecord.direction == f.direction)
    if f.results:
        query = query.where(CallRecord.result.in_(f.results))
    if f.levels:
        query = query.where(CallRecord.level.in_(f.levels))
    if f.phone:
        query = query.where(CallRecord.phone == f.phone)
    if f.search:
        names = select(Customer.id).where(
            Customer.tenant_id == tenant_id, Customer.name.icontains(f.search, autoescape=True)
        )
        query = query.where(
            or_(CallRecord.phone.contains(f.search, autoescape=True), CallRecord.customer_id.in_(names))
        )
    if f.started_from is not None:
        query = query.where(CallRecord.started_at >= _on_tenant_clock(f.started_from, zone))
    if f.started_to is not None:
        query = query.where(CallRecord.started_at < _on_tenant_clock(f.started_to, zone))
    if f.script_id is not None:
        query = query.where(CallRecord.script_id == f.script_id)
    if f.min_rounds is not None:
        query = query.where(CallRecord.rounds >= f.min_rounds)
    if f.max_rounds is not None:
        query = query.where(CallRecord.rounds <= f.max_rounds)
    if f.min_chat_seconds is not None:
        query = query.where(CallRecord.chat_seconds >= f.min_chat_seconds)
    if f.max_chat_seconds is not None:
        query = query.where(CallRecord.chat_seconds <= f.max_chat_seconds)
    if f.customer_id is not None:
        query = query.where(CallRecord.customer_id == f.customer_id)
    if f.created_from is not None:
        query = query.where(CallRecord.created_at >= _on_tenant_clock(f.created_from, zone))
    if f.created_to is not None:
        query = query.where(CallRecord.created_at < _on_tenant_clock(f.created_to, zone))
    if f.sns is not None:
        query = query.where(CallRecord.sn.in_(f.sns))
    if f.manual_levels:
        query = query.where(CallRecord.manual_level.in_(f.manual_levels))
    return query.order_by(CallRecord.id.desc())


async def page(tx: Tx, tenant_id: int, zone: ZoneInfo, f: RecordFilter, request: PageRequest) -> Page[CallRecord]:
    return await paginate(tx.session, record_query(tenant_id, zone, f), request)


async def page_with_rows(
    tx: Tx, tenant_id: int, zone: ZoneInfo, f: RecordFilter, request: PageRequest
) -> tuple[Sequence[Row[CallRecord, Task, Customer | None, Script | None, User | None]], int]:
    """One page of records with their task, customer, script and the task's owner, in one query, and the total."""
    query = record_query(tenant_id, zone, f)
    total = await tx.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await tx.session.execute(
        query.add_columns(Task, Customer, Script, User)
        .outerjoin(Customer, (Customer.id == CallRecord.customer_id) & (Customer.tenant_id == tenant_id))
        .outerjoin(
            Script,
            (Script.id == func.coalesce(CallRecord.script_id, Task.script_id)) & (Script.tenant_id == tenant_id),
        )
        .outerjoin(User, (User.id == Task.owner_user_id) & (User.tenant_id == tenant_id))
        .limit(request.limit)
        .offset(request.offset)
    )
    return rows.all(), total or 0


async def get(tx: Tx, record_id: int) -> CallRecord | None:
    return await tx.session.get(CallRecord, record_id)


async def by_sn(tx: Tx, tenant_id: int, sn: str) -> CallRecord | None:
    return await tx.session.scalar(select(CallRecord).where(CallRecord.sn == sn, CallRecord.tenant_id == tenant_id))


async def of_task(tx: Tx, task_id: int) -> list[CallRecord]:
    return list(await tx.session.scalars(select(CallRecord).where(CallRecord.task_id == task_id)))


async def flush(tx: Tx) -> None:
    await tx.session.flush()


# --- statistics ---------------------------------------------------------------------------------------


async def stats_row(tx: Tx, task_id: int, *, lock: bool = False) -> TaskStats | None:
    if lock:
        return await tx.session.get(TaskStats, task_id, with_for_update=True)
    return await tx.session.get(TaskStats, task_id)


def add(tx: Tx, row: TaskStats) -> None:
    tx.session.add(row)


async def locked_daily(tx: Tx, task_id: int, day: object) -> TaskStatsDaily | None:
    return await tx.session.get(TaskStatsDaily, (task_id, day), with_for_update=True, populate_existing=True)


async def daily_rows(tx: Tx, task_id: int) -> list[TaskStatsDaily]:
    query = select(TaskStatsDaily).where(TaskStatsDaily.task_id == task_id).order_by(TaskStatsDaily.day)
    return list(await tx.session.scalars(query))


async def insert_if_missing(tx: Tx, model: type[TaskStats] | type[TaskStatsDaily], values: dict[str, object]) -> None:
    dialect = (await tx.session.connection()).dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await tx.session.execute(insert(model).values(**values).on_conflict_do_nothing())


async def recordings_ended_before(tx: Tx, cutoff: datetime, batch: int) -> list[tuple[int, str, str]]:
    """(id, mixed path, customer path) of records with a recording whose call ended before `cutoff`."""
    rows = await tx.session.execute(
        select(CallRecord.id, CallRecord.recording_path, CallRecord.customer_recording_path)
        .where(CallRecord.recording_path != "", CallRecord.ended_at < cutoff)
        .order_by(CallRecord.id)
        .limit(batch)
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def forget_recordings(tx: Tx, record_ids: Sequence[int], now: datetime) -> None:
    await tx.session.execute(
        update(CallRecord)
        .where(CallRecord.id.in_(record_ids))
        .values(recording_path="", customer_recording_path="", recording_deleted_at=now)
    )


async def mark_inbound(tx: Tx, record_id: int) -> None:
    await tx.session.execute(update(CallRecord).where(CallRecord.id == record_id).values(direction="inbound"))


async def by_sn_any_tenant(tx: Tx, sn: str) -> CallRecord | None:
    return await tx.session.scalar(select(CallRecord).where(CallRecord.sn == sn))


async def daily_sums(tx: Tx, tenant_id: int, first: date) -> list[tuple[date, int, int, int]]:
    """(day, calls, answered, chat seconds) of every task of a tenant, summed per day from `first` on."""
    rows = await tx.session.execute(
        select(
            TaskStatsDaily.day,
            func.sum(TaskStatsDaily.calls),
            func.sum(TaskStatsDaily.answered),
            func.sum(TaskStatsDaily.chat_seconds),
        )
        .join(Task, Task.id == TaskStatsDaily.task_id)
        .where(Task.tenant_id == tenant_id, TaskStatsDaily.day >= first)
        .group_by(TaskStatsDaily.day)
    )
    return [(day, int(c or 0), int(a or 0), int(s or 0)) for day, c, a, s in rows]


async def count_levels_since(tx: Tx, tenant_id: int, since: datetime, levels: Sequence[Level]) -> int:
    count = await tx.session.scalar(
        select(func.count())
        .select_from(CallRecord)
        .where(CallRecord.tenant_id == tenant_id, CallRecord.started_at >= since, CallRecord.level.in_(levels))
    )
    return int(count or 0)


async def count_in_flight(tx: Tx, tenant_id: int) -> int:
    """Customers of the tenant in a call now: its seats in use."""
    count = await tx.session.scalar(
        select(func.count())
        .select_from(Customer)
        .where(Customer.tenant_id == tenant_id, Customer.status == CustomerStatus.DIALLING)
    )
    return int(count or 0)


async def count_tasks_in(tx: Tx, tenant_id: int, statuses: Iterable[TaskStatus]) -> int:
    count = await tx.session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.tenant_id == tenant_id, Task.deleted.is_(False), Task.status.in_(list(statuses)))
    )
    return int(count or 0)


async def records_before(
    tx: Tx, tenant_id: int, zone: ZoneInfo, f: RecordFilter, before_id: int | None, limit: int
) -> list[CallRecord]:
    query = record_query(tenant_id, zone, f)
    if before_id is not None:
        query = query.where(CallRecord.id < before_id)
    return list(await tx.session.scalars(query.limit(limit)))
