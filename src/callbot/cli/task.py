"""`callbot task`: create a task and move it along from the command line (the API does the same)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from callbot.cli._common import async_command, cli_store, print_json
from callbot.errors import ValidationFailed
from callbot.kit.timewin import parse_window

if TYPE_CHECKING:
    from callbot.models import Task

# TaskAction's values, written out so that `callbot task --help` needs no database layer (a test keeps them
# equal).
ACTIONS = ("start", "pause", "resume", "stop")


def task_json(task: Task) -> dict[str, object]:
    return {
        "id": task.id,
        "name": task.name,
        "mode": task.mode.value,
        "status": task.status.value,
        "script_id": task.script_id,
        "line_ids": [line.id for line in task.lines],
        "robot_count": task.robot_count,
        "daily_window": f"{task.daily_start:%H:%M}-{task.daily_end:%H:%M}",
        "customers": task.customer_count,
        "finished": task.finished_count,
    }


@click.group()
def task() -> None:
    """Tasks (外呼任务)."""


@task.command("create")
@click.option("--tenant", "tenant_name", required=True)
@click.option("--name", required=True, help="the task's name")
@click.option("--script", "script_id", type=int, required=True, help="robot script id (`callbot script list`)")
@click.option("--line", "line_ids", type=int, multiple=True, required=True, help="caller line id; repeat for more")
@click.option("--robots", type=int, default=1, show_default=True, help="AI seats: calls at once")
@click.option("--window", default="09:00-20:00", show_default=True, help="daily calling window HH:MM-HH:MM")
@click.option("--start", "start_now", is_flag=True, help="start it at once (a MANUAL task otherwise waits)")
@async_command
async def create(
    tenant_name: str, name: str, script_id: int, line_ids: tuple[int, ...], robots: int, window: str, start_now: bool
) -> None:
    """Create a task; prints it as JSON with its id (import customers into it with `callbot import`)."""
    try:
        daily_start, daily_end = parse_window(window)
    except ValueError as exc:
        raise ValidationFailed(str(exc), [("--window", str(exc))]) from exc
    from callbot.models.enums import TaskMode
    from callbot.task import service
    from callbot.task.schemas import TaskCreate
    from callbot.task.states import TaskAction
    from callbot.tenant.service import get_tenant_by_name

    data = TaskCreate(
        name=name,
        mode=TaskMode.MANUAL,
        script_id=script_id,
        line_ids=list(line_ids),
        robot_count=robots,
        daily_start=daily_start,
        daily_end=daily_end,
    )
    async with cli_store() as store, store.transaction() as tx:
        tenant = await get_tenant_by_name(tx, tenant_name)
        created = await service.create_task(tx, tenant, data)
        if start_now:
            created = await service.apply_action(tx, tenant, created.id, TaskAction.START)
        shown = task_json(created)
    print_json(shown)


def _action_command(action: str) -> click.Command:
    @click.command(action, help=f"{action.capitalize()} a task.")
    @click.option("--tenant", "tenant_name", required=True)
    @click.argument("task_id", type=int)
    @async_command
    async def command(tenant_name: str, task_id: int) -> None:
        from callbot.task import service
        from callbot.task.states import TaskAction
        from callbot.tenant.service import get_tenant_by_name

        async with cli_store() as store, store.transaction() as tx:
            tenant = await get_tenant_by_name(tx, tenant_name)
            moved = task_json(await service.apply_action(tx, tenant, task_id, TaskAction(action)))
        print_json(moved)

    return command


for _action in ACTIONS:
    task.add_command(_action_command(_action))


@task.command("stats")
@click.option("--tenant", "tenant_name", required=True)
@click.argument("task_id", type=int)
@async_command
async def stats(tenant_name: str, task_id: int) -> None:
    """A task's statistics as JSON (progress, answered rate, levels, results, buckets, daily series)."""
    from callbot.record import stats as stats_service
    from callbot.record.endpoints import stats_out
    from callbot.tenant.service import get_tenant_by_name

    async with cli_store() as store, store.transaction() as tx:
        tenant = await get_tenant_by_name(tx, tenant_name)
        view = await stats_service.get_task_stats(tx, tenant, task_id)
    print_json(stats_out(view).model_dump(mode="json"))
