"""An attempt the platform interrupted (a worker died or froze) is not the customer's fault: the customer is
called again, once by default (the task's `interrupted_retries`), whatever the redial rules say, and the
retry does not use up a redial."""

from __future__ import annotations

from typing import Any

from campaign_helpers import make_campaign, scripted, sim_dialer
from sqlalchemy import select
from test_campaign import assert_stats_match_records, records, start

from callbot.campaign import service as campaign_service
from callbot.kit.db import Store
from callbot.models import Customer, Task
from callbot.models.enums import CustomerStatus


async def interrupt_next_attempt(store: Store, campaign: Any) -> None:
    """Lease the task's next due customer as a dialer would, then 'crash': a restart closes the attempt."""
    async with store.transaction() as tx:
        task = await tx.session.get(Task, campaign.task_id)
        assert task is not None
        leases = await campaign_service.lease(
            tx, campaign.tenant, task, {campaign.line_ids[0]: 1}, 1, owner="crashed", lease_seconds=60
        )
    assert len(leases) == 1
    assert await sim_dialer(store).recover(all_leases=True) == 1


async def outcomes(store: Store, task_id: int) -> list[tuple[int, str, str]]:
    return [(r.attempt, r.result.value, r.end_reason) for r in await records(store, task_id)]


async def test_an_interrupted_customer_is_called_again_without_redial_rules(store: Store) -> None:
    campaign = await make_campaign(store, [scripted("13900002001", result="BUSY")])
    await start(store, campaign)
    await interrupt_next_attempt(store, campaign)
    await sim_dialer(store).run_until_idle()
    assert await outcomes(store, campaign.task_id) == [(1, "SYSTEM_ERROR", "interrupted"), (2, "BUSY", "")]
    await assert_stats_match_records(store, campaign)


async def test_the_free_retry_is_given_once_by_default(store: Store) -> None:
    campaign = await make_campaign(store, [scripted("13900002101", result="BUSY")])
    await start(store, campaign)
    await interrupt_next_attempt(store, campaign)
    await interrupt_next_attempt(store, campaign)  # the retry is interrupted too: no third attempt
    await sim_dialer(store).run_until_idle()
    assert await outcomes(store, campaign.task_id) == [
        (1, "SYSTEM_ERROR", "interrupted"),
        (2, "SYSTEM_ERROR", "interrupted"),
    ]
    async with store.transaction() as tx:
        row = await tx.session.scalar(select(Customer).where(Customer.task_id == campaign.task_id))
    assert row is not None and row.status is CustomerStatus.FINISHED
    await assert_stats_match_records(store, campaign)


async def test_the_retry_does_not_use_up_the_redial_rules(store: Store) -> None:
    campaign = await make_campaign(
        store,
        [scripted("13900002201", result="NO_ANSWER")],
        redial_rules=[{"results": ["NO_ANSWER"], "delay_minutes": 0, "max_times": 1}],
    )
    await start(store, campaign)
    await interrupt_next_attempt(store, campaign)
    await sim_dialer(store).run_until_idle()
    assert await outcomes(store, campaign.task_id) == [
        (1, "SYSTEM_ERROR", "interrupted"),
        (2, "NO_ANSWER", ""),
        (3, "NO_ANSWER", ""),  # the one redial the rule allows
    ]


async def test_a_task_may_turn_the_retry_off_and_leave_interruptions_to_its_redial_rules(store: Store) -> None:
    off = await make_campaign(store, [scripted("13900002301", result="BUSY")], interrupted_retries=0)
    await start(store, off)
    await interrupt_next_attempt(store, off)
    ruled = await make_campaign(
        store,
        [scripted("13900002302", result="BUSY")],
        interrupted_retries=0,
        redial_rules=[{"results": ["SYSTEM_ERROR"], "delay_minutes": 0, "max_times": 1}],
    )
    await start(store, ruled)
    await interrupt_next_attempt(store, ruled)
    await sim_dialer(store).run_until_idle()
    assert await outcomes(store, off.task_id) == [(1, "SYSTEM_ERROR", "interrupted")]
    assert await outcomes(store, ruled.task_id) == [(1, "SYSTEM_ERROR", "interrupted"), (2, "BUSY", "")]
