"""The callback deliverer: leases due outbox events, renders each in the dialect of the settings it goes
by (its task owner's or its tenant's: callback/service.py:settings_for_event), POSTs it with a timeout,
logs every attempt, and retries on the Yiwise schedule (1, 2, 4 … minutes, 10 tries, 24 hours).
Delivery is at least once: an event is marked delivered only after its receiver accepted it, and a
deliverer that dies mid-delivery leaves its leased events to be sent again. Delivery is fair: each
receiver has its own lane with a limit of sends in flight and a circuit breaker, each tenant a share of
the leased events, so a dead receiver holds up only its own events.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from sqlalchemy import event as sa_event

from callbot.callback import outbox, repository
from callbot.callback import service as settings_service
from callbot.kit.db import Store, Tx
from callbot.kit.egress import EgressPolicy, ForbiddenDestination
from callbot.models import CallbackSettings, OutboxEvent, Tenant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One rendered callback: where it goes, what it carries, and how its receiver says 'accepted'."""

    url: str
    body: bytes
    headers: dict[str, str]
    accepted: Callable[[int, bytes], bool]


class Renderer(Protocol):
    """Turns an event into the payload of one dialect. Returns None when the tenant's settings give the
    event nowhere to go (no URL, pushes off): the event is then skipped, not retried."""

    async def render(
        self, tx: Tx, tenant: Tenant, settings: CallbackSettings, event: OutboxEvent
    ) -> Delivery | None: ...


@dataclass(frozen=True)
class DelivererOptions:
    timeout_seconds: float = 10.0
    batch: int = 200  # events leased per look at the outbox
    held: int = 2048  # events this deliverer holds leased at once (queued or in flight), over all tenants
    held_per_tenant: int = 256  # ... of one tenant, so one tenant's backlog never crowds out the others
    per_endpoint: int = 64  # sends in flight at once to one receiver (scheme, host, port)
    breaker_failures: int = 5  # sends in a row without an answer that open a receiver's circuit
    breaker_seconds: float = 30.0  # how long it first stays open; doubles while its probes fail
    breaker_max_seconds: float = 600.0
    poll_seconds: float = 0.2  # real time between looks at the outbox when it was empty
    lease_seconds: float = 120.0
    excerpt_chars: int = 100


Posted = tuple[int | None, bytes, str, int]  # status (None: no answer), body excerpt, error, latency ms


class HttpPoster(Protocol):
    async def post(self, delivery: Delivery, timeout_seconds: float) -> Posted: ...

    async def close(self) -> None: ...


class CheckedResolver(AbstractResolver):
    """Resolves a receiver's name and refuses the lot when any address it resolves to is forbidden, so the
    connection goes only to addresses that were checked (no DNS rebinding between check and connect)."""

    def __init__(self, egress: EgressPolicy, inner: AbstractResolver | None = None) -> None:
        self._egress = egress
        self._inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._inner.resolve(host, port, family)
        for address in addresses:
            self._egress.check_address(host, address["host"])
        return addresses

    async def close(self) -> None:
        await self._inner.close()


