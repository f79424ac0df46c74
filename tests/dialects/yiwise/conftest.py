"""Fixtures of the Yiwise dialect tests: an app with only the dialect mounted, with chosen options."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from callbot.api.dialects.yiwise import YiwiseOptions, mount_yiwise
from callbot.kit.db import Store

OPTIONS = YiwiseOptions(public_url="https://callbot.example.com", recording_token=lambda _id, _channel: "9c1e7a")

HttpFactory = Callable[[YiwiseOptions], httpx.AsyncClient]


def dialect_app(store: Store, options: YiwiseOptions) -> FastAPI:
    app = FastAPI()
    app.state.store = store
    mount_yiwise(app, options)
    return app


@pytest.fixture
async def yiwise_http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=dialect_app(store, OPTIONS))
    async with httpx.AsyncClient(transport=transport, base_url="http://callbot.test") as http:
        yield http
