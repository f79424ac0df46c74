"""Hostile or broken input gets a 4xx in the native error shape, never a server error: control characters
in a script, bodies nested past any sensible depth, requests without a token."""

from __future__ import annotations

import httpx
import pytest

from callbot.kit.db import Store

from factories import api_task, make_account

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("character", ["\x07", "\x1b", "\x7f"])  # NUL: see below
async def test_a_script_with_a_control_character_is_a_validation_error(
    client: httpx.AsyncClient, store: Store, character: str
) -> None:
    account = await make_account(store)
    content = f"name: 坏话术\nversion: 1\nnodes:\n  start:\n    say: 您好{character}\n"
    uploaded = await client.post("/api/v1/scripts", json={"content": content}, headers=account.headers)
    assert uploaded.status_code == 422, uploaded.text
    details = uploaded.json()["error"]["details"]
    assert details[0]["field"] == "line 5"
    assert f"U+{ord(character):04X}" in details[0]["message"]

    checked = await client.post("/api/v1/scripts/validate", json={"content": content}, headers=account.headers)
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is False
    assert checked.json()["problems"][0]["field"] == "line 5"


@pytest.mark.parametrize("content", ["[" * 100_000, "a:\n" + "- " * 100_000 + "x", "a: " + "{b: " * 50_000])
async def test_a_script_nested_too_deeply_is_a_validation_error(
    client: httpx.AsyncClient, store: Store, content: str
) -> None:
    account = await make_account(store)
    uploaded = await client.post("/api/v1/scripts", json={"content": content}, headers=account.headers)
    assert uploaded.status_code == 422, uploaded.text
    assert "nested too deeply" in uploaded.json()["error"]["details"][0]["message"]


async def test_a_body_nested_too_deeply_is_a_bad_request(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    headers = {**account.headers, "Content-Type": "application/json"}
    answer = await client.post("/api/v1/scripts/validate", content=DEEP, headers=headers)
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["error"]["details"][0]["field"] == "body"


@pytest.mark.parametrize("body", [DEEP, "{not json", '{"content": "name: x"}'])
async def test_a_request_without_a_token_is_refused_before_its_body_is_read(
    client: httpx.AsyncClient, store: Store, body: str
) -> None:
    await make_account(store)
    answer = await client.post("/api/v1/scripts", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "unauthorized"
    wrong = {"Content-Type": "application/json", "Authorization": "Bearer cbt_not-a-token"}
    answer = await client.post("/api/v1/scripts", content=body, headers=wrong)
    assert answer.status_code == 401, answer.text


async def test_a_line_listed_twice_is_a_validation_error(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    body = {"name": "重复线路", "script_id": account.script_id, "line_ids": [account.line.id, account.line.id]}
    created = await client.post("/api/v1/tasks", json=body, headers=account.headers)
    assert created.status_code == 422, created.text
    assert created.json()["error"]["details"][0]["field"] == "line_ids"
    assert "listed twice" in created.json()["error"]["details"][0]["message"]


async def test_a_nul_character_is_refused_naming_where_it_is(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    # PostgreSQL keeps no NUL in text: without this check these were database errors (500).
    listed = await client.get("/api/v1/callback-events", params={"status": "W\x00"}, headers=account.headers)
    assert listed.status_code == 422, listed.text
    assert listed.json()["error"]["details"] == [{"field": "status", "message": "must not contain NUL characters"}]
    added = await client.post(
        "/api/v1/dnc", json={"phone": "13800000000", "reason": "投\x00诉"}, headers=account.headers
    )
    assert added.status_code == 422, added.text
    assert added.json()["error"]["details"][0]["field"] == "reason"
    body = {"customers": [{"phone": "13900000001", "properties": {"name": "王\x00"}}]}
    task = await api_task(client, account)
    imported = await client.post(f"/api/v1/tasks/{task['id']}/customers", json=body, headers=account.headers)
    assert imported.status_code == 422, imported.text
    assert imported.json()["error"]["details"][0]["field"] == "customers.0.properties.name"
