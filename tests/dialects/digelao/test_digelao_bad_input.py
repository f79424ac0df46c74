"""Parameters nested past any sensible depth are bad parameters (30001), not a busy system (50001)."""

from __future__ import annotations

import httpx
import pytest

from callbot.kit.db import Store
from dialects.digelao.client import DigelaoClient
from dialects.digelao.conftest import make_digelao

NOW = "2026-11-20 10:00:00"  # the frozen clock, in Asia/Shanghai
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("deep", [DEEP, '{"a":' * 100_000 + "1" + "}" * 100_000])
async def test_a_json_parameter_nested_too_deeply_is_a_bad_parameter(
    dclient: httpx.AsyncClient, store: Store, deep: str
) -> None:
    d = await make_digelao(store)
    client = DigelaoClient(dclient, d.access_id, d.secret)
    await client.login(NOW)
    answer = await client.call("crmList", {"ids_json": deep})
    assert answer["code"] == 30001, answer
    assert "ids_json" in answer["msg"]