class AiohttpPoster:
    """The deliverer's HTTP client. aiohttp keeps its cost per request flat as parallel requests grow;
    httpx's pool bookkeeping grows with them (measured on loopback: about 9,000 vs 650 posts/s at 64 at once).
    Every destination passes the egress policy: the URL before sending (literal addresses are not
    resolved), and each address a name resolves to in the resolver."""

    def __init__(
        self, connections: int = 0, egress: EgressPolicy | None = None, resolver: AbstractResolver | None = None
    ) -> None:
        self._connections = connections  # open at once; 0: no limit (the deliverer limits sends per receiver)
        self._egress = egress or EgressPolicy()
        self._resolver = resolver  # what answers DNS questions (the system's by default)
        self._session: aiohttp.ClientSession | None = None
        # The URL check depends on the URL and the policy alone, and parsing addresses costs more than a
        # post's own bookkeeping: each URL is judged once (refusal message, "" when it may be used).
        self._judged: dict[str, str] = {}

    async def post(self, delivery: Delivery, timeout_seconds: float) -> Posted:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._connections, resolver=CheckedResolver(self._egress, self._resolver)
            )
            self._session = aiohttp.ClientSession(connector=connector)
        started = time.perf_counter()
        refusal = self._judge(delivery.url)
        if refusal:
            return None, b"", f"refused: {refusal}"[:500], _ms(started)
        try:
            async with self._session.post(
                delivery.url,
                data=delivery.body,
                headers=delivery.headers,
                timeout=aiohttp.ClientTimeout(total=timeout_seconds),
                allow_redirects=False,
            ) as response:
                body = await response.content.read(4096)
                return response.status, body, "", _ms(started)
        except ForbiddenDestination as exc:  # from the resolver: an address the name resolved to
            return None, b"", f"refused: {exc}"[:500], _ms(started)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return None, b"", f"{type(exc).__name__}: {exc}"[:500], _ms(started)

    def _judge(self, url: str) -> str:
        refusal = self._judged.get(url)
        if refusal is None:
            try:
                self._egress.check_url(url)
                refusal = ""
            except ForbiddenDestination as exc:
                refusal = str(exc)
            if len(self._judged) >= 4096:  # tenants' URLs are few; a flood of distinct ones is not kept
                self._judged.clear()
            self._judged[url] = refusal
        return refusal

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def excerpt(body: bytes, chars: int) -> str:
    """What the delivery log keeps of a reply: its first characters, control characters and runs of
    whitespace folded into single spaces (a log line, not a channel for reading internal pages)."""
    text = body[: chars * 4].decode("utf-8", "replace")
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:chars]


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


@dataclass(eq=False)
class _Job:
    """One leased event on its way: what to send, and where it stands."""

    id: int
    tenant_id: int
    attempts: int
    created_at: datetime
    delivery: Delivery | None
    error: str = ""  # why there is nothing to send (render failure)
    done: asyncio.Future[None] | None = None  # set once its outcome is on record (deliver_due waits on it)


@dataclass(eq=False)
class _Outcome:
    job: _Job
    posted: Posted | None = None  # None: not sent (nothing to send, or deferred by an open circuit)
    defer_until: datetime | None = None
    recorded: asyncio.Future[None] | None = None


class Endpoint:
    """One receiver (scheme, host, port): its queue, its sends in flight, and its circuit breaker. A
    receiver that keeps giving no answer (timeouts, refused connections) has its circuit opened: its
    queued events are put back to wait, and after a pause one probe is sent; an answer closes the
    circuit, none opens it again for twice as long."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.queue: deque[_Job] = deque()
        self.in_flight = 0
        self.failures = 0  # sends in a row without an answer
        self.open_until: datetime | None = None
        self.pause = 0.0  # seconds the circuit was last opened for

    def room(self, now: datetime, per_endpoint: int) -> int:
        if self.open_until is None:
            return per_endpoint - self.in_flight
        return (1 if now >= self.open_until else 0) - self.in_flight  # half open: one probe at a time

    def answered(self, answered: bool, now: datetime, options: DelivererOptions) -> None:
        if answered:
            self.failures, self.open_until, self.pause = 0, None, 0.0
            return
        self.failures += 1
        probing = self.open_until is not None and now >= self.open_until
        if probing or (self.open_until is None and self.failures >= options.breaker_failures):
            self.pause = min(self.pause * 2 or options.breaker_seconds, options.breaker_max_seconds)
            self.open_until = now + timedelta(seconds=self.pause)
            log.warning(
                "callback receiver %s gave no answer %d times in a row; pausing it %.0f s",
                self.key,
                self.failures,
                self.pause,
            )


def endpoint_key(url: str) -> str:
    """The receiver a URL reaches: scheme, host and port."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return url  # a malformed URL is a lane of its own; its send fails and says why
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


