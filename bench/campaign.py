"""Campaign benchmark on the embedded default (SQLite, simulated carrier).

Phase 1: 100,000 customers, 2,000 AI seats, sim speed 0: completed calls per second end to end (dial,
conversation, grading, record, statistics), the p99 of one dialogue engine step (recognition included) and
the peak RSS. Phase 2: 10,000 answered calls held open at once in one process (sim speed slowed so they
overlap) and the process's RSS while they are.

    python bench/campaign.py [--customers 100000] [--seats 2000] [--concurrent 10000]

Each phase runs in its own process so its memory is its own. Last line:
calls=N calls_per_s=X step_p99_ms=Y peak_rss_mb=Z concurrent=C concurrent_rss_mb=W
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import time as dtime
from pathlib import Path
from typing import Any

from callbot.config import Settings
from callbot.customer.reader import SourceRow
from callbot.customer.service import CustomerImporter
from callbot.dialer.loop import Dialer, DialerOptions
from callbot.dialogue import engine as engine_module
from callbot.kit.clock import SystemClock
from callbot.line import service as line_service
from callbot.models.enums import TaskMode
from callbot.runtime import open_store
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate
from callbot.task.states import TaskAction
from callbot.telephony.gateway import GatewayRegistry
from callbot.telephony.sim import SimGateway
from callbot.tenant import service as tenant_service

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "scripts" / "credit_card_instalment.yaml"
PREFIXES = ("138", "139", "137", "150", "151", "158", "186", "185", "133", "189", "177", "199", "136", "159")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def provision(data_dir: Path, customers: int, seats: int, properties: dict[str, str]) -> tuple[Any, int]:
    store = await open_store(Settings(data_dir=data_dir), SystemClock())
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, "压测公司", seats=seats)
        await tenant_service.update_tenant(
            tx, tenant, tenant_service.TenantChanges(calling_hours=(dtime(0, 0), dtime(23, 59, 59)))
        )
        per_line = max(1, seats // 4)
        lines = [await line_service.add_line(tx, tenant, f"0571{88880000 + i}", concurrency=per_line) for i in range(4)]
        script = await script_service.add_script(tx, tenant, SCRIPT.read_text(encoding="utf-8"))
        task = await task_service.create_task(
            tx,
            tenant,
            TaskCreate(
                name="压测任务",
                mode=TaskMode.MANUAL,
                script_id=script.script.id,
                line_ids=[x.id for x in lines],
                robot_count=seats,
                daily_start=dtime(0, 0),
                daily_end=dtime(23, 59, 59),
            ),
        )
        importer = await CustomerImporter.begin(tx, tenant, task.id, source="bench")
    batch: list[SourceRow] = []
    for i in range(customers):
        phone = PREFIXES[i % len(PREFIXES)] + f"{(i * 7919) % 10**8:08d}"
        batch.append(SourceRow(i + 1, f"客户{i}", phone, {"bank": "招商银行", "amount": "3200", **properties}))
        if len(batch) == 20_000:
            async with store.transaction() as tx:
                await importer.add(tx, batch)
            batch = []
    async with store.transaction() as tx:
        if batch:
            await importer.add(tx, batch)
        await importer.finish(tx)
        await task_service.apply_action(tx, tenant, task.id, TaskAction.START)
    return store, task.id


async def throughput(customers: int, seats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        store, task_id = await provision(Path(folder), customers, seats, {})
        steps: list[float] = []
        real_step = engine_module.DialogueEngine.step

        def timed_step(self: Any, state: Any, event: Any) -> Any:
            started = time.perf_counter()
            try:
                return real_step(self, state, event)
            finally:
                steps.append(time.perf_counter() - started)

        engine_module.DialogueEngine.step = timed_step  # type: ignore[method-assign]
        gateway = SimGateway(clock=store.clock, speed=0.0, seed=1)
        dialer = Dialer(store, GatewayRegistry(gateway), DialerOptions(flush_batch=2000))
        started = time.perf_counter()
        await dialer.run_until_idle()
        elapsed = time.perf_counter() - started
        async with store.transaction() as tx:
            from callbot.record import stats

            tenant = await tenant_service.get_tenant_by_name(tx, "压测公司")
            view = await stats.get_task_stats(tx, tenant, task_id)
        await store.dispose()
        steps.sort()
        return {
            "calls": view.calls,
            "seconds": round(elapsed, 2),
            "calls_per_s": round(view.calls / elapsed, 1),
            "answered": view.answered,
            "step_p50_ms": round(steps[len(steps) // 2] * 1000, 3),
            "step_p99_ms": round(steps[int(len(steps) * 0.99)] * 1000, 3),
            "steps": len(steps),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }


async def concurrent(calls: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        # Every call answered and talking slowly: they stay open together.
        store, _ = await provision(Path(folder), calls, calls, {"sim_result": "ANSWERED", "sim_persona": "talkative"})
        baseline = rss_mb()
        # Slow enough that every call is still talking when the last one is answered.
        gateway = SimGateway(clock=store.clock, speed=2.0, seed=1)
        dialer = Dialer(store, GatewayRegistry(gateway), DialerOptions(lease_seconds=3600))
        launched = await dialer.tick()
        peak_open, rss_at_peak = 0, 0.0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            open_now = gateway.open_legs
            if open_now >= peak_open:
                peak_open, rss_at_peak = open_now, rss_mb()
            if open_now >= launched or open_now < peak_open * 0.9:
                break
        for call in list(dialer._calls):
            call.cancel()
        await asyncio.gather(*list(dialer._calls), return_exceptions=True)
        await store.dispose()
        return {
            "launched": launched,
            "concurrent": peak_open,
            "concurrent_rss_mb": round(rss_at_peak, 1),
            "baseline_rss_mb": round(baseline, 1),
        }


def run_phase(name: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--phase",
        name,
        "--customers",
        str(args.customers),
        "--seats",
        str(args.seats),
        "--concurrent",
        str(args.concurrent),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seats", type=int, default=2_000)
    parser.add_argument("--concurrent", type=int, default=10_000)
    parser.add_argument("--phase", choices=["throughput", "concurrent"])
    args = parser.parse_args()
    if args.phase == "throughput":
        print(json.dumps(asyncio.run(throughput(args.customers, args.seats))))
        return
    if args.phase == "concurrent":
        print(json.dumps(asyncio.run(concurrent(args.concurrent))))
        return
    first = run_phase("throughput", args)
    print(f"throughput: {json.dumps(first)}", flush=True)
    second = run_phase("concurrent", args)
    print(f"concurrent: {json.dumps(second)}", flush=True)
    print(
        f"calls={first['calls']} calls_per_s={first['calls_per_s']} step_p99_ms={first['step_p99_ms']} "
        f"peak_rss_mb={first['peak_rss_mb']} concurrent={second['concurrent']} "
        f"concurrent_rss_mb={second['concurrent_rss_mb']}"
    )


if __name__ == "__main__":
    main()
