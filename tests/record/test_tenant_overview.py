"""The console's home page figures: today's calls and answered from the daily counters, today's A/B leads,
the calls in flight and the running tasks, and a series with every day of the period."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from callbot.kit.db import Store
from callbot.models import CallRecord
from callbot.models.enums import CallResult, Level
from callbot.record import stats
from callbot.task import service as task_service
from callbot.task.states import TaskAction

from factories import make_account, make_task


async def test_overview_of_today_and_the_last_days(store: Store) -> None:
    account = await make_account(store)
    other = await make_account(store, "另一家公司")
    task_id = await make_task(store, account)
    other_task = await make_task(store, other)
    async with store.transaction() as tx:
        now = tx.now()
        zone = ZoneInfo(account.tenant.timezone)
        for n, (tenant, task, level, when) in enumerate(
            [
                (account.tenant, task_id, Level.A, now),
                (account.tenant, task_id, Level.B, now),
                (account.tenant, task_id, Level.C, now),
                (account.tenant, task_id, Level.A, now - timedelta(days=2)),  # a lead, but not today's
                (other.tenant, other_task, Level.A, now),
            ]
        ):
            delta = stats.StatsDelta()
            delta.add(result="ANSWERED", level=level.value, rounds=3, chat_seconds=20, concerns=[],
                      day=when.astimezone(zone).date())  # fmt: skip
            await stats.apply(tx, task, delta)
            await tx.session.execute(
                insert(CallRecord),
                [{"tenant_id": tenant.id, "task_id": task, "customer_id": n, "sn": f"{n:032d}",
                  "phone": "13800000000", "result": CallResult.ANSWERED, "started_at": when, "created_at": when,
                  "level": level}],
            )  # fmt: skip
        await task_service.apply_action(tx, account.tenant, task_id, TaskAction.START)
    async with store.transaction() as tx:
        week = await stats.tenant_overview(tx, account.tenant, days=7)
        month = await stats.tenant_overview(tx, account.tenant, days=30)
    assert (week.today_calls, week.today_answered, week.today_leads) == (3, 3, 2)
    assert week.answered_rate == 100.0 and week.running_tasks == 1 and week.seats_in_use == 0
    assert len(week.daily) == 7 and len(month.daily) == 30
    assert [d.calls for d in week.daily][-3:] == [1, 0, 3]
    assert sum(d.calls for d in month.daily) == 4
