"""Shared fixtures: a real store on SQLite (always) and PostgreSQL (when it answers; CI requires it),
a frozen clock, and the native API over that store."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from callbot.app import create_app
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Base, Store, create_engine
from callbot.kit.egress import EgressPolicy
from callbot.kit.secrets import SecretBox
from callbot.migrations import upgrade

PG_ADMIN_URL = os.environ.get("CALLBOT_TEST_PG_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
# One database per test run, so runs side by side do not drop each other's.
PG_TEST_DB = os.environ.get("CALLBOT_TEST_PG_DB", f"callbot_test_{os.getpid()}")
# 2026-11-20 10:00 in Shanghai: inside default calling hours.
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


async def _pg_prepare() -> str | None:
    """Create a fresh test database and migrate it. None when PostgreSQL does not answer."""
    import asyncpg  # type: ignore[import-untyped]

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{PG_TEST_DB}"')
    finally:
        await conn.close()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_TEST_DB}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return url


async def _sqlite_template(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    asyncio.run(_sqlite_template(path))
    return path


async def _pg_drop() -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    url = asyncio.run(_pg_prepare())
    if url is None and os.environ.get("CI"):
        pytest.fail("PostgreSQL is required in CI but did not answer on 127.0.0.1:5432")
    yield url
    if url is not None:
        asyncio.run(_pg_drop())


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store(
    backend: str, sqlite_template: Path, pg_url: str | None, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Store]:
    """An empty, migrated store on each backend."""
    if backend == "sqlite":
        path = tmp_path / "callbot.db"
        shutil.copy(sqlite_template, path)
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
    else:
        if pg_url is None:
            pytest.skip("PostgreSQL is not answering on 127.0.0.1:5432")
        engine = create_engine(pg_url, pool_size=5)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    # The tests' callback receivers listen on loopback, which an operator must allow (as in production).
    store = Store(engine, clock, SecretBox("test-secret-key"), EgressPolicy.parse("127.0.0.1"))
    yield store
    await store.dispose()


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://callbot.test") as http:
        yield http


@pytest.fixture
def examples_dir() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent / "examples"
