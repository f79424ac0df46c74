"""The inbound calls' queries: SIP lines by number, each line's inbound task, the caller as a customer in
flight."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update

from callbot.kit.db import Tx
from callbot.models import Customer, Line, Task


async def enabled_sip_lines(tx: Tx, phones: Iterable[str] | None = None) -> list[Line]:
    """Enabled SIP lines, all or those with one of `phones`, oldest first."""
    query = select(Line).where(Line.gateway == "sip", Line.enabled.is_(True))
    if phones is not None:
        query = query.where(Line.phone.in_(set(phones)))
    return list(await tx.session.scalars(query.order_by(Line.id)))


async def task_by_name(tx: Tx, tenant_id: int, name: str) -> Task | None:
    return await tx.session.scalar(
        select(Task)
        .where(Task.tenant_id == tenant_id, Task.name == name, Task.deleted.is_(False))
        .order_by(Task.id)
        .limit(1)
    )


async def add_task(tx: Tx, task: Task) -> None:
    tx.session.add(task)
    await tx.session.flush()


async def add_caller(tx: Tx, customer: Customer, now: datetime) -> None:
    """The caller as a customer of the task, counted in the task's customers."""
    tx.session.add(customer)
    await tx.session.flush()
    await tx.session.execute(
        update(Task).where(Task.id == customer.task_id).values(customer_count=Task.customer_count + 1, updated_at=now)
    )
