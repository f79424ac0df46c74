"""`callbot demo`: a ready demo on the embedded default (SQLite, simulated carrier): a tenant, a console user,
credentials of each kind, the credit-card script, two lines and a task of 200 simulated customers.
Provisioning is idempotent: a second run reuses what the first made."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import time
from pathlib import Path
from typing import Any

import click

from callbot.cli._common import print_json
from callbot.cli.server import run_server, setup_logging
from callbot.config import Settings
from callbot.credential import service as credential_service
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.errors import NotFound
from callbot.kit.db import Store
from callbot.line import service as line_service
from callbot.models.enums import CredentialKind, LineType, Role, TaskMode, TaskStatus
from callbot.record import stats as stats_service
from callbot.record.endpoints import stats_out
from callbot.runtime import open_store, run_workers
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate
from callbot.task.states import TaskAction
from callbot.tenant import service as tenant_service

TENANT = "演示公司"
USERNAME = "demo"
PASSWORD = "demo-pass-2026"
SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "scripts" / "credit_card_instalment.yaml"
CUSTOMERS = 200

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_TITLES = ("先生", "女士")
_MOBILE_PREFIXES = ("138", "139", "137", "150", "151", "158", "186", "185", "133", "189", "177", "199", "136", "159")


def demo_customers(count: int = CUSTOMERS, seed: int = 2026) -> list[SourceRow]:
    """Deterministic customers with the variables the demo script needs."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        phone = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        name = rng.choice(_SURNAMES) + rng.choice(_TITLES)
        amount = str(rng.choice((1200, 2680, 3200, 4999, 8600, 12000, 15800)))
        rows.append(SourceRow(i + 1, name, phone, {"bank": "招商银行", "amount": amount}))
    return rows


