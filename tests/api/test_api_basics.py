"""The native API's common behaviour: health, auth, tenant isolation, one error shape."""

from __future__ import annotations

import httpx

from callbot.kit.db import Store

from factories import api_task, make_account


async def test_health_answers_without_auth(client: httpx.AsyncClient, store: Store) -> None:
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] in ("sqlite", "postgresql")


async def test_openapi_documents_every_resource(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/api/v1/tasks", "/api/v1/tasks/{task_id}/start", "/api/v1/records", "/api/v1/dnc", "/api/v1/lines"):
        assert path in paths
    assert (await client.get("/docs")).status_code == 200


async def test_requests_without_a_valid_token_are_401(client: httpx.AsyncClient, store: Store) -> None:
    await make_account(store)
    missing = await client.get("/api/v1/tasks")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    wrong = await client.get("/api/v1/tasks", headers={"Authorization": "Bearer cbt_nottherighttoken"})
    assert wrong.status_code == 401


async def test_disabled_token_is_403(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    creds = (await client.get("/api/v1/credentials", headers=account.headers)).json()
    token_id = creds[0]["id"]
    issued = await client.post("/api/v1/credentials", json={"kind": "token"}, headers=account.headers)
    other = {"Authorization": f"Bearer {issued.json()['secrets']['token']}"}
    assert (
        await client.patch(f"/api/v1/credentials/{token_id}", json={"enabled": False}, headers=other)
    ).status_code == 200
    refused = await client.get("/api/v1/tasks", headers=account.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


async def test_another_tenants_ids_are_404_never_data(client: httpx.AsyncClient, store: Store) -> None:
    mine = await make_account(store, "甲公司")
    theirs = await make_account(store, "乙公司")
    task = await api_task(client, theirs)
    for path in (
        f"/api/v1/tasks/{task['id']}",
        f"/api/v1/lines/{theirs.line.id}",
        f"/api/v1/scripts/{theirs.script_id}",
        f"/api/v1/tasks/{task['id']}/customers",
    ):
        response = await client.get(path, headers=mine.headers)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    start = await client.post(f"/api/v1/tasks/{task['id']}/start", headers=mine.headers)
    assert start.status_code == 404
    imported = await client.post(
        f"/api/v1/tasks/{task['id']}/customers", json={"customers": [{"phone": "13900001234"}]}, headers=mine.headers
    )
    assert imported.status_code == 404
    listing = (await client.get("/api/v1/tasks", headers=mine.headers)).json()
    assert listing["total"] == 0
    # A task may not use another tenant's line or script either.
    bad = await client.post(
        "/api/v1/tasks",
        json={"name": "x", "script_id": mine.script_id, "line_ids": [theirs.line.id]},
        headers=mine.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == [{"field": "line_ids.0", "message": f"no line with id {theirs.line.id}"}]


async def test_validation_errors_name_the_field(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    response = await client.post(
        "/api/v1/tasks",
        json={
            "name": "x",
            "script_id": account.script_id,
            "line_ids": [account.line.id],
            "robot_count": 0,
            "daily_start": "25:00",
        },
        headers=account.headers,
    )
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "validation_failed"
    fields = {d["field"] for d in body["details"]}
    assert {"robot_count", "daily_start"} <= fields


async def test_unknown_fields_are_refused(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    response = await client.post(
        "/api/v1/lines", json={"phone": "057188880009", "concurency": 3}, headers=account.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "concurency"


async def test_a_body_that_is_not_json_is_named_as_such(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    response = await client.post(
        "/api/v1/lines", content=b'{"phone": ', headers={**account.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == "body" and "not valid JSON" in detail["message"]
