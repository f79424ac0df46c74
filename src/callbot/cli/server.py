"""`callbot serve` (API, dialer and callback delivery in one process) and `callbot worker` (dialer and
callback delivery only, for scaling out on PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import click
import uvicorn

from callbot.app import create_app
from callbot.config import Settings
from callbot.runtime import open_store, run_workers

log = logging.getLogger("callbot")


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


async def run_server(settings: Settings, host: str, port: int, *, workers: bool = True) -> None:
    store = await open_store(settings)
    app = create_app(store, public_url=settings.public_url or f"http://{host}:{port}")
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=settings.log_level, lifespan="on"))
    stop = asyncio.Event()
    try:
        async with asyncio.TaskGroup() as group:
            if workers:
                group.create_task(run_workers(store, settings, stop), name="workers")

            async def serve() -> None:
                try:
                    await server.serve()
                finally:
                    stop.set()  # the server stopped (a signal): the workers finish their calls and stop

            group.create_task(serve(), name="api")
    finally:
        await store.dispose()


async def run_worker(settings: Settings) -> None:
    store = await open_store(settings)
    log.info("callbot worker on %s: dialer and callback delivery running", store.dialect)
    if store.dialect == "sqlite":
        log.info("on SQLite run one worker (or serve) per data folder; scale out on PostgreSQL")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run_workers(store, settings, stop)
    finally:
        await store.dispose()


@click.command()
@click.option("--host", default=None, help="address to listen on [default: 127.0.0.1, or CALLBOT_HOST]")
@click.option("--port", type=int, default=None, help="port [default: 8000, or CALLBOT_PORT]")
@click.option(
    "--role",
    type=click.Choice(["all", "api"]),
    default="all",
    show_default=True,
    help="all: API, dialer and callbacks; api: the API only (run `callbot worker` processes beside it)",
)
def serve(host: str | None, port: int | None, role: str) -> None:
    """Run callbot: the native API at /api/v1 (docs at /docs), the dialer and callback delivery."""
    settings = Settings()
    setup_logging(settings)
    asyncio.run(run_server(settings, host or settings.host, port or settings.port, workers=role == "all"))


@click.command()
def worker() -> None:
    """Run the dialer and callback delivery without the API (scale out beside `callbot serve --role api`)."""
    settings = Settings()
    setup_logging(settings)
    asyncio.run(run_worker(settings))
