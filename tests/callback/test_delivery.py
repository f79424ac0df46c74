"""Callbacks: written with the records, delivered to a real local HTTP receiver, signed, retried on the
Yiwise schedule, logged attempt by attempt, and redelivered on demand."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

import httpx
import pytest
from campaign_helpers import make_campaign, scripted, sim_dialer
from sqlalchemy import select

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.callback.delivery import Deliverer
from callbot.callback.receiver import CallbackReceiver
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import CallbackSettings, CallRecord, DeliveryAttempt, OutboxEvent
from callbot.runtime import build_renderers
from callbot.task import service as task_service
from callbot.task.states import TaskAction

from factories import make_account, make_task


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    server = CallbackReceiver()
    await server.start()
    yield server
    await server.stop()


async def run_campaign(store: Store, url: str, dialect: str = "native") -> object:
    campaign = await make_campaign(
        store, [scripted("13900000001", replies="嗯你说|可以|分十二期吧|好的"), scripted("13900000002", result="BUSY")]
    )
    async with store.transaction() as tx:
        await callback_service.update_settings(
            tx, campaign.tenant, callback_service.CallbackChanges(url=url, task_url=url, dialect=dialect)
        )
        await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.START)
    await sim_dialer(store).run_until_idle()
    return campaign


async def deliver_all(store: Store) -> None:
    async with Deliverer(store, build_renderers()) as deliverer:
        while await deliverer.deliver_due():
            pass


async def test_every_call_and_the_finished_task_reach_the_receiver_signed(
    store: Store, receiver: CallbackReceiver
) -> None:
    campaign = await run_campaign(store, receiver.url)
    await deliver_all(store)
    events = receiver.received.json()
    assert sorted(e["type"] for e in events) == ["call.finished", "call.finished", "task.completed"]
    calls = [e["data"] for e in events if e["type"] == "call.finished"]
    assert {c["customer"]["phone"] for c in calls} == {"13900000001", "13900000002"}
    answered = next(c for c in calls if c["result"] == "ANSWERED")
    assert answered["level"] == "A" and answered["transcript"][0]["speaker"] == "ROBOT"
    async with store.transaction() as tx:
        settings = await callback_service.get_settings(tx, campaign.tenant)  # type: ignore[attr-defined]
        secret = callback_service.signing_secret(tx, settings)
        records = list(await tx.session.scalars(select(CallRecord)))
        rows = list(await tx.session.scalars(select(OutboxEvent)))
        log = list(await tx.session.scalars(select(DeliveryAttempt)))
    for body, headers in zip(receiver.received.bodies, receiver.received.headers, strict=True):
        expected = hmac.new(
            secret.encode(), headers["x-callbot-timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert headers["x-callbot-signature"] == f"sha256={expected}"
    task_event = next(r.event_id for r in rows if r.kind == outbox.TASK_COMPLETED)
    assert receiver.received.by_id == {f"call-{r.id}": 1 for r in records} | {task_event: 1}
    assert {r.status for r in rows} == {outbox.DELIVERED}
    assert len(log) == 3 and all(a.ok and a.status_code == 200 and a.response_excerpt == "success" for a in log)


async def test_failures_are_retried_on_the_yiwise_schedule_then_given_up(
    store: Store, clock: FrozenClock, receiver: CallbackReceiver
) -> None:
    receiver.status, receiver.body = 500, b"oops"
    await run_campaign(store, receiver.url)
    async with Deliverer(store, build_renderers()) as deliverer:
        gaps = []
        for attempt in range(1, 11):
            assert await deliverer.deliver_due() == 3
            async with store.transaction() as tx:
                event = await tx.session.scalar(select(OutboxEvent).order_by(OutboxEvent.id))
                assert event is not None and event.attempts == attempt
                gaps.append(round((event.next_attempt_at - tx.now()).total_seconds() / 60))
                status = event.status
            if status != outbox.PENDING:
                break
            assert await deliverer.deliver_due() == 0  # nothing due before the gap has passed
            clock.advance(minutes=gaps[-1])
        assert gaps[:9] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
        async with store.transaction() as tx:
            rows = list(await tx.session.scalars(select(OutboxEvent)))
            log = list(await tx.session.scalars(select(DeliveryAttempt)))
        assert {r.status for r in rows} == {outbox.FAILED}
        assert {r.attempts for r in rows} == {10}
        assert len(log) == 30 and not any(a.ok for a in log)
        assert log[0].status_code == 500 and log[0].response_excerpt == "oops"
        assert "HTTP 500" in rows[0].last_error


async def test_an_unreachable_receiver_is_logged_as_a_connection_error(store: Store) -> None:
    await run_campaign(store, "http://127.0.0.1:9/nothing-listens-here")
    async with Deliverer(store, build_renderers()) as deliverer:
        await deliverer.deliver_due()
    async with store.transaction() as tx:
        log = list(await tx.session.scalars(select(DeliveryAttempt)))
    assert log and all(a.status_code is None and "ClientConnectorError" in a.error for a in log)


async def test_no_url_means_no_event_and_manual_redeliver_sends_again(
    store: Store, receiver: CallbackReceiver, client: httpx.AsyncClient
) -> None:
    campaign = await run_campaign(store, receiver.url)
    await deliver_all(store)
    assert receiver.count == 3
    from callbot.credential import service as credential_service
    from callbot.models.enums import CredentialKind

    async with store.transaction() as tx:
        issued = await credential_service.create_credential(tx, campaign.tenant, CredentialKind.TOKEN)  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {issued.secrets['token']}"}
    listed = (await client.get("/api/v1/callback-events", headers=headers)).json()
    assert listed["total"] == 3
    first = listed["items"][0]
    detail = (await client.get(f"/api/v1/callback-events/{first['id']}", headers=headers)).json()
    assert detail["deliveries"][0]["ok"] is True
    again = await client.post(f"/api/v1/callback-events/{first['id']}/redeliver", headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "PENDING"
    await deliver_all(store)
    assert receiver.count == 4
    assert receiver.received.by_id[first["event_id"]] == 2
    # A tenant without a callback URL gets no events at all.
    quiet = await make_campaign(store, [scripted("13900000009", result="BUSY")], tenant_name="安静公司")
    async with store.transaction() as tx:
        await task_service.apply_action(tx, quiet.tenant, quiet.task_id, TaskAction.START)
    await sim_dialer(store).run_until_idle()
    async with store.transaction() as tx:
        theirs = list(await tx.session.scalars(select(OutboxEvent).where(OutboxEvent.tenant_id == quiet.tenant.id)))
    assert theirs == []


async def test_an_event_of_a_tenant_without_settings_is_skipped_and_makes_none(store: Store) -> None:
    account = await make_account(store)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        await outbox.enqueue(tx, account.tenant.id, outbox.TASK_COMPLETED, {"task_id": task_id})
    await deliver_all(store)
    async with store.transaction() as tx:
        event = await tx.session.scalar(select(OutboxEvent))
        assert event is not None and event.status == outbox.SKIPPED
        assert list(await tx.session.scalars(select(CallbackSettings))) == []
