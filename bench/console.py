"""Bench: the console's records and task pages over 1,000,000 call records in one task, on SQLite and
PostgreSQL.

    .venv/bin/python bench/console.py [--records 1000000] [--requests 40] [--backend sqlite|postgres|both]

Builds a fresh store per backend (PostgreSQL: a scratch database on 127.0.0.1:5432), bulk-loads the records
(SQLite: executemany on one connection; PostgreSQL: COPY), then asks the real console app in-process (no
network, so the figure is the server's time) for, N times each and after a warm-up:

- records_first: /records?task_id=T                      (the newest page of the task)
- records_deep:  /records?task_id=T&level=A&result=ANSWERED&before=<id 10% from the start>  (a deep page)
- records_all:   /records                                (every task of the tenant)
- task:          /tasks/T                                (the task page: progress, statistics, pending customers)

Last line: ``records_p95_ms=X task_p95_ms=Y`` (the worst of the record pages and of the backends). Goal: 300.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from callbot.app import create_app
from callbot.kit.clock import SystemClock
from callbot.kit.db import Store, create_engine
from callbot.kit.secrets import SecretBox
from callbot.line import service as line_service
from callbot.migrations import upgrade
from callbot.models.enums import Role
from callbot.record import stats
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate
from callbot.tenant import service as tenant_service

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SCRIPT = (Path(__file__).resolve().parent.parent / "examples" / "scripts" / "credit_card_instalment.yaml").read_text(
    encoding="utf-8"
)
RESULTS = ["ANSWERED"] * 6 + ["NO_ANSWER", "BUSY", "POWER_OFF", "VACANT_NUMBER"]
LEVELS = ["A", "B", "C", "C", "D", "E", "F"]
TRANSCRIPT = json.dumps(
    [
        {"speaker": "ROBOT", "text": "您好，这里是招商银行信用卡中心", "node": "opening", "kind": "prompt"},
        {"speaker": "PERSON", "text": "你说吧", "node": "opening", "kind": "speech", "intent": "affirm"},
    ],
    ensure_ascii=False,
)
COLUMNS = [
    "tenant_id", "task_id", "customer_id", "sn", "phone", "attempt", "result", "started_at", "answered_at", "ended_at",
    "ring_seconds", "chat_seconds", "rounds", "level", "reason", "concerns", "tags", "transcript", "end_reason",
    "hangup_by", "transferred_to", "recording_path", "read", "created_at",
]  # fmt: skip


BATCH = 50_000
ZONE = ZoneInfo("Asia/Shanghai")


def record_batches(
    count: int, tenant_id: int, task_id: int, start: datetime, delta: stats.StatsDelta
) -> Iterator[list[tuple[object, ...]]]:
    """The records in batches (a million at once would hold a gigabyte), counted into `delta` on the way, as
    the dialer counts the calls it writes."""
    rng = random.Random(20261120)
    for first in range(0, count, BATCH):
        rows = []
        for i in range(first, min(count, first + BATCH)):
            result = rng.choice(RESULTS)
            answered = result == "ANSWERED"
            at = start + timedelta(seconds=i * 2)
            level = rng.choice(LEVELS) if answered else "F"
            rows.append(
                (
                    tenant_id, task_id, i + 1, f"{i:032x}", f"138{rng.randrange(10**8):08d}", 1, result, at,
                    at if answered else None, at + timedelta(seconds=40), 5, 35 if answered else 0,
                    4 if answered else 0, level, "客户同意办理" if answered else "", "[]", "[]",
                    TRANSCRIPT if answered else "[]", "hangup", "ROBOT" if answered else "", "", "", False, at,
                )
            )  # fmt: skip
            delta.add(
                result=result,
                level=level,
                rounds=4 if answered else 0,
                chat_seconds=35 if answered else 0,
                concerns=[],
                day=at.astimezone(ZONE).date(),
            )
        yield rows


async def provision(store: Store) -> tuple[int, int]:
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, "压测公司", seats=100)
        tenant.calling_start, tenant.calling_end = datetime.min.time(), datetime.max.time().replace(microsecond=0)
        await tenant_service.create_user(tx, tenant, "bench", "bench-pass-1", Role.ADMIN)
        line = await line_service.add_line(tx, tenant, "057188880001", concurrency=50)
        script = await script_service.add_script(tx, tenant, SCRIPT)
        task = await task_service.create_task(
            tx,
            tenant,
            TaskCreate(name="百万记录任务", script_id=script.script.id, line_ids=[line.id], robot_count=50),
        )
        return tenant.id, task.id


def load_sqlite(path: Path, batches: Iterator[list[tuple[object, ...]]]) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    marks = ", ".join("?" for _ in COLUMNS)
    for rows in batches:
        text_rows = [
            tuple(v.replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v for v in row) for row in rows
        ]
        conn.executemany(f"INSERT INTO call_records ({', '.join(COLUMNS)}) VALUES ({marks})", text_rows)
        conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def load_postgres(dsn: str, batches: Iterator[list[tuple[object, ...]]]) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(dsn)
    try:
        for rows in batches:
            await conn.copy_records_to_table("call_records", records=rows, columns=COLUMNS)
        # As a table that has been in use is: vacuumed and analysed. Otherwise autovacuum's first pass over a
        # million new rows runs during the measurement and takes the CPU from the requests.
        await conn.execute("VACUUM (ANALYZE) call_records")
    finally:
        await conn.close()


async def add_stats(store: Store, task_id: int, delta: stats.StatsDelta) -> None:
    async with store.transaction() as tx:
        await stats.apply(tx, task_id, delta)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def measure(store: Store, task_id: int, requests: int) -> dict[str, float]:
    app = create_app(store, recordings_dir=Path(tempfile.gettempdir()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        form = await client.get("/login")
        token = re.search(r'name="login_csrf" value="([0-9a-f]+)"', form.text)
        assert token is not None
        credentials = {"username": "bench", "password": "bench-pass-1", "login_csrf": token.group(1)}
        signed = await client.post("/login", data=credentials)
        assert signed.status_code == 303, signed.text
        first = await client.get("/records", params={"task_id": task_id})
        ids = [int(i) for i in re.findall(r'<td><a href="/records/(\d+)">', first.text)]
        deep_before = max(ids) // 10
        pages = {
            "records_first": ("/records", {"task_id": task_id}),
            "records_deep": (
                "/records",
                {"task_id": task_id, "level": "A", "result": "ANSWERED", "before": deep_before},
            ),
            "records_all": ("/records", {}),
            "task": (f"/tasks/{task_id}", {}),
        }
        figures: dict[str, float] = {}
        for name, (url, params) in pages.items():
            samples = []
            for n in range(requests + 3):
                started = time.perf_counter()
                response = await client.get(url, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (name, response.status_code)
                if name.startswith("records"):
                    assert response.text.count('<td><a href="/records/') >= 20, name
                if n >= 3:  # warm-up: caches, first plans
                    samples.append(elapsed)
            figures[f"{name}_p95_ms"] = round(p95(samples), 1)
            figures[f"{name}_median_ms"] = round(statistics.median(samples), 1)
    return figures


async def bench_backend(backend: str, records: int, requests: int, work: Path) -> dict[str, float]:
    secrets = SecretBox("bench-secret-key")
    if backend == "sqlite":
        path = work / "console-bench.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        import asyncpg

        name = f"callbot_bench_console_{os.getpid()}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    engine = create_engine(url)
    await upgrade(engine)
    store = Store(engine, SystemClock(), secrets)
    try:
        tenant_id, task_id = await provision(store)
        delta = stats.StatsDelta()
        batches = record_batches(records, tenant_id, task_id, datetime.now(UTC) - timedelta(seconds=2 * records), delta)
        started = time.perf_counter()
        if backend == "sqlite":
            await store.engine.dispose()
            await asyncio.to_thread(load_sqlite, path, batches)
        else:
            await load_postgres(url.replace("postgresql+asyncpg://", "postgresql://"), batches)
        load_s = time.perf_counter() - started  # generating the rows included
        await add_stats(store, task_id, delta)
        figures = await measure(store, task_id, requests)
        figures["load_s"] = round(load_s, 1)
        return figures
    finally:
        await store.dispose()
        if backend == "postgres":
            import asyncpg

            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def run(records: int, requests: int, backends: list[str]) -> None:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="callbot-console-bench-") as work:
        for backend in backends:
            results[backend] = await bench_backend(backend, records, requests, Path(work))
            print(backend, " ".join(f"{k}={v}" for k, v in results[backend].items()), flush=True)
    records_p95 = max(v for r in results.values() for k, v in r.items() if k.startswith("records") and "p95" in k)
    task_p95 = max(r["task_p95_ms"] for r in results.values())
    print(f"records_p95_ms={records_p95} task_p95_ms={task_p95}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    asyncio.run(run(args.records, args.requests, backends))


if __name__ == "__main__":
    main()
