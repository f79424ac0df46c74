"""Campaigns on the simulated carrier: forced results and scripted replies make the expected records and
levels; redials, DNC, frequency caps, pause/stop and windows behave; statistics always equal the records."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from campaign_helpers import make_campaign, scripted, sim_dialer
from sqlalchemy import select

from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import CallRecord, Customer, DncEntry, Task
from callbot.models.enums import CustomerStatus, TaskStatus
from callbot.record import stats as stats_service
from callbot.task import service as task_service
from callbot.task.states import TaskAction


async def start(store: Store, campaign: object) -> None:
    async with store.transaction() as tx:
        await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.START)  # type: ignore[attr-defined]


async def records(store: Store, task_id: int) -> list[CallRecord]:
    async with store.transaction() as tx:
        return list(
            await tx.session.scalars(select(CallRecord).where(CallRecord.task_id == task_id).order_by(CallRecord.id))
        )


async def task_row(store: Store, task_id: int) -> Task:
    async with store.transaction() as tx:
        task = await tx.session.get(Task, task_id)
        assert task is not None
        return task


async def assert_stats_match_records(store: Store, campaign: object) -> None:
    async with store.transaction() as tx:
        kept = await stats_service.get_task_stats(tx, campaign.tenant, campaign.task_id)  # type: ignore[attr-defined]
        counted = await stats_service.recount(tx, campaign.tenant, campaign.task_id)  # type: ignore[attr-defined]
    assert kept == counted


async def test_scripted_customers_make_the_expected_records(store: Store) -> None:
    campaign = await make_campaign(
        store,
        [
            scripted("13900000001", replies="嗯你说|可以啊|分十二期吧|好的"),
            scripted("13900000002", replies="不需要谢谢|真的不需要"),
            scripted("13900000003", replies="你们天天打电话烦不烦再打我就投诉"),
            scripted("13900000004", result="VACANT_NUMBER"),
            scripted("13900000005", result="BUSY"),
        ],
    )
    await start(store, campaign)
    dialer = sim_dialer(store)
    await dialer.run_until_idle()
    rows = {r.phone: r for r in await records(store, campaign.task_id)}
    assert set(rows) == {f"1390000000{i}" for i in range(1, 6)}
    agreed = rows["13900000001"]
    assert (agreed.result.value, agreed.level.value if agreed.level else None) == ("ANSWERED", "A")
    assert agreed.transcript[0]["speaker"] == "ROBOT" and "招商银行" in agreed.transcript[0]["text"]
    assert [t["speaker"] for t in agreed.transcript].count("PERSON") >= 2
    assert agreed.rounds >= 2 and agreed.chat_seconds > 0 and agreed.ended_at and agreed.answered_at
    assert agreed.script_version == 1 and agreed.line_id in campaign.line_ids
    assert rows["13900000002"].level is not None and rows["13900000002"].level.value == "D"
    complaint = rows["13900000003"]
    assert complaint.level is not None and complaint.level.value == "F"
    vacant = rows["13900000004"]
    assert (vacant.result.value, vacant.level.value if vacant.level else None) == ("VACANT_NUMBER", "F")
    assert vacant.reason.startswith("空号") and vacant.transcript == [] and vacant.chat_seconds == 0
    # A complaint puts the number on the DNC list, the record as its reason.
    async with store.transaction() as tx:
        dnc = list(await tx.session.scalars(select(DncEntry)))
    assert [(d.phone, d.source, d.record_id) for d in dnc] == [("13900000003", "complaint", complaint.id)]
    task = await task_row(store, campaign.task_id)
    assert task.status is TaskStatus.COMPLETED and task.finished_count == 5
    await assert_stats_match_records(store, campaign)


async def test_redial_rules_apply_by_result_delay_and_count(store: Store, clock: FrozenClock) -> None:
    campaign = await make_campaign(
        store,
        [scripted("13900000011", result="NO_ANSWER"), scripted("13900000012", result="VACANT_NUMBER")],
        redial_rules=[{"results": ["NO_ANSWER", "BUSY"], "delay_minutes": 30, "max_times": 2}],
    )
    await start(store, campaign)
    dialer = sim_dialer(store)
    await dialer.run_until_idle()
    assert len(await records(store, campaign.task_id)) == 2
    assert (await task_row(store, campaign.task_id)).status is TaskStatus.RUNNABLE  # waiting for the redial
    clock.advance(minutes=29)
    await dialer.run_until_idle()
    assert len(await records(store, campaign.task_id)) == 2  # not yet due
    clock.advance(minutes=1)
    await dialer.run_until_idle()
    clock.advance(minutes=30)
    await dialer.run_until_idle()
    clock.advance(minutes=30)
    await dialer.run_until_idle()
    rows = await records(store, campaign.task_id)
    assert [(r.phone, r.attempt) for r in rows if r.phone.endswith("11")] == [
        ("13900000011", 1),
        ("13900000011", 2),
        ("13900000011", 3),
    ]
    assert [r.attempt for r in rows if r.phone.endswith("12")] == [1]
    assert (await task_row(store, campaign.task_id)).status is TaskStatus.COMPLETED
    await assert_stats_match_records(store, campaign)


async def test_dnc_numbers_and_frequency_caps_are_skipped_at_dial_time(store: Store, clock: FrozenClock) -> None:
    first = await make_campaign(store, [scripted("13900000021", replies="嗯|好的")])
    await start(store, first)
    dialer = sim_dialer(store)
    await dialer.run_until_idle()
    # A second task the same day: the number already had its one answered call in 24 hours.
    second = await make_campaign(store, [scripted("13900000021"), scripted("13900000022")], robot_count=4)
    async with store.transaction() as tx:
        from callbot.dnc import service as dnc_service

        await dnc_service.add_number(tx, second.tenant, "13900000022", reason="客户要求")
    await start(store, second)
    await dialer.run_until_idle()
    assert await records(store, second.task_id) == []
    async with store.transaction() as tx:
        skipped = {
            c.phone: c.skip_reason
            for c in await tx.session.scalars(select(Customer).where(Customer.task_id == second.task_id))
        }
    assert skipped == {"13900000021": "frequency_cap", "13900000022": "dnc"}
    assert (await task_row(store, second.task_id)).status is TaskStatus.COMPLETED


async def test_windows_and_inactive_slots_hold_calls_back(store: Store, clock: FrozenClock) -> None:
    # The clock stands at 10:00 Shanghai. A window from 11:00 with a lunch slot 12:00-13:00.
    campaign = await make_campaign(
        store,
        [scripted(f"139000001{i:02d}", result="BUSY") for i in range(3)],
        daily_start="11:00",
        daily_end="18:00",
        inactive_windows=[{"start": "12:00", "end": "13:00"}],
    )
    await start(store, campaign)
    dialer = sim_dialer(store)
    await dialer.run_until_idle()
    assert await records(store, campaign.task_id) == []
    assert (await task_row(store, campaign.task_id)).status is TaskStatus.RUNNABLE
    clock.advance(hours=2, minutes=30)  # 12:30, the lunch slot
    await dialer.run_until_idle()
    assert await records(store, campaign.task_id) == []
    clock.advance(minutes=30)  # 13:00
    await dialer.run_until_idle()
    assert len(await records(store, campaign.task_id)) == 3


async def test_auto_tasks_start_at_their_start_time(store: Store, clock: FrozenClock) -> None:
    start_at = clock.now() + timedelta(hours=1)
    campaign = await make_campaign(
        store, [scripted("13900000031", result="BUSY")], mode="AUTO", start_time=start_at.isoformat()
    )
    dialer = sim_dialer(store)
    await dialer.run_until_idle()
    assert (await task_row(store, campaign.task_id)).status is TaskStatus.NOT_STARTED
    clock.advance(hours=1)
    await dialer.run_until_idle()
    assert len(await records(store, campaign.task_id)) == 1


async def test_paused_and_stopped_tasks_are_not_dialled(store: Store) -> None:
    campaign = await make_campaign(store, [scripted(f"139000002{i:02d}", result="BUSY") for i in range(4)])
    await start(store, campaign)
    async with store.transaction() as tx:
        await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.PAUSE)
    dialer = sim_dialer(store)
    await dialer.run_until_idle()
    assert await records(store, campaign.task_id) == []
    assert (await task_row(store, campaign.task_id)).status is TaskStatus.USER_PAUSE
    async with store.transaction() as tx:
        await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.RESUME)
    await dialer.run_until_idle()
    assert len(await records(store, campaign.task_id)) == 4
    stopped = await make_campaign(store, [scripted("13900000300", result="BUSY")], robot_count=2)
    await start(store, stopped)
    async with store.transaction() as tx:
        await task_service.apply_action(tx, stopped.tenant, stopped.task_id, TaskAction.STOP)
    await dialer.run_until_idle()
    assert await records(store, stopped.task_id) == []


async def test_interrupted_attempts_are_closed_and_handed_to_the_redial_rules(store: Store) -> None:
    campaign = await make_campaign(
        store,
        [scripted("13900000041", result="BUSY")],
        redial_rules=[{"results": ["SYSTEM_ERROR"], "delay_minutes": 0, "max_times": 1}],
    )
    await start(store, campaign)
    crashed = sim_dialer(store)
    async with store.transaction() as tx:  # lease as a dialer would, then "die" before the call is written
        from callbot.campaign import service as campaign_service

        task = await tx.session.get(Task, campaign.task_id)
        assert task is not None
        leases = await campaign_service.lease(
            tx, campaign.tenant, task, {campaign.line_ids[0]: 1}, 1, owner=crashed.owner, lease_seconds=60
        )
    assert len(leases) == 1
    restarted = sim_dialer(store)
    assert await restarted.recover(all_leases=True) == 1
    await restarted.run_until_idle()
    rows = await records(store, campaign.task_id)
    assert [(r.attempt, r.result.value, r.end_reason) for r in rows] == [
        (1, "SYSTEM_ERROR", "interrupted"),
        (2, "BUSY", ""),
    ]
    await assert_stats_match_records(store, campaign)


@pytest.mark.slow
async def test_a_persona_campaign_spreads_levels_and_keeps_stats_equal_to_records(store: Store) -> None:
    campaign = await make_campaign(
        store, [{"phone": f"138{i:08d}"} for i in range(120)], robot_count=10, line_concurrency=(6, 6)
    )
    await start(store, campaign)
    await sim_dialer(store).run_until_idle()
    rows = await records(store, campaign.task_id)
    assert len(rows) == 120
    levels = {r.level.value for r in rows if r.level and r.result.value == "ANSWERED"}
    assert len(levels) >= 4
    assert {r.result.value for r in rows} >= {"ANSWERED", "NO_ANSWER"}
    async with store.transaction() as tx:
        pending = await tx.session.scalar(select(Customer.id).where(Customer.status == CustomerStatus.DIALLING))
    assert pending is None
    await assert_stats_match_records(store, campaign)


async def test_a_call_whose_record_cannot_be_written_is_kept_and_written_later(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finished call is never dropped: when writing it fails (a locked or lost database), the dialer
    keeps it, keeps its customer's lease, and writes it on a later try."""
    from callbot.campaign import service as campaign_service

    campaign = await make_campaign(store, [scripted(f"139000005{i:02d}", result="BUSY") for i in range(3)])
    await start(store, campaign)
    real_finish = campaign_service.finish
    failures = {"left": 2}  # the batch, then the call alone

    async def flaky_finish(tx: object, attempts: list[object]) -> campaign_service.Written:
        if any(a.lease.phone == "13900000501" for a in attempts) and failures["left"] > 0:  # type: ignore[attr-defined]
            failures["left"] -= 1
            raise OSError("database went away")
        return await real_finish(tx, attempts)  # type: ignore[arg-type]

    monkeypatch.setattr(campaign_service, "finish", flaky_finish)
    dialer = sim_dialer(store)
    await dialer.tick()
    while dialer._calls:  # the calls finish; writing one of them fails (batch, then alone)
        await asyncio.sleep(0)
    await dialer.flush()
    assert len(await records(store, campaign.task_id)) == 2
    async with store.transaction() as tx:
        waiting = await tx.session.scalar(select(Customer).where(Customer.phone == "13900000501"))
    assert waiting is not None and waiting.status is CustomerStatus.DIALLING  # still leased, not lost
    await dialer.drain()  # a later try writes it
    rows = await records(store, campaign.task_id)
    assert sorted(r.phone for r in rows) == ["13900000500", "13900000501", "13900000502"]
    assert (await task_row(store, campaign.task_id)).status is TaskStatus.COMPLETED
    await assert_stats_match_records(store, campaign)


