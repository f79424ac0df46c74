"""Fenced leases: a worker that froze (or lost its database) past its lease neither writes over the attempt
another worker closed nor goes on talking; the interrupted record keeps the real dial time; a write that can
never succeed is not retried forever."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from campaign_helpers import make_campaign, scripted, sim_dialer
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from test_campaign import assert_stats_match_records, records, start

from callbot.campaign import service as campaign_service
from callbot.config import Settings
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import Customer
from callbot.models.enums import CallResult, CustomerStatus
from callbot.runtime import build_store

LEASE = 60.0
# A talkative customer: the call lasts minutes of call time.
LONG_CALL = "嗯你说|多少钱|利息怎么算|还要多久|我再想想|你再说一遍|好的我考虑一下|还有别的吗|嗯"


async def customer(store: Store, phone: str) -> Customer:
    async with store.transaction() as tx:
        row = await tx.session.scalar(select(Customer).where(Customer.phone == phone))
    assert row is not None
    return row


async def finished_calls(dialer: Any) -> None:
    while dialer._calls:
        await asyncio.sleep(0)


async def test_a_frozen_worker_writes_nothing_over_the_attempt_another_worker_closed(
    store: Store, clock: FrozenClock
) -> None:
    campaign = await make_campaign(store, [scripted("13900001001", result="ANSWERED", replies="好的")])
    await start(store, campaign)
    dialled_at = clock.now()
    frozen = sim_dialer(store, lease_seconds=LEASE)
    assert await frozen.tick() == 1
    await finished_calls(frozen)  # the call is over; its outcome waits to be written, then the worker freezes

    clock.advance(seconds=LEASE + 1)  # the lease ran out, but its holder may still be talking: nobody closes it
    other = sim_dialer(store, lease_seconds=LEASE)
    assert await other.recover() == 0
    clock.advance(seconds=LEASE)  # a further lease period: the attempt is dead
    assert await other.recover() == 1
    [closed] = await records(store, campaign.task_id)
    assert (closed.attempt, closed.result.value, closed.end_reason) == (1, "SYSTEM_ERROR", "interrupted")
    assert closed.started_at == dialled_at  # the real dial time, not when it was closed

    # The frozen worker resumes: its renewal finds the lease lost, its write is refused once, not retried.
    await frozen.renew()
    assert frozen._held == {}
    assert await frozen.flush() == 0
    assert frozen._retry == [] and frozen._finished == []
    assert [r.id for r in await records(store, campaign.task_id)] == [closed.id]
    row = await customer(store, "13900001001")
    assert (row.status, row.attempts, row.last_result) == (CustomerStatus.PENDING, 1, CallResult.SYSTEM_ERROR)
    # The customer is called again (the platform's fault), as attempt 2, by the worker that is alive.
    await other.run_until_idle()
    assert [(r.attempt, r.end_reason) for r in await records(store, campaign.task_id)] == [
        (1, "interrupted"),
        (2, "customer_hangup"),
    ]
    await assert_stats_match_records(store, campaign)


async def test_a_worker_whose_lease_ran_out_stops_its_call_before_the_next_step(store: Store) -> None:
    """On the sim carrier at speed 1 with the test's clock, a call moves the clock as it goes. A lease that
    is not renewed (no lease keeper here: a stalled database) ends the call at its next step."""
    campaign = await make_campaign(
        store,
        [scripted("13900001101", replies=LONG_CALL), scripted("13900001102", replies=LONG_CALL)],
    )
    await start(store, campaign)
    short = sim_dialer(store, speed=1.0, lease_seconds=15)
    await short.tick()
    await short.drain()
    rows = await records(store, campaign.task_id)
    assert [(r.result.value, r.end_reason) for r in rows] == [("ANSWERED", "interrupted")] * 2
    # Ringing and the opening prompt take call time; nothing is said once the lease has run out.
    assert all(r.chat_seconds < 15 for r in rows)
    assert all(len(r.transcript) <= 3 for r in rows)


async def test_an_unrenewed_lease_still_held_lets_the_worker_write_its_real_outcome(
    store: Store, clock: FrozenClock
) -> None:
    """A worker that resumes before anyone took its attempt over writes the call it made: no outcome lost."""
    campaign = await make_campaign(store, [scripted("13900001201", result="BUSY")])
    await start(store, campaign)
    frozen = sim_dialer(store, lease_seconds=LEASE)
    await frozen.tick()
    await finished_calls(frozen)
    clock.advance(seconds=LEASE * 1.5)  # past the lease, within the grace
    await frozen.drain()
    assert [(r.result.value, r.end_reason) for r in await records(store, campaign.task_id)] == [("BUSY", "")]


async def test_a_write_that_keeps_failing_is_given_up_and_the_attempt_closed_as_interrupted(
    store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    campaign = await make_campaign(store, [scripted("13900001301", result="BUSY")])
    await start(store, campaign)

    async def broken_finish(tx: object, attempts: object) -> campaign_service.Written:
        raise ValueError("a record this store will never take")

    real_finish = campaign_service.finish
    monkeypatch.setattr(campaign_service, "finish", broken_finish)
    dialer = sim_dialer(store, lease_seconds=LEASE, write_tries=3, write_retry_seconds=0.0)
    await dialer.tick()
    await finished_calls(dialer)
    for _ in range(10):
        await dialer.flush(final=True)
    assert dialer._retry == [] and dialer._held == {}  # given up after three tries, not retried forever
    assert sum("giving up writing the call" in r.message for r in caplog.records) == 1

    monkeypatch.setattr(campaign_service, "finish", real_finish)
    clock.advance(seconds=2 * LEASE + 1)
    assert await dialer.recover() == 1
    [closed] = await records(store, campaign.task_id)
    assert (closed.result.value, closed.end_reason) == ("SYSTEM_ERROR", "interrupted")


async def test_a_transaction_left_idle_for_a_lease_does_not_hold_other_workers_up(
    pg_url: str | None, tmp_path: Path
) -> None:
    """A worker frozen inside a transaction holds its row locks; PostgreSQL ends its session after a lease
    period, so the other workers can go on (and take its calls over)."""
    if pg_url is None:
        pytest.skip("PostgreSQL is not answering on 127.0.0.1:5432")
    settings = Settings(data_dir=tmp_path, database_url=pg_url, lease_seconds=1)
    frozen, other = build_store(settings), build_store(settings)
    try:
        async with frozen.engine.connect() as stuck:
            await stuck.execute(text("SELECT pg_advisory_xact_lock(4242)"))
            started = time.monotonic()
            async with other.engine.connect() as waiting:  # waits for the lock until the server ends `stuck`
                await asyncio.wait_for(waiting.execute(text("SELECT pg_advisory_xact_lock(4242)")), timeout=10)
                await waiting.rollback()
            assert time.monotonic() - started < 5
            with pytest.raises(DBAPIError):
                await stuck.execute(text("SELECT 1"))
    finally:
        await frozen.dispose()
        await other.dispose()
