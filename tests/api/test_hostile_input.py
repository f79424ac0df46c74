"""Hostile or broken input gets a 4xx in the native error shape, never a server error: control characters
in a script, bodies nested past any sensible depth, requests without a token."""

from __future__ import annotations

import httpx
import pytest

from callbot.kit.db import Store

from factories import make_account

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f"])
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
