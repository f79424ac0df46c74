"""`callbot import`: customers from a CSV or XLSX file into a task, with a progress bar and a report."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import click

from callbot.cli._common import async_command, cli_store, print_json
from callbot.customer.reader import CustomerFile
from callbot.customer.service import CustomerImporter, ImportReport
from callbot.kit.db import Store
from callbot.tenant.service import get_tenant_by_name

# Rows per transaction: bigger batches write faster; 50,000 keep memory modest.
BATCH = 50_000


async def import_file(store: Store, tenant_name: str, task_id: int, path: Path, *, progress: bool) -> ImportReport:
    """Import batch by batch, each in its own transaction: a crash keeps every finished batch, and a batch that
    fails marks the import FAILED before the error goes on."""
    source = CustomerFile(path)
    async with store.transaction() as tx:
        tenant = await get_tenant_by_name(tx, tenant_name)
        importer = await CustomerImporter.begin(tx, tenant, task_id, source=path.name)
    rows = iter(source)
    with (
        _few_collector_passes(),
        click.progressbar(
            length=source.size, label=f"importing {path.name}", file=sys.stderr, hidden=not progress
        ) as bar,
    ):
        try:
            while batch := list(islice(rows, BATCH)):
                async with store.transaction() as tx:
                    await importer.add(tx, batch)
                bar.update(source.bytes_read - bar.pos if source.kind == "csv" else 0)
        except Exception as exc:
            # The import is over: say so (the batches before this one keep their customers), then fail.
            async with store.transaction() as tx:
                await importer.fail(tx, f"{type(exc).__name__}: {exc}")
            raise
        bar.update(source.size - bar.pos)
    async with store.transaction() as tx:
        return await importer.finish(tx)


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
