"""The composition root's building blocks: from Settings to a ready Store. Only here (and in config) do
settings turn into objects; everything else receives them."""

from __future__ import annotations

from callbot.config import Settings
from callbot.kit.clock import Clock, SystemClock
from callbot.kit.db import Store, create_engine
from callbot.kit.secrets import SecretBox
from callbot.migrations import upgrade


def build_secret_box(settings: Settings) -> SecretBox:
    if settings.secret_key:
        return SecretBox(settings.secret_key)
    return SecretBox.from_key_file(settings.data_dir / "secret.key")


def build_store(settings: Settings, clock: Clock | None = None) -> Store:
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url())
    return Store(engine, clock or SystemClock(), build_secret_box(settings))


async def open_store(settings: Settings, clock: Clock | None = None, *, migrate: bool = True) -> Store:
    """A store whose schema is up to date."""
    store = build_store(settings, clock)
    if migrate:
        await upgrade(store.engine)
    return store
