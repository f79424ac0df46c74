"""The campaign: an attempt orchestrator over named operations — lease due customers, renew leases, close
attempts (records, the customers' next step by the typed redial rules, statistics, complaints, callbacks,
completion), and recover attempts whose worker is gone. Its own queries are in `campaign.repository`;
every other domain is reached through its service.

Calls are at most once: an attempt is marked DIALLING, with its lease, in the transaction that picks it.
Leases are fenced: each carries a token that every write of the attempt's outcome must show, so a worker
that froze or lost its database past its lease writes nothing over the attempt another worker closed. An
attempt whose lease ran out more than a grace ago (its worker died, or froze) is closed as interrupted,
with its real dial time, and only then may its customer be called again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.callflow.outcome import INTERRUPTED, CallOutcome, interrupted
from callbot.campaign import repository
from callbot.dnc import service as dnc_service
from callbot.kit.db import Tx
from callbot.kit.secrets import random_hex
from callbot.models import Task, Tenant
from callbot.models.enums import CallResult, CustomerStatus, TaskStatus
from callbot.record.stats import StatsDelta, apply
from callbot.task import service as task_service
from callbot.task.schemas import RedialRule

# How long a customer waits when their number is already on a call from another task.
NUMBER_BUSY_RETRY = timedelta(minutes=2)
# How long a started task with no customers waits for an import before it completes. Integrations often
# create the task first and import later; an import reopens a completed task anyway, so the wait only
# keeps an empty task from announcing itself COMPLETED before anything could be called.
EMPTY_TASK_WAIT = timedelta(hours=24)


@dataclass(frozen=True)
class Lease:
    """One attempt picked for dialling: who, on which line, which try."""

    customer_id: int
    task_id: int
    tenant_id: int
    name: str
    phone: str
    properties: dict[str, Any]
    attempt: int
    line_id: int  # 0 when unknown (an interrupted attempt whose line is gone): recorded as no line
    started_at: datetime
    token: str  # the lease's fencing token: writes of this attempt are refused once it is not the current one


@dataclass(frozen=True)
class FinishedAttempt:
    lease: Lease
    outcome: CallOutcome
    script_id: int | None = None
    script_version: int | None = None


@dataclass(frozen=True)
class Written:
    """What `finish` did: the records it wrote, and the attempts it refused because their lease is no
    longer the current one (another worker closed them); those can never be written and are dropped."""

    record_ids: list[int]
    refused: list[FinishedAttempt]


@dataclass
class InFlight:
    """Attempts in flight (DIALLING), counted from the store so every worker sees the same numbers."""

    by_task: dict[int, int] = field(default_factory=dict)
    by_line: dict[int, int] = field(default_factory=dict)
    by_tenant: dict[int, int] = field(default_factory=dict)


# --- tasks --------------------------------------------------------------------------------------------


async def start_due_auto_tasks(tx: Tx) -> list[int]:
    """AUTO tasks whose start time has come begin by themselves (those whose script has an approved
    version; the others wait for one)."""
    return await task_service.start_due_auto_tasks(tx)


async def active_tasks(tx: Tx) -> list[Task]:
    """Tasks the dialer works on: started and neither paused, stopped nor complete."""
    return await task_service.active_tasks(tx)


async def still_running(tx: Tx, task: Task) -> bool:
    """Read the task again under a lock: a pause, stop or delete committed since it was listed wins."""
    return await task_service.lock_running(tx, task.id) is not None


async def move_task(tx: Tx, task_id: int, target: TaskStatus) -> bool:
    """A system move, made only if the task is still where the dialer last saw it running."""
    task = await task_service.lock_running(tx, task_id)
    return task is not None and task_service.system_move(task, target, tx.now())


async def complete_if_done(tx: Tx, task_id: int) -> bool:
    """COMPLETED once no customer is waiting or in flight; sends the task-completed callback. A task that
    has no customers yet waits for them (`EMPTY_TASK_WAIT` from its start)."""
    task = await task_service.lock_running(tx, task_id)
    if task is None:
        return False
    if task.customer_count == 0 and tx.now() < (task.started_at or task.created_at) + EMPTY_TASK_WAIT:
        return False
    if await repository.has_waiting(tx, task_id):
        return False
    task_service.system_move(task, TaskStatus.COMPLETED, tx.now())
    await callback_service.notify(
        tx,
        task.tenant_id,
        outbox.TASK_COMPLETED,
        {"task_id": task.id},
        event_id=f"task-{task.sn}-completed-{uuid.uuid4().hex[:12]}",  # a reopened task completes again
    )
    return True


async def has_due_customers(tx: Tx, task_id: int) -> bool:
    return await repository.has_due(tx, task_id, tx.now())


# --- leasing --------------------------------------------------------------------------------------------


async def lock_tenant(tx: Tx, tenant_id: int) -> Tenant | None:
    """Hold the tenant's row for the rest of the transaction: workers schedule one tenant's calls one at a
    time, so seat and line limits counted from the store hold across workers. The lock is FOR NO KEY
    UPDATE (key_share), like every row lock on tasks and tenants here, so inserts that only reference the
    row (records, DNC entries) never wait for it: no deadlock with a worker writing finished calls."""
    return await repository.lock_tenant(tx, tenant_id)


async def in_flight(tx: Tx, tenant_id: int | None = None) -> InFlight:
    counts = InFlight()
    for tenant, task_id, line_id, n in await repository.in_flight_counts(tx, tenant_id):
        counts.by_tenant[tenant] = counts.by_tenant.get(tenant, 0) + n
        counts.by_task[task_id] = counts.by_task.get(task_id, 0) + n
        if line_id is not None:
            counts.by_line[line_id] = counts.by_line.get(line_id, 0) + n
    return counts


async def lease(
    tx: Tx,
    tenant: Tenant,
    task: Task,
    line_room: dict[int, int],
    count: int,
    *,
    owner: str,
    lease_seconds: float,
) -> list[Lease]:
    """Pick up to `count` due customers of `task`, skip those the DNC list or the frequency cap forbid,
    and mark the rest DIALLING on lines with room (`line_room`: line id -> free calls, consumed here)."""
    now = tx.now()
    count = min(count, sum(max(0, room) for room in line_room.values()))
    if count <= 0:
        return []
    candidates = await repository.due_candidates(tx, task.id, now, count)
    if not candidates:
        return []
    phones = [phone for _, phone in candidates]
    blocked = await dnc_service.listed_numbers(tx, tenant.id, phones)
    capped = await _capped_numbers(tx, tenant, phones, now)
    skipped = [
        (cid, "dnc" if phone in blocked else "frequency_cap")
        for cid, phone in candidates
        if phone in blocked or phone in capped
    ]
    if skipped:
        await repository.skip(tx, skipped)
        await task_service.add_finished(tx, task.id, len(skipped))
    skip_ids = {cid for cid, _ in skipped}
    # A number on a call right now (from another task) waits a little: never two calls to one person.
    talking = await repository.numbers_in_flight(tx, tenant.id, phones)
    later = [cid for cid, phone in candidates if phone in talking and cid not in skip_ids]
    if later:
        await repository.postpone(tx, later, now + NUMBER_BUSY_RETRY)
    skip_ids.update(later)
    chosen = [cid for cid, _ in candidates if cid not in skip_ids]
    # Spread the attempts over the lines with room, most room first.
    assignment: dict[int, list[int]] = defaultdict(list)
    for cid in chosen:
        line_id = max(line_room, key=lambda lid: line_room[lid])
        if line_room[line_id] <= 0:
            break
        line_room[line_id] -= 1
        assignment[line_id].append(cid)
    leases: list[Lease] = []
    until = now + timedelta(seconds=lease_seconds)
    token = random_hex(16)  # one grant: (customer, token) is unique to it, as attempts never repeat
    for line_id, ids in assignment.items():
        rows = await repository.mark_dialling(tx, ids, owner=owner, until=until, token=token, now=now, line_id=line_id)
        for cid, name, phone, properties, attempts in rows:
            leases.append(
                Lease(cid, task.id, tenant.id, name, phone, dict(properties or {}), attempts, line_id, now, token)
            )
    return leases


async def _capped_numbers(tx: Tx, tenant: Tenant, phones: Sequence[str], now: datetime) -> set[str]:
    """Numbers that already had the allowed answered calls (across all tasks) within the cap window."""
    if tenant.freq_cap_calls <= 0:
        return set()
    since = now - timedelta(hours=tenant.freq_cap_hours)
    counts = await repository.answered_counts(tx, tenant.id, phones, since)
    return {phone for phone, n in counts.items() if n >= tenant.freq_cap_calls}


async def renew_leases(tx: Tx, held: Mapping[int, str], lease_seconds: float) -> set[int]:
    """Extend the leases still held under these tokens (customer id -> token). Returns the customers whose
    lease was extended: the others were lost (another worker closed the attempt)."""
    by_token: dict[str, list[int]] = defaultdict(list)
    for customer_id, token in held.items():
        by_token[token].append(customer_id)
    return await repository.renew(tx, by_token, tx.now() + timedelta(seconds=lease_seconds))


# --- closing attempts -------------------------------------------------------------------------------------


async def finish(tx: Tx, attempts: Sequence[FinishedAttempt]) -> Written:
    """Write the call records of finished attempts and everything that follows from them, in one
    transaction: the customers' next step (redial or finished), task statistics, complaints onto the
    DNC list, callbacks, and completed tasks. An attempt whose lease is no longer the current one is
    refused (nothing of it is written): fencing.

    A customer whose attempt the platform interrupted is called again at once, up to the task's
    `interrupted_retries` times, whatever the redial rules say; the redial rules never count those
    retried attempts."""
    held = await _claim(tx, attempts)
    refused = [a for a in attempts if a.lease.customer_id not in held]
    attempts = [a for a in attempts if a.lease.customer_id in held]
    if not attempts:
        return Written([], refused)
    now = tx.now()
    tasks = await task_service.tasks_by_id(tx, [a.lease.task_id for a in attempts])
    rules = {task_id: task_service.redial_rules(task) for task_id, task in tasks.items()}
    tenants = await repository.tenants_by_id(tx, (a.lease.tenant_id for a in attempts))
    rows = [_record_row(a, now) for a in attempts]
    record_ids = await repository.insert_records(tx, rows)

    customer_updates = []
    finished_by_task: dict[int, int] = defaultdict(int)
    deltas: dict[int, StatsDelta] = defaultdict(StatsDelta)
    complaints: list[tuple[int, str, int]] = []
    for a, record_id, row in zip(attempts, record_ids, rows, strict=True):
        task = tasks[a.lease.task_id]
        tenant = tenants[a.lease.tenant_id]
        free_retries = held[a.lease.customer_id]
        if a.outcome.end_reason == INTERRUPTED and free_retries < task.interrupted_retries:
            next_at: datetime | None = now  # recovery waited long enough: no earlier call can still be live
            free_retries += 1
        else:
            next_at = redial_at(rules[task.id], row["result"], a.lease.attempt - free_retries, now)
        customer_updates.append(
            {
                "id": a.lease.customer_id,
                "free_retries": free_retries,
                "status": CustomerStatus.PENDING if next_at else CustomerStatus.FINISHED,
                "next_attempt_at": next_at,
                "last_result": row["result"],
                "level": row["level"],
                "lease_owner": None,
                "lease_expires_at": None,
                "lease_token": None,
            }
        )
        if next_at is None:
            finished_by_task[task.id] += 1
        deltas[task.id].add(
            result=a.outcome.result,
            level=a.outcome.level,
            rounds=a.outcome.rounds,
            chat_seconds=round(a.outcome.chat_seconds),
            concerns=list(a.outcome.concerns),
            day=a.lease.started_at.astimezone(ZoneInfo(tenant.timezone)).date(),
        )
        if a.outcome.intents.get("complaint"):
            complaints.append((tenant.id, a.lease.phone, record_id))
    await repository.close_attempts(tx, customer_updates)
    for task_id, n in sorted(finished_by_task.items()):  # one lock order with the scheduler: by task id
        await task_service.add_finished(tx, task_id, n)
    for task_id in sorted(deltas):
        await apply(tx, task_id, deltas[task_id])
    await _add_complaints(tx, tenants, complaints)
    await _enqueue_call_events(tx, attempts, record_ids)
    for task_id in sorted(finished_by_task):
        await complete_if_done(tx, task_id)
    return Written(record_ids, refused)


def _record_row(a: FinishedAttempt, now: datetime) -> dict[str, Any]:
    """The call record of one finished attempt, as a row to insert."""
    o = a.outcome
    answered_at = a.lease.started_at + timedelta(seconds=o.ring_seconds) if o.answered else None
    ended_at = a.lease.started_at + timedelta(seconds=o.ring_seconds + o.chat_seconds)
    return {
        "tenant_id": a.lease.tenant_id,
        "task_id": a.lease.task_id,
        "customer_id": a.lease.customer_id,
        "line_id": a.lease.line_id or None,
        "script_id": a.script_id,
        "script_version": a.script_version,
        "sn": random_hex(32),
        "phone": a.lease.phone,
        "attempt": a.lease.attempt,
        "result": o.result,
        "started_at": a.lease.started_at,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "ring_seconds": round(o.ring_seconds),
        "chat_seconds": round(o.chat_seconds),
        "rounds": o.rounds,
        "level": o.level,
        "reason": o.reason,
        "concerns": list(o.concerns),
        "tags": list(o.tags),
        "transcript": list(o.transcript),
        "end_reason": o.end_reason,
        "hangup_by": o.hangup_by,
        "transferred_to": o.transferred_to,
        "transfer_status": o.transfer_status,
        "recording_path": o.recording_path,
        "customer_recording_path": o.customer_recording_path,
        "created_at": now,
    }


async def _claim(tx: Tx, attempts: Sequence[FinishedAttempt]) -> dict[int, int]:
    """Lock the customers of `attempts` whose lease is still the one each attempt was dialled under (in
    flight, same token); returns their ids with the free retries each has had, so no other worker can
    close the attempt between this check and the write."""
    by_token: dict[str, list[int]] = defaultdict(list)
    for a in attempts:
        by_token[a.lease.token].append(a.lease.customer_id)
    return await repository.claim(tx, by_token)


def redial_at(rules: Iterable[RedialRule], result: CallResult, attempt: int, now: datetime) -> datetime | None:
    """When the next attempt is due under the task's redial rules, or None: no more attempts.

    The first rule naming the result decides; `max_times` counts redials, so attempt n (1-based) may be
    followed by another while n <= max_times.
    """
    for rule in rules:
        if result in rule.results:
            if attempt <= rule.max_times:
                return now + timedelta(minutes=rule.delay_minutes)
            return None
    return None


async def _add_complaints(tx: Tx, tenants: dict[int, Tenant], complaints: list[tuple[int, str, int]]) -> None:
    """A complaint (投诉) is an opt-out: the number goes on the tenant's DNC list, the record as its reason."""
    for tenant_id, phone, record_id in complaints:
        await dnc_service.add_number(
            tx,
            tenants[tenant_id],
            phone,
            source="complaint",
            reason=f"客户投诉（通话记录 {record_id}）",
            record_id=record_id,
        )


