"""Callbacks about a task deleted before the deliverer got to them still go out: the calls and the import
happened, and delivery is at least once. (They used to fail to render, "no task with id …", and were
skipped for good.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from campaign_helpers import make_campaign, scripted, sim_dialer
from sqlalchemy import select

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.callback.delivery import Deliverer
from callbot.callback.receiver import CallbackReceiver
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.kit.db import Store
from callbot.models import OutboxEvent
from callbot.runtime import build_renderers
from callbot.task import service as task_service
from callbot.task.states import TaskAction


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    server = CallbackReceiver()
    await server.start()
    yield server
    await server.stop()


# What each dialect sends of: two calls, the completed task, one more import. Digelao has no task push.
SENT = {
    "native": ["call.finished", "call.finished", "import.finished", "task.completed"],
    "yiwise": ["call.finished", "call.finished", "task.completed"],
    "digelao": ["call.finished", "call.finished", "import.finished"],
}


@pytest.mark.parametrize("dialect", list(SENT))
async def test_events_of_a_task_deleted_before_delivery_are_delivered(
    store: Store, receiver: CallbackReceiver, dialect: str
) -> None:
    campaign = await make_campaign(
        store, [scripted("13900000001", replies="嗯你说|可以|分十二期吧|好的"), scripted("13900000002", result="BUSY")]
    )
    async with store.transaction() as tx:
        changes = callback_service.CallbackChanges(url=receiver.url, task_url=receiver.url, dialect=dialect)
        await callback_service.update_settings(tx, campaign.tenant, changes)
        await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.START)
    await sim_dialer(store).run_until_idle()
    async with store.transaction() as tx:
        row = SourceRow(1, "新客户", "13900000003", {"bank": "招商银行", "amount": "100"})
        await customer_service.import_rows(tx, campaign.tenant, campaign.task_id, [row], source="late")
        await task_service.delete_task(tx, campaign.tenant, campaign.task_id)
    async with Deliverer(store, build_renderers()) as deliverer:
        while await deliverer.deliver_due():
            pass
    async with store.transaction() as tx:
        events = list(await tx.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    assert not [e.last_error for e in events if "render failed" in e.last_error]
    delivered = sorted(e.kind for e in events if e.status == outbox.DELIVERED)
    assert delivered == SENT[dialect]
    assert receiver.count == len(SENT[dialect])
