"""A dialer told to stop lets its calls finish, and keeps their leases alive until they are written: a call
longer than a lease is neither cut short nor left to be taken over (in real time, sped up)."""

from __future__ import annotations

import asyncio
from datetime import time

import pytest
from campaign_helpers import make_campaign, scripted, sim_dialer
from test_campaign import records, start
from test_fenced_leases import LONG_CALL

from callbot.kit.clock import SystemClock
from callbot.kit.db import Store
from callbot.tenant import service as tenant_service


@pytest.fixture
def clock() -> SystemClock:
    return SystemClock()


@pytest.mark.slow
async def test_stopping_keeps_the_leases_of_calls_still_talking(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, "停机银行", seats=5)
        await tenant_service.update_tenant(
            tx, tenant, tenant_service.TenantChanges(calling_hours=(time(0, 0), time(23, 59, 59)))
        )
    campaign = await make_campaign(
        store,
        [scripted("13900003001", replies=LONG_CALL)],
        tenant_name="停机银行",
        daily_start="00:00",
        daily_end="23:59:59",
    )
    await start(store, campaign)
    # A call of several seconds in real time against a 2 s lease (renewed every 0.67 s): leases long, with
    # room for a renewal delayed by a loaded machine.
    dialer = sim_dialer(store, speed=15.0, lease_seconds=2.0, tick_seconds=0.05)
    stop = asyncio.Event()
    runner = asyncio.create_task(dialer.run(stop))
    while not dialer._calls:
        await asyncio.sleep(0.02)
    stop.set()  # the call has seconds to go: several leases
    await runner
    [record] = await records(store, campaign.task_id)
    assert record.result.value == "ANSWERED" and record.end_reason != "interrupted"
    assert record.chat_seconds >= 30
