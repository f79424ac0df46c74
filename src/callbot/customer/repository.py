"""The customer store's queries (客户名单): imports, their rejections, the customers of a task, and the fast
batch insert an import writes with."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from callbot.kit.db import Base, Tx
from callbot.kit.paging import Page, PageRequest, paginate
from callbot.models import Customer, CustomerImport, ImportRejection, Task
from callbot.models.enums import CustomerStatus, ImportStatus


async def take_sqlite_write_lock(tx: Tx, task_id: int) -> None:
    """SQLite has no row locks: a write takes the database's write lock now, before the phones are read.
    (PostgreSQL locks the task's row when the service reads it for update.)"""
    if (await tx.session.connection()).dialect.name == "sqlite":
        await tx.session.execute(update(Task).where(Task.id == task_id).values(id=Task.id))


async def phones_in_task(tx: Tx, task_id: int) -> set[str]:
    return set(await tx.session.scalars(select(Customer.phone).where(Customer.task_id == task_id)))


async def add(tx: Tx, row: Base) -> None:
    tx.session.add(row)
    await tx.session.flush()


async def flush(tx: Tx) -> None:
    await tx.session.flush()


async def write_batch(
    tx: Tx,
    owner: tuple[int, int, int],
    now: datetime,
    customers: list[tuple[str, str, Any, str, str]],
    rejections: list[tuple[Any, ...]],
) -> None:
    """Insert one import batch: `customers` as (name, phone, properties, carrier, region) of the import
    `owner` = (tenant, task, import), PENDING; `rejections` in `_REJECTION_COLUMNS` order."""
    conn = await tx.session.connection()
    async with _sqlite_batch_cache(conn):
        # Values in the driver's form, as SQLAlchemy would bind them, so the ORM reads the rows back unchanged.
        fixed = (
            *owner,
            _driver_value(conn, Customer.status)(CustomerStatus.PENDING),
            0,
            _driver_value(conn, Customer.created_at)(now),
        )
        if conn.dialect.name == "sqlite":
            await _insert_customers_sqlite(conn, fixed, customers)
        else:
            to_json = _driver_value(conn, Customer.properties)
            await _insert_many(
                conn, Customer, _CUSTOMER_COLUMNS, [(*fixed, n, p, to_json(j), c, r) for n, p, j, c, r in customers]
            )
        await _insert_many(conn, ImportRejection, _REJECTION_COLUMNS, rejections)


async def update_running_import(tx: Tx, import_id: int, **values: Any) -> int:
    """Update the import if it is still RUNNING; returns the rows written (0 or 1)."""
    result = await tx.session.execute(
        update(CustomerImport)
        .where(CustomerImport.id == import_id, CustomerImport.status == ImportStatus.RUNNING)
        .values(**values)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def stale_imports(tx: Tx, heartbeat_before: datetime) -> list[CustomerImport]:
    """RUNNING imports whose heartbeat is older than `heartbeat_before`, locked."""
    query = select(CustomerImport).where(
        CustomerImport.status == ImportStatus.RUNNING, CustomerImport.heartbeat_at < heartbeat_before
    )
    return list(await tx.session.scalars(query.with_for_update(skip_locked=True)))


async def get_import(tx: Tx, import_id: int) -> CustomerImport | None:
    return await tx.session.get(CustomerImport, import_id)


async def rejections_page(tx: Tx, import_id: int, request: PageRequest) -> Page[ImportRejection]:
    query = select(ImportRejection).where(ImportRejection.import_id == import_id).order_by(ImportRejection.row)
    return await paginate(tx.session, query, request)


async def customers_page(
    tx: Tx, tenant_id: int, task_id: int, status: CustomerStatus | None, request: PageRequest
) -> Page[Customer]:
    query = select(Customer).where(Customer.tenant_id == tenant_id, Customer.task_id == task_id)
    if status is not None:
        query = query.where(Customer.status == status)
    return await paginate(tx.session, query.order_by(Customer.id), request)


async def get_customer(tx: Tx, customer_id: int) -> Customer | None:
    return await tx.session.get(Customer, customer_id)


async def customers_by_id(tx: Tx, customer_ids: Sequence[int]) -> dict[int, Customer]:
    rows = await tx.session.scalars(select(Customer).where(Customer.id.in_(set(customer_ids))))
    return {c.id: c for c in rows}


async def count_in_task(tx: Tx, task_id: int) -> int:
    return int(await tx.session.scalar(select(func.count()).where(Customer.task_id == task_id)) or 0)


async def latest_import(tx: Tx, tenant_id: int, task_id: int) -> CustomerImport | None:
    query = (
        select(CustomerImport)
        .where(CustomerImport.tenant_id == tenant_id, CustomerImport.task_id == task_id)
        .order_by(CustomerImport.id.desc())
        .limit(1)
    )
    return await tx.session.scalar(query)


# SQLite's page cache while a batch is written, in KiB: room for every page the batch dirties (random
# numbers touch most of the (task_id, phone) index), so none spill to the WAL before the commit.
SQLITE_BATCH_CACHE_KIB = 32 * 1024


@asynccontextmanager
async def _sqlite_batch_cache(conn: AsyncConnection) -> AsyncIterator[None]:
    """A bigger page cache on SQLite for one batch, then the connection's own size again. (A batch that fails
    leaves the bigger size on its connection until the pool recycles it: harmless.)"""
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = int((await conn.exec_driver_sql("PRAGMA cache_size")).scalar_one())
    await conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_BATCH_CACHE_KIB}")
    yield
    await conn.exec_driver_sql(f"PRAGMA cache_size={previous}")


# Column order of the tuples `CustomerImporter.add` writes.
_CUSTOMER_COLUMNS = (
    "tenant_id",
    "task_id",
    "import_id",
    "status",
    "attempts",
    "created_at",
    "name",
    "phone",
    "properties",
    "carrier",
    "region",
)
_REJECTION_COLUMNS = ("import_id", "row", "phone", "reason", "message")
# How each driver writes the n-th (1-based) positional parameter.
_PLACEHOLDERS: dict[str, Callable[[int], str]] = {
    "qmark": lambda n: "?",
    "numeric_dollar": lambda n: f"${n}",
    "format": lambda n: "%s",
}


def _driver_value(conn: AsyncConnection, column: InstrumentedAttribute[Any]) -> Callable[[Any], Any]:
    """How SQLAlchemy turns a Python value of `column` into what the driver gets (JSON text, SQLite's
    datetime text, an enum's value)."""
    processor = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return processor if processor is not None else _same


def _same(value: Any) -> Any:
    return value


async def _insert_many(
    conn: AsyncConnection, model: type[Base], columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """One executemany handed straight to the driver (sqlite3, asyncpg): the ORM and Core bulk inserts
    spend several times longer per row in Python than the database spends storing it. `rows` hold
    values in the driver's form (see `_driver_value`), in `columns` order."""
    if not rows:
        return
    dialect = conn.dialect
    placeholder = _PLACEHOLDERS[dialect.paramstyle]
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(model.__tablename__)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(placeholder(n) for n in range(1, len(columns) + 1))})"
    )
    await conn.exec_driver_sql(sql, rows)


