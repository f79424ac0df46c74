"""Digelao pushes through the callback deliverer: which URL an event goes to, and its body.

- `call.finished` → `callback_url` of the task owner's settings (else the main account's), only with
  `open_callback` = 1; the body is a crmList item (§5.2).
- `import.finished` → `task_callback_url`, whatever `open_callback` says (§5.1).
- `task.completed` has no Digelao push: skipped.
"""

from __future__ import annotations

from sqlalchemy import select

from callbot.api.dialects.digelao import pushes
from callbot.api.dialects.digelao.mapping import DigelaoOptions
from callbot.callback import outbox
from callbot.callback.delivery import Delivery
from callbot.credential import service as credential_service
from callbot.credential import sessions
from callbot.customer import service as customer_service
from callbot.kit.db import Tx
from callbot.models import CallbackSettings, Customer, OutboxEvent, Script, Tenant, User
from callbot.models.enums import CredentialKind
from callbot.record import service as record_service
from callbot.task import service as task_service


class DigelaoRenderer:
    def __init__(self, options: DigelaoOptions | None = None) -> None:
        self.options = options or DigelaoOptions()

    async def render(self, tx: Tx, tenant: Tenant, settings: CallbackSettings, event: OutboxEvent) -> Delivery | None:
        task = await task_service.get_task(tx, tenant, int(event.subject["task_id"]), include_deleted=True)
        own = await _owner_settings(tx, tenant, task.owner_user_id)
        if event.kind == outbox.IMPORT_FINISHED:
            url = (own.task_url if own and own.task_url else "") or settings.task_url
            if not url:
                return None
            row = await customer_service.get_import(tx, tenant, int(event.subject["import_id"]))
            body = pushes.encode(pushes.import_push_payload(task, row))
        elif event.kind == outbox.CALL_FINISHED:
            chosen = own if own and own.url else settings
            if not chosen.enabled or not chosen.url:
                return None
            url = chosen.url
            record = await record_service.get_record(tx, tenant, int(event.subject["record_id"]))
            customer = await tx.session.get(Customer, record.customer_id)
            script = await tx.session.get(Script, task.script_id)
            owner = await tx.session.get(User, task.owner_user_id) if task.owner_user_id else None
            main = await sessions.main_user(tx, tenant)
            payload = pushes.call_push_payload(
                record, task, customer, script, tenant, owner or main, self.options, main=main, now=tx.now()
            )
            body = pushes.encode(payload)
        else:
            return None
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Callbot-Event-Id": event.event_id}
        secret = await credential_service.vendor_secret(tx, tenant, CredentialKind.DIGELAO)
        if secret:
            headers[pushes.SIGNATURE_HEADER] = pushes.signature(secret, body)
        return Delivery(url, body, headers, lambda status, data: pushes.is_success(status, data))


async def _owner_settings(tx: Tx, tenant: Tenant, user_id: int | None) -> CallbackSettings | None:
    if user_id is None:
        return None
    return await tx.session.scalar(
        select(CallbackSettings).where(CallbackSettings.tenant_id == tenant.id, CallbackSettings.user_id == user_id)
    )


__all__ = ["DigelaoRenderer"]
