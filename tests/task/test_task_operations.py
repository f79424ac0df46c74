"""The named task operations the dialects and the console share: start-or-resume and idempotent actions,
the calling periods of a day as a window, a task ordered with the account's defaults, and listing pages
read in a fixed number of queries however many rows they show."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time
from typing import Any

import pytest
from sqlalchemy import event

from callbot.errors import InvalidState
from callbot.kit.db import Store
from callbot.kit.paging import PageRequest
from callbot.models.enums import TaskStatus
from callbot.task import service as task_service
from callbot.task.schemas import TaskFilter
from callbot.task.states import TaskAction
from callbot.tenant import service as tenant_service

from factories import make_account, make_task


@contextmanager
def counted(store: Store) -> Iterator[list[str]]:
    """The SQL statements the store runs inside the block."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)


async def test_start_or_resume_starts_resumes_and_leaves_a_running_task_alone(store: Store) -> None:
    account = await make_account(store)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        tenant = account.tenant
        assert (await task_service.start_or_resume(tx, tenant, task_id)).status is TaskStatus.RUNNABLE
        assert (await task_service.start_or_resume(tx, tenant, task_id)).status is TaskStatus.RUNNABLE
        await task_service.apply_action(tx, tenant, task_id, TaskAction.PAUSE)
        assert (await task_service.start_or_resume(tx, tenant, task_id)).status is TaskStatus.RUNNABLE
        await task_service.apply_action(tx, tenant, task_id, TaskAction.STOP)
        with pytest.raises(InvalidState, match="TERMINATE"):
            await task_service.start_or_resume(tx, tenant, task_id)


async def test_an_action_already_in_effect_changes_nothing(store: Store) -> None:
    account = await make_account(store)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        tenant = account.tenant
        with pytest.raises(InvalidState):
            await task_service.ensure_action(tx, tenant, task_id, TaskAction.PAUSE)  # not started: not in effect
        await task_service.ensure_action(tx, tenant, task_id, TaskAction.START)
        paused = await task_service.ensure_action(tx, tenant, task_id, TaskAction.PAUSE)
        again = await task_service.ensure_action(tx, tenant, task_id, TaskAction.PAUSE)
        assert paused.status is again.status is TaskStatus.USER_PAUSE
        await task_service.ensure_action(tx, tenant, task_id, TaskAction.STOP)
        stopped = await task_service.ensure_action(tx, tenant, task_id, TaskAction.STOP)
        assert stopped.status is TaskStatus.TERMINATE


async def test_calling_periods_become_a_window_with_pauses(store: Store) -> None:
    account = await make_account(store)
    periods = [(time(14), time(18)), (time(9), time(12)), (time(10), time(11))]
    start, end, pauses = task_service.window_of_periods(account.tenant, periods)
    assert (start, end) == (time(9), time(18))
    assert [(p.start, p.end) for p in pauses] == [(time(12), time(14))]
    assert task_service.window_of_periods(account.tenant, []) == (
        account.tenant.calling_start,
        account.tenant.calling_end,
        [],
    )


async def test_an_ordered_task_takes_the_enabled_lines_and_the_owner_seat_quota(store: Store) -> None:
    account = await make_account(store, seats=8)
    async with store.transaction() as tx:
        owner = await tenant_service.create_user(tx, account.tenant, "hzsales01", "password-1")
        owner.max_seats = 3
        task = await task_service.create_ordered_task(
            tx, account.tenant, task_service.TaskOrder(name="下单任务", script_id=account.script_id, owner=owner)
        )
        assert [line.id for line in task.lines] == [account.line.id]
        assert (task.robot_count, task.owner_user_id) == (3, owner.id)
        assert (task.daily_start, task.daily_end) == (account.tenant.calling_start, account.tenant.calling_end)


async def test_a_task_page_is_read_in_the_same_few_queries_for_two_rows_or_twenty(store: Store) -> None:
    account = await make_account(store)
    for _ in range(2):
        await make_task(store, account)
    async with store.transaction() as tx:
        with counted(store) as few:
            page = await task_service.list_task_rows(tx, account.tenant, TaskFilter(), PageRequest(size=50))
        assert len(page.items) == 2 and page.items[0].script is not None
    for _ in range(18):
        await make_task(store, account)
    async with store.transaction() as tx:
        with counted(store) as many:
            page = await task_service.list_task_rows(tx, account.tenant, TaskFilter(), PageRequest(size=50))
        assert page.total == 20 and all(row.task.lines for row in page.items)
    assert len(many) == len(few) <= 3, many
