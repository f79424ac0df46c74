"""The OpenAPI document says what the API does: every error an operation can answer is declared with the
real error shape, wall-clock times are HH:MM[:SS] without an offset, and the limits the API enforces are
in the schema."""

from __future__ import annotations

import re
from typing import Any

import httpx

from callbot.kit.db import Store

from factories import make_account

ERRORS = {"400", "401", "403", "404", "409", "422"}


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(walk(value))
    return found


async def test_every_authenticated_operation_declares_its_errors_in_the_error_shape(
    client: httpx.AsyncClient,
) -> None:
    doc = await document(client)
    operations = [
        (method, path, op)
        for path, ops in doc["paths"].items()
        if path.startswith("/api/v1/") and path != "/api/v1/health"
        for method, op in ops.items()
    ]
    assert len(operations) > 40
    for method, path, op in operations:
        assert set(op["responses"]) >= ERRORS, (method, path, sorted(op["responses"]))
        for code in ERRORS:
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, code)
    error = doc["components"]["schemas"]["ErrorInfo"]
    assert set(error["required"]) == {"code", "message", "details"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]


async def test_wall_clock_times_are_declared_as_they_are_written(client: httpx.AsyncClient, store: Store) -> None:
    doc = await document(client)
    assert [n for n in walk(doc) if n.get("format") == "time"] == []
    pattern = doc["components"]["schemas"]["TenantRead"]["properties"]["calling_start"]["pattern"]
    account = await make_account(store)
    tenant = (await client.get("/api/v1/tenant", headers=account.headers)).json()
    assert re.match(pattern, tenant["calling_start"]) and re.match(pattern, tenant["calling_end"])


async def test_a_wall_clock_time_with_an_offset_is_refused(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    patched = await client.patch("/api/v1/tenant", json={"calling_start": "09:00:00+08:00"}, headers=account.headers)
    assert patched.status_code == 422, patched.text
    assert patched.json()["error"]["details"][0]["field"] == "calling_start"
    assert "offset" in patched.json()["error"]["details"][0]["message"]


async def test_the_limits_the_api_enforces_are_declared(client: httpx.AsyncClient) -> None:
    schemas = (await document(client))["components"]["schemas"]
    assert schemas["UserCreate"]["properties"]["password"]["minLength"] == 8
    assert schemas["UserCreate"]["properties"]["username"]["maxLength"] == 64
    assert schemas["LineCreate"]["properties"]["concurrency"]["maximum"] == 2**31 - 1
    assert schemas["CredentialCreate"]["properties"]["user_id"]["anyOf"][0]["maximum"] == 2**31 - 1
    assert schemas["TaskCreate"]["properties"]["line_ids"]["uniqueItems"] is True