async def _enqueue_call_events(tx: Tx, attempts: Sequence[FinishedAttempt], record_ids: Sequence[int]) -> None:
    wanted: dict[int, bool] = {}
    for a, record_id in zip(attempts, record_ids, strict=True):
        tenant_id = a.lease.tenant_id
        if tenant_id not in wanted:
            wanted[tenant_id] = await callback_service.wants(tx, tenant_id, outbox.CALL_FINISHED)
        if wanted[tenant_id]:
            await outbox.enqueue(
                tx,
                tenant_id,
                outbox.CALL_FINISHED,
                {"record_id": record_id, "task_id": a.lease.task_id},
                event_id=f"call-{record_id}",
            )


# --- recovery -----------------------------------------------------------------------------------------


async def recover_interrupted(tx: Tx, *, grace: timedelta, all_leases: bool = False) -> int:
    """Close attempts whose worker is gone: leases that ran out more than `grace` ago (or, with
    `all_leases`, every lease: a single-process store at start-up). A worker stops its own calls when its
    lease runs out (see `callflow.session.place_call`), so past the grace none of them can still be
    talking. Each becomes a SYSTEM_ERROR record marked interrupted, with the attempt's real dial time,
    and is handed to the redial rules; none is dialled again as the same attempt."""
    now = tx.now()
    stale = await repository.stale_attempts(tx, None if all_leases else now - grace)
    if not stale:
        return 0
    attempts = [
        FinishedAttempt(
            Lease(
                c.id,
                c.task_id,
                c.tenant_id,
                c.name,
                c.phone,
                dict(c.properties or {}),
                c.attempts,
                c.dial_line_id or 0,
                c.dialled_at or now,
                c.lease_token or "",
            ),
            interrupted(),
        )
        for c in stale
    ]
    return len((await finish(tx, attempts)).record_ids)


async def calls_in_progress(tx: Tx, *, gateway: str) -> int:
    """Calls in progress on one gateway's lines, outbound and inbound, of every worker (counted from the store)."""
    return await repository.dialling_on_gateway(tx, gateway)
