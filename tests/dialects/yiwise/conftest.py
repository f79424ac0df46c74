"""Fixtures of the Yiwise dialect tests: an app with only the dialect mounted, with chosen options."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from yiwise_setup import OPTIONS, dialect_app

from callbot.api.dialects.yiwise import YiwiseOptions
from callbot.kit.db import Store

HttpFactory = Callable[[YiwiseOptions], httpx.AsyncClient]


@pytest.fixture
async def yiwise_http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=dialect_app(store, OPTIONS))
    async with httpx.AsyncClient(transport=transport, base_url="http://callbot.test") as http:
        yield http
