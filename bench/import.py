"""Bench: import a generated customer CSV into one task on SQLite, the way `callbot import` does.

    .venv/bin/python bench/import.py [--rows 1000000] [--keep DIR]

Builds a fresh store in a temporary data dir (tenant, line, a script needing `amount`, a task), writes a
CSV of realistic customers (mobiles from the real 号段 so carrier and region lookups vary, about 1% bad
rows: invalid numbers, duplicates, a missing amount) and times only the import. Afterwards it checks that
the task holds exactly the accepted customers.

In the same run it measures a floor: the sqlite3 shell importing the same file (WAL, synchronous=NORMAL,
as callbot's store) into a table with a unique (task, phone) index, duplicates ignored. The goal is an
import no slower than 1.5 times that floor.

Last line: ``rows=N seconds=S floor_seconds=F cpu_ratio=C rows_per_s=P peak_rss_mb=M ratio=R`` (rows read from
the file; ratio = seconds / floor_seconds, wall clock; cpu_ratio compares CPU seconds, steadier on a busy
machine, where the import's two threads and the shell's one get different shares).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from callbot.cli.customer import import_file
from callbot.config import Settings
from callbot.customer import service as customer_service
from callbot.kit.db import Store
from callbot.line import service as line_service
from callbot.runtime import open_store
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate
from callbot.tenant import service as tenant_service

SCRIPT = """\
format: 1
name: 分期回访
variables: [name, amount]
start: opening
nodes:
  opening:
    say: "{name}您好，您的账单{amount}元可以办理分期，需要了解一下吗？"
    branches:
      affirm: agree_end
      default: bye
  agree_end:
    say: "好的，稍后专员联系您，再见。"
    end: hangup
  bye:
    say: "好的，不打扰您了，再见。"
    end: hangup
"""

# Mainland mobile 号段 of the three carriers and 广电 (virtual-operator 170/171 left out).
PREFIXES = [
    *range(130, 140),
    *range(150, 154),
    *range(155, 160),
    173,
    *range(175, 179),
    *range(180, 190),
    *range(190, 194),
    *range(195, 200),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰志强"
REMARKS = ["", "", "", "老客户", "上月已联系", "账单日15号", "优先回访", "VIP"]


# The floor: the sqlite3 shell fills `task` through a view, since its .import takes the file's columns only.
FLOOR_SQL = """\
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE customers(task INTEGER NOT NULL, name TEXT, phone TEXT, amount TEXT, remark TEXT);
CREATE UNIQUE INDEX customers_task_phone ON customers(task, phone);
CREATE VIEW incoming(name, phone, amount, remark) AS SELECT name, phone, amount, remark FROM customers;
CREATE TRIGGER incoming_insert INSTEAD OF INSERT ON incoming BEGIN
  INSERT OR IGNORE INTO customers VALUES (1, NEW.name, NEW.phone, NEW.amount, NEW.remark);
