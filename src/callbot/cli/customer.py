"""`callbot import`: customers from a CSV or XLSX file into a task, with a progress bar and a report."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

import click

from callbot.cli._common import async_command, cli_store, print_json
from callbot.customer.reader import CustomerFile, SourceRow
from callbot.customer.service import CustomerImporter, ImportReport, PreparedBatch, Rejection
from callbot.kit.db import Store
from callbot.tenant.service import get_tenant_by_name

# Rows per transaction: bigger batches write faster (each commit writes again every index page its batch
# touched, and random numbers touch most of them); 100,000 keep a million-row import under 600 MB.
BATCH = 100_000
# Rows checked between two looks at the event loop while a batch is read.
SLICE = 2_000


async def import_file(store: Store, tenant_name: str, task_id: int, path: Path, *, progress: bool) -> ImportReport:
    """Import batch by batch, each in its own transaction: a crash keeps every finished batch, and a batch that
    fails marks the import FAILED before the error goes on. The next batch is read and checked while the
    store writes the one before (on two cores, reading and writing overlap)."""
    source = CustomerFile(path)
    async with store.transaction() as tx:
        tenant = await get_tenant_by_name(tx, tenant_name)
        importer = await CustomerImporter.begin(tx, tenant, task_id, source=path.name)
    rows = iter(source)

    async def write(batch: PreparedBatch) -> None:
        async with store.transaction() as tx:
            await importer.write(tx, batch)

    writing: asyncio.Task[None] | None = None
    with (
        _few_collector_passes(),
        click.progressbar(
            length=source.size, label=f"importing {path.name}", file=sys.stderr, hidden=not progress
        ) as bar,
    ):
        try:
            while True:
                batch = await _prepare_batch(importer, rows)
                if writing is not None:
                    done, writing = writing, None
                    await done  # batches are written one at a time, in order
                    bar.update(source.bytes_read - bar.pos if source.kind == "csv" else 0)
                if batch is None:
                    break
                writing = asyncio.create_task(write(batch), name=f"import-{importer.import_id}-write")
        except Exception as exc:
            if writing is not None:
                # Reading failed while a batch was being written: let that batch end (it commits or not).
                await asyncio.gather(writing, return_exceptions=True)
            # The import is over: say so (the batches before this one keep their customers), then fail.
            async with store.transaction() as tx:
                await importer.fail(tx, f"{type(exc).__name__}: {exc}")
            raise
        bar.update(source.size - bar.pos)
    async with store.transaction() as tx:
        return await importer.finish(tx)


async def _prepare_batch(importer: CustomerImporter, rows: Iterator[SourceRow]) -> PreparedBatch | None:
    """Read and check up to BATCH rows, or None at the end of the file. Works in slices, letting the event
    loop run between them, so that the batch being written takes its steps meanwhile."""
    customers: list[tuple[str, str, Any, str, str]] = []
    rejected: list[Rejection] = []
    read = 0
    while read < BATCH and (rows_slice := list(islice(rows, min(SLICE, BATCH - read)))):
        prepared = importer.prepare(rows_slice)
        customers += prepared.customers
        rejected += prepared.rejected
        read += len(rows_slice)
        await asyncio.sleep(0)
    return PreparedBatch(customers, rejected) if read else None


@contextmanager
def _few_collector_passes() -> Iterator[None]:
    """Run the cycle collector rarely, and never over what already exists (modules, phone number metadata).

    A file streams millions of short-lived, acyclic objects through the process; at the default thresholds
    the collector runs thousands of times and each full pass walks every long-lived object again. This is
    process-wide, which suits the one-shot CLI command this function serves.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


@click.command("import")
@click.option("--tenant", "tenant_name", required=True)
@click.option("--task", "task_id", type=int, required=True, help="the task's id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--quiet", is_flag=True, help="no progress bar")
@async_command
async def import_customers(tenant_name: str, task_id: int, file: Path, quiet: bool) -> None:
    """Import customers from FILE (.csv in UTF-8 or GB18030, or .xlsx) into a task.

    The header names the columns: phone (or 手机号/电话), name (or 姓名), and any others become
    customer properties (script variables). Prints a JSON report: counts, and every rejected row
    (up to 1000; all of them through the API) with its row number and reason.
    """
    async with cli_store() as store:
        report = await import_file(store, tenant_name, task_id, file, progress=not quiet)
    print_json(
        {
            "import_id": report.import_id,
            "task_id": report.task_id,
            "status": report.status.value,
            "total": report.total,
            "accepted": report.accepted,
            "rejected": report.rejected,
            "counts": report.counts,
            "rejections": [
                {"row": r.row, "phone": r.phone, "reason": r.reason, "message": r.message} for r in report.rejections
            ],
        }
    )
