"""API load against the dialer in one `callbot serve` (SQLite, simulated carrier): completed calls per
second while the API is idle, then while 16 concurrent readers page through records, customers, tasks and
statistics as fast as the server answers them.

    python bench/api_load.py [--customers 6000] [--seats 60] [--readers 16] [--seconds 20] [--sim-speed 20]

The server runs as a user starts it (`callbot serve`), in its own process; calls are counted in the store.
Last line: idle_calls_per_s=X loaded_calls_per_s=Y ratio=Z reads_per_s=W read_p50_ms=P
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import time as dtime
from pathlib import Path
from typing import Any

import httpx

from callbot.config import Settings
from callbot.credential import service as credential_service
from callbot.customer.reader import SourceRow
from callbot.customer.service import CustomerImporter
from callbot.kit.clock import SystemClock
from callbot.line import service as line_service
from callbot.models.enums import CredentialKind, TaskMode
from callbot.runtime import open_store
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate
from callbot.task.states import TaskAction
from callbot.tenant import service as tenant_service

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "scripts" / "credit_card_instalment.yaml"
PREFIXES = ("138", "139", "137", "150", "151", "158", "186", "185", "133", "189", "177", "199", "136", "159")


async def provision(data_dir: Path, customers: int, seats: int) -> tuple[str, int]:
    """A tenant calling around the clock, a task of `customers` started, and a native token."""
    store = await open_store(Settings(data_dir=data_dir), SystemClock())
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, "压测公司", seats=seats)
        await tenant_service.update_tenant(
            tx, tenant, tenant_service.TenantChanges(calling_hours=(dtime(0, 0), dtime(23, 59, 59)))
        )
        per_line = max(1, seats // 4)
        lines = [await line_service.add_line(tx, tenant, f"0571{88880000 + i}", concurrency=per_line) for i in range(4)]
        script = await script_service.add_script(tx, tenant, SCRIPT.read_text(encoding="utf-8"))
        data = TaskCreate(
            name="读压测任务",
            mode=TaskMode.MANUAL,
            script_id=script.script.id,
            line_ids=[x.id for x in lines],
            robot_count=seats,
            daily_start=dtime(0, 0),
            daily_end=dtime(23, 59, 59),
        )
        task = await task_service.create_task(tx, tenant, data)
        issued = await credential_service.create_credential(tx, tenant, CredentialKind.TOKEN)
        importer = await CustomerImporter.begin(tx, tenant, task.id, source="bench")
    rows = [
        SourceRow(i + 1, f"客户{i}", PREFIXES[i % len(PREFIXES)] + f"{(i * 7919) % 10**8:08d}",
                  {"bank": "招商银行", "amount": "3200"})
        for i in range(customers)
    ]  # fmt: skip
    async with store.transaction() as tx:
        await importer.add(tx, rows)
        await importer.finish(tx)
        await task_service.apply_action(tx, tenant, task.id, TaskAction.START)
    await store.dispose()
    return issued.secrets["token"], task.id


def records(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM call_records").fetchone()[0])


async def calls_per_second(db: Path, seconds: float) -> float:
    before, started = records(db), time.monotonic()
    await asyncio.sleep(seconds)
    return (records(db) - before) / (time.monotonic() - started)


async def reader(base: str, token: str, task_id: int, stop: asyncio.Event, latencies: list[float]) -> None:
    """One API client reading what an operator's dashboard or a CRM sync reads, back to back."""
    paths = [
        f"/api/v1/records?task_id={task_id}&size=100",
        f"/api/v1/tasks/{task_id}/stats",
        f"/api/v1/tasks/{task_id}/customers?size=100",
        "/api/v1/tasks",
        f"/api/v1/records?task_id={task_id}&size=50&page=3",
    ]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        i = 0
        while not stop.is_set():
            started = time.perf_counter()
            response = await http.get(paths[i % len(paths)])
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)
            i += 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(args: argparse.Namespace, data_dir: Path, token: str, task_id: int) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "CALLBOT_DATA_DIR": str(data_dir), "CALLBOT_DATABASE_URL": "",
           "CALLBOT_SIM_SPEED": str(args.sim_speed), "CALLBOT_LOG_LEVEL": "warning"}  # fmt: skip
    server = subprocess.Popen([sys.executable, "-m", "callbot", "serve", "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    db = Settings(data_dir=data_dir).sqlite_path()
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(300):
                try:
                    if (await http.get("/api/v1/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        await asyncio.sleep(args.warmup)  # the campaign reaches its seats
        idle = await calls_per_second(db, args.seconds)
        stop, latencies = asyncio.Event(), []
        readers = [asyncio.create_task(reader(base, token, task_id, stop, latencies)) for _ in range(args.readers)]
        await asyncio.sleep(2)
        reads_before, started = len(latencies), time.monotonic()
        loaded = await calls_per_second(db, args.seconds)
        reads = (len(latencies) - reads_before) / (time.monotonic() - started)
        stop.set()
        await asyncio.gather(*readers)
        left = records(db)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    if left >= args.customers:
        raise SystemExit("the campaign ran out of customers during the measurement: raise --customers")
    return {
        "idle_calls_per_s": round(idle, 1),
        "loaded_calls_per_s": round(loaded, 1),
        "ratio": round(loaded / idle, 2) if idle else 0.0,
        "reads_per_s": round(reads, 1),
        "read_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=6000)
    parser.add_argument("--seats", type=int, default=60)
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measurement")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--sim-speed", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "var"
        token, task_id = asyncio.run(provision(data_dir, args.customers, args.seats))
        result = asyncio.run(measure(args, data_dir, token, task_id))
    print(" ".join(f"{key}={value}" for key, value in result.items()))


if __name__ == "__main__":
    main()
