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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.customer import repository
from callbot.customer.phone import InvalidPhone, PhoneInfo, normalise_phone, plain_mobile
from callbot.customer.reader import SourceRow
from callbot.dialogue.script import Script as ScriptDocument
from callbot.dnc import service as dnc_service
from callbot.errors import InvalidState, NotFound, ValidationFailed
from callbot.kit.db import Tx
from callbot.kit.paging import Page, PageRequest
from callbot.models import Customer, CustomerImport, ImportRejection, Task, Tenant
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
        await repository.take_sqlite_write_lock(tx, task_id)
        task = await task_service.get_task(tx, tenant, task_id, for_update=True)
        if task.status is TaskStatus.TERMINATE:
            raise TaskClosedForImport(
                f"task {task.id} is {task.status.value}: it takes no more customers", state=task.status.value
            )
        script = await script_service.get_script(tx, tenant, task.script_id)
        document = await _document_for_import(tx, script)
        known = await repository.phones_in_task(tx, task.id)
        dnc = await dnc_service.listed_numbers(tx, tenant.id)
        row = CustomerImport(
            tenant_id=tenant.id, task_id=task.id, source=source[:200], created_at=tx.now(), heartbeat_at=tx.now()
        )
        await repository.add(tx, row)
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
        now = tx.now()
        accepted, rejected = batch.customers, batch.rejected
        await repository.write_batch(
            tx,
            (self.tenant_id, self.task_id, self.import_id),
            now,
            accepted,
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
        await task_service.add_customers(tx, self.task_id, len(accepted))
        return len(accepted)

    async def _update_running(self, tx: Tx, **values: Any) -> None:
        """Update the import while it is still running (renewing its heartbeat), or raise ImportInterrupted:
        an import closed as interrupted must not write on behind the recovery's back."""
        if await repository.update_running_import(tx, self.import_id, heartbeat_at=tx.now(), **values) != 1:
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
        await task_service.reopen_if_completed(tx, task_id)
    await callback_service.notify(
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
    stale = await repository.stale_imports(tx, now - timedelta(seconds=stale_after))
    for row in stale:
        row.status = ImportStatus.FAILED
        row.finished_at = now
        row.error = (
            f"interrupted: the import stopped after {row.total} rows (its process ended); the {row.accepted} "
            f"customers it accepted are kept; import the file again to add the rest (rows already in are "
            f"reported as duplicates)"
        )
        await repository.flush(tx)
        await _after_import(tx, row.tenant_id, row.task_id, row.id, accepted=row.accepted)
    return len(stale)


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
    row = await repository.get_import(tx, import_id)
    if row is None or row.tenant_id != tenant.id:
        raise ImportNotFound(f"no import with id {import_id}")
    return row


async def list_rejections(tx: Tx, tenant: Tenant, import_id: int, page: PageRequest) -> Page[ImportRejection]:
    await get_import(tx, tenant, import_id)
    return await repository.rejections_page(tx, import_id, page)


async def list_customers(
    tx: Tx, tenant: Tenant, task_id: int, page: PageRequest, status: CustomerStatus | None = None
) -> Page[Customer]:
    await task_service.get_task(tx, tenant, task_id)
    return await repository.customers_page(tx, tenant.id, task_id, status, page)


async def find_customer(tx: Tx, customer_id: int) -> Customer | None:
    """Any tenant's customer by id (for a record the caller already holds), None when gone."""
    return await repository.get_customer(tx, customer_id)


async def get_customer(tx: Tx, tenant: Tenant, customer_id: int) -> Customer:
    customer = await repository.get_customer(tx, customer_id)
    if customer is None or customer.tenant_id != tenant.id:
        raise CustomerNotFound(f"no customer with id {customer_id}")
    return customer


async def count_customers(tx: Tx, task_id: int) -> int:
    return await repository.count_in_task(tx, task_id)


async def latest_import(tx: Tx, tenant: Tenant, task_id: int) -> CustomerImport | None:
    """The newest import into the task, or None when nothing was ever imported."""
    return await repository.latest_import(tx, tenant.id, task_id)


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
    await repository.flush(tx)
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
