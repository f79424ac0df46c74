"""One tenant's dead receiver delays nobody else: delivery is fair across tenants and receivers (a share
of leased events per tenant, a limit of sends per receiver, no round waiting on the slowest send), and a
receiver that keeps giving no answer is paused by a circuit breaker and probed again later."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.callback.delivery import Deliverer, DelivererOptions
from callbot.callback.receiver import CallbackReceiver
from callbot.customer.service import CustomerImporter
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import DeliveryAttempt, OutboxEvent
from callbot.runtime import build_renderers

from factories import make_account, make_task


class SilentReceiver:
    """Accepts connections and reads requests, but answers only while `answering` (a hung receiver)."""

    def __init__(self) -> None:
        self.answering = False
        self.requests = 0
        self.open_connections = 0
        self.most_open = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._writers:
                writer.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self.open_connections += 1
        self.most_open = max(self.most_open, self.open_connections)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                self.requests += 1
                if not self.answering:
                    await asyncio.Event().wait()  # never answers
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsuccess")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open_connections -= 1
            self._writers.discard(writer)
            writer.close()


@pytest.fixture
async def silent() -> AsyncIterator[SilentReceiver]:
    server = SilentReceiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    server = CallbackReceiver()
    await server.start()
    yield server
    await server.stop()


async def tenant_with_events(store: Store, name: str, url: str, events: int) -> int:
    """A tenant whose callbacks go to `url`, with `events` import events queued for it."""
    account = await make_account(store, name)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        changes = callback_service.CallbackChanges(url=url, task_url=url, dialect="native")
        await callback_service.update_settings(tx, account.tenant, changes)
        importer = await CustomerImporter.begin(tx, account.tenant, task_id, source="test")
        for i in range(events):
            subject = {"import_id": importer.import_id, "task_id": task_id}
            await outbox.enqueue(tx, account.tenant.id, outbox.IMPORT_FINISHED, subject, event_id=f"{name}-{i}")
    return account.tenant.id


async def test_a_dead_receiver_with_600_events_queued_does_not_hold_up_another_tenant(
    store: Store, silent: SilentReceiver, receiver: CallbackReceiver
) -> None:
    await tenant_with_events(store, "甲公司", silent.url, 600)  # queued first: oldest
    await tenant_with_events(store, "乙公司", receiver.url, 30)
    deliverer = Deliverer(store, build_renderers())  # the production options: 10 s timeout
    stop = asyncio.Event()
    started = time.monotonic()
    running = asyncio.create_task(deliverer.run(stop))
    try:
        while receiver.count < 30 and time.monotonic() - started < 30 and not running.done():
            await asyncio.wait({running}, timeout=0.01)
        took = time.monotonic() - started
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)  # stopping does not wait for the dead receiver's timeouts
    assert receiver.count == 30, f"the other tenant got {receiver.count} of 30 callbacks in {took:.1f} s"
    assert took < 5, f"the other tenant's callbacks took {took:.1f} s"
    assert silent.most_open <= DelivererOptions().per_endpoint
    async with store.transaction() as tx:
        counts = dict(
            (await tx.session.execute(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status))).all()
        )
        held = await tx.session.scalar(select(func.count()).where(OutboxEvent.lease_owner.is_not(None)))
    # Nothing lost: the dead receiver's events are all still to be delivered, none left leased.
    assert counts == {outbox.DELIVERED: 30, outbox.PENDING: 600} and held == 0


async def test_a_receiver_that_keeps_giving_no_answer_is_paused_then_probed(
    store: Store, clock: FrozenClock, silent: SilentReceiver
) -> None:
    await tenant_with_events(store, "甲公司", silent.url, 100)
    options = DelivererOptions(timeout_seconds=0.3, per_endpoint=8, breaker_failures=5, breaker_seconds=30)
    deliverer = Deliverer(store, build_renderers(), options=options)

    async def attempts() -> int:
        async with store.transaction() as tx:
            return int(await tx.session.scalar(select(func.count()).select_from(DeliveryAttempt)) or 0)

    async def waiting_until() -> dict[object, int]:
        async with store.transaction() as tx:
            rows = await tx.session.execute(
                select(OutboxEvent.next_attempt_at, func.count()).group_by(OutboxEvent.next_attempt_at)
            )
            return {(at - tx.now()).total_seconds(): n for at, n in rows}

    # The first sends time out; after five in a row the circuit opens: the rest wait 30 s, unsent.
    started = time.monotonic()
    assert await deliverer.deliver_due() == 100
    assert time.monotonic() - started < 3
    assert await attempts() == 8 and silent.requests == 8
    assert await waiting_until() == {60.0: 8, 30.0: 92}  # 8 tried (retry in a minute), 92 paused
    async with store.transaction() as tx:
        paused = await tx.session.scalar(select(OutboxEvent).where(OutboxEvent.attempts == 0).limit(1))
        assert paused is not None and "circuit open" in paused.last_error

    # 30 s later one probe goes; it gets no answer either: paused again, twice as long.
    clock.advance(seconds=30)
    assert await deliverer.deliver_due() == 92
    assert await attempts() == 9
    assert await waiting_until() == {30.0: 8, 60.0: 1 + 91}  # the probe's retry, and the paused

    # The receiver comes back: the next probe is answered, the circuit closes, everything goes out.
    silent.answering = True
    clock.advance(seconds=90)
    while await deliverer.deliver_due():
        pass
    await deliverer.http.close()
    async with store.transaction() as tx:
        statuses = set(await tx.session.scalars(select(OutboxEvent.status)))
    assert statuses == {outbox.DELIVERED}
