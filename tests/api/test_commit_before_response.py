"""A 2xx from the native API means the change is committed: the very next request sees it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from callbot.api.deps import WriteTx
from callbot.kit.db import Store

from factories import make_account


async def test_a_created_task_can_be_started_at_once(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    for i in range(20):
        created = await client.post(
            "/api/v1/tasks",
            json={"name": f"任务{i}", "script_id": account.script_id, "line_ids": [account.line.id]},
            headers=account.headers,
        )
        assert created.status_code == 201
        started = await client.post(f"/api/v1/tasks/{created.json()['id']}/start", headers=account.headers)
        assert started.status_code == 200, started.text


async def test_the_commit_happens_before_the_response_is_sent(store: Store) -> None:
    """Observed from inside: when the endpoint's response goes out, its transaction has already ended."""
    events: list[str] = []
    app = FastAPI()
    app.state.store = store

    class Recorder:
        async def __call__(self, scope: dict[str, object], receive: object, send: object) -> None:
            async def sending(message: dict[str, object]) -> None:
                if message.get("type") == "http.response.start":
                    events.append("response")
                await send(message)  # type: ignore[operator]

            await app(scope, receive, sending)  # type: ignore[arg-type]

    @app.get("/probe")
    async def probe(tx: WriteTx) -> dict[str, str]:
        @event.listens_for(tx.session.sync_session, "after_commit")
        def committed(_session: object) -> None:
            events.append("commit")

        return {"ok": "yes"}

    transport = httpx.ASGITransport(app=Recorder())  # type: ignore[arg-type]  # a plain ASGI callable
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.get("/probe")).status_code == 200
    assert events == ["commit", "response"]
