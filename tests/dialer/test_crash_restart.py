"""kill -9 in the middle of a campaign, then restart: no attempt is dialled twice, attempts in flight
are closed as interrupted, every customer is finished and the statistics still equal the records."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from callbot.config import Settings
from callbot.kit.clock import SystemClock
from callbot.models import CallRecord, Customer, Task
from callbot.models.enums import CustomerStatus, TaskStatus
from callbot.record import stats as stats_service
from callbot.runtime import open_store
from callbot.tenant import service as tenant_service

CALLBOT = [sys.executable, "-m", "callbot"]


def _counts(data_dir: Path) -> tuple[int, int, str]:
    async def read() -> tuple[int, int, str]:
        store = await open_store(Settings(data_dir=data_dir), SystemClock(), migrate=False)
        try:
            async with store.transaction() as tx:
                records = await tx.session.scalar(select(func.count()).select_from(CallRecord)) or 0
                dialling = (
                    await tx.session.scalar(select(func.count()).where(Customer.status == CustomerStatus.DIALLING)) or 0
                )
                status = (await tx.session.scalar(select(Task.status))) or TaskStatus.NOT_STARTED
            return int(records), int(dialling), status.value
        finally:
            await store.dispose()

    return asyncio.run(read())


@pytest.mark.slow
def test_kill_9_mid_campaign_then_restart(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CALLBOT_DATA_DIR": str(tmp_path / "var"),
        "CALLBOT_DATABASE_URL": "",
        "CALLBOT_SIM_SPEED": "15",
    }
    provisioned = subprocess.run([*CALLBOT, "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=120)
    assert provisioned.returncode == 0, provisioned.stderr
    task_id = json.loads(provisioned.stdout)["task_id"]

    worker = subprocess.Popen([*CALLBOT, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    in_flight_at_kill = 0
    while time.monotonic() < deadline:
        records, dialling, _ = _counts(tmp_path / "var")
        if records >= 30 and dialling >= 3:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            records, in_flight_at_kill, _ = _counts(tmp_path / "var")
            break
        time.sleep(0.1)
    else:
        worker.kill()
        pytest.fail("the campaign did not get going")
    assert in_flight_at_kill >= 1

    # The rest of the campaign may run faster: only the kill needed calls to overlap.
    restarted = subprocess.Popen(
        [*CALLBOT, "worker"], env={**env, "CALLBOT_SIM_SPEED": "200"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            _, _, status = _counts(tmp_path / "var")
            if status == "COMPLETED":
                break
            time.sleep(0.3)
        else:
            pytest.fail("the campaign did not complete after the restart")
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=30)

    async def check() -> None:
        store = await open_store(Settings(data_dir=tmp_path / "var"), SystemClock(), migrate=False)
        try:
            async with store.transaction() as tx:
                rows = list(await tx.session.scalars(select(CallRecord)))
                customers = list(await tx.session.scalars(select(Customer)))
                interrupted = [r for r in rows if r.end_reason == "interrupted"]
                # Every attempt in flight at the kill was closed as interrupted, none dialled again as itself.
                assert len(interrupted) == in_flight_at_kill
                assert all(r.result.value == "SYSTEM_ERROR" for r in interrupted)
                attempts = [(r.customer_id, r.attempt) for r in rows]
                assert len(attempts) == len(set(attempts))
                by_customer: dict[int, int] = {}
                for r in rows:
                    by_customer[r.customer_id] = by_customer.get(r.customer_id, 0) + 1
                for c in customers:
                    assert c.status in (CustomerStatus.FINISHED, CustomerStatus.SKIPPED)
                    assert by_customer.get(c.id, 0) == c.attempts  # one record per attempt, no more, no less
                tenant = await tenant_service.get_tenant_by_name(tx, "演示公司")
                kept = await stats_service.get_task_stats(tx, tenant, task_id)
                assert kept == await stats_service.recount(tx, tenant, task_id)
                assert kept.calls == len(rows) and kept.finished_customers == 200
        finally:
            await store.dispose()

    asyncio.run(check())


PG_ADMIN_URL = os.environ.get("CALLBOT_TEST_PG_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
LEASE_SECONDS = 4.0


async def _pg_database(name: str, *, drop_only: bool = False) -> str | None:
    """A fresh PostgreSQL database for worker processes (None when PostgreSQL does not answer)."""
    import asyncpg  # type: ignore[import-untyped]

    try:
        conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql+asyncpg://", "postgresql://") + f"/{name}"


@pytest.mark.slow
async def test_a_worker_frozen_past_its_lease_on_postgresql(tmp_path: Path) -> None:
    """SIGSTOP a worker holding calls, let another take them over, SIGCONT it: no customer is called while
    an earlier attempt could still be live, no outcome is lost, and the resumed worker drops its stale
    outcomes once instead of retrying them forever."""
    db_name = f"callbot_frozen_{os.getpid()}"
    url = await _pg_database(db_name)
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI but did not answer on 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not answering on 127.0.0.1:5432")
    env = {
        **os.environ,
        "CALLBOT_DATA_DIR": str(tmp_path / "var"),
        "CALLBOT_DATABASE_URL": url,
        "CALLBOT_SIM_SPEED": "15",
        "CALLBOT_LEASE_SECONDS": str(LEASE_SECONDS),
        "CALLBOT_LOG_LEVEL": "info",
    }
    provisioned = subprocess.run([*CALLBOT, "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=120)
    assert provisioned.returncode == 0, provisioned.stderr
    task_id = json.loads(provisioned.stdout)["task_id"]
    store = await open_store(Settings(data_dir=tmp_path / "var", database_url=url), SystemClock(), migrate=False)
    frozen_log, other_log = tmp_path / "frozen.log", tmp_path / "other.log"
    workers: list[subprocess.Popen[bytes]] = []

    def worker(log: Path, **extra: str) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            process = subprocess.Popen([*CALLBOT, "worker"], env={**env, **extra}, stdout=out, stderr=out)
        workers.append(process)
        return process

    async def leases_of(pid: int) -> dict[int, tuple[int, Any, Any]]:
        async with store.transaction() as tx:
            rows = await tx.session.execute(
                select(Customer.id, Customer.attempts, Customer.dialled_at, Customer.lease_expires_at).where(
                    Customer.status == CustomerStatus.DIALLING, Customer.lease_owner.contains(f":{pid}:")
                )
            )
            return {cid: (attempt, dialled, expires) for cid, attempt, dialled, expires in rows}

    async def records_of(ids: Iterable[int]) -> dict[tuple[int, int], CallRecord]:
        async with store.transaction() as tx:
            rows = await tx.session.scalars(select(CallRecord).where(CallRecord.customer_id.in_(list(ids))))
            return {(r.customer_id, r.attempt): r for r in rows}

    async def task_status() -> TaskStatus:
        async with store.transaction() as tx:
            task = await tx.session.get(Task, task_id, populate_existing=True)
            assert task is not None
            return task.status

    try:
        first = worker(frozen_log)
        deadline = time.monotonic() + 120
        while not len(await leases_of(first.pid)) >= 4:
            assert time.monotonic() < deadline, "the campaign did not get going"
            await asyncio.sleep(0.1)
        first.send_signal(signal.SIGSTOP)
        await asyncio.sleep(0.5)  # a transaction it was committing is visible now
        frozen = await leases_of(first.pid)
        assert frozen

        worker(other_log, CALLBOT_SIM_SPEED="60")
        deadline = time.monotonic() + 120
        while True:  # the other worker closes the frozen attempts and calls their customers again
            done = await records_of(frozen)
            closed = all((cid, attempt) in done for cid, (attempt, _, _) in frozen.items())
            if closed and any((cid, attempt + 1) in done for cid, (attempt, _, _) in frozen.items()):
                break
            assert time.monotonic() < deadline, "the frozen worker's attempts were not taken over"
            await asyncio.sleep(0.2)
        first.send_signal(signal.SIGCONT)

        deadline = time.monotonic() + 240
        while await task_status() is not TaskStatus.COMPLETED:
            assert time.monotonic() < deadline, "the campaign did not complete"
            await asyncio.sleep(0.3)
        settled = frozen_log.read_text(encoding="utf-8")
        await asyncio.sleep(3 * LEASE_SECONDS)
        assert frozen_log.read_text(encoding="utf-8") == settled  # nothing more to say: no error loop
    finally:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGTERM)
        for process in workers:
            process.wait(timeout=30)

    try:
        done = await records_of(frozen)
        for cid, (attempt, dialled_at, expires_at) in frozen.items():
            # The frozen attempt was closed as interrupted with its real dial time; the worker's own
            # outcome was refused (one record per attempt).
            record = done[(cid, attempt)]
            assert (record.result.value, record.end_reason) == ("SYSTEM_ERROR", "interrupted")
            assert record.started_at == dialled_at
            # The customer is called again (the platform's fault), but only once the lease has been expired
            # for a further lease period: the frozen worker stops a call at its lease's end, so no two calls
            # of one customer overlap.
            again = done.get((cid, attempt + 1))
            assert again is not None or attempt > 1  # only an attempt that was itself a retry gets none
            if again is not None:
                assert again.started_at >= expires_at + timedelta(seconds=LEASE_SECONDS)
        log = frozen_log.read_text(encoding="utf-8")
        assert "lost the lease" in log
        assert "still not written" not in log and "IntegrityError" not in log
        assert "lost the lease" not in other_log.read_text(encoding="utf-8")  # it held on to every call it made
        async with store.transaction() as tx:
            rows = list(await tx.session.scalars(select(CallRecord)))
            customers = list(await tx.session.scalars(select(Customer)))
            attempts = [(r.customer_id, r.attempt) for r in rows]
            assert len(attempts) == len(set(attempts))
            per_customer = Counter(r.customer_id for r in rows)
            for c in customers:
                assert c.status in (CustomerStatus.FINISHED, CustomerStatus.SKIPPED)
                assert per_customer[c.id] == c.attempts  # one record per attempt: no outcome lost
            tenant = await tenant_service.get_tenant_by_name(tx, "演示公司")
            kept = await stats_service.get_task_stats(tx, tenant, task_id)
            assert kept == await stats_service.recount(tx, tenant, task_id)
            assert kept.calls == len(rows) and kept.finished_customers == 200
    finally:
        await store.dispose()
        await _pg_database(db_name, drop_only=True)
