"""Call records (通话记录): found by task, result, level, number or name, and date, newest first; read
marks and a person's grading."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from callbot.errors import NotFound
from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest
from callbot.models import CallRecord, Customer, Script, Task, Tenant, User
from callbot.models.enums import Level
from callbot.record import repository
from callbot.record.schemas import RecordFilter

__all__ = [
    "RecordFilter",
    "RecordNotFound",
    "RecordRow",
    "get_record",
    "get_record_by_sn",
    "list_record_rows",
    "list_records",
    "mark_read",
    "regrade",
]


class RecordNotFound(NotFound):
    """No such call record."""


async def list_records(tx: Tx, tenant: Tenant, f: RecordFilter, page: PageRequest) -> Page[CallRecord]:
    return await repository.page(tx, tenant.id, ZoneInfo(tenant.timezone), f, page)


async def list_records_before(
    tx: Tx, tenant: Tenant, f: RecordFilter, *, before_id: int | None = None, limit: int = 20
) -> list[CallRecord]:
    """One page of records, newest first, older than `before_id` (keyset paging: as fast on the 50,000th page
    as on the first, and no count of a million rows)."""
    return await repository.records_before(tx, tenant.id, ZoneInfo(tenant.timezone), f, before_id, limit)


async def get_record(tx: Tx, tenant: Tenant, record_id: int) -> CallRecord:
    record = await repository.get(tx, record_id)
    if record is None or record.tenant_id != tenant.id:
        raise RecordNotFound(f"no call record with id {record_id}")
    return record


async def get_record_by_sn(tx: Tx, tenant: Tenant, sn: str) -> CallRecord:
    record = await repository.by_sn(tx, tenant.id, sn)
    if record is None:
        raise RecordNotFound(f"no call record with sn {sn}")
    return record


async def mark_read(tx: Tx, record: CallRecord) -> CallRecord:
    """The record has been looked at (已读): opened in the console or fetched in full through an API."""
    if not record.read:
        record.read = True
        await repository.flush(tx)
    return record


async def regrade(tx: Tx, tenant: Tenant, record_id: int, level: Level | None) -> CallRecord:
    """A person's grading of a call (人工意向等级), kept beside the robot's; None clears it."""
    record = await get_record(tx, tenant, record_id)
    record.manual_level = level
    await repository.flush(tx)
    return record


@dataclass(frozen=True)
class RecordRow:
    """A call record as a listing page shows it: with its task, customer, script and the task's owner."""

    record: CallRecord
    task: Task
    customer: Customer | None
    script: Script | None
    owner: User | None


async def list_record_rows(tx: Tx, tenant: Tenant, f: RecordFilter, page: PageRequest) -> Page[RecordRow]:
    """One page of records with what their rows show, read in one query (no lookup per row)."""
    rows, total = await repository.page_with_rows(tx, tenant.id, ZoneInfo(tenant.timezone), f, page)
    items = [RecordRow(record, task, customer, script, owner) for record, task, customer, script, owner in rows]
    return Page(items=items, total=total, page=page.page, size=page.limit)


async def find_record(tx: Tx, *, record_id: int | None = None, sn: str | None = None) -> CallRecord | None:
    """Any tenant's record by id or sn: for a signed recording link, whose signature names the record."""
    if sn is not None:
        return await repository.by_sn_any_tenant(tx, sn)
    return await repository.get(tx, record_id) if record_id is not None else None


async def records_of_task(tx: Tx, tenant: Tenant, task_id: int) -> list[CallRecord]:
    """Every record of one task, oldest first (a demo's summary; pages are for the API)."""
    return sorted((r for r in await repository.of_task(tx, task_id) if r.tenant_id == tenant.id), key=lambda r: r.id)


async def mark_inbound(tx: Tx, record_id: int) -> None:
    await repository.mark_inbound(tx, record_id)
