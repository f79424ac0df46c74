"""The web application: native API under /api/v1 (OpenAPI at /docs), the console at /. Built around an open Store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI

from callbot import __version__
from callbot.api import errors
from callbot.api.deps import WriteTx, refuse_nul
from callbot.api.dialects.digelao.options import DigelaoOptions
from callbot.api.dialects.digelao.routes import mount_digelao
from callbot.api.dialects.recordings import mount_recording_links
from callbot.api.dialects.yiwise.options import YiwiseOptions
from callbot.api.dialects.yiwise.routes import mount_yiwise
from callbot.api.docs import mount_docs
from callbot.api.errors import ERROR_RESPONSES
from callbot.api.gate import AuthenticateFirst
from callbot.callback.endpoints import events_router
from callbot.callback.endpoints import router as callback_router
from callbot.campaign import service as campaign_service
from callbot.console import mount_console
from callbot.customer.endpoints import router as import_router
from callbot.dnc.endpoints import router as dnc_router
from callbot.kit.db import Store
from callbot.line.endpoints import router as line_router
from callbot.record.endpoints import router as record_router
from callbot.record.endpoints import stats_router
from callbot.script.endpoints import router as script_router
from callbot.task.endpoints import customers_router
from callbot.task.endpoints import router as task_router
from callbot.tenant.endpoints import router as tenant_router

DESCRIPTION = """\
The native API of callbot, an AI call robot platform (AI 外呼 / 呼入机器人).

Authenticate with `Authorization: Bearer <token>` (issue one with `callbot credential create --kind token`).
Every error has one shape: `{"error": {"code", "message", "details": [{"field", "message"}]}}`;
an illegal task state change is a 409 that names the current state in `error.state`.
"""


def create_app(
    store: Store, *, own_store: bool = False, public_url: str = "", recordings_dir: Path | None = None
) -> FastAPI:
    """`recordings_dir`: where call recordings are (None: this server serves none)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        for job in list(console.jobs):  # customer imports started from the console
            job.cancel()
        if own_store:
            await store.dispose()

    # /docs and /redoc are served by mount_docs with local assets (FastAPI's own pages load from a CDN).
    app = FastAPI(
        title="callbot", version=__version__, description=DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.store = store
    app.state.recordings_dir = recordings_dir
    errors.install(app)
    app.add_middleware(AuthenticateFirst, store=store)

    v1 = APIRouter(prefix="/api/v1")

    @v1.get("/health", tags=["health"], summary="Liveness and database check (no authentication)")
    async def health(tx: WriteTx) -> dict[str, str | int]:
        await tx.ping()
        sip_calls = await campaign_service.calls_in_progress(tx, gateway="sip")
        return {"status": "ok", "version": __version__, "database": store.dialect, "sip_calls": sip_calls}

    for router in (
        tenant_router,
        line_router,
        script_router,
        task_router,
        customers_router,
        import_router,
        record_router,
        stats_router,
        dnc_router,
        callback_router,
        events_router,
    ):
        v1.include_router(router, responses=ERROR_RESPONSES, dependencies=[Depends(refuse_nul)])
    app.include_router(v1)
    recording_key = store.secrets.derive("recordings")
    mount_yiwise(app, YiwiseOptions(public_url=public_url, recording_token=recording_links(recording_key)))
    mount_digelao(app, DigelaoOptions(public_url=public_url, recording_key=recording_key))
    mount_recording_links(app, recordings_dir, recording_key)
    mount_docs(app)
    console = mount_console(app, store, recordings_dir=recordings_dir or Path("./var/recordings"))
    return app


def recording_links(key: str) -> Callable[[int, str], str]:
    """The token of a Yiwise recording link: expiring, signed with the store's recording key."""
    from callbot.record.recordings import yiwise_token

    return lambda record_id, channel: yiwise_token(key, record_id, channel)
