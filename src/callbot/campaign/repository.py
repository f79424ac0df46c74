"""The campaign's queries: attempts are customer rows in flight (DIALLING, with a fenced lease), and the
call records they become. Every statement here is one named step of `campaign.service`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, insert, or_, select, update

from callbot.kit.db import Tx
from callbot.models import CallRecord, Customer, Line, Tenant
from callbot.models.enums import CallResult, CustomerStatus


def _due(task_id: int, now: datetime) -> list[Any]:
    return [
        Customer.task_id == task_id,
        Customer.status == CustomerStatus.PENDING,
        or_(Customer.next_attempt_at.is_(None), Customer.next_attempt_at <= now),
    ]


async def has_due(tx: Tx, task_id: int, now: datetime) -> bool:
    return bool(await tx.session.scalar(select(exists().where(*_due(task_id, now)))))


async def has_waiting(tx: Tx, task_id: int) -> bool:
    """Whether a customer of the task is still waiting for a call or on one."""
    return bool(
        await tx.session.scalar(
            select(
                exists().where(
                    Customer.task_id == task_id,
                    Customer.status.in_((CustomerStatus.PENDING, CustomerStatus.DIALLING)),
                )
            )
        )
    )


async def lock_tenant(tx: Tx, tenant_id: int) -> Tenant | None:
    if (await tx.session.connection()).dialect.name == "sqlite":
        # SQLite has no row locks: a write takes the database's write lock now, before anything is counted.
        await tx.session.execute(update(Tenant).where(Tenant.id == tenant_id).values(id=Tenant.id))
    return await tx.session.get(Tenant, tenant_id, with_for_update={"key_share": True}, populate_existing=True)


async def tenants_by_id(tx: Tx, tenant_ids: Iterable[int]) -> dict[int, Tenant]:
    return {t.id: t for t in await tx.session.scalars(select(Tenant).where(Tenant.id.in_(set(tenant_ids))))}


async def in_flight_counts(tx: Tx, tenant_id: int | None) -> list[tuple[int, int, int | None, int]]:
    """(tenant, task, line, attempts) for every group of attempts in flight."""
    query = select(Customer.tenant_id, Customer.task_id, Customer.dial_line_id, func.count()).where(
        Customer.status == CustomerStatus.DIALLING
    )
    if tenant_id is not None:
        query = query.where(Customer.tenant_id == tenant_id)
    rows = await tx.session.execute(query.group_by(Customer.tenant_id, Customer.task_id, Customer.dial_line_id))
    return [(t, k, line, n) for t, k, line, n in rows]


async def due_candidates(tx: Tx, task_id: int, now: datetime, count: int) -> list[tuple[int, str]]:
    """Up to `count` due customers (id, phone), locked; rows another worker holds are skipped."""
    rows = await tx.session.execute(
        select(Customer.id, Customer.phone)
        .where(*_due(task_id, now))
        .order_by(Customer.id)
        .limit(count)
        .with_for_update(skip_locked=True)
    )
    return [(cid, phone) for cid, phone in rows]


async def skip(tx: Tx, skipped: Sequence[tuple[int, str]]) -> None:
    """Mark customers SKIPPED, each with its reason."""
    await tx.session.execute(
        update(Customer),
        [{"id": cid, "status": CustomerStatus.SKIPPED, "skip_reason": why} for cid, why in skipped],
    )


async def postpone(tx: Tx, customer_ids: Sequence[int], until: datetime) -> None:
    await tx.session.execute(update(Customer), [{"id": cid, "next_attempt_at": until} for cid in customer_ids])


async def numbers_in_flight(tx: Tx, tenant_id: int, phones: Sequence[str]) -> set[str]:
    rows = await tx.session.scalars(
        select(Customer.phone).where(
            Customer.tenant_id == tenant_id, Customer.status == CustomerStatus.DIALLING, Customer.phone.in_(phones)
        )
    )
    return set(rows)


async def answered_counts(tx: Tx, tenant_id: int, phones: Sequence[str], since: datetime) -> dict[str, int]:
    """Answered calls per number (across all tasks) since `since`."""
    rows = await tx.session.execute(
        select(CallRecord.phone, func.count())
        .where(
            CallRecord.tenant_id == tenant_id,
            CallRecord.phone.in_(phones),
            CallRecord.result == CallResult.ANSWERED,
            CallRecord.started_at >= since,
        )
        .group_by(CallRecord.phone)
    )
    return {phone: n for phone, n in rows}


async def mark_dialling(
    tx: Tx, customer_ids: Sequence[int], *, owner: str, until: datetime, token: str, now: datetime, line_id: int
) -> list[tuple[int, str, str, dict[str, Any] | None, int]]:
    """Lease still-pending customers on `line_id`: (id, name, phone, properties, attempt) of each leased."""
    rows = await tx.session.execute(
        update(Customer)
        .where(Customer.id.in_(customer_ids), Customer.status == CustomerStatus.PENDING)
        .values(
            status=CustomerStatus.DIALLING,
            attempts=Customer.attempts + 1,
            lease_owner=owner,
            lease_expires_at=until,
            lease_token=token,
            dialled_at=now,
            dial_line_id=line_id,
        )
        .returning(Customer.id, Customer.name, Customer.phone, Customer.properties, Customer.attempts)
    )
    return [(cid, name, phone, properties, attempts) for cid, name, phone, properties, attempts in rows]


async def renew(tx: Tx, by_token: Mapping[str, Sequence[int]], until: datetime) -> set[int]:
    renewed: set[int] = set()
    for token, ids in sorted(by_token.items()):
        rows = await tx.session.scalars(
            update(Customer)
            .where(Customer.id.in_(ids), Customer.status == CustomerStatus.DIALLING, Customer.lease_token == token)
            .values(lease_expires_at=until)
            .returning(Customer.id)
        )
        renewed.update(rows)
    return renewed


async def claim(tx: Tx, by_token: Mapping[str, Sequence[int]]) -> dict[int, int]:
    """Lock the customers still in flight under each token; their ids with their free retries. An UPDATE,
    not a SELECT: it takes the row lock on PostgreSQL and the write lock on SQLite."""
    held: dict[int, int] = {}
    for token, ids in sorted(by_token.items()):
        # Leases granted before tokens existed have none; only recovery closes them.
        same_lease = Customer.lease_token == token if token else Customer.lease_token.is_(None)
        rows = await tx.session.execute(
            update(Customer)
            .where(Customer.id.in_(ids), Customer.status == CustomerStatus.DIALLING, same_lease)
            .values(dialled_at=Customer.dialled_at)
            .returning(Customer.id, Customer.free_retries)
        )
        held.update((customer_id, free_retries) for customer_id, free_retries in rows)
    return held


async def insert_records(tx: Tx, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert call records; their ids in the order of `rows`."""
    result = await tx.session.execute(insert(CallRecord).returning(CallRecord.id, sort_by_parameter_order=True), rows)
    return list(result.scalars().all())


async def close_attempts(tx: Tx, updates: Sequence[dict[str, Any]]) -> None:
    """Write each customer's next step (bulk UPDATE by primary key)."""
    await tx.session.execute(update(Customer), updates)


async def stale_attempts(tx: Tx, expired_before: datetime | None) -> list[Customer]:
    """Attempts in flight whose lease ran out before `expired_before` (all of them when None), locked."""
    query = select(Customer).where(Customer.status == CustomerStatus.DIALLING)
    if expired_before is not None:
        query = query.where(Customer.lease_expires_at < expired_before)
    return list(await tx.session.scalars(query.with_for_update(skip_locked=True)))


async def dialling_on_gateway(tx: Tx, gateway: str) -> int:
    """Customers in a call (dialling or talking) on lines of one gateway, of every tenant and worker."""
    count = await tx.session.scalar(
        select(func.count(Customer.id))
        .join(Line, Line.id == Customer.dial_line_id)
        .where(Customer.status == CustomerStatus.DIALLING, Line.gateway == gateway)
    )
    return int(count or 0)
