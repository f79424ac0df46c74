"""The web application: native API under /api/v1 (OpenAPI at /docs). Built around an open Store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from callbot import __version__
from callbot.api import errors
from callbot.api.deps import WriteTx, refuse_nul
from callbot.api.dialects.digelao.options import DigelaoOptions
from callbot.api.dialects.digelao.routes import mount_digelao
from callbot.api.dialects.yiwise.options import YiwiseOptions
from callbot.api.dialects.yiwise.routes import mount_yiwise
from callbot.api.docs import mount_docs
from callbot.api.errors import ERROR_RESPONSES
from callbot.api.gate import AuthenticateFirst
from callbot.callback.endpoints import events_router
from callbot.callback.endpoints import router as callback_router
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


def create_app(store: Store, *, own_store: bool = False, public_url: str = "") -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if own_store:
            await store.dispose()

    # /docs and /redoc are served by mount_docs with local assets (FastAPI's own pages load from a CDN).
    app = FastAPI(
        title="callbot", version=__version__, description=DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.store = store
    errors.install(app)
    app.add_middleware(AuthenticateFirst, store=store)

    v1 = APIRouter(prefix="/api/v1")

    @v1.get("/health", tags=["health"], summary="Liveness and database check (no authentication)")
    async def health(tx: WriteTx) -> dict[str, str]:
        await tx.ping()
        return {"status": "ok", "version": __version__, "database": store.dialect}

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
    mount_yiwise(app, YiwiseOptions(public_url=public_url))
    mount_digelao(app, DigelaoOptions(public_url=public_url, recording_key=store.secrets.derive("recordings")))
    mount_docs(app)
    return app