async def test_resuming_a_task_whose_script_was_swapped_for_a_draft_is_refused(store: Store) -> None:
    from callbot.errors import InvalidState
    from callbot.script import service as script_service
    from callbot.task.schemas import TaskUpdate

    from factories import SCRIPT

    campaign = await make_campaign(store, [scripted("13900000601", result="BUSY")])
    await start(store, campaign)
    async with store.transaction() as tx:
        await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.PAUSE)
        draft = await script_service.add_script(tx, campaign.tenant, SCRIPT.replace("测试分期回访", "草稿"), draft=True)
        await task_service.update_task(tx, campaign.tenant, campaign.task_id, TaskUpdate(script_id=draft.script.id))
    async with store.transaction() as tx:
        with pytest.raises(InvalidState, match="no approved version"):
            await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.RESUME)


async def test_auto_tasks_wait_for_an_approved_script(store: Store, clock: FrozenClock) -> None:
    from callbot.script import service as script_service
    from callbot.task.schemas import TaskCreate, TaskUpdate

    from factories import SCRIPT

    campaign = await make_campaign(store, [scripted("13900000701", result="BUSY")])
    async with store.transaction() as tx:
        draft = await script_service.add_script(
            tx, campaign.tenant, SCRIPT.replace("测试分期回访", "草稿二"), draft=True
        )
        # A task is created on an approved script; switched to a draft before its start time, it waits.
        task = await task_service.create_task(
            tx,
            campaign.tenant,
            TaskCreate(name="自动", mode="AUTO", script_id=campaign.script_id, line_ids=campaign.line_ids),
        )
        await task_service.update_task(tx, campaign.tenant, task.id, TaskUpdate(script_id=draft.script.id))
    await sim_dialer(store).run_until_idle()
    assert (await task_row(store, task.id)).status is TaskStatus.NOT_STARTED
    async with store.transaction() as tx:
        await script_service.approve_version(tx, campaign.tenant, draft.script.id, 1)
    await sim_dialer(store).run_until_idle()
    assert (await task_row(store, task.id)).status is not TaskStatus.NOT_STARTED


async def test_one_number_in_two_tasks_is_never_called_twice_at_once(store: Store, clock: FrozenClock) -> None:
    first = await make_campaign(store, [scripted("13900000801", result="BUSY")])
    second = await make_campaign(store, [scripted("13900000801", result="BUSY")])
    for campaign in (first, second):
        await start(store, campaign)
    dialer = sim_dialer(store)
    assert await dialer.tick() == 1  # the second task's customer waits while the number is on a call
    async with store.transaction() as tx:
        rows = {c.task_id: c for c in await tx.session.scalars(select(Customer))}
    assert rows[first.task_id].status is CustomerStatus.DIALLING
    assert rows[second.task_id].status is CustomerStatus.PENDING and rows[second.task_id].next_attempt_at
    await dialer.drain()
    await dialer.run_until_idle()
    assert await records(store, second.task_id) == []  # not yet: it waits two minutes
    clock.advance(minutes=2)
    await dialer.run_until_idle()
    assert len(await records(store, second.task_id)) == 1
