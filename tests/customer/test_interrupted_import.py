"""An import whose process dies (kill -9 of `callbot import`) does not stay RUNNING: the dialer closes it as
interrupted at its next start (or round), keeps the customers of its committed batches and announces it;
the import, were it only frozen, can write nothing after that."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from campaign_helpers import sim_dialer
from sqlalchemy import func, select

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.config import Settings
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.customer.service import CustomerImporter, ImportInterrupted
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import Customer, CustomerImport, OutboxEvent
from callbot.models.enums import ImportStatus
from callbot.runtime import open_store

from factories import Account, make_account, make_task

LEASE = 120.0


async def with_task_callback(store: Store, account: Account) -> None:
    async with store.transaction() as tx:
        changes = callback_service.CallbackChanges(task_url="https://crm.example.com/import", dialect="digelao")
        await callback_service.update_settings(tx, account.tenant, changes)


def rows(start: int, count: int) -> list[SourceRow]:
    return [SourceRow(i + 1, f"客户{i}", f"139{i:08d}", {"amount": "1"}) for i in range(start, start + count)]


async def import_state(store: Store, import_id: int) -> tuple[ImportStatus, int, str, int, int]:
    async with store.transaction() as tx:
        row = await tx.session.get(CustomerImport, import_id, populate_existing=True)
        assert row is not None
        customers = await tx.session.scalar(select(func.count()).where(Customer.import_id == import_id))
        events = await tx.session.scalar(
            select(func.count()).where(
                OutboxEvent.kind == outbox.IMPORT_FINISHED, OutboxEvent.event_id == f"import-{import_id}"
            )
        )
    return row.status, row.accepted, row.error, int(customers or 0), int(events or 0)


async def test_an_import_silent_for_a_lease_period_is_closed_as_interrupted_and_fenced(
    store: Store, clock: FrozenClock
) -> None:
    account = await make_account(store)
    await with_task_callback(store, account)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        importer = await CustomerImporter.begin(tx, account.tenant, task_id, source="big.csv")
    async with store.transaction() as tx:
        await importer.add(tx, rows(0, 30))
    # Its process stops here (killed or frozen).
    clock.advance(seconds=LEASE - 1)
    async with store.transaction() as tx:
        assert await customer_service.recover_interrupted_imports(tx, stale_after=LEASE) == 0
    clock.advance(seconds=2)
    async with store.transaction() as tx:
        assert await customer_service.recover_interrupted_imports(tx, stale_after=LEASE) == 1
    status, accepted, error, customers, events = await import_state(store, importer.import_id)
    assert (status, accepted, customers, events) == (ImportStatus.FAILED, 30, 30, 1)
    assert error.startswith("interrupted") and "30 customers it accepted are kept" in error

    # Were the process only frozen, it wakes to find its import closed: its next batch writes nothing.
    with pytest.raises(ImportInterrupted):
        async with store.transaction() as tx:
            await importer.add(tx, rows(30, 10))
    async with store.transaction() as tx:
        await importer.fail(tx, "ImportInterrupted")
    assert await import_state(store, importer.import_id) == (ImportStatus.FAILED, 30, error, 30, 1)
    async with store.transaction() as tx:
        assert await customer_service.recover_interrupted_imports(tx, stale_after=LEASE) == 0


async def test_a_dialer_closes_interrupted_imports_when_it_starts(store: Store, clock: FrozenClock) -> None:
    account = await make_account(store)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        importer = await CustomerImporter.begin(tx, account.tenant, task_id, source="big.csv")
        await importer.add(tx, rows(0, 5))
    clock.advance(seconds=LEASE + 1)
    stop = asyncio.Event()
    stop.set()
    await sim_dialer(store, lease_seconds=LEASE).run(stop)
    assert (await import_state(store, importer.import_id))[:2] == (ImportStatus.FAILED, 5)


CALLBOT = [sys.executable, "-m", "callbot"]


@pytest.mark.slow
def test_kill_9_of_a_cli_import_then_a_dialer_start_closes_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = {**os.environ, "CALLBOT_DATA_DIR": str(data_dir), "CALLBOT_DATABASE_URL": ""}

    async def prepare() -> tuple[str, int]:
        store = await open_store(Settings(data_dir=data_dir))
        try:
            account = await make_account(store)
            await with_task_callback(store, account)
            return account.tenant.name, await make_task(store, account)
        finally:
            await store.dispose()

    tenant, task_id = asyncio.run(prepare())
    path = tmp_path / "customers.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("姓名,手机号,amount\n")
        f.writelines(f"客户{i},139{i:08d},{i}\n" for i in range(400_000))

    async def progress() -> tuple[int, ImportStatus | None, int]:
        store = await open_store(Settings(data_dir=data_dir), migrate=False)
        try:
            async with store.transaction() as tx:
                row = await tx.session.scalar(select(CustomerImport))
                return (row.id, row.status, row.accepted) if row else (0, None, 0)
        finally:
            await store.dispose()

    importing = subprocess.Popen(
        [*CALLBOT, "import", "--tenant", tenant, "--task", str(task_id), "--quiet", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        import_id, status, accepted = asyncio.run(progress())
        if accepted > 0:
            importing.send_signal(signal.SIGKILL)
            importing.wait(timeout=10)
            break
        assert importing.poll() is None, "the import ended before it could be killed"
        time.sleep(0.05)
    else:
        importing.kill()
        pytest.fail("the import committed no batch")
    import_id, status, accepted = asyncio.run(progress())
    assert status is ImportStatus.RUNNING and 0 < accepted < 400_000

    async def start_a_dialer_a_lease_period_later() -> tuple[ImportStatus, int, str, int, int]:
        later = FrozenClock(datetime.now(UTC) + timedelta(seconds=LEASE + 1))
        store = await open_store(Settings(data_dir=data_dir), later, migrate=False)
        try:
            stop = asyncio.Event()
            stop.set()
            await sim_dialer(store, lease_seconds=LEASE).run(stop)
            return await import_state(store, import_id)
        finally:
            await store.dispose()

    status, accepted_after, error, customers, events = asyncio.run(start_a_dialer_a_lease_period_later())
    assert (status, accepted_after, customers, events) == (ImportStatus.FAILED, accepted, accepted, 1)
    assert error.startswith("interrupted")
