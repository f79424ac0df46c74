"""The dialer loop: every tick it starts due AUTO tasks, moves tasks with their windows, leases due
customers within the seat, line and tenant limits, and runs each call as a named task. Finished calls are
written in batches (records, customers, statistics, callbacks: one transaction per batch).

Leases are fenced (see `campaign.service`): the dialer renews its leases, stops a call the moment its lease
is lost or has run out unrenewed (a frozen process, a stalled database), and drops an outcome whose write is
refused because another worker closed the attempt, instead of retrying it.

All business time comes from the injected clock; the loop's own pacing is real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from callbot.callflow.session import place_call, unanswered
from callbot.campaign import service as campaign
from callbot.campaign.service import FinishedAttempt, InFlight, Lease
from callbot.customer import service as customer_service
from callbot.dialer.schedule import Schedule
from callbot.dialogue.engine import DialogueEngine
from callbot.dialogue.nlu import IntentRecognizer, build_recognizer
from callbot.dialogue.script import Script as ScriptDocument
from callbot.errors import CallbotError
from callbot.kit.db import Store, Tx
from callbot.models import Line, Task, Tenant
from callbot.models.enums import CallResult, TaskStatus
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.telephony.gateway import DialRequest, GatewayRegistry

log = logging.getLogger(__name__)

_EXPIRED = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DialerOptions:
    tick_seconds: float = 0.2  # real time between scheduling rounds
    flush_seconds: float = 0.05  # real time between writes of finished calls
    flush_batch: int = 500
    # Clock time an attempt's lease lasts without renewal. Another worker closes the attempt only a further
    # lease period after it ran out: the holder stops its call at the lease's end at the latest one step
    # later (a ring, a prompt or a listen, all far shorter), and clocks of workers may differ a little.
    lease_seconds: float = 120.0
    # A finished call whose write keeps failing while its lease is held is tried this many times (real
    # seconds between tries: write_retry_seconds, doubling, at most a minute), then given up: its lease is
    # left to run out, and the attempt is closed as interrupted like a dead worker's.
    write_tries: int = 10
    write_retry_seconds: float = 1.0
    # With a single-process store (SQLite) every lease left at start-up belongs to a dead process.
    recover_all_at_start: bool = True
    ring_timeout_s: float = 50.0
    transfer_to: str = ""


@dataclass
class _Runtime:
    """What a call of a task needs, resolved once per script version."""

    document: ScriptDocument
    engine: DialogueEngine
    script_id: int
    version: int


@dataclass
class DialerStats:
    launched: int = 0
    finished: int = 0
    max_in_flight: int = 0


class Dialer:
    def __init__(self, store: Store, gateways: GatewayRegistry, options: DialerOptions | None = None) -> None:
        self.store = store
        self.gateways = gateways
        self.options = options or DialerOptions()
        # Who holds a lease, as an operator would look for it: host, process, and this dialer.
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stats = DialerStats()
        self._runtimes: dict[tuple[int, int], _Runtime] = {}
        self._recognizers: dict[str, IntentRecognizer] = {}
        self._calls: set[asyncio.Task[None]] = set()
        self._finished: list[FinishedAttempt] = []
        # Finished calls that could not be written yet: (when to try again, tries so far, the call).
        self._retry: list[tuple[float, int, FinishedAttempt]] = []
        # Leases this dialer holds (calls in flight or not yet written): customer id -> token, and until when
        # (clock time) it knows them to be its own; a call goes on only while that time has not passed.
        self._held: dict[int, str] = {}
        self._held_until: dict[int, datetime] = {}
        # Customers whose outcome is being written right now: a renewal that misses them is no lost lease.
        self._writing: set[int] = set()

    # --- running ---------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Dial until `stop` is set, then let calls in flight finish and write them."""
        await self.recover(all_leases=self.options.recover_all_at_start)
        drained = asyncio.Event()  # leases are kept until the last call is written, not just until `stop`
        async with asyncio.TaskGroup() as group:
            group.create_task(self._flush_loop(stop), name="dialer:flush")
            group.create_task(self._lease_keeper(drained), name="dialer:leases")
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("dialer tick failed; trying again")
                await _pause(stop, self.options.tick_seconds)
            try:
                await self.drain()
            finally:
                drained.set()

    async def recover(self, *, all_leases: bool = False) -> int:
        grace = timedelta(seconds=self.options.lease_seconds)
        async with self.store.transaction() as tx:
            closed = await campaign.recover_interrupted(tx, grace=grace, all_leases=all_leases)
        if closed:
            log.warning("closed %d interrupted attempt(s) left by a stopped dialer", closed)
        await self.recover_imports()
        return closed

    async def recover_imports(self) -> int:
        """Close imports whose process died. A CLI import runs beside any dialer, even on SQLite, so only a
        heartbeat a lease period old tells it is gone."""
        async with self.store.transaction() as tx:
            failed = await customer_service.recover_interrupted_imports(tx, stale_after=self.options.lease_seconds)
        if failed:
            log.warning("closed %d import(s) left running by a stopped process", failed)
        return failed

    async def drain(self) -> None:
        """Wait for every call in flight, then write what is left."""
        while self._calls:
            await asyncio.gather(*list(self._calls), return_exceptions=True)
        await self.flush(final=True)

    async def run_until_idle(self, max_ticks: int = 10_000) -> None:
        """Tick and drain until no call is in flight and a tick launches nothing (tests, benchmarks)."""
        for _ in range(max_ticks):
            launched = await self.tick()
            await self.drain()
            if launched == 0:
                return

    # --- one scheduling round ------------------------------------------------------------------------

    async def tick(self) -> int:
        """One round. Returns how many calls it launched."""
        async with self.store.transaction() as tx:
            await campaign.start_due_auto_tasks(tx)
        to_launch: list[tuple[Lease, Task, Line, _Runtime]] = []
        async with self.store.transaction() as tx:
            now = tx.now()
            tasks = await campaign.active_tasks(tx)
            if not tasks:
                return 0
            by_tenant: dict[int, list[Task]] = {}
            for task in tasks:
                by_tenant.setdefault(task.tenant_id, []).append(task)
            for tenant_id in sorted(by_tenant):  # one lock order for every worker: no deadlocks
                tenant = await campaign.lock_tenant(tx, tenant_id)
                if tenant is None:
                    continue
                flight = await campaign.in_flight(tx, tenant_id)
                for task in by_tenant[tenant_id]:
                    scheduled = await self._schedule_task(tx, tenant, task, flight, now)
                    if scheduled is None:
                        continue
                    leases, runtime = scheduled
                    lines = {line.id: line for line in task.lines}
                    to_launch.extend((lease, task, lines[lease.line_id], runtime) for lease in leases)
        for lease, task, line, runtime in to_launch:
            self._launch(lease, task, line, runtime)
        return len(to_launch)

    async def _schedule_task(
        self, tx: Tx, tenant: Tenant, task: Task, flight: InFlight, now: datetime
    ) -> tuple[list[Lease], _Runtime] | None:
        """Move the task with its window and limits and lease what it may dial now (None: nothing)."""
        if not await campaign.still_running(tx, task):
            return None  # paused, stopped or deleted since the task list was read
        busy = flight.by_task.get(task.id, 0)
        lines = [line for line in task.lines if line.enabled and line.gateway in self.gateways]
        if not lines:
            # No usable line: the system suspends the task until one is enabled again.
            if busy == 0:
                await campaign.move_task(tx, task.id, TaskStatus.SYSTEM_SUSPENDED)
            return None
        runtime = await self._runtime(tx, tenant, task)
        if runtime is None:
            # No approved script version to run: suspended rather than burning customers on failures.
            if busy == 0:
                await campaign.move_task(tx, task.id, TaskStatus.SYSTEM_SUSPENDED)
            return None
        schedule = Schedule(
            ZoneInfo(tenant.timezone),
            (tenant.calling_start, tenant.calling_end),
            (task.daily_start, task.daily_end),
            [(w.start, w.end) for w in task_service.inactive_windows(task)],
        )
        if not schedule.is_open(now):
            # Outside the daily window or inside an inactive slot: runnable, waiting for the window.
            if busy == 0:
                await campaign.move_task(tx, task.id, TaskStatus.RUNNABLE)
            return None
        task_room = task.robot_count - busy
        tenant_room = tenant.seats - flight.by_tenant.get(tenant.id, 0)
        line_room = {line.id: line.concurrency - flight.by_line.get(line.id, 0) for line in lines}
        room = min(task_room, tenant_room, sum(max(0, r) for r in line_room.values()))
        leases: list[Lease] = []
        if room > 0:
            leases = await campaign.lease(
                tx, tenant, task, line_room, room, owner=self.owner, lease_seconds=self.options.lease_seconds
            )
            for lease in leases:
                flight.by_task[task.id] = flight.by_task.get(task.id, 0) + 1
                flight.by_tenant[tenant.id] = flight.by_tenant.get(tenant.id, 0) + 1
                flight.by_line[lease.line_id] = flight.by_line.get(lease.line_id, 0) + 1
        if leases or busy:
            await campaign.move_task(tx, task.id, TaskStatus.IN_PROCESS)
        elif await campaign.has_due_customers(tx, task.id):
            # Customers are due but every seat or line is taken by other tasks.
            await campaign.move_task(tx, task.id, TaskStatus.IN_QUEUE)
        elif not await campaign.complete_if_done(tx, task.id):
            await campaign.move_task(tx, task.id, TaskStatus.RUNNABLE)  # waiting for redials
        until = now + timedelta(seconds=self.options.lease_seconds)
        for lease in leases:
            self._held[lease.customer_id] = lease.token
            self._held_until[lease.customer_id] = until
        return leases, runtime

    # --- calls -----------------------------------------------------------------------------------------

    def _launch(self, lease: Lease, task: Task, line: Line, runtime: _Runtime) -> None:
        call = asyncio.create_task(self._call(lease, task, line, runtime), name=f"call:{task.id}:{lease.customer_id}")
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)
        self.stats.launched += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, len(self._calls))

    async def _call(self, lease: Lease, task: Task, line: Line, runtime: _Runtime) -> None:
        try:
            variables = {"name": lease.name, "phone": lease.phone, **lease.properties}
            request = DialRequest(
                call_id=f"{task.id}-{lease.customer_id}-{lease.attempt}",
                caller=line.phone,
                callee=lease.phone,
                attempt=lease.attempt,
                properties={k: str(v) for k, v in lease.properties.items()},
                line_settings=line.settings,
                ring_timeout_s=self.options.ring_timeout_s,
                screen_announcements=task.screen_announcements,
            )
            outcome = await place_call(
                self.gateways.get(line.gateway),
                request,
                runtime.engine,
                runtime.document,
                variables,
                transfer_to=self.options.transfer_to,
                held=lambda: self._holds(lease.customer_id),
            )
        except Exception as exc:  # the attempt still gets a record: a platform failure, with the reason
            log.exception("call to %s failed", lease.phone)
            outcome = unanswered(CallResult.SYSTEM_ERROR.value, 0.0, str(exc)[:200])
        self._finished.append(
            FinishedAttempt(
                lease,
                outcome,
                script_id=runtime.script_id,
                script_version=runtime.version,
            )
        )
        self.stats.finished += 1

    def _holds(self, customer_id: int) -> bool:
        """Whether this dialer may still act on the customer's call: its lease is neither lost nor past."""
        return self.store.clock.now() < self._held_until.get(customer_id, _EXPIRED)

    def _release(self, customer_id: int) -> None:
        self._held.pop(customer_id, None)
        self._held_until.pop(customer_id, None)

    async def _runtime(self, tx: Tx, tenant: Tenant, task: Task) -> _Runtime | None:
        """The script version new calls of `task` run, with its engine (built once per version)."""
        try:
            script = await script_service.get_script(tx, tenant, task.script_id)
            version, document = await script_service.approved_document(tx, script)
        except CallbotError:
            log.exception("task %s cannot run its script", task.id)
            return None
        key = (script.id, version)
        runtime = self._runtimes.get(key)
        if runtime is None:
            runtime = _Runtime(document, DialogueEngine(document, self._recognizer(document)), script.id, version)
            self._runtimes[key] = runtime
        return runtime

    def _recognizer(self, document: ScriptDocument) -> IntentRecognizer:
        key = repr((document.industry, document.intents))
        recognizer = self._recognizers.get(key)
        if recognizer is None:
            recognizer = self._recognizers[key] = build_recognizer(document.intents, document.industry)
        return recognizer

    # --- writing results -----------------------------------------------------------------------------

    async def flush(self, *, final: bool = False) -> int:
        """Write finished calls. A batch that fails is written call by call; a call that still cannot be
        written waits and is tried again later, while its customer keeps its lease. A call whose lease was
        lost (another worker closed the attempt) is refused by the store and dropped: that write can never
        succeed. One that fails `write_tries` times is given up (see `DialerOptions`)."""
        written = 0
        while self._finished:
            batch = self._finished[: self.options.flush_batch]
            del self._finished[: len(batch)]
            done = await self._write(batch)
            if done is not None:
                written += done
                continue
            for one in batch:
                done = await self._write([one])
                if done is not None:
                    written += done
                else:
                    self._retry.append((time.monotonic() + self.options.write_retry_seconds, 1, one))
        waiting, self._retry = self._retry, []
        for due, tries, one in waiting:
            if not final and due > time.monotonic():
                self._retry.append((due, tries, one))
                continue
            done = await self._write([one])
            if done is not None:
                written += done
            elif tries + 1 >= self.options.write_tries:
                log.error(
                    "giving up writing the call to %s (customer %d, attempt %d) after %d tries: its lease is left "
                    "to run out, and the attempt will be closed as interrupted",
                    one.lease.phone,
                    one.lease.customer_id,
                    one.lease.attempt,
                    tries + 1,
                )
                self._release(one.lease.customer_id)
            else:
                log.error("the call to %s is still not written (try %d); trying again", one.lease.phone, tries + 1)
                delay = min(60.0, self.options.write_retry_seconds * 2.0**tries)
                self._retry.append((time.monotonic() + delay, tries + 1, one))
        return written

    async def _write(self, batch: list[FinishedAttempt]) -> int | None:
        """Write `batch` in one transaction: how many records were written, None when the write failed."""
        ids = {one.lease.customer_id for one in batch}
        self._writing |= ids
        try:
            async with self.store.transaction() as tx:
                written = await campaign.finish(tx, batch)
        except Exception:
            log.exception("writing %d finished call(s) failed", len(batch))
            return None
        finally:
            self._writing -= ids
        for one in written.refused:
            log.warning(
                "lost the lease on customer %d (attempt %d): another worker closed the attempt, so this outcome "
                "(%s, %s) is not written",
                one.lease.customer_id,
                one.lease.attempt,
                one.outcome.result,
                one.outcome.end_reason or "-",
            )
        for one in batch:
            self._release(one.lease.customer_id)
        return len(written.record_ids)

    async def _flush_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.flush()
            await _pause(stop, self.options.flush_seconds)

    async def _lease_keeper(self, stop: asyncio.Event) -> None:
        """Keep this dialer's leases alive while their calls (or their unwritten records) last, stop the calls
        whose lease was lost, and close expired leases (other workers', or ones this dialer gave up). A
        failed round is logged and tried again: it must not stop the dialer."""
        interval = self.options.lease_seconds / 3
        while not stop.is_set():
            await _pause(stop, max(0.5, interval / _clock_rate(self.store)))
            try:
                await self.renew()
                await self.recover()
            except Exception:
                log.exception("renewing or recovering leases failed; trying again")

    async def renew(self) -> None:
        """Renew the leases this dialer holds; a lease found lost stops its call before its next step."""
        if not self._held:
            return
        held = dict(self._held)
        async with self.store.transaction() as tx:
            until = tx.now() + timedelta(seconds=self.options.lease_seconds)
            renewed = await campaign.renew_leases(tx, held, self.options.lease_seconds)
        # A lease missed because its outcome was written meanwhile (or is being written) is not lost.
        lost = sorted(c for c in held if c not in renewed and self._held.get(c) == held[c] and c not in self._writing)
        for customer_id in renewed:
            if customer_id in self._held:
                self._held_until[customer_id] = until
        if lost:
            log.warning(
                "lost the lease on %d call(s) (customers %s): another worker closed them; stopping them",
                len(lost),
                ", ".join(map(str, lost[:20])),
            )
            for customer_id in lost:
                self._release(customer_id)


def _clock_rate(store: Store) -> float:
    """How many clock seconds pass per real second (a scaled clock in tests and demos)."""
    return float(getattr(store.clock, "factor", 1.0) or 1.0)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds` of real time, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
