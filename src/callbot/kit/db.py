"""Database plumbing: the declarative base, column types that behave the same on SQLite and PostgreSQL,
engine creation, and the transaction scope that edges (requests, CLI commands, jobs) commit in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from callbot.kit.clock import Clock
from callbot.kit.egress import EgressPolicy
from callbot.kit.secrets import SecretBox

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes everywhere: timestamptz on PostgreSQL; UTC text on SQLite, read back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps times with a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonType = JSON().with_variant(JSONB(), "postgresql")


def create_engine(url: str, *, pool_size: int = 10, idle_transaction_seconds: float | None = None) -> AsyncEngine:
    """An engine for `url`. On PostgreSQL, `idle_transaction_seconds` makes the server end a session left
    idle inside a transaction that long (a frozen process, a stalled link), so its row locks do not hold
    every other worker up."""
    if url.startswith("sqlite"):
        # No rollback when a connection goes back to the pool: every transaction already ended with its
        # own commit or rollback (Store.transaction), and the extra one is a round trip to the driver's thread.
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_reset_on_return=None)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the API read while the dialer writes; NORMAL sync is safe with WAL.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    connect_args: dict[str, Any] = {}
    if idle_transaction_seconds:
        timeout_ms = str(max(1, round(idle_transaction_seconds * 1000)))
        connect_args["server_settings"] = {"idle_in_transaction_session_timeout": timeout_ms}
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_reset_on_return=None,
        connect_args=connect_args,
    )


@dataclass
class Tx:
    """One unit of work: a session plus the things a service needs besides data (clock, secrets, where
    outbound requests may go)."""

    session: AsyncSession
    clock: Clock
    secrets: SecretBox
    egress: EgressPolicy = field(default_factory=EgressPolicy)

    def now(self) -> datetime:
        return self.clock.now()

    async def ping(self) -> None:
        """A round trip to the database (a health check)."""
        await self.session.execute(text("SELECT 1"))


class Store:
    """The database as the rest of the product sees it."""

    def __init__(
        self, engine: AsyncEngine, clock: Clock, secrets: SecretBox, egress: EgressPolicy | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.secrets = secrets
        self.egress = egress or EgressPolicy()  # public destinations only unless told otherwise
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Commit when the block ends normally, roll back when it raises."""
        async with self.sessionmaker() as session:
            try:
                yield Tx(session, self.clock, self.secrets, self.egress)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
