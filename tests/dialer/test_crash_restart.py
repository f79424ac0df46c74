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
from pathlib import Path

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
