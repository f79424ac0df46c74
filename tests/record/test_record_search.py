"""Call records found by a piece of the customer's name, whatever its case, on both backends."""

from __future__ import annotations

from sqlalchemy import insert

from callbot.kit.db import Store
from callbot.kit.paging import PageRequest
from callbot.models import CallRecord, Customer
from callbot.models.enums import CallResult, CustomerStatus
from callbot.record import service as record_service

from factories import make_account, make_task


async def test_name_search_ignores_case(store: Store) -> None:
    account = await make_account(store)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        now = tx.now()
        for i, name in enumerate(["Wang Lei", "LI Na"]):
            customer = {
                "tenant_id": account.tenant.id, "task_id": task_id, "name": name, "phone": f"1390000000{i}",
                "properties": {}, "carrier": "", "region": "", "status": CustomerStatus.FINISHED, "attempts": 1,
                "created_at": now,
            }  # fmt: skip
            customer_id = (await tx.session.execute(insert(Customer).returning(Customer.id), [customer])).scalar_one()
            await tx.session.execute(
                insert(CallRecord),
                [{"tenant_id": account.tenant.id, "task_id": task_id, "customer_id": customer_id, "sn": f"{i:032d}",
                  "phone": f"1390000000{i}", "result": CallResult.BUSY, "started_at": now, "created_at": now}],
            )  # fmt: skip
    async with store.transaction() as tx:
        for search, expected in [("wang", ["13900000000"]), ("WANG LEI", ["13900000000"]), ("li na", ["13900000001"])]:
            page = await record_service.list_records(
                tx, account.tenant, record_service.RecordFilter(search=search), PageRequest(page=1, size=10)
            )
            assert [r.phone for r in page.items] == expected, search


async def test_inbound_and_outbound_calls_are_found_apart(store: Store) -> None:
    account = await make_account(store)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        now = tx.now()
        for i, direction in enumerate(["outbound", "inbound", "outbound"]):
            customer = {
                "tenant_id": account.tenant.id, "task_id": task_id, "name": "", "phone": f"1370000000{i}",
                "properties": {}, "carrier": "", "region": "", "status": CustomerStatus.FINISHED, "attempts": 1,
                "created_at": now,
            }  # fmt: skip
            customer_id = (await tx.session.execute(insert(Customer).returning(Customer.id), [customer])).scalar_one()
            await tx.session.execute(
                insert(CallRecord),
                [{"tenant_id": account.tenant.id, "task_id": task_id, "customer_id": customer_id, "sn": f"d{i:031d}",
                  "phone": f"1370000000{i}", "result": CallResult.ANSWERED, "started_at": now, "created_at": now,
                  "direction": direction}],
            )  # fmt: skip
    async with store.transaction() as tx:
        for direction, expected in [("inbound", {"13700000001"}), ("outbound", {"13700000000", "13700000002"})]:
            page = await record_service.list_records(
                tx, account.tenant, record_service.RecordFilter(direction=direction), PageRequest(page=1, size=10)
            )
            assert {r.phone for r in page.items} == expected, direction
        both = await record_service.list_records(
            tx, account.tenant, record_service.RecordFilter(), PageRequest(page=1, size=10)
        )
        assert len(both.items) == 3
