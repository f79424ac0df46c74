"""The callback store's queries (回调): the tenants' settings, the outbox, its leases and the delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest, paginate
from callbot.models import CallbackSettings, DeliveryAttempt, OutboxEvent, Tenant

# --- settings ------------------------------------------------------------------------------------------


async def find_settings(tx: Tx, tenant_id: int, user_id: int | None) -> CallbackSettings | None:
    query = select(CallbackSettings).where(
        CallbackSettings.tenant_id == tenant_id,
        CallbackSettings.user_id.is_(None) if user_id is None else CallbackSettings.user_id == user_id,
    )
    return await tx.session.scalar(query.order_by(CallbackSettings.id).limit(1))


async def insert_settings_if_missing(tx: Tx, values: dict[str, Any]) -> None:
    """Two first asks at once both find nothing: the unique indexes let one insert win and the other do
    nothing. (Not a savepoint: on SQLite, releasing one that opened the transaction commits it.)"""
    dialect = (await tx.session.connection()).dialect.name
    insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await tx.session.execute(insert_(CallbackSettings).values(**values).on_conflict_do_nothing())


async def any_settings_taking(tx: Tx, tenant_id: int, *, calls: bool, task_events: bool) -> bool:
    """Whether any settings row of the tenant (its own or a user's) sends call callbacks (on, with a URL:
    `calls`) or task and import events (a task URL: `task_events`)."""
    conditions: list[ColumnElement[bool]] = []
    if calls:
        conditions.append(and_(CallbackSettings.enabled.is_(True), CallbackSettings.url != ""))
    if task_events:
        conditions.append(CallbackSettings.task_url != "")
    if not conditions:
        return False
    condition = or_(*conditions)
    return bool(await tx.session.scalar(select(exists().where(CallbackSettings.tenant_id == tenant_id, condition))))


async def flush(tx: Tx) -> None:
    await tx.session.flush()


# --- the outbox ----------------------------------------------------------------------------------------


async def add_event(tx: Tx, event: OutboxEvent) -> OutboxEvent:
    tx.session.add(event)
    await tx.session.flush()
    return event


async def page_events(
    tx: Tx, tenant_id: int, request: PageRequest, status: str | None, kind: str | None
) -> Page[OutboxEvent]:
    query = select(OutboxEvent).where(OutboxEvent.tenant_id == tenant_id)
    if status:
        query = query.where(OutboxEvent.status == status)
    if kind:
        query = query.where(OutboxEvent.kind == kind)
    return await paginate(tx.session, query.order_by(OutboxEvent.id.desc()), request)


async def get_event(tx: Tx, event_id: int) -> OutboxEvent | None:
    return await tx.session.get(OutboxEvent, event_id)


async def attempts_of(tx: Tx, event_id: int) -> list[DeliveryAttempt]:
    query = select(DeliveryAttempt).where(DeliveryAttempt.event_id == event_id).order_by(DeliveryAttempt.id)
    return list(await tx.session.scalars(query))


async def count_with_status(tx: Tx, status: str) -> int:
    return int(await tx.session.scalar(select(func.count()).where(OutboxEvent.status == status)) or 0)


async def release_leases(
    tx: Tx, status: str, *, owner: str | None = None, expired_before: datetime | None = None
) -> int:
    """Events of `status` leased (by `owner`, or whose lease ran out before `expired_before`, or any) are due
    again; returns how many."""
    query = update(OutboxEvent).where(OutboxEvent.status == status)
    if owner is not None:
        query = query.where(OutboxEvent.lease_owner == owner)
    elif expired_before is not None:
        query = query.where(OutboxEvent.lease_expires_at < expired_before)
    else:
        query = query.where(OutboxEvent.lease_owner.is_not(None))
    result = await tx.session.execute(query.values(lease_owner=None, lease_expires_at=None))
    return int(getattr(result, "rowcount", 0) or 0)


async def lease_due(
    tx: Tx, status: str, now: datetime, limit: int, skip_tenants: set[int], owner: str, until: datetime
) -> list[OutboxEvent]:
    """Lease up to `limit` due events of tenants not in `skip_tenants`, in one statement."""
    due = (
        select(OutboxEvent.id)
        .where(
            OutboxEvent.status == status,
            OutboxEvent.next_attempt_at <= now,
            or_(OutboxEvent.lease_owner.is_(None), OutboxEvent.lease_expires_at < now),
        )
        .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if skip_tenants:
        due = due.where(OutboxEvent.tenant_id.not_in(skip_tenants))
    # The lease conditions are repeated outside the subquery so that of two deliverers that read the
    # same rows (SQLite has no SKIP LOCKED) only one leases each.
    leased = await tx.session.scalars(
        update(OutboxEvent)
        .where(
            OutboxEvent.id.in_(due.scalar_subquery()),
            or_(OutboxEvent.lease_owner.is_(None), OutboxEvent.lease_expires_at < now),
        )
        .values(lease_owner=owner, lease_expires_at=until)
        .returning(OutboxEvent)
        .execution_options(synchronize_session=False)
    )
    return list(leased)


async def tenant(tx: Tx, tenant_id: int) -> Tenant | None:
    return await tx.session.get(Tenant, tenant_id)


async def settle(
    tx: Tx,
    ids: Sequence[int],
    owner: str,
    *,
    status: str,
    next_at: datetime,
    last_error: str,
    delivered_at: datetime | None,
    tried: bool,
) -> int | None:
    """Write the next step of the events still leased to `owner`; the rows written, or None when the
    driver cannot tell."""
    result = await tx.session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(ids), OutboxEvent.lease_owner == owner)
        .values(
            status=status,
            next_attempt_at=next_at,
            last_error=last_error,
            delivered_at=delivered_at,
            attempts=OutboxEvent.attempts + 1 if tried else OutboxEvent.attempts,
            lease_owner=None,
            lease_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    count = getattr(result, "rowcount", -1)
    return None if count is None or count < 0 else int(count)


async def settled_as(tx: Tx, ids: Sequence[int], status: str, next_at: datetime) -> list[int]:
    """Which of `ids` carry this settled step (no lease, the status and the next attempt time)."""
    query = select(OutboxEvent.id).where(
        OutboxEvent.id.in_(ids),
        OutboxEvent.lease_owner.is_(None),
        OutboxEvent.status == status,
        OutboxEvent.next_attempt_at == next_at,
    )
    return list(await tx.session.scalars(query))


_DELIVERY_LOG = cast(Table, DeliveryAttempt.__table__)


async def log_attempts(tx: Tx, rows: Sequence[dict[str, Any]]) -> None:
    # A Core executemany on the table: the ORM's bulk insert spends more per row in Python.
    await tx.session.execute(insert(_DELIVERY_LOG), rows)
