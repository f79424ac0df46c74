"""Callback delivery benchmark: events from the outbox to a local HTTP receiver (in its own process),
rendered, signed, POSTed, acknowledged and recorded, on SQLite; against the floor of bare aiohttp POSTs
of a 1 KB body to the same receiver, 64 at a time, measured in the same run (before and after the
deliveries, averaged, so both see the same machine load).

    python bench/callbacks.py [--events 20000] [--posts 20000]

Last line: deliveries_per_s=X floor_per_s=Y ratio=R
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

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


async def bare_posts(url: str, posts: int, parallel: int = 64) -> float:
    """The floor: POSTs per second of a bare aiohttp client, `parallel` at a time."""
    body = b"x" * 1024
    left = posts

    async def one_lane(http: aiohttp.ClientSession) -> None:
        nonlocal left
        while left > 0:
            left -= 1
            async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                await response.read()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=parallel)) as http:
        started = time.perf_counter()
        await asyncio.gather(*(one_lane(http) for _ in range(parallel)))
        return posts / (time.perf_counter() - started)


async def run(events: int, posts: int) -> tuple[int, float, float]:
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        with tempfile.TemporaryDirectory() as folder:
            store = await open_store(Settings(data_dir=Path(folder), callback_allow="127.0.0.1"), SystemClock())
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
            floor_before = await bare_posts(url, posts)
            deliverer = Deliverer(store, build_renderers())
            stop = asyncio.Event()
            started = time.perf_counter()
            running = asyncio.create_task(deliverer.run(stop))
            while deliverer.delivered < events and not running.done():
                await asyncio.wait({running}, timeout=0.005)
            elapsed = time.perf_counter() - started
            stop.set()
            await running
            async with store.transaction() as tx:
                delivered = await outbox.pending_count(tx)
                assert delivered == 0, f"{delivered} events left pending"
            await store.dispose()
            floor = (floor_before + await bare_posts(url, posts)) / 2
            return deliverer.delivered, elapsed, floor
    finally:
        receiver.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--posts", type=int, default=20_000, help="bare POSTs per floor measurement")
    args = parser.parse_args()
    delivered, elapsed, floor = asyncio.run(run(args.events, args.posts))
    rate = delivered / elapsed
    print(f"delivered {delivered} events in {elapsed:.2f} s")
    print(f"deliveries_per_s={rate:.1f} floor_per_s={floor:.1f} ratio={rate / floor:.2f}")


if __name__ == "__main__":
    main()
