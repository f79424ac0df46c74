"""Hostile bodies get the envelope with a client error code, never 500; an unauthenticated request is
refused (401) before its body is read."""

from __future__ import annotations

import httpx
import pytest
from yiwise_setup import yiwise_account

from callbot.kit.db import Store

DEEP = '{"a":' * 100_000 + "1" + "}" * 100_000
BODIES = [DEEP.encode(), b"[" * 100_000, b"{not json", b'"a string"', b"\xff\xfe{}"]


@pytest.mark.parametrize("body", BODIES)
async def test_an_unauthenticated_request_is_refused_before_its_body_is_read(
    yiwise_http: httpx.AsyncClient, store: Store, body: bytes
) -> None:
    await yiwise_account(store, yiwise_http)
    headers = {"Content-Type": "application/json"}
    answer = await yiwise_http.post("/apiOpen/v1/task/createTask", content=body, headers=headers)
    assert answer.json()["code"] == 401, answer.text


@pytest.mark.parametrize("body", [DEEP, "[" * 100_000])
async def test_a_body_nested_too_deeply_is_a_bad_parameter(
    yiwise_http: httpx.AsyncClient, store: Store, body: str
) -> None:
    account = await yiwise_account(store, yiwise_http)
    answer = await yiwise_http.post("/apiOpen/v1/task/createTask", content=body, headers=account.client.headers())
    envelope = answer.json()
    assert envelope["code"] == 412, envelope
    assert "JSON" in envelope["resultMsg"]
