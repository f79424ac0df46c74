"""Imported customers are stored exactly as the ORM would store them, batch after batch, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from callbot.cli.customer import import_file
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import Customer, ImportRejection
from callbot.models.enums import CustomerStatus

from factories import Account, make_account, make_task


@pytest.fixture
async def account(store: Store) -> Account:
    return await make_account(store)


async def test_a_bulk_imported_customer_reads_back_like_one_the_orm_wrote(
    store: Store, account: Account, clock: FrozenClock
) -> None:
    imported_task = await make_task(store, account)
    orm_task = await make_task(store, account, name="对照任务")
    clock.advance(seconds=1.234567)  # a time with microseconds
    properties = {"amount": "3200", "备注": '老客户 "VIP"', "空": ""}
    async with store.transaction() as tx:
        report = await customer_service.import_rows(
            tx, account.tenant, imported_task, [SourceRow(1, "王先生", "+86 139 0000 1234", properties)], source="t"
        )
    async with store.transaction() as tx:
        tx.session.add(
            Customer(
                tenant_id=account.tenant.id,
                task_id=orm_task,
                import_id=report.import_id,
                name="王先生",
                phone="13900001234",
                properties=properties,
                carrier="中国移动",
                region=(await tx.session.scalar(select(Customer.region).where(Customer.task_id == imported_task))),
                created_at=clock.now(),
            )
        )

    async with store.transaction() as tx:
        imported, written = (await tx.session.scalars(select(Customer).order_by(Customer.id))).all()
        raw = (await tx.session.execute(text("SELECT * FROM customers ORDER BY id"))).mappings().all()
    columns = [c.key for c in Customer.__table__.columns if c.key not in ("id", "task_id")]
    assert {c: getattr(imported, c) for c in columns} == {c: getattr(written, c) for c in columns}
    # The stored form too (SQLite keeps times and JSON as text): queries compare them as stored.
    assert {c: raw[0][c] for c in columns} == {c: raw[1][c] for c in columns}
    assert imported.created_at == clock.now() and imported.created_at.tzinfo is not None
    assert imported.properties == properties
    assert (imported.status, imported.attempts, imported.region) == (CustomerStatus.PENDING, 0, written.region)
    assert imported.region  # 归属地 of 1390000


async def test_a_customer_without_properties_stores_an_empty_object(store: Store, account: Account) -> None:
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        await customer_service.import_rows(
            tx, account.tenant, task_id, [SourceRow(1, "王先生", "13900001234", {"amount": "1"})], source="t"
        )
        await customer_service.import_rows(
            tx, account.tenant, task_id, [SourceRow(1, "", "0571-88880001", {})], source="t"
        )  # the script needs {amount}: refused, and nothing half-written
    async with store.transaction() as tx:
        customers = (await tx.session.scalars(select(Customer).order_by(Customer.id))).all()
        rejections = (await tx.session.scalars(select(ImportRejection))).all()
    assert [c.properties for c in customers] == [{"amount": "1"}]
    assert [(r.row, r.reason) for r in rejections] == [(1, "missing_variable")]


async def test_every_row_of_a_file_lands_once_across_batches(
    tmp_path: Path, store: Store, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches smaller than the file: each commits its own rows and rejections; nothing lost, nothing twice."""
    from callbot.cli import customer as cli_customer

    monkeypatch.setattr(cli_customer, "BATCH", 7)
    lines = ["name,phone,amount"]
    for i in range(40):
        phone = "bad" if i % 9 == 4 else f"139{i % 30:08d}"  # bad numbers, and rows 30-39 repeat rows 0-9
        lines.append(f"客户{i},{phone},{i}")
    path = tmp_path / "customers.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    task_id = await make_task(store, account)

    report = await import_file(store, account.tenant.name, task_id, path, progress=False)

    async with store.transaction() as tx:
        phones = (await tx.session.scalars(select(Customer.phone).order_by(Customer.id))).all()
        rejected = (await tx.session.execute(select(ImportRejection.row, ImportRejection.reason))).all()
        stored = await customer_service.count_customers(tx, task_id)
    expected: list[str] = []  # accepted phones, in file order
    expected_rejections = []
    for row, line in enumerate(lines[1:], start=1):
        phone = line.split(",")[1]
        if phone == "bad":
            expected_rejections.append((row, "invalid_phone"))
        elif phone in expected:
            expected_rejections.append((row, "duplicate"))
        else:
            expected.append(phone)
    assert phones == expected and stored == len(expected)
    assert sorted(rejected) == expected_rejections
    assert (report.total, report.accepted, report.rejected) == (40, len(expected), len(expected_rejections))
    assert {reason for _, reason in expected_rejections} == {"invalid_phone", "duplicate"}


async def test_the_sqlite_page_cache_is_given_back_after_a_batch(store: Store, account: Account) -> None:
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        conn = await tx.session.connection()
        before = (await conn.exec_driver_sql("PRAGMA cache_size")).scalar() if store.dialect == "sqlite" else None
        await customer_service.import_rows(
            tx, account.tenant, task_id, [SourceRow(1, "王先生", "13900001234", {"amount": "1"})], source="t"
        )
        after = (await conn.exec_driver_sql("PRAGMA cache_size")).scalar() if store.dialect == "sqlite" else None
    assert before == after


async def test_a_file_import_leaves_the_cycle_collector_as_it_found_it(
    tmp_path: Path, store: Store, account: Account
) -> None:
    import gc

    path = tmp_path / "customers.csv"
    path.write_text("name,phone,amount\n王先生,13900001234,1\n", encoding="utf-8")
    task_id = await make_task(store, account)
    threshold = gc.get_threshold()
    report = await import_file(store, account.tenant.name, task_id, path, progress=False)
    assert report.accepted == 1
    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == (threshold, 0, True)
