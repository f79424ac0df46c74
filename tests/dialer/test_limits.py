"""Seats, line concurrency and the tenant's total seats are never exceeded: checked by sampling the
attempts in flight while two tasks of one tenant run at once on the simulated carrier (in real time,
sped up)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import time
from typing import Any

import pytest
from campaign_helpers import make_campaign, sim_dialer
from sqlalchemy import select

from callbot.kit.clock import SystemClock
from callbot.kit.db import Store
from callbot.models import CallRecord, Customer, Task
from callbot.models.enums import CustomerStatus, TaskStatus
from callbot.task import service as task_service
from callbot.task.states import TaskAction
from callbot.tenant import service as tenant_service


@pytest.fixture
def clock() -> SystemClock:
    return SystemClock()


async def _open_all_day(store: Store, name: str) -> None:
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, name, seats=5)
        await tenant_service.update_tenant(
            tx, tenant, tenant_service.TenantChanges(calling_hours=(time(0, 0), time(23, 59, 59)))
        )


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
async def test_seats_lines_and_tenant_limits_hold_under_load(store: Store, workers: int) -> None:
    """With two dialers (two workers sharing the store, as on PostgreSQL) the limits hold just the same."""
    await _open_all_day(store, "限流银行")
    all_day: dict[str, Any] = {"daily_start": "00:00", "daily_end": "23:59:59"}
    busy_line = await make_campaign(
        store,
        [{"phone": f"1380000{i:04d}", "properties": {"sim_result": "ANSWERED"}} for i in range(30)],
        tenant_name="限流银行",
        robot_count=4,
        line_concurrency=(2, 1),
        **all_day,
    )
    many_seats = await make_campaign(
        store,
        [{"phone": f"1390000{i:04d}", "properties": {"sim_result": "ANSWERED"}} for i in range(30)],
        tenant_name="限流银行",
        robot_count=4,
        line_concurrency=(4, 4),
        **all_day,
    )
    for campaign in (busy_line, many_seats):
        async with store.transaction() as tx:
            await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.START)
    limits_line = {
        busy_line.line_ids[0]: 2,
        busy_line.line_ids[1]: 1,
        many_seats.line_ids[0]: 4,
        many_seats.line_ids[1]: 4,
    }
    dialers = [
        sim_dialer(store, speed=200.0, seed=n, tick_seconds=0.02, flush_seconds=0.02, recover_all_at_start=False)
        for n in range(workers)
    ]
    stop = asyncio.Event()
    runners = [asyncio.create_task(dialer.run(stop)) for dialer in dialers]
    peaks: Counter[str] = Counter()
    statuses: set[str] = set()
    for _ in range(3000):
        async with store.transaction() as tx:
            rows = (
                await tx.session.execute(
                    select(Customer.task_id, Customer.dial_line_id).where(Customer.status == CustomerStatus.DIALLING)
                )
            ).all()
            states = {t.id: t.status for t in await tx.session.scalars(select(Task))}
        statuses.update(s.value for s in states.values())
        by_task = Counter(task_id for task_id, _ in rows)
        by_line = Counter(line_id for _, line_id in rows)
        assert len(rows) <= 5, "tenant seats exceeded"
        for task_id, n in by_task.items():
            assert n <= 4, f"task {task_id} over its robot count"
            peaks[f"task{task_id}"] = max(peaks[f"task{task_id}"], n)
        for line_id, n in by_line.items():
            assert line_id is not None and n <= limits_line[line_id], f"line {line_id} over its concurrency"
        peaks["tenant"] = max(peaks["tenant"], len(rows))
        if all(s is TaskStatus.COMPLETED for s in states.values()):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(*runners)
    assert peaks["tenant"] == 5, peaks  # the limit was reached, so the checks above were not vacuous
    assert peaks[f"task{busy_line.task_id}"] == 3  # its lines allow 2 + 1
    assert "IN_PROCESS" in statuses
    async with store.transaction() as tx:
        total = len(list(await tx.session.scalars(select(CallRecord.id))))
    assert total == 60


@pytest.mark.slow
async def test_complaints_written_while_the_dialer_schedules_never_deadlock(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Writing finished calls (records, DNC entries for complaints) runs beside the scheduling rounds; the
    row locks they take must never wait on each other in a cycle (PostgreSQL reports that as a deadlock)."""
    await _open_all_day(store, "投诉银行")
    campaign = await make_campaign(
        store,
        [
            {
                "phone": f"1370000{i:04d}",
                "properties": {"sim_result": "ANSWERED", "sim_replies": "再打电话我就投诉你们"},
            }
            for i in range(60)
        ],
        tenant_name="投诉银行",
        robot_count=5,
        line_concurrency=(3, 3),
        daily_start="00:00",
        daily_end="23:59:59",
    )
    async with store.transaction() as tx:
        await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.START)
    dialer = sim_dialer(store, speed=200.0, tick_seconds=0.01, flush_seconds=0.005)
    stop = asyncio.Event()
    runner = asyncio.create_task(dialer.run(stop))
    for _ in range(2000):
        async with store.transaction() as tx:
            task = await tx.session.get(Task, campaign.task_id, populate_existing=True)
            done = task is not None and task.status is TaskStatus.COMPLETED
        if done:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await runner
    assert done
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text[:2000]
    async with store.transaction() as tx:
        from callbot.models import DncEntry

        listed = len(list(await tx.session.scalars(select(DncEntry.id))))
    assert listed == 60
