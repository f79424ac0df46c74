"""The outbox: every event a tenant may want is written here in the same transaction as the change it
reports. The deliverer (callback/delivery.py) leases due events and POSTs them; nothing is fire-and-forget."""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import StrEnum
from typing import Any

from callbot.callback import repository
from callbot.errors import InvalidState, NotFound
from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest
from callbot.models import DeliveryAttempt, OutboxEvent, Tenant

CALL_FINISHED = "call.finished"  # subject: {"record_id", "task_id"}
TASK_COMPLETED = "task.completed"  # subject: {"task_id"}
IMPORT_FINISHED = "import.finished"  # subject: {"import_id", "task_id"}
KINDS = (CALL_FINISHED, TASK_COMPLETED, IMPORT_FINISHED)


class EventStatus(StrEnum):
    """Where an outbox event stands: due (or being sent), accepted by its receiver, given up, or with
    nowhere to go."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


PENDING, DELIVERED, FAILED, SKIPPED = (
    EventStatus.PENDING,
    EventStatus.DELIVERED,
    EventStatus.FAILED,
    EventStatus.SKIPPED,
)

# The Yiwise rule, used for every dialect: up to 10 tries, the n-th retry 2^(n-1) minutes after the
# n-th failure (1, 2, 4 ... 256 min), nothing delivered once the event is 24 hours old.
MAX_ATTEMPTS = 10
GIVE_UP_AFTER = timedelta(hours=24)


class EventNotFound(NotFound):
    """No such callback event."""


def retry_delay(failed_attempts: int) -> timedelta:
    """How long after the `failed_attempts`-th failure the next try goes out."""
    return timedelta(minutes=2 ** (failed_attempts - 1))


async def enqueue(
    tx: Tx, tenant_id: int, kind: str, subject: dict[str, Any], event_id: str | None = None
) -> OutboxEvent:
    """Record an event for delivery, in the caller's transaction. `event_id` is the idempotency id."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    now = tx.now()
    event = OutboxEvent(
        tenant_id=tenant_id,
        kind=kind,
        event_id=event_id or uuid.uuid4().hex,
        subject=subject,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    return await repository.add_event(tx, event)


async def list_events(
    tx: Tx, tenant: Tenant, page: PageRequest, status: str | None = None, kind: str | None = None
) -> Page[OutboxEvent]:
    return await repository.page_events(tx, tenant.id, page, status, kind)


async def get_event(tx: Tx, tenant: Tenant, event_id: int) -> OutboxEvent:
    event = await repository.get_event(tx, event_id)
    if event is None or event.tenant_id != tenant.id:
        raise EventNotFound(f"no callback event with id {event_id}")
    return event


async def attempts_of(tx: Tx, event: OutboxEvent) -> list[DeliveryAttempt]:
    return await repository.attempts_of(tx, event.id)


async def redeliver(tx: Tx, tenant: Tenant, event_id: int) -> OutboxEvent:
    """Send an event again (a manual redeliver): due now, with a fresh allowance of tries."""
    event = await get_event(tx, tenant, event_id)
    if event.status == PENDING and event.lease_owner is not None:
        raise InvalidState(f"event {event_id} is being delivered right now", state=event.status)
    event.status = PENDING
    event.attempts = 0
    event.next_attempt_at = tx.now()
    event.created_at = tx.now()  # the 24-hour allowance starts again
    event.lease_owner = None
    event.lease_expires_at = None
    await repository.flush(tx)
    return event


async def pending_count(tx: Tx) -> int:
    return await repository.count_with_status(tx, PENDING)


async def release_expired_leases(tx: Tx) -> int:
    """Events whose deliverer died mid-delivery become due again (at least once, never lost)."""
    return await repository.release_leases(tx, PENDING, expired_before=tx.now())
