"""Small async helpers that build test data through the services, as a user of the product would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from callbot.credential import service as credential_service
from callbot.kit.db import Store
from callbot.line import service as line_service
from callbot.models import Line, Tenant
from callbot.models.enums import CredentialKind
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate
from callbot.tenant import service as tenant_service

SCRIPT = """\
format: 1
name: 测试分期回访
variables: [name, amount]
start: opening
nodes:
  opening:
    say: "{name}您好，您的账单{amount}元可以办理分期，需要了解一下吗？"
    branches:
      affirm: agree_end
      reject: bye
      default: bye
  agree_end:
    say: "好的，稍后专员联系您，再见。"
    end: hangup
  bye:
    say: "好的，不打扰您了，再见。"
    end: hangup
levels:
  - level: A
    when: {visited: agree_end}
  - level: D
    when: {intent: reject}
  - level: C
"""


@dataclass
class Account:
    """A tenant with a native token, a line and an approved script: enough to create tasks."""

    tenant: Tenant
    token: str
    line: Line
    script_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_account(store: Store, name: str = "杭州测试公司", *, seats: int = 20) -> Account:
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, name, seats=seats)
        issued = await credential_service.create_credential(tx, tenant, CredentialKind.TOKEN)
        line = await line_service.add_line(tx, tenant, "057188880001", concurrency=5)
        script = await script_service.add_script(tx, tenant, SCRIPT)
    return Account(tenant, issued.secrets["token"], line, script.script.id)


async def make_task(store: Store, account: Account, **fields: object) -> int:
    data = {"name": "11月分期回访", "script_id": account.script_id, "line_ids": [account.line.id], **fields}
    async with store.transaction() as tx:
        task = await task_service.create_task(tx, account.tenant, TaskCreate.model_validate(data))
    return task.id


async def api_task(client: httpx.AsyncClient, account: Account, **fields: object) -> dict[str, Any]:
    body = {"name": "11月分期回访", "script_id": account.script_id, "line_ids": [account.line.id], **fields}
    response = await client.post("/api/v1/tasks", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result
