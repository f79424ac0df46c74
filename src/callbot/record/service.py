"""Call record queries: by task, result, level, number or name, and date, newest first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select

from callbot.errors import NotFound
from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest, paginate
from callbot.models import CallRecord, Customer, Task, Tenant
from callbot.models.enums import CallResult, Level


class RecordNotFound(NotFound):
    """No such call record."""


@dataclass(frozen=True)
class RecordFilter:
    task_id: int | None = None
    results: list[CallResult] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)
    search: str | None = None  # substring of the customer's number or name, in any case
    phone: str | None = None
    # Times without an offset are the tenant's wall clock.
    started_from: datetime | None = None  # inclusive
    started_to: datetime | None = None  # exclusive
    script_id: int | None = None
    min_rounds: int | None = None
    max_rounds: int | None = None
    min_chat_seconds: int | None = None
    max_chat_seconds: int | None = None
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    sns: list[str] | None = None  # public record ids; an empty list matches nothing
    manual_levels: list[Level] = field(default_factory=list)
    customer_id: int | None = None


def _on_tenant_clock(value: datetime, tenant: Tenant) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(tenant.timezone))


def record_query(tenant: Tenant, f: RecordFilter) -> Select[CallRecord]:
    query = (
        select(CallRecord)
        .join(Task, Task.id == CallRecord.task_id)
        .where(CallRecord.tenant_id == tenant.id, Task.deleted.is_(False))
    )
    if f.task_id is not None:
        query = query.where(CallRecord.task_id == f.task_id)
    if f.results:
        query = query.where(CallRecord.result.in_(f.results))
    if f.levels:
        query = query.where(CallRecord.level.in_(f.levels))
    if f.phone:
        query = query.where(CallRecord.phone == f.phone)
    if f.search:
        names = select(Customer.id).where(
            Customer.tenant_id == tenant.id, Customer.name.icontains(f.search, autoescape=True)
        )
        query = query.where(
            or_(CallRecord.phone.contains(f.search, autoescape=True), CallRecord.customer_id.in_(names))
        )
    if f.started_from is not None:
        query = query.where(CallRecord.started_at >= _on_tenant_clock(f.started_from, tenant))
    if f.started_to is not None:
        query = query.where(CallRecord.started_at < _on_tenant_clock(f.started_to, tenant))
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
        query = query.where(CallRecord.created_at >= _on_tenant_clock(f.created_from, tenant))
    if f.created_to is not None:
        query = query.where(CallRecord.created_at < _on_tenant_clock(f.created_to, tenant))
    if f.sns is not None:
        query = query.where(CallRecord.sn.in_(f.sns))
    if f.manual_levels:
        query = query.where(CallRecord.manual_level.in_(f.manual_levels))
    return query.order_by(CallRecord.id.desc())


async def list_records(tx: Tx, tenant: Tenant, f: RecordFilter, page: PageRequest) -> Page[CallRecord]:
    return await paginate(tx.session, record_query(tenant, f), page)


async def list_records_before(
    tx: Tx, tenant: Tenant, f: RecordFilter, *, before_id: int | None = None, limit: int = 20
) -> list[CallRecord]:
    """One page of records, newest first, older than `before_id` (keyset paging: as fast on the 50,000th page
    as on the first, and no count of a million rows)."""
    query = record_query(tenant, f)
    if before_id is not None:
        query = query.where(CallRecord.id < before_id)
    return list(await tx.session.scalars(query.limit(limit)))


async def get_record(tx: Tx, tenant: Tenant, record_id: int) -> CallRecord:
    record = await tx.session.get(CallRecord, record_id)
    if record is None or record.tenant_id != tenant.id:
        raise RecordNotFound(f"no call record with id {record_id}")
    return record


async def get_record_by_sn(tx: Tx, tenant: Tenant, sn: str) -> CallRecord:
    record = await tx.session.scalar(select(CallRecord).where(CallRecord.sn == sn, CallRecord.tenant_id == tenant.id))
    if record is None:
        raise RecordNotFound(f"no call record with sn {sn}")
    return record


async def mark_read(tx: Tx, record: CallRecord) -> CallRecord:
    """The record has been looked at (已读): opened in the console or fetched in full through an API."""
    if not record.read:
        record.read = True
        await tx.session.flush()
    return record


async def regrade(tx: Tx, tenant: Tenant, record_id: int, level: Level | None) -> CallRecord:
    """A person's grading of a call (人工意向等级), kept beside the robot's; None clears it."""
    record = await get_record(tx, tenant, record_id)
    record.manual_level = level
    await tx.session.flush()
    return record
