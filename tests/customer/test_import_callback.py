"""The rule "an import that finishes writes an `import.finished` outbox event when the tenant has a task
callback URL", whichever way the import arrives (service, CLI batches, API)."""

from __future__ import annotations

from sqlalchemy import select

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.kit.db import Store
from callbot.models import OutboxEvent
from callbot.tenant import service as tenant_service

from factories import make_account, make_task


def rows(*phones: str) -> list[SourceRow]:
    return [SourceRow(i, "王先生", phone, {"amount": "300"}) for i, phone in enumerate(phones, start=1)]


async def events(store: Store) -> list[OutboxEvent]:
    async with store.transaction() as tx:
        return list(await tx.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


async def test_no_task_callback_url_no_event(store: Store) -> None:
    account = await make_account(store)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        # a per-call URL alone does not ask for import events
        await callback_service.update_settings(
            tx, account.tenant, callback_service.CallbackChanges(url="https://crm.example.com/push")
        )
        await customer_service.import_rows(tx, account.tenant, task_id, rows("13900000001"), source="test")
    assert await events(store) == []


async def test_a_finished_import_writes_one_event_with_the_import_and_task(store: Store) -> None:
    account = await make_account(store)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        await callback_service.update_settings(
            tx, account.tenant, callback_service.CallbackChanges(task_url="https://crm.example.com/import")
        )
        importer = await customer_service.CustomerImporter.begin(tx, account.tenant, task_id, source="batches")
        await importer.add(tx, rows("13900000001", "12345"))
    async with store.transaction() as tx:
        await importer.add(tx, rows("13900000002"))
    assert await events(store) == []  # batches alone write nothing
    async with store.transaction() as tx:
        report = await importer.finish(tx)
    [event] = await events(store)
    assert (event.kind, event.event_id, event.status) == (
        outbox.IMPORT_FINISHED,
        f"import-{report.import_id}",
        outbox.PENDING,
    )
    assert event.subject == {"import_id": report.import_id, "task_id": task_id}
    assert event.tenant_id == account.tenant.id


async def test_a_sub_accounts_task_callback_url_counts_for_its_tenant_only(store: Store) -> None:
    account = await make_account(store)
    other = await make_account(store, "另一家公司")
    task_id = await make_task(store, account)
    other_task_id = await make_task(store, other)
    async with store.transaction() as tx:
        user = await tenant_service.create_user(tx, account.tenant, "sales01", "password-1")
        changes = callback_service.CallbackChanges(task_url="https://crm.example.com/import")
        await callback_service.update_settings(tx, account.tenant, changes, user_id=user.id)
        report = await customer_service.import_rows(tx, account.tenant, task_id, rows("13900000001"), source="t")
        # another tenant's URL does not make this one's imports send events
        await customer_service.import_rows(tx, other.tenant, other_task_id, rows("13900000001"), source="t")
    assert [(e.tenant_id, e.subject["import_id"]) for e in await events(store)] == [
        (account.tenant.id, report.import_id)
    ]
