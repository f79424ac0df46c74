"""Alembic migrations of the store, run with `callbot db upgrade` (and on `callbot serve` start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).parent


def alembic_config(url: str = "", connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Several processes may start at once; only one migrates at a time.
        connection.execute(text("SELECT pg_advisory_xact_lock(7215100)"))
    command.upgrade(alembic_config(connection=connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database at `engine` to the newest schema."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