async def _insert_customers_sqlite(
    conn: AsyncConnection, fixed: tuple[Any, ...], customers: list[tuple[str, str, Any, str, str]]
) -> None:
    """Insert customers on SQLite with one statement over one JSON array, which SQLite unpacks itself
    (json_each). An executemany binds each row in Python, holding the interpreter lock for every row, so
    nothing else in the process (such as reading the next batch) could run while it writes; one statement
    with one parameter releases the lock for the whole insert, and costs less than the executemany even
    alone. Rows go in in the array's order, so customer ids follow the file."""
    if not customers:
        return
    payload = json.dumps([(n, p, _properties_json(j), c, r) for n, p, j, c, r in customers], ensure_ascii=False)
    await conn.exec_driver_sql(_SQLITE_INSERT_CUSTOMERS, (*fixed, payload))


_SQLITE_INSERT_CUSTOMERS = (
    f"INSERT INTO customers ({', '.join(_CUSTOMER_COLUMNS)}) "
    f"SELECT ?, ?, ?, ?, ?, ?, {', '.join(f'json_extract(value, {chr(39)}$[{i}]{chr(39)})' for i in range(5))} "
    "FROM json_each(?)"
)


def _properties_json(properties: dict[str, Any]) -> str:
    """`json.dumps(properties)`, the form the ORM stores, built faster for the usual text-only properties."""
    if not properties:
        return "{}"
    try:
        return "{" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in properties.items()) + "}"
    except TypeError:  # a value that is not text
        return json.dumps(properties)
