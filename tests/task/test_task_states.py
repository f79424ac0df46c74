"""The task state machine: every legal move works, every illegal one is a 409 naming the current state."""

from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy import update

from callbot.kit.db import Store
from callbot.models import Task
from callbot.models.enums import TaskStatus
from callbot.task.states import SYSTEM_TRANSITIONS, USER_TRANSITIONS, TaskAction, may_edit, user_target

from factories import Account, api_task, make_account

S = TaskStatus


def test_user_table_matches_the_yiwise_meanings() -> None:
    assert user_target(TaskAction.START, S.NOT_STARTED) is S.RUNNABLE
    assert user_target(TaskAction.PAUSE, S.IN_PROCESS) is S.USER_PAUSE
    assert user_target(TaskAction.RESUME, S.USER_PAUSE) is S.RUNNABLE
    assert user_target(TaskAction.STOP, S.USER_PAUSE) is S.TERMINATE
    # Final and finished states take no user action but delete.
    for action in TaskAction:
        assert user_target(action, S.TERMINATE) is None
    assert user_target(TaskAction.START, S.COMPLETED) is None
    assert user_target(TaskAction.RESUME, S.IN_PROCESS) is None


def test_system_moves_never_leave_terminate_or_enter_user_pause() -> None:
    for source, target in SYSTEM_TRANSITIONS:
        assert source is not S.TERMINATE
        assert target not in (S.USER_PAUSE, S.TERMINATE, S.NOT_STARTED)


def test_only_paused_or_idle_tasks_may_be_edited() -> None:
    assert may_edit(S.NOT_STARTED) and may_edit(S.USER_PAUSE) and may_edit(S.COMPLETED)
    assert not may_edit(S.IN_PROCESS) and not may_edit(S.RUNNABLE) and not may_edit(S.TERMINATE)


async def _force(store: Store, task_id: int, status: TaskStatus) -> None:
    async with store.transaction() as tx:
        await tx.session.execute(update(Task).where(Task.id == task_id).values(status=status))


CASES = list(itertools.product(list(TaskAction), list(TaskStatus)))


@pytest.fixture
async def account(store: Store) -> Account:
    return await make_account(store)


async def test_every_user_action_from_every_state(client: httpx.AsyncClient, store: Store, account: Account) -> None:
    """Each (action, state) pair either moves to the table's target or is refused with 409 and the state."""
    for action, state in CASES:
        task = await api_task(client, account)
        await _force(store, int(task["id"]), state)
        response = await client.post(f"/api/v1/tasks/{task['id']}/{action.value}", headers=account.headers)
        allowed, target = USER_TRANSITIONS[action]
        if state in allowed:
            assert response.status_code == 200, (action, state, response.text)
            assert response.json()["status"] == target.value
        else:
            assert response.status_code == 409, (action, state, response.text)
            error = response.json()["error"]
            assert error["code"] == "invalid_state"
            assert error["state"] == state.value
            assert state.value in error["message"]
            current = (await client.get(f"/api/v1/tasks/{task['id']}", headers=account.headers)).json()
            assert current["status"] == state.value  # nothing changed


async def test_a_full_life_start_pause_resume_stop(client: httpx.AsyncClient, account: Account) -> None:
    task = await api_task(client, account)
    path = f"/api/v1/tasks/{task['id']}"
    assert task["status"] == "NOT_STARTED"
    assert (await client.post(f"{path}/start", headers=account.headers)).json()["status"] == "RUNNABLE"
    assert (await client.post(f"{path}/pause", headers=account.headers)).json()["status"] == "USER_PAUSE"
    assert (await client.post(f"{path}/resume", headers=account.headers)).json()["status"] == "RUNNABLE"
    stopped = (await client.post(f"{path}/stop", headers=account.headers)).json()
    assert stopped["status"] == "TERMINATE"
    assert stopped["finished_at"] is not None
    again = await client.post(f"{path}/resume", headers=account.headers)
    assert again.status_code == 409


async def test_delete_stops_and_hides_the_task(client: httpx.AsyncClient, account: Account) -> None:
    task = await api_task(client, account)
    path = f"/api/v1/tasks/{task['id']}"
    await client.post(f"{path}/start", headers=account.headers)
    assert (await client.delete(path, headers=account.headers)).status_code == 204
    assert (await client.get(path, headers=account.headers)).status_code == 404
    assert (await client.delete(path, headers=account.headers)).status_code == 404
    assert (await client.get("/api/v1/tasks", headers=account.headers)).json()["total"] == 0


async def test_a_task_on_a_script_that_has_only_drafts_is_refused(
    client: httpx.AsyncClient, account: Account, examples_dir: object
) -> None:
    from factories import SCRIPT

    draft = SCRIPT.replace("name: 测试分期回访", "name: 草稿话术")
    uploaded = await client.post("/api/v1/scripts", json={"content": draft, "draft": True}, headers=account.headers)
    assert uploaded.json()["status"] == "DRAFT"
    body = {"name": "草稿任务", "script_id": uploaded.json()["id"], "line_ids": [account.line.id]}
    response = await client.post("/api/v1/tasks", json=body, headers=account.headers)
    assert response.status_code == 409
    assert "no approved version" in response.json()["error"]["message"]
    assert (await client.get("/api/v1/tasks", headers=account.headers)).json()["total"] == 0
