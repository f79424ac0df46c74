"""Inbound call rules: which line a dialled number (DID) reaches, whether a seat is free, and where the
call is recorded.

An inbound call is recorded like an outbound one, so records, statistics, callbacks, exports and the
dialects need nothing new: each SIP line that takes inbound calls has an inbound task (呼入任务, named
"呼入 <line number>", manual, never dialled: it has no customers waiting), created on the line's first
inbound call; every call adds the caller to it as a customer already in flight, under a lease like the
dialer's, and its record is marked `direction = "inbound"`. Because the caller is a customer in flight,
an inbound call counts against the tenant's seats and the line's concurrency for every worker, and the
dialer leaves room for it.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from callbot.campaign import service as campaign
from callbot.campaign.service import FinishedAttempt, Lease
from callbot.errors import NotFound
from callbot.inbound import repository
from callbot.kit.db import Tx
from callbot.kit.secrets import random_hex
from callbot.models import Customer, Line, Task, Tenant
from callbot.models.enums import CustomerStatus, TaskMode, TaskStatus
from callbot.record import service as record_service
from callbot.tenant import service as tenant_service

__all__ = ["begin_call", "find_line", "finish_call", "inbound_script_id", "inbound_task_name"]


def inbound_script_id(line: Line) -> int | None:
    """The script inbound calls to `line` run (validated when the line was saved), or None."""
    inbound: Any = (line.settings or {}).get("inbound")
    script_id = inbound.get("script_id") if isinstance(inbound, dict) else None
    return script_id if isinstance(script_id, int) else None


def inbound_task_name(line: Line) -> str:
    return f"呼入 {line.phone}"


async def find_line(tx: Tx, number: str) -> Line | None:
    """The enabled SIP line taking inbound calls for `number` (a leading + or 0086/86 country code is
    ignored), or None: the caller gets 404."""
    candidates = {number, number.lstrip("+")}
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) > len(prefix) + 6:
            candidates.add(number[len(prefix) :])
    for line in await repository.enabled_sip_lines(tx, candidates):
        if inbound_script_id(line) is not None:
            return line
    return None


async def _inbound_task(tx: Tx, tenant: Tenant, line: Line, script_id: int) -> Task:
    name = inbound_task_name(line)
    task = await repository.task_by_name(tx, tenant.id, name)
    now = tx.now()
    if task is None:
        task = Task(
            tenant_id=tenant.id,
            name=name,
            mode=TaskMode.MANUAL,
            status=TaskStatus.NOT_STARTED,
            daily_start=time(0, 0),
            daily_end=time(23, 59),
            inactive_windows=[],
            script_id=script_id,
            robot_count=max(1, min(line.concurrency, tenant.seats)),
            description=f"线路 {line.phone} 的呼入电话（自动创建）",
            redial_rules=[],
            sn=random_hex(32),
            created_at=now,
            updated_at=now,
        )
        task.lines = [line]
        await repository.add_task(tx, task)
    elif task.script_id != script_id:
        task.script_id = script_id  # the line now names another script: new calls are recorded under it
        task.updated_at = now
    return task


async def begin_call(tx: Tx, line: Line, caller: str, *, owner: str, lease_seconds: float) -> Lease | None:
    """Take a seat for an inbound call to `line` from `caller`: the lease of the call, or None when the
    tenant has no free seat or the line is at its concurrency (the caller gets 486)."""
    script_id = inbound_script_id(line)
    tenant = await campaign.lock_tenant(tx, line.tenant_id)  # seats are counted under the tenant's lock
    if tenant is None or script_id is None:
        return None
    flight = await campaign.in_flight(tx, tenant.id)
    if flight.by_tenant.get(tenant.id, 0) >= tenant.seats or flight.by_line.get(line.id, 0) >= line.concurrency:
        return None
    task = await _inbound_task(tx, tenant, line, script_id)
    now = tx.now()
    token = random_hex(16)
    customer = Customer(
        tenant_id=tenant.id,
        task_id=task.id,
        name="",
        phone=caller[:32] or "anonymous",
        properties={},
        status=CustomerStatus.DIALLING,
        attempts=1,
        lease_owner=owner,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        lease_token=token,
        dialled_at=now,
        dial_line_id=line.id,
        created_at=now,
    )
    await repository.add_caller(tx, customer, now)
    return Lease(customer.id, task.id, tenant.id, "", customer.phone, {}, 1, line.id, now, token)


async def finish_call(tx: Tx, attempt: FinishedAttempt) -> int | None:
    """Write an inbound call's record (with statistics and callbacks, as the dialer writes its calls),
    marked inbound. The record's id, or None when the lease was lost meanwhile."""
    written = await campaign.finish(tx, [attempt])
    if not written.record_ids:
        return None
    record_id = written.record_ids[0]
    await record_service.mark_inbound(tx, record_id)
    return record_id


async def any_inbound_line(tx: Tx) -> bool:
    """Whether any enabled SIP line takes inbound calls (else the process need not listen for them)."""
    return any(inbound_script_id(line) is not None for line in await repository.enabled_sip_lines(tx))


async def tenant_of(tx: Tx, line: Line) -> Tenant | None:
    try:
        return await tenant_service.get_tenant(tx, line.tenant_id)
    except NotFound:
        return None
