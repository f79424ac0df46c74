"""What a task may be created with and what may change when."""

from __future__ import annotations

import httpx
import pytest

from callbot.kit.db import Store

from factories import Account, api_task, make_account


@pytest.fixture
async def account(store: Store) -> Account:
    return await make_account(store, seats=10)


async def test_create_carries_everything_the_yiwise_contract_does(client: httpx.AsyncClient, account: Account) -> None:
    task = await api_task(
        client,
        account,
        mode="AUTO",
        start_time="2026-11-21 09:30:00",
        daily_start="09:00",
        daily_end="20:00",
        inactive_windows=[{"start": "12:00", "end": "13:30"}],
        robot_count=5,
        description="API创建",
        redial_rules=[{"results": ["NO_ANSWER", "BUSY"], "delay_minutes": 30, "max_times": 2}],
    )
    assert task["mode"] == "AUTO"
    assert task["status"] == "NOT_STARTED"
    # A start time without an offset is the tenant's wall clock (Asia/Shanghai).
    assert task["start_time"].startswith("2026-11-21T01:30:00")
    assert task["daily_start"] == "09:00:00" and task["daily_end"] == "20:00:00"
    assert task["inactive_windows"] == [{"start": "12:00:00", "end": "13:30:00"}]
    assert task["robot_count"] == 5
    assert task["lines"] == [{"id": account.line.id, "phone": "057188880001"}]
    assert task["redial_rules"][0]["results"] == ["NO_ANSWER", "BUSY"]
    assert len(task["sn"]) == 32


async def test_window_must_lie_inside_the_tenants_calling_hours(client: httpx.AsyncClient, account: Account) -> None:
    response = await client.post(
        "/api/v1/tasks",
        json={
            "name": "x",
            "script_id": account.script_id,
            "line_ids": [account.line.id],
            "daily_start": "07:00",
            "daily_end": "22:00",
        },
        headers=account.headers,
    )
    assert response.status_code == 422
    assert "calling hours 08:00-21:00" in response.json()["error"]["details"][0]["message"]


async def test_inactive_windows_are_checked_one_by_one(client: httpx.AsyncClient, account: Account) -> None:
    response = await client.post(
        "/api/v1/tasks",
        json={
            "name": "x",
            "script_id": account.script_id,
            "line_ids": [account.line.id],
            "inactive_windows": [
                {"start": "12:00", "end": "13:00"},
                {"start": "14:00", "end": "13:00"},
                {"start": "07:00", "end": "08:00"},
            ],
        },
        headers=account.headers,
    )
    assert response.status_code == 422
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert fields == ["inactive_windows.1.end", "inactive_windows.2"]
    too_many = await client.post(
        "/api/v1/tasks",
        json={
            "name": "x",
            "script_id": account.script_id,
            "line_ids": [account.line.id],
            "inactive_windows": [{"start": "10:00", "end": "10:10"}] * 4,
        },
        headers=account.headers,
    )
    assert too_many.status_code == 422
    assert too_many.json()["error"]["details"][0]["field"] == "inactive_windows"


async def test_robot_count_over_the_tenants_seats_is_refused(client: httpx.AsyncClient, account: Account) -> None:
    response = await client.post(
        "/api/v1/tasks",
        json={"name": "x", "script_id": account.script_id, "line_ids": [account.line.id], "robot_count": 11},
        headers=account.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert response.json()["error"]["details"][0]["field"] == "robot_count"


async def test_answered_calls_are_never_redialled(client: httpx.AsyncClient, account: Account) -> None:
    response = await client.post(
        "/api/v1/tasks",
        json={
            "name": "x",
            "script_id": account.script_id,
            "line_ids": [account.line.id],
            "redial_rules": [{"results": ["ANSWERED"], "delay_minutes": 5, "max_times": 1}],
        },
        headers=account.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "redial_rules.0.results"


async def test_seats_change_while_running_other_fields_only_when_paused(
    client: httpx.AsyncClient, account: Account
) -> None:
    task = await api_task(client, account)
    path = f"/api/v1/tasks/{task['id']}"
    await client.post(f"{path}/start", headers=account.headers)
    seats = await client.patch(path, json={"robot_count": 3}, headers=account.headers)
    assert seats.status_code == 200 and seats.json()["robot_count"] == 3
    renamed = await client.patch(path, json={"name": "新名字"}, headers=account.headers)
    assert renamed.status_code == 409
    assert renamed.json()["error"]["state"] == "RUNNABLE"
    await client.post(f"{path}/pause", headers=account.headers)
    renamed = await client.patch(path, json={"name": "新名字", "daily_end": "18:00"}, headers=account.headers)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "新名字" and renamed.json()["daily_end"] == "18:00:00"
    await client.post(f"{path}/stop", headers=account.headers)
    frozen = await client.patch(path, json={"robot_count": 2}, headers=account.headers)
    assert frozen.status_code == 409 and frozen.json()["error"]["state"] == "TERMINATE"


async def test_task_list_filters_by_name_and_status_and_pages(client: httpx.AsyncClient, account: Account) -> None:
    for i in range(5):
        await api_task(client, account, name=f"分期回访{i}")
    await api_task(client, account, name="宽带续费")
    first = await api_task(client, account, name="分期回访X")
    await client.post(f"/api/v1/tasks/{first['id']}/start", headers=account.headers)
    page = (await client.get("/api/v1/tasks?name=分期&size=2&page=2", headers=account.headers)).json()
    assert page["total"] == 6 and page["pages"] == 3 and len(page["items"]) == 2
    running = (await client.get("/api/v1/tasks?status=RUNNABLE", headers=account.headers)).json()
    assert [t["name"] for t in running["items"]] == ["分期回访X"]
    bad = await client.get("/api/v1/tasks?page=0", headers=account.headers)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "query.page"


async def test_announcement_screening_is_on_by_default_and_switchable(
    client: httpx.AsyncClient, account: Account
) -> None:
    task = await api_task(client, account)
    assert task["screen_announcements"] is True
    quiet = await api_task(client, account, screen_announcements=False)
    assert quiet["screen_announcements"] is False
    response = await client.patch(
        f"/api/v1/tasks/{task['id']}", json={"screen_announcements": False}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["screen_announcements"] is False