async def provision(store: Store, data_dir: Path) -> dict[str, Any]:
    """Make (or find) the demo tenant and everything in it. Returns what a user needs to try it."""
    secrets_file = data_dir / "demo-credentials.json"
    async with store.transaction() as tx:
        try:
            tenant = await tenant_service.get_tenant_by_name(tx, TENANT)
            created = False
        except NotFound:
            tenant = await tenant_service.create_tenant(tx, TENANT, sign="callbotdemo", seats=20)
            # The demo runs at any hour; real tenants keep the default 08:00-21:00.
            await tenant_service.update_tenant(
                tx, tenant, tenant_service.TenantChanges(calling_hours=(time(0, 0), time(23, 59, 59)))
            )
            created = True
    if created or not secrets_file.exists():
        async with store.transaction() as tx:
            if created:
                await tenant_service.create_user(tx, tenant, USERNAME, PASSWORD, Role.ADMIN, "演示管理员")
            issued = {
                kind.value: (await credential_service.create_credential(tx, tenant, kind, label="demo")).secrets
                for kind in CredentialKind
            }
            lines = [
                await line_service.add_line(
                    tx, tenant, "057188880001", name="杭州固话1", type=LineType.UNFIXED_CALL, concurrency=6
                ),
                await line_service.add_line(
                    tx, tenant, "057188880002", name="杭州固话2", type=LineType.UNFIXED_CALL, concurrency=6
                ),
            ]
            script = await script_service.add_script(tx, tenant, SCRIPT.read_text(encoding="utf-8"), source=SCRIPT.name)
            task = await task_service.create_task(
                tx,
                tenant,
                TaskCreate(
                    name="演示任务：信用卡账单分期",
                    mode=TaskMode.MANUAL,
                    script_id=script.script.id,
                    line_ids=[line.id for line in lines],
                    robot_count=10,
                    daily_start=tenant.calling_start,
                    daily_end=tenant.calling_end,
                    description="callbot demo",
                ),
            )
            await customer_service.import_rows(tx, tenant, task.id, demo_customers(), source="demo")
            await task_service.apply_action(tx, tenant, task.id, TaskAction.START)
        info = {
            "tenant": {"id": tenant.id, "name": tenant.name, "sign": tenant.sign},
            "console_user": {"username": USERNAME, "password": PASSWORD},
            "credentials": issued,
            "task_id": task.id,
            "script_id": script.script.id,
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        secrets_file.write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
        secrets_file.chmod(0o600)
    result: dict[str, Any] = json.loads(secrets_file.read_text(encoding="utf-8"))
    return result


# Calls of about a minute on 10 seats: at 20x the 200 demo calls finish in about a minute.
DEMO_SIM_SPEED = 20.0


def demo_settings() -> Settings:
    settings = Settings()
    if "sim_speed" not in settings.model_fields_set:
        settings.sim_speed = DEMO_SIM_SPEED
    return settings


async def run_to_completion(settings: Settings) -> dict[str, Any]:
    """Provision, run the dialer and callbacks until the demo task is complete, return its final stats."""
    store = await open_store(settings)
    try:
        info = await provision(store, settings.data_dir)
        stop = asyncio.Event()
        workers = asyncio.create_task(run_workers(store, settings, stop), name="demo-workers")
        while True:
            async with store.transaction() as tx:
                tenant = await tenant_service.get_tenant_by_name(tx, TENANT)
                task = await task_service.get_task(tx, tenant, int(info["task_id"]))
                done = task.status in (TaskStatus.COMPLETED, TaskStatus.TERMINATE)
            if done or workers.done():
                break
            await asyncio.sleep(0.5)
        stop.set()
        await workers
        async with store.transaction() as tx:
            tenant = await tenant_service.get_tenant_by_name(tx, TENANT)
            view = await stats_service.get_task_stats(tx, tenant, int(info["task_id"]))
            task = await task_service.get_task(tx, tenant, int(info["task_id"]))
        return {"task_id": task.id, "status": task.status.value, **stats_out(view).model_dump(mode="json")}
    finally:
        await store.dispose()


@click.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--no-serve", is_flag=True, help="only provision the demo and print it")
@click.option("--exit-when-done", is_flag=True, help="run the demo task to completion (no API), then exit")
@click.option("--json", "as_json", is_flag=True, help="with --exit-when-done: print the task's final stats as JSON")
@click.option(
    "--sip", is_flag=True, help="run a small campaign over real SIP and RTP against simulated phones, then exit"
)
@click.option("--voice", is_flag=True, help="with --sip: speech on both sides (Whisper ASR and TTS, talking customers)")
def demo(
    host: str | None, port: int | None, no_serve: bool, exit_when_done: bool, as_json: bool, sip: bool, voice: bool
) -> None:
    """Provision the demo tenant and its running task, print its credentials, then serve callbot.

    The demo task (200 simulated customers, the credit-card script, two lines, 10 AI seats) runs on the
    simulated carrier at sim speed 20 unless CALLBOT_SIM_SPEED says otherwise. With --sip, a task of ten
    customers is called over real SIP and RTP on loopback instead (our own SIP customer's phones), and
    each call is printed with its recording (WAV files a user can play). With --sip --voice the robot
    hears with Whisper and speaks with TTS, and the customers say their replies with TTS speech.
    """
    settings = demo_settings()
    if voice and not sip:
        raise click.UsageError("--voice goes with --sip")
    if sip:
        from callbot.cli.demo_sip import demo_speech, run_sip_demo

        async def _sip_demo() -> list[dict[str, Any]]:
            if not voice:
                return await run_sip_demo(settings)
            async with demo_speech(settings) as speech:
                return await run_sip_demo(settings, speech=speech)

        calls = asyncio.run(_sip_demo())
        if as_json:
            print_json(calls)
            return
        for call in calls:
            click.echo(f"{call['phone']}  {call['result']:<15} {call['chat_seconds']:>3} s  {call['recording'] or '-'}")
            if voice and call["transcript"]:
                click.echo(f"    level {call['level']}, ended by {call['end_reason']}")
                for turn in call["transcript"]:
                    click.echo(f"    {turn['speaker']:<6} {turn.get('text', '')}")
        return
    if exit_when_done:
        final = asyncio.run(run_to_completion(settings))
        if as_json:
            print_json(final)
        else:
            click.echo(
                f"demo task {final['task_id']}: {final['status']}, {final['calls']} calls, "
                f"{final['answered']} answered, levels {final['levels']}"
            )
        return

    async def _provision() -> dict[str, Any]:
        store = await open_store(settings)
        try:
            return await provision(store, settings.data_dir)
        finally:
            await store.dispose()

    info = asyncio.run(_provision())
    if no_serve:
        print_json(info)
        return
    bind_host, bind_port = host or settings.host, port or settings.port
    click.echo(json.dumps(info, ensure_ascii=False, indent=2), err=True)
    click.echo(f"\ncallbot demo: API on http://{bind_host}:{bind_port}/api/v1 (docs: /docs)", err=True)
    user = info["console_user"]
    click.echo(
        f"console (管理后台): http://{bind_host}:{bind_port}/  sign in as {user['username']} / {user['password']}"
        f"  (the demo task is at /tasks/{info['task_id']})",
        err=True,
    )
    token = info["credentials"]["token"]["token"]
    click.echo(
        f"try: curl -H 'Authorization: Bearer {token}' http://{bind_host}:{bind_port}/api/v1/tasks/{info['task_id']}/stats",
        err=True,
    )
    setup_logging(settings)
    asyncio.run(run_server(settings, bind_host, bind_port))
