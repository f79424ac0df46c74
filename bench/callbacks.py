"""Callback delivery benchmark: events from the outbox to a local HTTP receiver (in its own process),
rendered, signed, POSTed, acknowledged and recorded, on SQLite.

    python bench/callbacks.py [--events 20000]

Last line: deliveries=N deliveries_per_s=X
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.callback.delivery import Deliverer
from callbot.config import Settings
from callbot.customer.service import CustomerImporter
from callbot.kit.clock import SystemClock
from callbot.line import service as line_service
from callbot.runtime import build_renderers, open_store
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate
from callbot.tenant import service as tenant_service

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "scripts" / "credit_card_instalment.yaml"
RECEIVER = """
import asyncio, sys
from callbot.callback.receiver import CallbackReceiver
async def main():
    r = CallbackReceiver(keep_bodies=False)
    await r.start()
    print(r.port, flush=True)
    while True:
        await asyncio.sleep(3600)
asyncio.run(main())
"""


async def run(events: int) -> tuple[int, float]:
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        with tempfile.TemporaryDirectory() as folder:
            store = await open_store(Settings(data_dir=Path(folder)), SystemClock())
            async with store.transaction() as tx:
                tenant = await tenant_service.create_tenant(tx, "回调压测")
                url = f"http://127.0.0.1:{port}/callback"
                await callback_service.update_settings(
                    tx, tenant, callback_service.CallbackChanges(url=url, task_url=url, dialect="native")
                )
                line = await line_service.add_line(tx, tenant, "057188880001")
                script = await script_service.add_script(tx, tenant, SCRIPT.read_text(encoding="utf-8"))
                task = await task_service.create_task(
                    tx, tenant, TaskCreate(name="回调", script_id=script.script.id, line_ids=[line.id])
                )
                importer = await CustomerImporter.begin(tx, tenant, task.id, source="bench")
                for i in range(events):
                    await outbox.enqueue(
                        tx,
                        tenant.id,
                        outbox.IMPORT_FINISHED,
                        {"import_id": importer.import_id, "task_id": task.id},
                        event_id=f"bench-{i}",
                    )
            deliverer = Deliverer(store, build_renderers())
            started = time.perf_counter()
            while await deliverer.deliver_due():
                pass
            elapsed = time.perf_counter() - started
            await deliverer.http.close()
            async with store.transaction() as tx:
                delivered = await outbox.pending_count(tx)
                assert delivered == 0, f"{delivered} events left pending"
            await store.dispose()
            return deliverer.delivered, elapsed
    finally:
        receiver.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    delivered, elapsed = asyncio.run(run(args.events))
    print(f"delivered {delivered} events in {elapsed:.2f} s")
    print(f"deliveries={delivered} deliveries_per_s={delivered / elapsed:.1f}")


if __name__ == "__main__":
    main()