class Deliverer:
    """Leases due events, sends each through its receiver's lane, and records outcomes. Fair across tenants
    and receivers: a tenant holds at most `held_per_tenant` leased events and a receiver at most
    `per_endpoint` sends in flight, no send waits for another, and a receiver that keeps giving no answer
    is paused by its circuit breaker while the others go on. One bookkeeping loop talks to the store: each
    round records the outcomes that arrived since the last, then leases what there is room for, so the
    store sees a few round trips per batch rather than per event (and SQLite one writer)."""

    def __init__(
        self,
        store: Store,
        renderers: dict[str, Renderer],
        http: HttpPoster | None = None,
        options: DelivererOptions | None = None,
    ) -> None:
        self.store = store
        self.renderers = renderers
        self.options = options or DelivererOptions()
        self.http: HttpPoster = http or AiohttpPoster(egress=store.egress)
        self.owner = f"deliverer-{uuid.uuid4().hex[:12]}"
        self.delivered = 0
        self.endpoints: dict[str, Endpoint] = {}
        self._held: Counter[int] = Counter()  # leased events not yet on record, by tenant
        self._outcomes: list[_Outcome] = []  # arrived, to be recorded
        self._arrived = asyncio.Event()
        self._sends: set[asyncio.Task[None]] = set()
        self._stopping = False  # no new sends
        # A tenant is leased for again once it has room for a good share of a batch, not after every
        # settled event: fewer, fuller leases.
        # A lease takes at most a quantum, so a tenant leased for (at the mark or below) stays within its share.
        self._quantum = max(1, min(self.options.batch, self.options.held_per_tenant) // 2)
        self._refill_below = self.options.held_per_tenant - self._quantum
        self._refill = False  # a tenant came down to the refill mark: look at the outbox now

    async def __aenter__(self) -> Deliverer:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.http.close()

    async def run(self, stop: asyncio.Event, *, release_all_leases: bool = True) -> None:
        if release_all_leases:
            await self._release_all()
        try:
            await self._bookkeep(stop, leasing=True)
        finally:
            # Sends still waiting for an answer are dropped (their events are released below and go out
            # again); outcomes that arrived are still written.
            self._stopping = True
            for send in list(self._sends):
                send.cancel()
            await asyncio.gather(*list(self._sends), return_exceptions=True)
            if self._outcomes:
                await self._tick(self._take_outcomes(), 0)
            await self._release_mine()
            await self.http.close()

    async def deliver_due(self) -> int:
        """One round, for tests and tools: lease a batch of due events, send them, and return once every
        outcome is on record."""
        async with self.store.transaction() as tx:
            jobs = await self._lease(tx, self.options.batch, set())
        if not jobs:
            return 0
        loop = asyncio.get_running_loop()
        for job in jobs:
            job.done = loop.create_future()
        self._dispatch(jobs)
        all_done = asyncio.Event()
        waiting = asyncio.gather(*(job.done for job in jobs if job.done is not None))
        waiting.add_done_callback(lambda _: all_done.set())
        await self._bookkeep(all_done, leasing=False)
        await waiting  # raises when recording failed
        return len(jobs)

    async def _bookkeep(self, stop: asyncio.Event, *, leasing: bool) -> None:
        look_at = 0.0  # when to look at the outbox again (monotonic), unless a tenant has room sooner
        while not stop.is_set():
            room = self.options.held - sum(self._held.values()) if leasing else 0
            lease = room > 0 and (self._refill or time.monotonic() >= look_at)
            if not self._outcomes and not lease:
                self._arrived.clear()
                timeout = max(0.0, look_at - time.monotonic()) if leasing else None
                waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._arrived.wait())]
                await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for waiting in waits:
                    waiting.cancel()
                continue
            self._refill = False
            leased = await self._tick(self._take_outcomes(), min(self._quantum, room) if lease else 0)
            if lease and not leased:
                look_at = time.monotonic() + self.options.poll_seconds

    def _take_outcomes(self) -> list[_Outcome]:
        outcomes, self._outcomes = self._outcomes, []
        return outcomes

    def _arrive(self, outcome: _Outcome) -> None:
        self._outcomes.append(outcome)
        self._arrived.set()

    async def _tick(self, outcomes: list[_Outcome], lease: int) -> int:
        """Record `outcomes`, then lease up to `lease` more events. Returns how many were leased. Each in its
        own transaction: the sends waiting for their outcomes to be on record are let go as soon as they are,
        not after the lease and its rendering. When recording fails, the events stay leased and go out again
        once their lease expires."""
        for outcome in outcomes:
            tenant = outcome.job.tenant_id
            self._held[tenant] -= 1
            if self._held[tenant] == self._refill_below:
                self._refill = True
            if self._held[tenant] <= 0:
                del self._held[tenant]
        if outcomes:
            await self._record_outcomes(outcomes)
        if not lease:
            return 0
        full = {tenant for tenant, n in self._held.items() if n > self._refill_below}
        try:
            async with self.store.transaction() as tx:
                jobs = await self._lease(tx, lease, full)
        except Exception:
            log.exception("leasing callback events failed (leasing %d); going on", lease)
            return 0
        self._dispatch(jobs)
        return len(jobs)

    async def _record_outcomes(self, outcomes: list[_Outcome]) -> None:
        failure: Exception | None = None
        try:
            async with self.store.transaction() as tx:
                delivered = await self._record(tx, outcomes)
            self.delivered += delivered
        except Exception as exc:
            log.exception("recording %d callback outcomes failed; going on", len(outcomes))
            failure = exc
        for outcome in outcomes:
            if outcome.recorded is not None and not outcome.recorded.done():
                outcome.recorded.set_result(None)
            done = outcome.job.done
            if done is not None and not done.done():
                if failure is None:
                    done.set_result(None)
                else:
                    done.set_exception(failure)

    async def _release_all(self) -> None:
        """A single-process store: leases left at start-up belong to a dead process."""
        async with self.store.transaction() as tx:
            await repository.release_leases(tx, outbox.PENDING)

    async def _release_mine(self) -> None:
        """On the way out: events still held (queued, or their send dropped) are due again at once."""
        try:
            async with self.store.transaction() as tx:
                await repository.release_leases(tx, outbox.PENDING, owner=self.owner)
        except Exception:
            log.exception("releasing held callback events failed; they go out again when their lease expires")

    async def _lease(self, tx: Tx, limit: int, full_tenants: set[int]) -> list[_Job]:
        """Lease up to `limit` due events of tenants not in `full_tenants`, in one statement, and render them."""
        now = tx.now()
        until = now + timedelta(seconds=self.options.lease_seconds)
        leased = await repository.lease_due(tx, outbox.PENDING, now, limit, full_tenants, self.owner, until)
        events = sorted(leased, key=lambda event: (event.next_attempt_at, event.id))
        return await self._render_all(tx, events) if events else []

    async def _render_all(self, tx: Tx, events: list[OutboxEvent]) -> list[_Job]:
        jobs: list[_Job] = []
        tenants: dict[int, Tenant | None] = {}
        # Events of one batch mostly share a task: its settings are looked up once.
        chosen: dict[tuple[int, str, int | None], CallbackSettings | None] = {}
        # The session forgets rows nobody holds; holding every row loaded while rendering lets events
        # about the same task, import or customer find it in the session instead of the database.
        loaded: list[object] = []

        def keep(_session: object, row: object) -> None:
            loaded.append(row)

        sa_event.listen(tx.session.sync_session, "loaded_as_persistent", keep)
        try:
            for event in events:
                if event.tenant_id not in tenants:
                    tenants[event.tenant_id] = await repository.tenant(tx, event.tenant_id)
                tenant = tenants[event.tenant_id]
                job = _Job(event.id, event.tenant_id, event.attempts, event.created_at, None)
                try:
                    settings = None
                    if tenant is not None:
                        task_id = event.subject.get("task_id")
                        key = (tenant.id, event.kind, None if task_id is None else int(task_id))
                        if key not in chosen:
                            chosen[key] = await settings_service.settings_for_event(tx, tenant, *key[1:])
                        settings = chosen[key]
                    renderer = self.renderers.get(settings.dialect) if settings else None
                    if renderer and tenant and settings:
                        job.delivery = await renderer.render(tx, tenant, settings, event)
                except Exception as exc:  # a broken event must not block the others
                    log.exception("rendering callback event %s failed", event.id)
                    job.error = f"render failed: {exc}"[:500]
                jobs.append(job)
        finally:
            sa_event.remove(tx.session.sync_session, "loaded_as_persistent", keep)
        return jobs

    def _dispatch(self, jobs: list[_Job]) -> None:
        for job in jobs:
            self._held[job.tenant_id] += 1
            if job.delivery is None:
                self._arrive(_Outcome(job))
                continue
            key = endpoint_key(job.delivery.url)
            endpoint = self.endpoints.get(key)
            if endpoint is None:
                endpoint = self.endpoints[key] = Endpoint(key)
            endpoint.queue.append(job)
            self._pump(endpoint)

    def _pump(self, endpoint: Endpoint) -> None:
        """Start what the endpoint has room for; while its circuit is open, put its queue back to wait."""
        if self._stopping:
            return
        now = self.store.clock.now()
        if endpoint.open_until is not None and now < endpoint.open_until:
            while endpoint.queue:
                self._arrive(_Outcome(endpoint.queue.popleft(), defer_until=endpoint.open_until))
            return
        room = endpoint.room(now, self.options.per_endpoint)
        while endpoint.queue and room > 0:
            job = endpoint.queue.popleft()
            endpoint.in_flight += 1
            room -= 1
            send = asyncio.create_task(self._send(endpoint, job), name=f"callback:{job.id}")
            self._sends.add(send)
            send.add_done_callback(self._sends.discard)

    async def _send(self, endpoint: Endpoint, job: _Job) -> None:
        # A send keeps its endpoint slot until its outcome is on record, so at most `per_endpoint`
        # acknowledgements per receiver are in flight unrecorded: a crash repeats no more than that.
        try:
            assert job.delivery is not None
            try:
                posted = await self.http.post(job.delivery, self.options.timeout_seconds)
            except Exception as exc:  # the posters turn network errors into outcomes; anything else too
                log.exception("posting callback event %s failed", job.id)
                posted = (None, b"", f"{type(exc).__name__}: {exc}"[:500], 0)
            endpoint.answered(posted[0] is not None, self.store.clock.now(), self.options)
            self._pump(endpoint)  # a circuit that just opened puts the queue back now
            recorded = asyncio.get_running_loop().create_future()
            self._arrive(_Outcome(job, posted, recorded=recorded))
            await recorded
        finally:
            endpoint.in_flight -= 1
            self._pump(endpoint)

    async def _record(self, tx: Tx, outcomes: list[_Outcome]) -> int:
        """Write what happened to a group of events: each event's next step, and the delivery log. Events
        with the same next step share one UPDATE (all the delivered ones, typically), which writes only
        rows still leased to this deliverer: another may have taken over an expired lease. Returns how
        many were delivered."""
        now = tx.now()
        steps: dict[
            tuple[Any, ...], list[int]
        ] = {}  # (status, next_attempt_at, last_error, delivered_at, tried) -> ids
        log_rows: dict[int, dict[str, Any]] = {}
        for outcome in outcomes:
            job = outcome.job
            if outcome.defer_until is not None:
                gone = outcome.defer_until - job.created_at > outbox.GIVE_UP_AFTER
                step: tuple[Any, ...] = (
                    outbox.FAILED if gone else outbox.PENDING,
                    outcome.defer_until,
                    "not sent: its receiver gave no answer several times in a row (circuit open)",
                    None,
                    False,
                )
                steps.setdefault(step, []).append(job.id)
                continue
            delivery, posted = job.delivery, outcome.posted
            if delivery is None or posted is None:
                error = job.error or "no callback URL configured for this event"
                steps.setdefault((outbox.SKIPPED, now, error, None, False), []).append(job.id)
                continue
            status_code, body, error, latency = posted
            ok = status_code is not None and delivery.accepted(status_code, body)
            attempt = job.attempts + 1
            log_rows[job.id] = {
                "event_id": job.id,
                "attempt": attempt,
                "url": delivery.url[:1000],
                "status_code": status_code,
                "ok": ok,
                "latency_ms": latency,
                "response_excerpt": excerpt(body, self.options.excerpt_chars),
                "error": error,
                "created_at": now,
            }
            if ok:
                step = (outbox.DELIVERED, now, "", now, True)
            else:
                next_at = now + outbox.retry_delay(attempt)
                gone = attempt >= outbox.MAX_ATTEMPTS or next_at - job.created_at > outbox.GIVE_UP_AFTER
                step = (
                    outbox.FAILED if gone else outbox.PENDING,
                    next_at,
                    error or f"receiver answered HTTP {status_code}",
                    None,
                    True,
                )
            steps.setdefault(step, []).append(job.id)
        delivered = 0
        written: set[int] = set()
        for (status, next_at, last_error, delivered_at, tried), ids in steps.items():
            count = await repository.settle(
                tx,
                ids,
                self.owner,
                status=status,
                next_at=next_at,
                last_error=last_error,
                delivered_at=delivered_at,
                tried=tried,
            )
            # Counting rows, not returning them: one round trip less for the usual case, all still ours.
            if count == len(ids):
                ours = ids
            else:
                ours = await repository.settled_as(tx, ids, status, next_at)
            written.update(ours)
            if status == outbox.DELIVERED:
                delivered += len(ours)
        attempts = [row for event_id, row in log_rows.items() if event_id in written]
        if attempts:
            await repository.log_attempts(tx, attempts)
        return delivered
