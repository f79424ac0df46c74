"""A started task with no customers waits for its import instead of completing (and announcing it) at once;
left empty for a whole day it completes, and a later import reopens it."""

from __future__ import annotations

from campaign_helpers import make_campaign, scripted, sim_dialer
from sqlalchemy import select
from test_campaign import records, task_row

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import OutboxEvent
from callbot.models.enums import TaskStatus


async def completed_events(store: Store) -> list[OutboxEvent]:
    async with store.transaction() as tx:
        return list(await tx.session.scalars(select(OutboxEvent).where(OutboxEvent.kind == outbox.TASK_COMPLETED)))


async def test_an_auto_task_without_customers_waits_for_its_import(store: Store, clock: FrozenClock) -> None:
    campaign = await make_campaign(store, [], mode="AUTO", start_time=clock.now().isoformat())
    async with store.transaction() as tx:
        changes = callback_service.CallbackChanges(task_url="https://crm.example.com/task")
        await callback_service.update_settings(tx, campaign.tenant, changes)
    dialer = sim_dialer(store)
    await dialer.run_until_idle()
    clock.advance(hours=3)
    await dialer.run_until_idle()
    assert (await task_row(store, campaign.task_id)).status is TaskStatus.RUNNABLE
    assert await completed_events(store) == []

    async with store.transaction() as tx:
        row = scripted("13900000901", result="BUSY")
        source = SourceRow(1, "王先生", row["phone"], {"bank": "招商银行", "amount": "3200", **row["properties"]})
        await customer_service.import_rows(tx, campaign.tenant, campaign.task_id, [source], source="api")
    await dialer.run_until_idle()
    assert len(await records(store, campaign.task_id)) == 1
    assert (await task_row(store, campaign.task_id)).status is TaskStatus.COMPLETED
    assert len(await completed_events(store)) == 1


async def test_a_task_left_empty_for_a_day_completes(store: Store, clock: FrozenClock) -> None:
    campaign = await make_campaign(store, [], mode="AUTO", start_time=clock.now().isoformat())
    dialer = sim_dialer(store)
    await dialer.run_until_idle()
    clock.advance(hours=24, seconds=-1)
    await dialer.run_until_idle()
    assert (await task_row(store, campaign.task_id)).status is TaskStatus.RUNNABLE
    clock.advance(seconds=1)
    await dialer.run_until_idle()
    assert (await task_row(store, campaign.task_id)).status is TaskStatus.COMPLETED