END;
.import --csv --skip 1 {csv} incoming
SELECT count(*) FROM customers;
"""


def sqlite_floor(csv_path: Path, work_dir: Path) -> tuple[float, float, int]:
    """Seconds (wall, then CPU) the sqlite3 shell takes to import the file, and how many rows it kept."""
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        sys.exit("the floor needs the sqlite3 shell: apt-get install sqlite3 (scripts/setup.sh test does)")
    database = work_dir / "floor.db"
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [sqlite3, "-bail", str(database)],
        input=FLOOR_SQL.format(csv=csv_path),
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - children.ru_utime + after.ru_stime - children.ru_stime
    for leftover in work_dir.glob("floor.db*"):
        leftover.unlink()
    return seconds, cpu, int(done.stdout.split()[-1])


def write_customers(path: Path, rows: int, seed: int = 20261120) -> dict[str, int]:
    """Write `rows` customers; returns how many bad rows of each kind went in (a few more duplicates
    can occur by chance among random numbers)."""
    rng = random.Random(seed)
    planted = {"invalid_phone": 0, "duplicate": 0, "missing_variable": 0}
    recent: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["姓名", "手机号", "amount", "备注"])
        for _ in range(rows):
            phone = f"{rng.choice(PREFIXES)}{rng.randrange(100_000_000):08d}"
            name = rng.choice(SURNAMES) + (rng.choice(("先生", "女士")) if rng.random() < 0.5 else rng.choice(GIVEN))
            amount = str(rng.randrange(100, 50_000))
            remark = rng.choice(REMARKS)
            roll = rng.random()
            if roll >= 0.010:  # a good row that later rows may repeat
                if len(recent) < 10_000:
                    recent.append(phone)
                else:
                    recent[rng.randrange(10_000)] = phone
            if roll < 0.004:
                phone = rng.choice((phone[:9], phone + "9", "140" + phone[3:], "无", ""))
                planted["invalid_phone"] += 1
            elif roll < 0.008 and recent:
                earlier = rng.choice(recent)  # the same customer again, sometimes written differently
                phone = rng.choice((earlier, f"{earlier[:3]}-{earlier[3:7]}-{earlier[7:]}", "+86 " + earlier))
                planted["duplicate"] += 1
            elif roll < 0.010:
                amount = ""
                planted["missing_variable"] += 1
            elif roll < 0.05:
                phone = f"{phone[:3]} {phone[3:7]} {phone[7:]}"  # spaced, as people type them
            out.writerow([name, phone, amount, remark])
    return planted


async def prepare(store: Store) -> tuple[str, int]:
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, "压测公司", seats=20)
        line = await line_service.add_line(tx, tenant, "057188880001", concurrency=5)
        script = await script_service.add_script(tx, tenant, SCRIPT)
        task = await task_service.create_task(
            tx, tenant, TaskCreate(name="百万导入", script_id=script.script.id, line_ids=[line.id])
        )
    return tenant.name, task.id


async def run(rows: int, data_dir: Path) -> None:
    started = time.perf_counter()
    csv_path = data_dir / "customers.csv"
    planted = write_customers(csv_path, rows)
    size_mb = csv_path.stat().st_size / 2**20
    print(f"generated {rows} rows ({size_mb:.1f} MB) in {time.perf_counter() - started:.1f}s; planted {planted}")

    floor_seconds, floor_cpu, floor_rows = sqlite_floor(csv_path, data_dir)
    print(f"floor: sqlite3 shell {floor_seconds:.2f}s wall, {floor_cpu:.2f}s cpu, kept {floor_rows} rows")

    store = await open_store(Settings(data_dir=data_dir))
    try:
        tenant_name, task_id = await prepare(store)
        began, cpu_began = time.perf_counter(), time.process_time()
        report = await import_file(store, tenant_name, task_id, csv_path, progress=False)
        seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu_began
        print(f"accepted={report.accepted} rejected={report.rejected} counts={report.counts}")
        print(f"import: {seconds:.2f}s wall, {cpu_seconds:.2f}s cpu (the machine's other load shows in the gap)")
        async with store.transaction() as tx:
            stored = await customer_service.count_customers(tx, task_id)
            tenant = await tenant_service.get_tenant_by_name(tx, tenant_name)
            task = await task_service.get_task(tx, tenant, task_id)
        print(f"verify: customers in task={stored} task.customer_count={task.customer_count}")
        if not (stored == task.customer_count == report.accepted and report.total == rows):
            sys.exit(f"MISMATCH: read {report.total} of {rows}, accepted {report.accepted}, stored {stored}")
    finally:
        await store.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = report.total / seconds
    print(
        f"rows={report.total} seconds={seconds:.2f} floor_seconds={floor_seconds:.2f} "
        f"cpu_ratio={cpu_seconds / floor_cpu:.2f} rows_per_s={rate:.0f} peak_rss_mb={peak_mb:.0f} "
        f"ratio={seconds / floor_seconds:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="use this new data dir and keep it (the CSV and callbot.db)")
    args = parser.parse_args()
    if args.keep is not None:
        if (args.keep / "callbot.db").exists():
            parser.error(f"{args.keep} already holds a callbot.db: give an empty or new directory")
        args.keep.mkdir(parents=True, exist_ok=True)
        asyncio.run(run(args.rows, args.keep))
        return
    with tempfile.TemporaryDirectory(prefix="callbot-bench-") as tmp:
        asyncio.run(run(args.rows, Path(tmp)))


if __name__ == "__main__":
    main()
