"""A page of call records comes with its task, customer, script and owner in the same few queries however
many records it shows (no lookup per row)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert

from callbot.kit.db import Store
from callbot.kit.paging import PageRequest
from callbot.models import CallRecord, Customer
from callbot.models.enums import CallResult, CustomerStatus, Level
from callbot.record import service as record_service
from callbot.record.service import RecordFilter

from factories import Account, make_account, make_task


@contextmanager
def counted(store: Store) -> Iterator[list[str]]:
    """The SQL statements the store runs inside the block."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)


async def add_records(store: Store, account: Account, task_id: int, count: int, start: int) -> None:
    now = store.clock.now()
    async with store.transaction() as tx:
        for i in range(start, start + count):
            customer_id = (
                await tx.session.execute(
                    insert(Customer).returning(Customer.id),
                    [
                        {
                            "tenant_id": account.tenant.id,
                            "task_id": task_id,
                            "name": f"客户{i}",
                            "phone": f"139000{i:05d}",
                            "properties": {},
                            "status": CustomerStatus.FINISHED,
                            "created_at": now,
                        }
                    ],
                )
            ).scalar_one()
            await tx.session.execute(
                insert(CallRecord),
                [
                    {
                        "tenant_id": account.tenant.id,
                        "task_id": task_id,
                        "customer_id": customer_id,
                        "line_id": account.line.id,
                        "script_id": account.script_id,
                        "sn": f"{task_id}-{i}".zfill(32),
                        "phone": f"139000{i:05d}",
                        "result": CallResult.ANSWERED,
                        "level": Level.B,
                        "started_at": now,
                        "transcript": [],
                        "created_at": now,
                    }
                ],
            )


async def test_a_record_page_is_read_in_the_same_few_queries_for_two_rows_or_twenty(store: Store) -> None:
    account = await make_account(store)
    task_id = await make_task(store, account)
    await add_records(store, account, task_id, 2, 0)
    async with store.transaction() as tx:
        with counted(store) as few:
            page = await record_service.list_record_rows(tx, account.tenant, RecordFilter(), PageRequest(size=50))
    assert len(page.items) == 2
    row = page.items[0]
    assert row.task.id == task_id and row.customer is not None and row.customer.name == "客户1"
    assert row.script is not None and row.script.id == account.script_id and row.owner is None
    await add_records(store, account, task_id, 18, 2)
    async with store.transaction() as tx:
        with counted(store) as many:
            page = await record_service.list_record_rows(tx, account.tenant, RecordFilter(), PageRequest(size=50))
    assert page.total == 20 and {r.customer.phone for r in page.items if r.customer} == {
        r.record.phone for r in page.items
    }
    assert len(many) == len(few) <= 3, many
