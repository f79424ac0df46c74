"""`callbot serve`: the API (and, as parts land, the dialer and callback delivery) in one process."""

from __future__ import annotations

import asyncio

import click
import uvicorn

from callbot.app import create_app
from callbot.config import Settings
from callbot.runtime import open_store


async def run_server(settings: Settings, host: str, port: int) -> None:
    store = await open_store(settings)
    app = create_app(store, own_store=True)
    config = uvicorn.Config(app, host=host, port=port, log_level=settings.log_level, lifespan="on")
    server = uvicorn.Server(config)
    await server.serve()


@click.command()
@click.option("--host", default=None, help="address to listen on [default: 127.0.0.1, or CALLBOT_HOST]")
@click.option("--port", type=int, default=None, help="port [default: 8000, or CALLBOT_PORT]")
def serve(host: str | None, port: int | None) -> None:
    """Run callbot: the native API at /api/v1 (docs at /docs) on the configured store."""
    settings = Settings()
    asyncio.run(run_server(settings, host or settings.host, port or settings.port))
