"""`callbot db`: the schema."""

from __future__ import annotations

import click

from callbot.cli._common import async_command, print_json


@click.group()
def db() -> None:
    """The database schema."""


@db.command()
@async_command
async def upgrade() -> None:
    """Bring the database to the newest schema (safe to run again)."""
    from callbot.config import Settings
    from callbot.migrations import upgrade as run_upgrade
    from callbot.runtime import build_store

    settings = Settings()
    store = build_store(settings)
    try:
        await run_upgrade(store.engine)
    finally:
        await store.dispose()
    print_json({"status": "ok", "database": store.dialect})


@db.command()
@click.argument("message")
def revision(message: str) -> None:
    """For developers: write a new migration from the difference between the models and the database."""
    from alembic import command

    from callbot.config import Settings
    from callbot.migrations import alembic_config

    command.revision(alembic_config(Settings().resolved_database_url()), message=message, autogenerate=True)
