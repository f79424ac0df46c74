"""`callbot demo`: a ready demo on the embedded default (SQLite, simulated carrier): a tenant, a console user,
credentials of each kind, the credit-card script, two lines and a task of 200 simulated customers.
Provisioning is idempotent: a second run reuses what the first made."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import click

from callbot.cli._common import print_json
from callbot.cli.server import run_server
from callbot.config import Settings
from callbot.credential import service as credential_service
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.errors import NotFound
from callbot.kit.db import Store
from callbot.line import service as line_service
from callbot.models.enums import CredentialKind, LineType, Role, TaskMode
from callbot.runtime import open_store
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import RedialRule, TaskCreate, Window
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
                    inactive_windows=[Window.model_validate({"start": "12:00", "end": "12:30"})],
                    description="callbot demo",
                    redial_rules=[RedialRule(results=["NO_ANSWER", "BUSY"], delay_minutes=30, max_times=1)],
                ),
            )
            await customer_service.import_rows(tx, tenant, task.id, demo_customers(), source="demo")
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


@click.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--no-serve", is_flag=True, help="only provision the demo and print it")
def demo(host: str | None, port: int | None, no_serve: bool) -> None:
    """Provision the demo tenant, print its credentials, then serve callbot."""
    settings = Settings()

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
    click.echo(
        f"try: curl -H 'Authorization: Bearer {info['credentials']['token']['token']}' "
        f"http://{bind_host}:{bind_port}/api/v1/tasks",
        err=True,
    )
    asyncio.run(run_server(settings, bind_host, bind_port))
