"""kill -9 of the process delivering callbacks: no event is lost, and none is delivered twice to a
receiver that acknowledged it, except the few whose acknowledgement was in flight at the kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from callbot.callback import outbox
from callbot.callback.receiver import CallbackReceiver
from callbot.config import Settings
from callbot.kit.clock import SystemClock
from callbot.models import OutboxEvent
from callbot.runtime import open_store
from callbot.tenant import service as tenant_service

CALLBOT = [sys.executable, "-m", "callbot"]
EVENTS = 3000


async def _seed(data_dir: Path, url: str) -> None:
    from callbot.callback import service as callback_service

    store = await open_store(Settings(data_dir=data_dir, callback_allow="127.0.0.1"), SystemClock())
    try:
        async with store.transaction() as tx:
            tenant = await tenant_service.create_tenant(tx, "回调公司")
            await callback_service.update_settings(
                tx, tenant, callback_service.CallbackChanges(url=url, task_url=url, dialect="native")
            )
            from callbot.customer.service import CustomerImporter
            from callbot.line import service as line_service
            from callbot.script import service as script_service
            from callbot.task import service as task_service
            from callbot.task.schemas import TaskCreate

            from factories import SCRIPT

            line = await line_service.add_line(tx, tenant, "057188880001")
            script = await script_service.add_script(tx, tenant, SCRIPT)
            task = await task_service.create_task(
                tx, tenant, TaskCreate(name="t", script_id=script.script.id, line_ids=[line.id])
            )
            importer = await CustomerImporter.begin(tx, tenant, task.id, source="seed")
            import_id = importer.import_id
            for i in range(EVENTS):
                await outbox.enqueue(
                    tx,
                    tenant.id,
                    outbox.IMPORT_FINISHED,
                    {"import_id": import_id, "task_id": task.id},
                    event_id=f"evt-{i:05d}",
                )
    finally:
        await store.dispose()


def _status_counts(data_dir: Path) -> dict[str, int]:
    async def read() -> dict[str, int]:
        store = await open_store(Settings(data_dir=data_dir), SystemClock(), migrate=False)
        try:
            async with store.transaction() as tx:
                rows = await tx.session.execute(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status))
                return {status: n for status, n in rows}
        finally:
            await store.dispose()

    return asyncio.run(read())


@pytest.mark.slow
def test_kill_9_while_delivering_loses_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"

    async def scenario() -> tuple[CallbackReceiver, int]:
        receiver = CallbackReceiver(keep_bodies=False)
        await receiver.start()
        await _seed(data_dir, receiver.url)
        env = {
            **os.environ,
            "CALLBOT_DATA_DIR": str(data_dir),
            "CALLBOT_DATABASE_URL": "",
            "CALLBOT_CALLBACK_ALLOW": "127.0.0.1",
        }
        worker = subprocess.Popen([*CALLBOT, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while receiver.count < EVENTS // 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        await asyncio.to_thread(worker.wait, 10)
        acknowledged_at_kill = receiver.count
        restarted = subprocess.Popen(
            [*CALLBOT, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            while time.monotonic() < deadline:
                counts = await asyncio.to_thread(_status_counts, data_dir)
                if counts.get(outbox.PENDING, 0) == 0:
                    break
                await asyncio.sleep(0.2)
        finally:
            restarted.send_signal(signal.SIGTERM)
            await asyncio.to_thread(restarted.wait, 30)
            await receiver.stop()
        return receiver, acknowledged_at_kill

    receiver, acknowledged_at_kill = asyncio.run(scenario())
    assert 0 < acknowledged_at_kill < EVENTS  # the kill came mid-delivery
    assert _status_counts(data_dir) == {outbox.DELIVERED: EVENTS}
    # Nothing lost: every event reached the receiver.
    assert set(receiver.received.by_id) == {f"evt-{i:05d}" for i in range(EVENTS)}
    # At least once, and twice only for the deliveries whose acknowledgement was in flight at the kill
    # (at most the per-receiver limit of sends in flight, 64).
    repeated = sum(n - 1 for n in receiver.received.by_id.values())
    assert repeated <= 64, repeated
