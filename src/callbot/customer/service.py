"""Customer rules: who may be imported into a task, and how an import reports what it refused.

An import validates every row (number, duplicate in the task, DNC, script variables), writes the accepted
ones and records each rejected row with its row number and reason. Accepted rows are never lost because
others were refused; a long import commits batch by batch, so a crash keeps every finished batch. An
import that finishes writes an `import.finished` outbox event when the tenant has a task callback URL.

Each batch renews the import's heartbeat. An import whose process died (a killed `callbot import`) is
closed as FAILED by `recover_interrupted_imports` once its heartbeat is a lease period old, and announced
like any other; its batches are fenced, so an import taken for dead can write nothing more.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from callbot.callback import outbox
from callbot.customer.phone import InvalidPhone, PhoneInfo, normalise_phone, plain_mobile
from callbot.customer.reader import SourceRow
from callbot.dialogue.script import Script as ScriptDocument
from callbot.errors import InvalidState, NotFound, ValidationFailed
from callbot.kit.db import Base, Tx
from callbot.kit.paging import Page, PageRequest, paginate
from callbot.models import CallbackSettings, Customer, CustomerImport, DncEntry, ImportRejection, Task, Tenant
from callbot.models.enums import CustomerStatus, ImportStatus, TaskStatus
from callbot.script import service as script_service
from callbot.task import service as task_service

INVALID_PHONE = "invalid_phone"
DUPLICATE = "duplicate"
DNC = "dnc"
MISSING_VARIABLE = "missing_variable"
INVALID_NAME = "invalid_name"
NAME_LIMIT = 100  # the customers.name column

# How many rejected rows a report carries inline; every one is stored and can be listed.
REPORT_REJECTIONS = 1000


class CustomerNotFound(NotFound):
    """No such customer."""


class ImportNotFound(NotFound):
    """No such import."""


class TaskClosedForImport(InvalidState):
    """The task no longer takes customers."""


class ImportInterrupted(InvalidState):
    """The import was closed as interrupted (its heartbeat had stopped): it can write nothing more."""


@dataclass(frozen=True, slots=True)
class Rejection:
    row: int
    phone: str
    reason: str
    message: str


@dataclass(slots=True)
class PreparedBatch:
    """A validated batch: the accepted customers as (name, phone, properties, carrier, region), in order,
    and the rejected rows."""

    customers: list[tuple[str, str, Any, str, str]]
    rejected: list[Rejection]


@dataclass
class ImportReport:
    import_id: int
    task_id: int
    status: ImportStatus
    total: int = 0
    accepted: int = 0
    rejected: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)


class CustomerImporter:
    """One import into one task, fed in batches. Each `add` runs in the caller's transaction."""

    def __init__(
        self,
        *,
        import_id: int,
        tenant_id: int,
        task_id: int,
        known_phones: set[str],
        dnc: set[str],
        document: ScriptDocument | None,
    ) -> None:
        self.import_id = import_id
        self.tenant_id = tenant_id
        self.task_id = task_id
        self._known = known_phones
        self._dnc = dnc
        # The script's variables a row must fill, sorted (as the report names them).
        self._required = sorted(document.required_variables) if document is not None else []
        self._needs_name = "name" in self._required
        self._required_properties = [v for v in self._required if v not in ("name", "phone")]
        self.report = ImportReport(import_id, task_id, ImportStatus.RUNNING)

    @classmethod
    async def begin(cls, tx: Tx, tenant: Tenant, task_id: int, *, source: str) -> CustomerImporter:
        """Start an import. The task's row stays locked for the transaction, so a second import into the task
        waits for this one and then sees its customers (as duplicates) rather than colliding with them."""
        if (await tx.session.connection()).dialect.name == "sqlite":
            # SQLite has no row locks: a write takes the database's write lock now, before the phones are read.
            await tx.session.execute(update(Task).where(Task.id == task_id).values(id=Task.id))
        task = await task_service.get_task(tx, tenant, task_id, for_update=True)
        if task.status is TaskStatus.TERMINATE:
            raise TaskClosedForImport(
                f"task {task.id} is {task.status.value}: it takes no more customers", state=task.status.value
            )
        script = await script_service.get_script(tx, tenant, task.script_id)
        document = await _document_for_import(tx, script)
        known = set(await tx.session.scalars(select(Customer.phone).where(Customer.task_id == task.id)))
        dnc = set(await tx.session.scalars(select(DncEntry.phone).where(DncEntry.tenant_id == tenant.id)))
        row = CustomerImport(
            tenant_id=tenant.id, task_id=task.id, source=source[:200], created_at=tx.now(), heartbeat_at=tx.now()
        )
        tx.session.add(row)
        await tx.session.flush()
        return cls(
            import_id=row.id, tenant_id=tenant.id, task_id=task.id, known_phones=known, dnc=dnc, document=document
        )

    def _check(self, source: SourceRow) -> PhoneInfo | Rejection:
        """The customer's number when the row may be imported, else why not."""
        if source.problem is not None:
            return Rejection(source.row, source.phone, source.problem.reason, source.problem.message)
        try:
            info = normalise_phone(source.phone)
        except InvalidPhone as exc:
            return Rejection(source.row, source.phone, INVALID_PHONE, str(exc))
        if len(source.name) > NAME_LIMIT:
            return Rejection(
                source.row,
                info.number,
                INVALID_NAME,
                f"the name is {len(source.name)} characters; at most {NAME_LIMIT}",
            )
        if info.number in self._known:
            return Rejection(source.row, info.number, DUPLICATE, f"{info.number} is already in this task")
        if info.number in self._dnc:
            return Rejection(source.row, info.number, DNC, f"{info.number} is on the do-not-call list")
        if self._required:
            properties = source.properties
            missing = [
                v
                for v in self._required
                if (source.name if v == "name" else info.number if v == "phone" else properties.get(v)) in (None, "")
            ]
            if missing:
                return Rejection(
                    source.row,
                    info.number,
                    MISSING_VARIABLE,
                    f"missing script variable{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                )
        self._known.add(info.number)
        return info

    def prepare(self, rows: Iterable[SourceRow]) -> PreparedBatch:
        """Validate one batch, in memory: no I/O, so a caller may prepare the next batch while the store
        writes this one. The batches must then be written in the order they were prepared."""
        customers: list[tuple[str, str, Any, str, str]] = []
        rejected: list[Rejection] = []
        check = self._check
        known, dnc, required = self._known, self._dnc, self._required_properties
        needs_name = self._needs_name
        for source in rows:
            # The common row (a plain mobile, all there, new) takes this path; any other the full check.
            name, phone, properties = source.name, source.phone, source.properties
            if (
                (found := plain_mobile(phone)) is not None
                and source.problem is None
                and phone not in known
                and phone not in dnc
                and len(name) <= NAME_LIMIT
                and (name or not needs_name)
                and all(map(properties.get, required))  # text values: None or "" is missing
            ):
                known.add(phone)
                customers.append((name, phone, properties, found[0], found[1]))
                continue
            checked = check(source)
            if isinstance(checked, Rejection):
                rejected.append(checked)
            else:
                customers.append((source.name, checked.number, source.properties, checked.carrier, checked.region))
        return PreparedBatch(customers, rejected)

    async def add(self, tx: Tx, rows: Iterable[SourceRow]) -> int:
        """Validate and write one batch. Returns how many rows it accepted."""
        return await self.write(tx, self.prepare(rows))

    async def write(self, tx: Tx, batch: PreparedBatch) -> int:
        """Write a prepared batch in the caller's transaction. Returns how many rows it accepted."""
        conn = await tx.session.connection()
        async with _sqlite_batch_cache(conn):
            return await self._write(tx, conn, batch)

    async def _write(self, tx: Tx, conn: AsyncConnection, batch: PreparedBatch) -> int:
        now = tx.now()
        # Values in the driver's form, as SQLAlchemy would bind them, so the ORM reads the rows back unchanged.
        fixed = (
            self.tenant_id,
            self.task_id,
            self.import_id,
            _driver_value(conn, Customer.status)(CustomerStatus.PENDING),
            0,
            _driver_value(conn, Customer.created_at)(now),
        )
        accepted, rejected = batch.customers, batch.rejected
        if conn.dialect.name == "sqlite":
            await _insert_customers_sqlite(conn, fixed, accepted)
        else:
            to_json = _driver_value(conn, Customer.properties)
            await _insert_many(
                conn, Customer, _CUSTOMER_COLUMNS, [(*fixed, n, p, to_json(j), c, r) for n, p, j, c, r in accepted]
            )
        await _insert_many(
            conn,
            ImportRejection,
            _REJECTION_COLUMNS,
            [(self.import_id, r.row, r.phone[:64], r.reason, r.message) for r in rejected],
        )
        report = self.report
        report.total += len(accepted) + len(rejected)
        report.accepted += len(accepted)
        report.rejected += len(rejected)
        for r in rejected:
            report.counts[r.reason] = report.counts.get(r.reason, 0) + 1
        room = REPORT_REJECTIONS - len(report.rejections)
        report.rejections.extend(rejected[: max(0, room)])
        await self._update_running(
            tx, total=report.total, accepted=report.accepted, rejected=report.rejected, counts=report.counts
        )
        if accepted:
            await tx.session.execute(
                update(Task)
                .where(Task.id == self.task_id)
                .values(customer_count=Task.customer_count + len(accepted), updated_at=now)
            )
        return len(accepted)

    async def _update_running(self, tx: Tx, **values: Any) -> None:
        """Update the import while it is still running (renewing its heartbeat), or raise ImportInterrupted:
        an import closed as interrupted must not write on behind the recovery's back."""
        result = await tx.session.execute(
            update(CustomerImport)
            .where(CustomerImport.id == self.import_id, CustomerImport.status == ImportStatus.RUNNING)
            .values(heartbeat_at=tx.now(), **values)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise ImportInterrupted(
                f"import {self.import_id} was closed as interrupted (no batch for a lease period): "
                f"the customers of its committed batches are kept; import the file again to add the rest",
                state=ImportStatus.FAILED.value,
            )

    async def finish(self, tx: Tx) -> ImportReport:
        now = tx.now()
        self.report.status = ImportStatus.FINISHED
        await self._update_running(tx, status=ImportStatus.FINISHED, finished_at=now)
        await _after_import(tx, self.tenant_id, self.task_id, self.import_id, accepted=self.report.accepted)
        return self.report

    async def fail(self, tx: Tx, error: str) -> ImportReport:
        """Mark the import failed (in a transaction of its own: the failed batch's was rolled back). The
        batches committed before the failure keep their customers, and the counts say so. An import already
        closed as interrupted keeps that outcome (it was announced then)."""
        self.report.status = ImportStatus.FAILED
        try:
            await self._update_running(tx, status=ImportStatus.FAILED, error=error[:2000], finished_at=tx.now())
        except ImportInterrupted:
            return self.report
        await _after_import(tx, self.tenant_id, self.task_id, self.import_id, accepted=self.report.accepted)
        return self.report


async def _after_import(tx: Tx, tenant_id: int, task_id: int, import_id: int, *, accepted: int) -> None:
    """What follows the end of an import, however it ended: customers it added reopen a completed task (the
    dialer picks it up again), and a tenant with a task callback URL hears of it."""
    if accepted:
        task = await tx.session.get(Task, task_id, with_for_update={"key_share": True}, populate_existing=True)
        if task is not None and task.status is TaskStatus.COMPLETED:
            task_service.system_move(task, TaskStatus.RUNNABLE, tx.now())
    if await _wants_import_callback(tx, tenant_id):
        await outbox.enqueue(
            tx,
            tenant_id,
            outbox.IMPORT_FINISHED,
            {"import_id": import_id, "task_id": task_id},
            event_id=f"import-{import_id}",
        )


async def recover_interrupted_imports(tx: Tx, *, stale_after: float) -> int:
    """Close imports whose process is gone (a killed `callbot import`): RUNNING ones that wrote no batch for
    `stale_after` seconds become FAILED, keeping the customers of the batches they committed, and are
    announced like any import that ended. Returns how many."""
    now = tx.now()
    query = select(CustomerImport).where(
        CustomerImport.status == ImportStatus.RUNNING,
        CustomerImport.heartbeat_at < now - timedelta(seconds=stale_after),
    )
    stale = list(await tx.session.scalars(query.with_for_update(skip_locked=True)))
    for row in stale:
        row.status = ImportStatus.FAILED
        row.finished_at = now
        row.error = (
            f"interrupted: the import stopped after {row.total} rows (its process ended); the {row.accepted} "
            f"customers it accepted are kept; import the file again to add the rest (rows already in are "
            f"reported as duplicates)"
        )
        await tx.session.flush()
        await _after_import(tx, row.tenant_id, row.task_id, row.id, accepted=row.accepted)
    return len(stale)


async def _wants_import_callback(tx: Tx, tenant_id: int) -> bool:
    """Whether any of the tenant's callback settings (its own or a user's) has a task callback URL."""
    has_task_url = exists().where(CallbackSettings.tenant_id == tenant_id, CallbackSettings.task_url != "")
    return bool(await tx.session.scalar(select(has_task_url)))


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


async def _document_for_import(tx: Tx, script: Any) -> ScriptDocument | None:
    """The script version whose variables rows must carry: the approved one, else the newest draft."""
    version = script.approved_version or script.latest_version
    if not version:
        return None
    row = await script_service.get_version(tx, script, version)
    return script_service.parse_body(row.body)


async def import_rows(tx: Tx, tenant: Tenant, task_id: int, rows: Iterable[SourceRow], *, source: str) -> ImportReport:
    """A whole import in one transaction (API requests, up to 10,000 rows)."""
    importer = await CustomerImporter.begin(tx, tenant, task_id, source=source)
    await importer.add(tx, rows)
    return await importer.finish(tx)


async def get_import(tx: Tx, tenant: Tenant, import_id: int) -> CustomerImport:
    row = await tx.session.get(CustomerImport, import_id)
    if row is None or row.tenant_id != tenant.id:
        raise ImportNotFound(f"no import with id {import_id}")
    return row


async def list_rejections(tx: Tx, tenant: Tenant, import_id: int, page: PageRequest) -> Page[ImportRejection]:
    await get_import(tx, tenant, import_id)
    query = select(ImportRejection).where(ImportRejection.import_id == import_id).order_by(ImportRejection.row)
    return await paginate(tx.session, query, page)


def _customer_query(tenant: Tenant, task_id: int, status: CustomerStatus | None) -> Select[Customer]:
    query = select(Customer).where(Customer.tenant_id == tenant.id, Customer.task_id == task_id)
    if status is not None:
        query = query.where(Customer.status == status)
    return query.order_by(Customer.id)


async def list_customers(
    tx: Tx, tenant: Tenant, task_id: int, page: PageRequest, status: CustomerStatus | None = None
) -> Page[Customer]:
    await task_service.get_task(tx, tenant, task_id)
    return await paginate(tx.session, _customer_query(tenant, task_id, status), page)


async def get_customer(tx: Tx, tenant: Tenant, customer_id: int) -> Customer:
    customer = await tx.session.get(Customer, customer_id)
    if customer is None or customer.tenant_id != tenant.id:
        raise CustomerNotFound(f"no customer with id {customer_id}")
    return customer


async def count_customers(tx: Tx, task_id: int) -> int:
    return int(await tx.session.scalar(select(func.count()).where(Customer.task_id == task_id)) or 0)


async def latest_import(tx: Tx, tenant: Tenant, task_id: int) -> CustomerImport | None:
    """The newest import into the task, or None when nothing was ever imported."""
    query = (
        select(CustomerImport)
        .where(CustomerImport.tenant_id == tenant.id, CustomerImport.task_id == task_id)
        .order_by(CustomerImport.id.desc())
        .limit(1)
    )
    return await tx.session.scalar(query)


class CustomerNotEditable(InvalidState):
    """The customer is being called or is finished."""


async def update_customer(
    tx: Tx, tenant: Tenant, customer_id: int, *, name: str | None = None, properties: dict[str, str] | None = None
) -> Customer:
    """Correct a customer before the robot calls them: name and properties (script variables)."""
    customer = await get_customer(tx, tenant, customer_id)
    if customer.status is not CustomerStatus.PENDING:
        raise CustomerNotEditable(
            f"customer {customer_id} is {customer.status.value}: only customers waiting to be called can change",
            state=customer.status.value,
        )
    if name is not None:
        if len(name) > NAME_LIMIT:
            raise ValidationFailed("name too long", [("name", f"at most {NAME_LIMIT} characters")])
        customer.name = name
    if properties is not None:
        customer.properties = {str(k): str(v) for k, v in properties.items()}
    await tx.session.flush()
    return customer


async def create_task_with_customers(
    tx: Tx,
    tenant: Tenant,
    order: task_service.TaskOrder,
    rows: Iterable[SourceRow],
    *,
    source: str,
    start: bool = True,
) -> tuple[Task, ImportReport]:
    """Create a task, import its customers and (with `start`) start it, in one transaction: what an
    integration that sends a task and its list together expects."""
    task = await task_service.create_ordered_task(tx, tenant, order)
    report = await import_rows(tx, tenant, task.id, rows, source=source)
    if start:
        task = await task_service.start_or_resume(tx, tenant, task.id)
    return task, report
