"""Helpers for campaign tests: a tenant with lines, the credit-card script and a task of customers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.dialer.loop import Dialer, DialerOptions
from callbot.kit.db import Store
from callbot.line import service as line_service
from callbot.models import Tenant
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate
from callbot.telephony.gateway import GatewayRegistry
from callbot.telephony.sim import SimGateway
from callbot.tenant import service as tenant_service

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "scripts" / "credit_card_instalment.yaml"


@dataclass
class Campaign:
    tenant: Tenant
    task_id: int
    line_ids: list[int]
    script_id: int


async def make_campaign(
    store: Store,
    customers: list[dict[str, Any]],
    *,
    seats: int = 20,
    robot_count: int = 5,
    line_concurrency: tuple[int, ...] = (3, 3),
    tenant_name: str = "测试银行",
    **task_fields: Any,
) -> Campaign:
    async with store.transaction() as tx:
        try:
            tenant = await tenant_service.get_tenant_by_name(tx, tenant_name)
        except Exception:
            tenant = await tenant_service.create_tenant(tx, tenant_name, seats=seats)
        existing = len(await line_service.list_lines(tx, tenant))
        lines = [
            await line_service.add_line(tx, tenant, f"0571{88880000 + existing + i}", concurrency=c)
            for i, c in enumerate(line_concurrency)
        ]
        script = await script_service.add_script(tx, tenant, SCRIPT.read_text(encoding="utf-8"))
        data = {
            "name": "分期回访",
            "script_id": script.script.id,
            "line_ids": [line.id for line in lines],
            "robot_count": robot_count,
            **task_fields,
        }
        task = await task_service.create_task(tx, tenant, TaskCreate.model_validate(data))
        rows = [
            SourceRow(
                i + 1,
                c.get("name", f"客户{i}"),
                c["phone"],
                {"bank": "招商银行", "amount": "3200", **c.get("properties", {})},
            )
            for i, c in enumerate(customers)
        ]
        report = await customer_service.import_rows(tx, tenant, task.id, rows, source="test")
        assert report.rejected == 0, report.rejections
    return Campaign(tenant, task.id, [line.id for line in lines], script.script.id)


def sim_dialer(store: Store, *, speed: float = 0.0, seed: int = 7, **options: Any) -> Dialer:
    gateway = SimGateway(clock=store.clock, speed=speed, seed=seed)
    return Dialer(store, GatewayRegistry(gateway), DialerOptions(**options))


def scripted(phone: str, result: str = "ANSWERED", replies: str | None = None, **extra: str) -> dict[str, Any]:
    properties = {"sim_result": result, **extra}
    if replies is not None:
        properties["sim_replies"] = replies
    return {"phone": phone, "properties": properties}
